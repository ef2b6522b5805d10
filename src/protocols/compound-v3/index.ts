import type { ProtocolAdapter } from '../adapter';
import { loadCometMarket, readCometAccounts, readCometAssets, readCometMarketPrices } from './read';
import type { CometMarket } from './normalize';
import { cometTopUp } from './topup';

export { COMPOUND_V3 } from './normalize';
export type { CometMarket } from './normalize';

/** Compound v3: `market` is the Comet proxy; an account's summary already carries its per-asset balances. */
export const compoundV3Adapter: ProtocolAdapter<CometMarket> = {
  loadMarket: (context, ref) => loadCometMarket(context, ref.market),
  readAccounts: readCometAccounts,
  readAssets: readCometAssets,
  readPrices: readCometMarketPrices,
  // Comet's absorb takes the whole account; the owner keeps liquidationFactor of each collateral's value.
  liquidationRule: (market) => ({
    closeFactorBps: 10_000n,
    fullCloseBelowHealthFactor: null,
    penaltyBps: market.assets.map((asset) => ({ asset: asset.asset, symbol: asset.symbol, bps: (10n ** 18n - asset.liquidationFactor) / 10n ** 14n })),
  }),
  topUp: cometTopUp,
};
