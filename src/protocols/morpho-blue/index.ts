import type { ProtocolAdapter } from '../adapter';
import { loadMorphoMarket, readMorphoAccounts, readMorphoAssets, readMorphoMarketPrices } from './read';
import { liquidationIncentiveBps, type MorphoMarket } from './normalize';
import { morphoTopUp } from './topup';

export { MORPHO_BLUE } from './normalize';
export { MORPHO_BLUE_DEPLOYMENTS } from './deployments';

/** Morpho Blue: `market` is the market id inside one Morpho contract (`protocolAddress`); an account's summary carries its two assets. */
export const morphoBlueAdapter: ProtocolAdapter<MorphoMarket> = {
  loadMarket: loadMorphoMarket,
  readAccounts: readMorphoAccounts,
  readAssets: readMorphoAssets,
  readPrices: readMorphoMarketPrices,
  // Any part of the debt; the liquidator seizes collateral worth the repaid debt × LIF.
  liquidationRule: (market) => ({
    closeFactorBps: 10_000n,
    fullCloseBelowHealthFactor: null,
    penaltyBps: [{ asset: market.collateral.asset, symbol: market.collateral.symbol, bps: liquidationIncentiveBps(market.params.lltv) - 10_000n }],
  }),
  topUp: morphoTopUp,
};
