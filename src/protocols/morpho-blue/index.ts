import type { ProtocolAdapter } from '../adapter';
import { loadMorphoMarket, readMorphoAccounts, readMorphoAssets } from './read';
import type { MorphoMarket } from './normalize';
import { morphoTopUp } from './topup';

export { MORPHO_BLUE } from './normalize';
export { MORPHO_BLUE_DEPLOYMENTS } from './deployments';

/** Morpho Blue: `market` is the market id inside one Morpho contract (`protocolAddress`); an account's summary carries its two assets. */
export const morphoBlueAdapter: ProtocolAdapter<MorphoMarket> = {
  loadMarket: loadMorphoMarket,
  readAccounts: readMorphoAccounts,
  readAssets: readMorphoAssets,
  topUp: morphoTopUp,
};
