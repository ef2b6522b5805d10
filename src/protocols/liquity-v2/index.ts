import type { ProtocolAdapter } from '../adapter';
import { loadLiquityMarket, readLiquityAccounts, readLiquityAssets, readLiquityMarketPrices } from './read';
import type { LiquityMarket } from './normalize';
import { liquityTopUp } from './topup';

export { LIQUITY_V2, parseLiquityAccount } from './normalize';
export type { LiquityMarket } from './normalize';

/** The stability pool's liquidation penalty: Liquity's floor, and every mainnet branch's (the redistribution penalty, up to 20 %, is not readable from the branch). */
const STABILITY_POOL_PENALTY_BPS = 500n;

/**
 * Liquity v2: `market` is a branch's TroveManager, `account` a trove id or an owner (its weakest
 * trove on the branch). Tops up with addColl / repayBold, open to anyone while the owner names no add-manager.
 */
export const liquityV2Adapter: ProtocolAdapter<LiquityMarket> = {
  loadMarket: loadLiquityMarket,
  readAccounts: readLiquityAccounts,
  readAssets: readLiquityAssets,
  readPrices: readLiquityMarketPrices,
  // A liquidation closes the whole trove; the stability pool takes collateral worth the debt × 1.05.
  liquidationRule: (market) => ({
    closeFactorBps: 10_000n,
    fullCloseBelowHealthFactor: null,
    penaltyBps: [{ asset: market.collateral.asset, symbol: market.collateral.symbol, bps: STABILITY_POOL_PENALTY_BPS }],
  }),
  topUp: liquityTopUp,
};
