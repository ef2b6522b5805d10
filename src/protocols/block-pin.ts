import { parseAbi, type PublicClient } from 'viem';
import { AppError } from '../lib/errors';
import { findAppError } from '../lib/find-app-error';
import type { EndpointControl } from '../chain/failover-transport';
import { judgeHead, measuredBlockSeconds, staleAfterSeconds, type HeadSample, type HeadVerdict } from '../monitor/head';
import type { PinnedBlock, ReadContext } from './read-types';
import { multicallAt, rethrowRpc, type CallResult } from './batch';

export type PinOptions = {
  chainId?: number;
  /** Lets the pin put an endpoint with a stale head behind the others and ask the next one. */
  endpoints?: EndpointControl;
  /** The newest block already seen: a head behind it is stale. */
  minBlockNumber?: bigint;
  /** The last fresh head seen, to measure the chain's block time (never a stale one: its time may be anything). */
  lastGoodHead?: HeadSample;
  nowMs?: number;
};

/** Multicall3's own views of the block it runs in (viem's multicall3Abi lacks getBlockNumber). */
const multicall3BlockAbi = parseAbi(['function getBlockNumber() view returns (uint256 blockNumber)', 'function getCurrentBlockTimestamp() view returns (uint256 timestamp)']);

/** The pinned block, and whether its head was fresh (when not: why, for the monitor). */
export type PinnedHead = PinnedBlock & { fresh: boolean; staleReason: string | null };

/**
 * Reads a head (and whatever came with it) until one is fresh: a head older than the chain's
 * bound (max(60 s, 5 block times)) or behind a block already seen is stale, so the endpoint that
 * served it goes behind the others and the next is asked. When every endpoint is stale, the
 * newest head is used and reported not fresh; one behind a block already seen never is (`stale_block`).
 */
async function pinFreshHead<T>(readHead: () => Promise<{ head: PinnedBlock; value: T }>, options: PinOptions): Promise<{ head: PinnedHead; value: T }> {
  const nowMs = options.nowMs ?? Date.now();
  const attempts = Math.max(1, options.endpoints?.usable() ?? 1);
  let best: { head: PinnedBlock; value: T; verdict: Exclude<HeadVerdict, { fresh: true }> } | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const { head, value } = await readHead();
    const bound = staleAfterSeconds(options.chainId ?? 0, measuredBlockSeconds(options.lastGoodHead, head));
    const verdict = judgeHead(head, { nowMs, staleAfterSeconds: bound, minBlockNumber: options.minBlockNumber });
    if (verdict.fresh) return { head: { ...head, fresh: true, staleReason: null }, value };
    if (!best || head.number > best.head.number) best = { head, value, verdict };
    options.endpoints?.demoteCurrent(bound * 1000);
  }
  if (best!.verdict.behind) throw new AppError('stale_block', best!.verdict.reason, { status: 502 });
  return { head: { ...best!.head, fresh: false, staleReason: best!.verdict.reason }, value: best!.value };
}

/** The head by itself (eth_getBlockByNumber), for reads that are not batched (the bench's naive baseline, the tests). */
export async function pinBlock(client: PublicClient, options: PinOptions = {}): Promise<PinnedHead> {
  const { head } = await pinFreshHead(async () => {
    const block = await client.getBlock({ blockTag: 'latest' }).catch(rethrowRpc);
    return { head: { number: block.number, timestamp: block.timestamp }, value: undefined };
  }, options);
  return head;
}

/**
 * One tick's block, pinned by its first Multicall3 call: that call runs at `latest` and also
 * asks Multicall3 for the block number and timestamp; every later call of the tick waits for
 * the pin and runs at that number. So a tick whose accounts fit one batch costs one request.
 */
export class BlockPin {
  private pinned: Promise<PinnedHead> | undefined;

  constructor(
    private readonly context: ReadContext,
    private readonly options: PinOptions,
  ) {}

  /** The pinned head; pins with a call of its own when no read has yet. */
  head(): Promise<PinnedHead> {
    this.pinned ??= this.pinWith([]).then(({ head }) => head);
    return this.pinned;
  }

  multicall(contracts: readonly unknown[]): Promise<CallResult[]> {
    if (this.pinned) return this.pinned.then((head) => multicallAt(this.context, contracts, head.number));
    const first = this.pinWith(contracts);
    this.pinned = first.then(({ head }) => head);
    // The caller of the first call gets its failure; later readers of the pin get it again when they ask.
    this.pinned.catch(() => undefined);
    return first.then(({ value }) => value);
  }

  private async pinWith(contracts: readonly unknown[]): Promise<{ head: PinnedHead; value: CallResult[] }> {
    const headCalls = [
      { address: this.context.multicall3, abi: multicall3BlockAbi, functionName: 'getBlockNumber' },
      { address: this.context.multicall3, abi: multicall3BlockAbi, functionName: 'getCurrentBlockTimestamp' },
    ];
    try {
      return await pinFreshHead(async () => {
        const results = await multicallAt(this.context, [...headCalls, ...contracts]);
        const [number, timestamp] = results;
        if (number?.status !== 'success' || timestamp?.status !== 'success') throw new AppError('rpc_failed', `Multicall3 at ${this.context.multicall3} did not report the block`, { status: 502 });
        return { head: { number: number.result as bigint, timestamp: timestamp.result as bigint }, value: results.slice(2) };
      }, { ...this.options, chainId: this.options.chainId ?? this.context.chainId });
    } catch (error) {
      // Too large for one call at `latest`: pin with the head calls alone, then split the calls at that block.
      if (findAppError(error)?.code !== 'rpc_call_too_large' || contracts.length === 0) throw error;
      const { head } = await this.pinWith([]);
      return { head, value: await multicallAt(this.context, contracts, head.number) };
    }
  }
}

/** Where a read runs: a block already pinned, or the tick's pin its first call sets. */
export type ReadAt = PinnedBlock | BlockPin;

/** A Multicall3 call at the read's block: the tick's pin, or a block already pinned. */
export function multicallFor(context: ReadContext, contracts: readonly unknown[], at: ReadAt): Promise<CallResult[]> {
  return at instanceof BlockPin ? at.multicall(contracts) : multicallAt(context, contracts, at.number);
}

/** The block a read ran at, once its calls are done. */
export function pinnedOf(at: ReadAt): Promise<PinnedBlock> {
  return at instanceof BlockPin ? at.head() : Promise.resolve(at);
}
