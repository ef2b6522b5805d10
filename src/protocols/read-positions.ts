import type { Address, PublicClient } from 'viem';
import { AppError } from '../lib/errors';
import type { ProtocolAdapter } from './adapter';
import type { AccountRead, MarketRef, PinnedBlock, ReadContext } from './read-types';
import type { EndpointControl } from '../chain/failover-transport';
import { judgeHead, measuredBlockSeconds, staleAfterSeconds, type HeadSample, type HeadVerdict } from '../monitor/head';
import { rethrowRpc } from './batch';

export type PinOptions = {
  chainId?: number;
  /** Lets the pin put an endpoint with a stale head behind the others and ask the next one. */
  endpoints?: EndpointControl;
  /** The block the previous tick saw: a head behind it is stale. */
  minBlockNumber?: bigint;
  /** The previous tick's head, to measure the chain's block time. */
  previous?: HeadSample;
  nowMs?: number;
};

/** The pinned block, and whether its head was fresh (when not: why, for the monitor). */
export type PinnedHead = PinnedBlock & { fresh: boolean; staleReason: string | null };

/**
 * The block every read of one tick is pinned to, so all accounts are seen in one state.
 * A head older than the chain's bound (max(60 s, 5 block times)) or behind a block already
 * seen is stale: the endpoint that served it goes behind the others and the next is asked.
 * When every endpoint is stale, the newest head is used and reported not fresh; one behind
 * a block already seen is never used (`stale_block`).
 */
export async function pinBlock(client: PublicClient, options: PinOptions = {}): Promise<PinnedHead> {
  const nowMs = options.nowMs ?? Date.now();
  const attempts = Math.max(1, options.endpoints?.usable() ?? 1);
  let best: { head: PinnedBlock; verdict: Exclude<HeadVerdict, { fresh: true }> } | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const block = await client.getBlock({ blockTag: 'latest' }).catch(rethrowRpc);
    const head = { number: block.number, timestamp: block.timestamp };
    const bound = staleAfterSeconds(options.chainId ?? 0, measuredBlockSeconds(options.previous, head));
    const verdict = judgeHead(head, { nowMs, staleAfterSeconds: bound, minBlockNumber: options.minBlockNumber });
    if (verdict.fresh) return { ...head, fresh: true, staleReason: null };
    if (!best || head.number > best.head.number) best = { head, verdict };
    options.endpoints?.demoteCurrent(bound * 1000);
  }
  if (best!.verdict.behind) throw new AppError('stale_block', best!.verdict.reason, { status: 502 });
  return { ...best!.head, fresh: false, staleReason: best!.verdict.reason };
}

export type ReadPositionsInput = {
  context: ReadContext;
  market: MarketRef;
  accounts: readonly Address[];
  batchSize: number;
  /** The previous tick's head: a node behind it is refused as stale; it also measures the block time. */
  previous?: HeadSample;
  /** Lets a stale head fail over to the next endpoint. */
  endpoints?: EndpointControl;
  /** Which accounts get their per-asset breakdown too, decided on their summary (those near or past a threshold). */
  detailFor?: (read: Extract<AccountRead, { snapshot: unknown }>) => boolean;
};

export type ReadPositionsResult = { block: PinnedHead; reads: AccountRead[] };

/**
 * One tick's read of one market of any protocol: its static facts (cached), a pinned block,
 * every account in ⌈accounts / batchSize⌉ Multicall3 calls, and the breakdown where asked.
 * The shard, the bench and the tests all read through here.
 */
export async function readPositions<Market>(adapter: ProtocolAdapter<Market>, input: ReadPositionsInput): Promise<ReadPositionsResult> {
  const market = await adapter.loadMarket(input.context, input.market);
  const block = await pinBlock(input.context.client, { chainId: input.context.chainId, endpoints: input.endpoints, minBlockNumber: input.previous?.number, previous: input.previous });
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
