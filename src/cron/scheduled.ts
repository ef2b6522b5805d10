import { directoryStub, shardStub, tenantStub, topUpStub } from '../durable/stubs';
import { parseConfig, type AppConfig } from '../config/env';
import { findAppError } from '../lib/find-app-error';

import { topUpObjectName } from '../topup/signer';
import { summarizeChains, type ShardHealth } from '../monitor/chain-health';
import { withTimeout } from '../lib/timeout';

/** Armed tenants checked per minute; more are taken in turn over the next minutes (each check is a subrequest). */
export const TENANTS_PER_HEARTBEAT = 200;

export type HeartbeatSummary = { shards: number; armed: number; tenants: number; executors: number; pinged: boolean };

/**
 * The 1-minute heartbeat, kept thin: re-arms alarms that were lost. Every shard with
 * watches; the tenants the directory lists as having work waiting (pending deliveries,
 * unfinished creates or deletes), never a scan of all tenants; and the top-up executor of
 * each configured chain. Polling and delivery themselves run in the objects' alarms.
 * When every object answered and no chain is degraded, HEARTBEAT_URL (if set) is pinged, so
 * an outside dead-man's switch notices when the deployment itself stops.
 */
export async function heartbeat(env: Env): Promise<HeartbeatSummary> {
  const config = configOrNull(env);
  const directory = directoryStub(env);
  const [shards, tenants] = await Promise.all([directory.listShards(), directory.takeArmedToCheck('tenant', TENANTS_PER_HEARTBEAT)]);
  const executors = config ? [...config.chains.keys()].map((chainId) => topUpObjectName(chainId, config.topUp.signer)) : [];
  const [shardResults, otherResults] = await Promise.all([
    Promise.allSettled(shards.map((shard) => shardStub(env, shard.name).ensureAlarm())),
    Promise.allSettled([...tenants.map((tenantId) => tenantStub(env, tenantId).ensureAlarm()), ...executors.map((name) => topUpStub(env, name).ensureAlarm())]),
  ]);
  const shardHealth = shardResults.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const armed = shardHealth.filter((health) => health.armed).length + otherResults.filter((result) => result.status === 'fulfilled' && result.value).length;
  const failed = shardResults.length - shardHealth.length + otherResults.filter((result) => result.status === 'rejected').length;
  if (failed > 0) console.warn(`heartbeat: ${failed} of ${shardResults.length + otherResults.length} objects did not answer; retried next minute`);
  const pinged = failed === 0 && config !== null && (await pingHeartbeat(config, shardHealth));
  return { shards: shards.length, armed, tenants: tenants.length, executors: executors.length, pinged };
}

function configOrNull(env: Env): AppConfig | null {
  try {
    return parseConfig(env as unknown as Record<string, unknown>);
  } catch (error) {
    // Shards and tenants are still checked; a bad configuration is named by /health and the API.
    // The switch must notice it too: no ping, no executor checks.
    console.warn(`heartbeat: the configuration is invalid (${findAppError(error)?.code ?? 'unknown'}); not pinged, top-up executors not checked`);
    return null;
  }
}

async function pingHeartbeat(config: AppConfig, shards: ShardHealth[]): Promise<boolean> {
  const heartbeatUrl = config.heartbeatUrl;
  if (!heartbeatUrl) return false;
  const chains = summarizeChains([...config.chains.keys()], shards, { nowMs: Date.now(), degradedAfterSeconds: config.monitorDegradedAfterSeconds });
  const degraded = chains.filter((chain) => !chain.ok).map((chain) => chain.chainId);
  if (degraded.length > 0) {
    console.warn(`heartbeat: not pinged, chains degraded: ${degraded.join(', ')}`);
    return false;
  }
  try {
    return await withTimeout(10_000, async (signal) => {
      const response = await fetch(heartbeatUrl, { method: 'GET', redirect: 'manual', signal });
      await response.body?.cancel();
      if (!response.ok) console.warn(`heartbeat: the heartbeat URL answered HTTP ${response.status}`);
      return response.ok;
    });
  } catch (error) {
    console.warn(`heartbeat: the heartbeat URL could not be reached (${error instanceof Error ? error.name : 'unknown'})`);
    return false;
  }
}
