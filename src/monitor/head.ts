/*
 * When is a chain head too old to trust? A node that keeps answering but stopped following
 * the chain serves the same block forever; its block's own time gives it away.
 */

/** Typical seconds between blocks, for chains whose pace the shard has not measured yet. */
const DEFAULT_BLOCK_SECONDS: Record<number, number> = {
  1: 12,
  10: 2,
  56: 3,
  100: 5,
  137: 2,
  8453: 2,
  42161: 0.25,
  43114: 2,
  11155111: 12,
};
const FALLBACK_BLOCK_SECONDS = 12;
const MIN_STALE_SECONDS = 60;

export type HeadSample = { number: bigint; timestamp: bigint };

/** Seconds per block between two heads the shard saw, when the chain advanced between them. */
export function measuredBlockSeconds(previous: HeadSample | undefined, head: HeadSample): number | undefined {
  if (!previous || head.number <= previous.number || head.timestamp < previous.timestamp) return undefined;
  return Number(head.timestamp - previous.timestamp) / Number(head.number - previous.number);
}

/** How old a head may be before it counts as stale: max(60 s, 5 block times). */
export function staleAfterSeconds(chainId: number, blockSeconds: number | undefined): number {
  return Math.max(MIN_STALE_SECONDS, 5 * (blockSeconds ?? DEFAULT_BLOCK_SECONDS[chainId] ?? FALLBACK_BLOCK_SECONDS));
}

export type HeadVerdict = { fresh: true } | { fresh: false; behind: boolean; reason: string };

/**
 * A head is stale when it is older than the bound by the clock, or behind a block already
 * seen (a node that went backwards serves an old state, whatever its timestamp says).
 */
export function judgeHead(head: HeadSample, input: { nowMs: number; staleAfterSeconds: number; minBlockNumber?: bigint }): HeadVerdict {
  if (input.minBlockNumber !== undefined && head.number < input.minBlockNumber) {
    return { fresh: false, behind: true, reason: `RPC returned block ${head.number}, older than block ${input.minBlockNumber} already seen: the node is lagging` };
  }
  const ageSeconds = Math.floor(input.nowMs / 1000) - Number(head.timestamp);
  if (ageSeconds > input.staleAfterSeconds) {
    return { fresh: false, behind: false, reason: `the newest block the RPC serves (${head.number}) is ${ageSeconds} s old, over the ${input.staleAfterSeconds} s bound: the node stopped following the chain` };
  }
  return { fresh: true };
}
