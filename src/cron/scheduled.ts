import { parseConfig } from '../config/env';
import { findAppError } from '../lib/find-app-error';
import { directoryStub } from '../durable/directory';
import { shardStub } from '../durable/shard';
import { summarizeChains, type ShardHealth } from '../monitor/chain-health';

/**
 * The 1-minute heartbeat, kept thin: every shard with watches gets its alarm re-armed if
 * it was lost. Polling itself runs in the shards' alarms. When every shard answered and no
 * chain is degraded, HEARTBEAT_URL (if set) is pinged, so an outside dead-man's switch
 * notices when the deployment itself stops.
 */
export async function heartbeat(env: Env): Promise<{ shards: number; armed: number; pinged: boolean }> {
  const shards = await directoryStub(env).listShards();
  const results = await Promise.allSettled(shards.map((shard) => shardStub(env, shard.name).ensureAlarm()));
  const answered = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const armed = answered.filter((health) => health.armed).length;
  const failed = results.length - answered.length;
  if (failed > 0) console.warn(`heartbeat: ${failed} of ${shards.length} shards did not answer; retried next minute`);
  const pinged = failed === 0 && (await pingHeartbeat(env, answered));
  return { shards: shards.length, armed, pinged };
}

async function pingHeartbeat(env: Env, shards: ShardHealth[]): Promise<boolean> {
  let config;
  try {
    config = parseConfig(env as unknown as Record<string, unknown>);
  } catch (error) {
    // A bad configuration is named by /health and the API; the switch must notice it too: no ping.
    console.warn(`heartbeat: not pinged, the configuration is invalid (${findAppError(error)?.code ?? 'unknown'})`);
    return false;
  }
  if (!config.heartbeatUrl) return false;
  const chains = summarizeChains([...config.chains.keys()], shards, { nowMs: Date.now(), degradedAfterSeconds: config.monitorDegradedAfterSeconds });
  const degraded = chains.filter((chain) => !chain.ok).map((chain) => chain.chainId);
  if (degraded.length > 0) {
    console.warn(`heartbeat: not pinged, chains degraded: ${degraded.join(', ')}`);
    return false;
  }
  try {
    const response = await fetch(config.heartbeatUrl, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    await response.body?.cancel();
    if (!response.ok) console.warn(`heartbeat: the heartbeat URL answered HTTP ${response.status}`);
    return response.ok;
  } catch (error) {
    console.warn(`heartbeat: the heartbeat URL could not be reached (${error instanceof Error ? error.name : 'unknown'})`);
    return false;
  }
}
