import type { ProtocolAdapter } from '../adapter';
import { loadMarketMeta, readAccountAssets, readAccountSummaries, type MarketMeta } from './read';
import { aaveTopUp } from './topup';

export { AAVE_V3 } from './normalize';
export { loadMarketMeta, readAccountAssets, readAccountSummaries } from './read';
export type { MarketMeta } from './read';

/** Aave v3 and its forks with the same Pool ABI (Spark): getUserAccountData batched, the breakdown from the reserves. */
export const aaveV3Adapter: ProtocolAdapter<MarketMeta> = {
  loadMarket: (context, ref) => loadMarketMeta(context, ref.market),
  readAccounts: readAccountSummaries,
  readAssets: readAccountAssets,
  topUp: aaveTopUp,
};
