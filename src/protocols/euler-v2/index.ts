import type { ProtocolAdapter } from '../adapter';
import { loadEulerMarket, readEulerAccounts, readEulerAssets, readEulerMarketPrices } from './read';
import { maxLiquidationGainBps, type EulerMarket } from './normalize';
import { eulerTopUp } from './topup';

export { EULER_V2 } from './normalize';
export type { EulerMarket } from './normalize';
export { EULER_V2_DEPLOYMENTS } from './deployments';

/**
 * Euler v2: `market` is the controller (borrow) vault; `account` an owner (with its 256
 * sub-accounts, each with debt listed, the riskiest shown) or one sub-account. Tops up with the
 * vault's repay, or a deposit into a collateral vault the sub-account has enabled.
 */
export const eulerV2Adapter: ProtocolAdapter<EulerMarket> = {
  loadMarket: loadEulerMarket,
  readAccounts: readEulerAccounts,
  readAssets: readEulerAssets,
  readPrices: readEulerMarketPrices,
  // A liquidator may repay all of the debt; what it seizes is discounted by 1 − HF, at most the vault's cap.
  liquidationRule: (market) => ({
    closeFactorBps: 10_000n,
    fullCloseBelowHealthFactor: null,
    penaltyBps: market.collaterals.map((collateral) => ({ asset: collateral.asset, symbol: collateral.symbol, bps: maxLiquidationGainBps(market.maxLiquidationDiscountBps) })),
  }),
  topUp: eulerTopUp,
};
