import type { ProtocolAdapter } from '../adapter';
import { loadMarketMeta, readAaveMarketPrices, readAccountAssets, readAccountSummaries, type MarketMeta } from './read';
import { aaveTopUp } from './topup';

export { AAVE_V3 } from './normalize';
export { loadMarketMeta, readAccountAssets, readAccountSummaries } from './read';
export type { MarketMeta } from './read';

/** Aave v3 and its forks with the same Pool ABI (Spark): getUserAccountData batched, the breakdown from the reserves. */
export const aaveV3Adapter: ProtocolAdapter<MarketMeta> = {
  loadMarket: (context, ref) => loadMarketMeta(context, ref.market),
  readAccounts: readAccountSummaries,
  readAssets: readAccountAssets,
  readPrices: readAaveMarketPrices,
  // Aave v3: half the debt per liquidation, all of it below HF 0.95; the reserve's bonus on seized collateral.
  liquidationRule: (meta) => ({
    closeFactorBps: 5_000n,
    fullCloseBelowHealthFactor: 95n * 10n ** 16n,
    penaltyBps: meta.reserves.filter((reserve) => reserve.liquidationBonusBps > 10_000n).map((reserve) => ({ asset: reserve.asset, symbol: reserve.symbol, bps: reserve.liquidationBonusBps - 10_000n })),
  }),
  topUp: aaveTopUp,
};
