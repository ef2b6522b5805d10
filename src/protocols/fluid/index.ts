import type { ProtocolAdapter } from '../adapter';
import { loadFluidMarket, readFluidAccounts, readFluidAssets, readFluidMarketPrices } from './read';
import type { FluidMarket } from './normalize';
import { fluidTopUp } from './topup';

export { FLUID, parseFluidAccount } from './normalize';
export type { FluidMarket } from './normalize';

/**
 * Fluid T1 vaults: `market` is the vault, `account` a position NFT id or an owner (its riskiest
 * position in the vault, each listed in `subPositions`). Tops up with the vault's `operate`,
 * which takes collateral and paybacks from anyone for any position.
 */
export const fluidAdapter: ProtocolAdapter<FluidMarket> = {
  loadMarket: loadFluidMarket,
  readAccounts: readFluidAccounts,
  readAssets: readFluidAssets,
  readPrices: readFluidMarketPrices,
  // Liquidators repay any part of the debt; Fluid moves the position down to the threshold tick by tick.
  liquidationRule: (market) => ({
    closeFactorBps: 10_000n,
    fullCloseBelowHealthFactor: null,
    penaltyBps: [{ asset: market.collateral.asset, symbol: market.collateral.symbol, bps: market.liquidationPenaltyBps }],
  }),
  topUp: fluidTopUp,
};
