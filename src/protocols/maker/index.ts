import type { ProtocolAdapter } from '../adapter';
import { checkMakerAccount, loadMakerMarket, readMakerAccounts, readMakerAssets, readMakerMarketPrices } from './read';
import { penaltyBps, type MakerMarket } from './normalize';
import { makerTopUp } from './topup';

export { MAKER } from './normalize';
export { MAKER_DEPLOYMENTS, MAKER_VATS } from './deployments';
export { parseIlk } from './ilk';
export { parseMakerAccount } from './account';

/**
 * Maker (dss) vaults: `market` is the ilk, inside the Vat (`protocolAddress`); an account is an
 * urn address or a CdpManager vault id (resolved to its urn on read). Where the ilk's price
 * source is an OSM, each read also carries the health factor at its next price. Top-ups join
 * the money into the Vat, then frob it into the urn (./topup.ts).
 */
export const makerAdapter: ProtocolAdapter<MakerMarket> = {
  loadMarket: loadMakerMarket,
  checkAccount: checkMakerAccount,
  readAccounts: readMakerAccounts,
  readAssets: readMakerAssets,
  readPrices: readMakerMarketPrices,
  topUp: makerTopUp,
  // The Dog takes the whole debt (up to its hole limits) and adds chop to what the auction must raise.
  liquidationRule: (market) => ({
    closeFactorBps: 10_000n,
    fullCloseBelowHealthFactor: null,
    penaltyBps: [{ asset: market.pip, symbol: market.symbol, bps: penaltyBps(market.chop) }],
  }),
};
