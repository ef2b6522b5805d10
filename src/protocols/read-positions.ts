import type { Address, PublicClient } from 'viem';
import { AppError } from '../lib/errors';
import type { ProtocolAdapter } from './adapter';
import type { AccountRead, MarketRef, PinnedBlock, ReadContext } from './read-types';
import { rethrowRpc } from './batch';

/**
 * The block every read of one tick is pinned to, so all accounts are seen in one state.
 * A node answering with a block older than one already seen is lagging: reported, not used.
 */
export async function pinBlock(client: PublicClient, minBlockNumber?: bigint): Promise<PinnedBlock> {
  const block = await client.getBlock({ blockTag: 'latest' }).catch(rethrowRpc);
  if (minBlockNumber !== undefined && block.number < minBlockNumber) {
    throw new AppError('stale_block', `RPC returned block ${block.number}, older than block ${minBlockNumber} already seen: the node is lagging`, { status: 502 });
  }
  return { number: block.number, timestamp: block.timestamp };
}

export type ReadPositionsInput = {
  context: ReadContext;
  market: MarketRef;
  accounts: readonly Address[];
  batchSize: number;
  /** The block the previous tick saw: a node behind it is refused as stale. */
  minBlockNumber?: bigint;
  /** Which accounts get their per-asset breakdown too, decided on their summary (those near or past a threshold). */
  detailFor?: (read: Extract<AccountRead, { snapshot: unknown }>) => boolean;
};

export type ReadPositionsResult = { block: PinnedBlock; reads: AccountRead[] };

/**
 * One tick's read of one market of any protocol: its static facts (cached), a pinned block,
 * every account in ⌈accounts / batchSize⌉ Multicall3 calls, and the breakdown where asked.
 * The shard, the bench and the tests all read through here.
 */
export async function readPositions<Market>(adapter: ProtocolAdapter<Market>, input: ReadPositionsInput): Promise<ReadPositionsResult> {
  const market = await adapter.loadMarket(input.context, input.market);
  const block = await pinBlock(input.context.client, input.minBlockNumber);
  const reads = await adapter.readAccounts(input.context, market, input.accounts, block, input.batchSize);
  const detailFor = input.detailFor;
  if (detailFor) {
    const wanted = [...new Set(reads.flatMap((read) => ('snapshot' in read && detailFor(read) ? [read.account] : [])))];
    if (wanted.length > 0) {
      const details = await adapter.readAssets(input.context, market, wanted, block, input.batchSize);
      for (const read of reads) {
        const assets = 'snapshot' in read ? details.get(read.account) : undefined;
        if (assets && 'snapshot' in read) read.snapshot.assets = assets;
      }
    }
  }
  return { block, reads };
}
