import { shardStub, tenantStub } from '../durable/stubs';
import { AppError } from '../lib/errors';

import type { HfPoint } from './hf-history';

/** A watch's health-factor history since `sinceMs`, from the shard that polls it; empty before it is placed. */
export async function healthFactorHistory(env: Env, tenantId: string, watchId: string, sinceMs: number): Promise<HfPoint[]> {
  const watch = await tenantStub(env, tenantId).getWatch(watchId);
  if (!watch) throw new AppError('not_found', `watch ${watchId} not found`, { status: 404 });
  return watch.shard ? shardStub(env, watch.shard).hfHistory(watch.id, sinceMs) : [];
}
