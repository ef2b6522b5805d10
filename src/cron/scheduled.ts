import { parseConfig } from '../config/env';
import { directoryStub } from '../durable/directory';
import { shardStub } from '../durable/shard';
import { tenantStub } from '../durable/tenant';
import { topUpStub } from '../durable/topup';
import { topUpObjectName } from '../topup/signer';

/** Armed tenants checked per minute; more are taken in turn over the next minutes (each check is a subrequest). */
export const TENANTS_PER_HEARTBEAT = 200;

export type HeartbeatSummary = { shards: number; armed: number; tenants: number; executors: number };

/**
 * The 1-minute heartbeat, kept thin: re-arms alarms that were lost. Every shard with
 * watches; the tenants the directory lists as having work waiting (pending deliveries,
 * unfinished creates or deletes), never a scan of all tenants; and the top-up executor of
 * each configured chain. Polling and delivery themselves run in the objects' alarms.
 */
export async function heartbeat(env: Env): Promise<HeartbeatSummary> {
  const directory = directoryStub(env);
  const [shards, tenants] = await Promise.all([directory.listShards(), directory.takeArmedToCheck('tenant', TENANTS_PER_HEARTBEAT)]);
  const executors = executorNames(env);
  const checks = [
    ...shards.map((shard) => () => shardStub(env, shard.name).ensureAlarm()),
    ...tenants.map((tenantId) => () => tenantStub(env, tenantId).ensureAlarm()),
    ...executors.map((name) => () => topUpStub(env, name).ensureAlarm()),
  ];
  const results = await Promise.allSettled(checks.map((check) => check()));
  const armed = results.filter((result) => result.status === 'fulfilled' && result.value).length;
  const failed = results.filter((result) => result.status === 'rejected').length;
  if (failed > 0) console.warn(`heartbeat: ${failed} of ${results.length} objects did not answer; retried next minute`);
  return { shards: shards.length, armed, tenants: tenants.length, executors: executors.length };
}

/** One executor per configured chain and the deployment's signer (or its dry-run executor). */
function executorNames(env: Env): string[] {
  try {
    const config = parseConfig(env as unknown as Record<string, unknown>);
    return [...config.chains.keys()].map((chainId) => topUpObjectName(chainId, config.topUp.signer));
  } catch {
    // Shards and tenants are still checked; the bad setting is named by /health and every API call.
    console.warn('heartbeat: configuration invalid; top-up executors not checked');
    return [];
  }
}
