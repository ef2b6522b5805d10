import type { ProtocolAdapter } from '../adapter';
import { loadFluidMarket, readFluidAccounts, readFluidAssets, readFluidMarketPrices } from './read';
import type { FluidMarket } from './normalize';

export { FLUID, parseFluidAccount } from './normalize';
export type { FluidMarket } from './normalize';

/**
 * Fluid T1 vaults: `market` is the vault, `account` a position NFT id or an owner (its riskiest
 * position in the vault, each listed in `subPositions`). No `topUp` yet: the vault's `operate`
 * lets anyone add collateral to a position (the test shows it), but the executor's action for it
 * is not built, so it refuses top-up policies here.
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
};
