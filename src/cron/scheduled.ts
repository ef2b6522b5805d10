import { directoryStub } from '../durable/directory';
import { shardStub } from '../durable/shard';

/**
 * The 1-minute heartbeat, kept thin: every shard with watches gets its alarm re-armed if
 * it was lost. Polling itself runs in the shards' alarms.
 */
export async function heartbeat(env: Env): Promise<{ shards: number; armed: number }> {
  const shards = await directoryStub(env).listShards();
  const results = await Promise.allSettled(shards.map((shard) => shardStub(env, shard.name).ensureAlarm()));
  const armed = results.filter((result) => result.status === 'fulfilled' && result.value).length;
  const failed = results.length - results.filter((result) => result.status === 'fulfilled').length;
  if (failed > 0) console.warn(`heartbeat: ${failed} of ${shards.length} shards did not answer; retried next minute`);
  return { shards: shards.length, armed };
}
