import type { Address } from 'viem';
import type { ProtocolAdapter } from './adapter';
import type { AccountRead, MarketPrices, MarketRef, ReadContext } from './read-types';
import type { EndpointControl } from '../chain/failover-transport';
import type { HeadSample } from '../monitor/head';
import { BlockPin, type PinnedHead } from './block-pin';
import { priceInUsd } from './usd-price-feed';
import type { UsdPriceFeeds } from '../config/usd-price-feeds';

export type ReadPositionsInput = {
  context: ReadContext;
  market: MarketRef;
  accounts: readonly Address[];
  batchSize: number;
  /** The newest block already seen: a node behind it is refused as stale. */
  minBlockNumber?: bigint;
  /** The last fresh head seen, to measure the chain's block time. */
  lastGoodHead?: HeadSample;
  /** Lets a stale head fail over to the next endpoint. */
  endpoints?: EndpointControl;
  /** Which accounts get their per-asset breakdown too, decided on their summary (those near or past a threshold). */
  detailFor?: (read: Extract<AccountRead, { snapshot: unknown }>) => boolean;
  /** Also read every asset price of the market at the pinned block (one more call). */
  withPrices?: boolean;
  /** The owner's USD feeds of the chain (USD_PRICE_FEEDS): a market counted in one of their tokens gets its USD (one more call). */
  usdFeeds?: UsdPriceFeeds;
};

export type ReadPositionsResult = { block: PinnedHead; reads: AccountRead[]; prices?: MarketPrices };

/**
 * One tick's read of one market of any protocol: its static facts (cached), every account in
 * ⌈accounts / batchSize⌉ Multicall3 calls pinned to one fresh block (the first call pins it), and
 * the breakdown where asked. The shard, the bench and the tests all read through here.
 */
export async function readPositions<Market>(adapter: ProtocolAdapter<Market>, input: ReadPositionsInput): Promise<ReadPositionsResult> {
  const market = await adapter.loadMarket(input.context, input.market);
  const pin = new BlockPin(input.context, { chainId: input.context.chainId, endpoints: input.endpoints, minBlockNumber: input.minBlockNumber, lastGoodHead: input.lastGoodHead });
  const reads = await adapter.readAccounts(input.context, market, input.accounts, pin, input.batchSize);
  const block = await pin.head();
  // The prices feed the risk engine only: their failure costs this bar, never the tick's alerts.
  const prices = input.withPrices
    ? adapter.readPrices(input.context, market, block).catch((error: unknown) => {
        console.warn('market prices unread this bar', error instanceof Error ? error.name : 'unknown');
        return undefined;
      })
    : undefined;
  const snapshots = reads.flatMap((read) => ('snapshot' in read ? [read.snapshot] : []));
  // USD is for display and risk figures: a feed's failure leaves it unknown, never costs the tick.
  const usd = priceInUsd(input.context, input.usdFeeds, snapshots, block).catch((error: unknown) => {
    console.warn('USD price feed unread this tick', error instanceof Error ? error.name : 'unknown');
  });
  const detailFor = input.detailFor;
  if (detailFor) {
    // Protocols whose summary already is the breakdown (Comet, Morpho) are not read twice.
    const wanted = [...new Set(reads.flatMap((read) => ('snapshot' in read && !read.snapshot.assets && detailFor(read) ? [read.account] : [])))];
    if (wanted.length > 0) {
      const details = await adapter.readAssets(input.context, market, wanted, block, input.batchSize);
      for (const read of reads) {
        const assets = 'snapshot' in read ? details.get(read.account) : undefined;
        if (assets && 'snapshot' in read) read.snapshot.assets = assets;
      }
    }
  }
  await usd;
  const read = await prices;
  return { block, reads, ...(read ? { prices: read } : {}) };
}
