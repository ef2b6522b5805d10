import type { ProtocolAdapter } from '../adapter';
import { loadCometMarket, readCometAccounts, readCometAssets } from './read';
import type { CometMarket } from './normalize';
import { cometTopUp } from './topup';

export { COMPOUND_V3 } from './normalize';
export type { CometMarket } from './normalize';

/** Compound v3: `market` is the Comet proxy; an account's summary already carries its per-asset balances. */
export const compoundV3Adapter: ProtocolAdapter<CometMarket> = {
  loadMarket: (context, ref) => loadCometMarket(context, ref.market),
  readAccounts: readCometAccounts,
  readAssets: readCometAssets,
  topUp: cometTopUp,
};
