import { directoryStub, shardStub } from '../durable/stubs';
import type { AppConfig } from '../config/env';

import { summarizeChains, type ChainHealth, type ShardHealth } from '../monitor/chain-health';

/** /health asks at most this many shards per chain (the fullest first), so it stays cheap at any size. */
const SHARDS_PER_CHAIN = 4;

/**
 * Per configured chain, the age of the newest good block, from a bounded sample of that
 * chain's shards (every shard of a chain reads the same head, so a few tell the chain's state).
 */
export async function chainHealth(env: Env, config: AppConfig): Promise<ChainHealth[]> {
  const shards = await directoryStub(env).listShards();
  const sample = [...config.chains.keys()].flatMap((chainId) =>
    shards
      .filter((shard) => shard.name.startsWith(`${chainId}:`))
      .sort((a, b) => b.watches - a.watches)
      .slice(0, SHARDS_PER_CHAIN),
  );
  const answers = await Promise.allSettled(sample.map((shard) => shardStub(env, shard.name).health()));
  const healths: ShardHealth[] = answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
  if (healths.length < sample.length) console.warn(`health: ${sample.length - healths.length} of ${sample.length} shards did not answer`);
  return summarizeChains([...config.chains.keys()], healths, { nowMs: Date.now(), degradedAfterSeconds: config.monitorDegradedAfterSeconds });
}
