import type { Address } from 'viem';

/* The local Aave v3 market as the chain tools describe it: plain JSON, cached beside a state dump. */

export type ReserveSymbol = 'WETH' | 'WBTC' | 'USDC';

export interface ReserveInfo {
  symbol: ReserveSymbol;
  decimals: number;
  asset: Address;
  aToken: Address;
  variableDebtToken: Address;
  /** The MockAggregator the oracle reads at deploy time (USD, 8 decimals). */
  feed: Address;
  ltvBps: number;
  liquidationThresholdBps: number;
  /**
   * Aave's own convention, as getReserveConfigurationData returns it: 10500 means the liquidator
   * receives 105% of the debt it repays, i.e. a 5% bonus.
   */
  liquidationBonusBps: number;
}

export interface AaveMarket {
  chainId: number;
  addressesProvider: Address;
  pool: Address;
  poolConfigurator: Address;
  oracle: Address;
  dataProvider: Address;
  aclManager: Address;
  /** Owner of the provider, ACL admin, and pool/risk/emergency/listing admin. Also the treasury. */
  admin: Address;
  reserves: Record<ReserveSymbol, ReserveInfo>;
}
