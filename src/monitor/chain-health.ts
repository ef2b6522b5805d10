/*
 * Per configured chain: how old the newest good block any shard saw is, and whether that is
 * too old. /health shows it; the cron heartbeat pings only when no chain is degraded.
 */

/** What one shard reports about itself (cron and /health ask it). */
export type ShardHealth = {
  chainId: number | null;
  watches: number;
  /** The newest block this shard read on a fresh head: its number and its own time (seconds). */
  lastGoodBlock: { number: string; timestamp: number } | null;
  /** Watches currently in a monitor.degraded episode. */
  degradedWatches: number;
};

export type ChainHealth = {
  chainId: number;
  ok: boolean;
  lastGoodBlock: { number: string; timestamp: string } | null;
  /** Seconds since the last good block's own time; null when no shard has read one. */
  ageSeconds: number | null;
  shardsAsked: number;
  degradedWatches: number;
};

export function summarizeChains(chainIds: readonly number[], shards: readonly ShardHealth[], input: { nowMs: number; degradedAfterSeconds: number }): ChainHealth[] {
  return chainIds.map((chainId) => {
    const own = shards.filter((shard) => shard.chainId === chainId && shard.watches > 0);
    const newest = own.reduce<ShardHealth['lastGoodBlock']>((best, shard) => (shard.lastGoodBlock && (!best || shard.lastGoodBlock.timestamp > best.timestamp) ? shard.lastGoodBlock : best), null);
    const ageSeconds = newest ? Math.max(0, Math.floor(input.nowMs / 1000) - newest.timestamp) : null;
    const degradedWatches = own.reduce((sum, shard) => sum + shard.degradedWatches, 0);
    // A chain is fine when its newest good block is recent enough, or when nothing on it has been watched long enough to say otherwise.
    const ok = ageSeconds !== null ? ageSeconds <= input.degradedAfterSeconds : degradedWatches === 0;
    return {
      chainId,
      ok,
      lastGoodBlock: newest ? { number: newest.number, timestamp: new Date(newest.timestamp * 1000).toISOString() } : null,
      ageSeconds,
      shardsAsked: own.length,
      degradedWatches,
    };
  });
}
