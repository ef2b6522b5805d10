import { directoryStub, shardStub } from '../durable/stubs';

import type { WatchRecord } from './records';

/*
 * A watch lives in three objects: the tenant's record, the directory's placement (which
 * shard, counted once) and the shard's polling row. These two steps bring the last two in
 * line with the record. Both are idempotent by watch id, so the API, a retried request and
 * the tenant's alarm can all run them again after a failure in the middle.
 */

/** Shards hold one market each; a market inside a protocol contract is keyed by both. */
export function marketKeyOf(watch: Pick<WatchRecord, 'chainId' | 'protocol' | 'market' | 'protocolAddress'>): string {
  return `${watch.chainId}:${watch.protocol}:${watch.market.toLowerCase()}${watch.protocolAddress ? `@${watch.protocolAddress.toLowerCase()}` : ''}`;
}

/** Places the watch in a shard (the same one on every retry) and has the shard poll it; returns the shard. */
export async function placeWatch(env: Env, shardSize: number, tenantId: string, watch: WatchRecord): Promise<string> {
  const shard = watch.shard || (await directoryStub(env).assignShard(marketKeyOf(watch), shardSize, watch.id));
  await pushToShard(env, tenantId, { ...watch, shard });
  return shard;
}

/** Sends the watch's current settings to its shard (insert or update; polled at once). */
export async function pushToShard(env: Env, tenantId: string, watch: WatchRecord): Promise<void> {
  await shardStub(env, watch.shard).upsertWatch({
    id: watch.id,
    label: watch.label,
    chainId: watch.chainId,
    protocol: watch.protocol,
    market: watch.market,
    ...(watch.protocolAddress ? { protocolAddress: watch.protocolAddress } : {}),
    account: watch.account,
    tenantId,
    thresholds: watch.thresholds,
    silencedUntil: watch.silencedUntil ? Date.parse(watch.silencedUntil) : null,
    topUp: watch.topUp,
    risk: watch.risk.enabled ? watch.risk : null,
  });
}

/**
 * Stops polling the watch and frees its shard slot (the directory frees a slot once per
 * watch id). A watch deleted before its create finished may be placed without the tenant
 * knowing where: the directory says.
 */
export async function unplaceWatch(env: Env, watch: WatchRecord): Promise<void> {
  const directory = directoryStub(env);
  const shard = watch.shard || (await directory.placementOf(watch.id));
  if (!shard) return;
  await shardStub(env, shard).removeWatch(watch.id);
  await directory.releaseShard(shard, watch.id);
}
