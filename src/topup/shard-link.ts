import type { AppConfig } from '../config/env';
import type { StoredTopUpPolicy } from '../config/topup-policy';
import type { PositionSnapshot } from '../domain/position';
import { decimalToWad } from '../domain/risk';
import type { WatchRef } from '../notify/event-body';
import type { TopUpRequest } from './request';
import { topUpStub } from '../durable/stubs';
import { topUpObjectName } from './signer';
import { observePosition } from './observed-position';

/*
 * What the shard needs for top-ups, kept here so the shard's own code changes only by a few
 * lines: the columns of its watch row, the episode bookkeeping, and the hand-over.
 */

/** The shard watch row's top-up columns (added by `addTopUpColumns`). */
export type TopUpColumns = { top_up?: string | null; top_up_episode?: number; top_up_below?: number };

/** Guarded ALTER TABLE: shards created before top-ups keep their rows and gain the columns. */
export function addTopUpColumns(sql: SqlStorage): void {
  const existing = new Set(sql.exec<{ name: string }>('PRAGMA table_info(watches)').toArray().map((column) => column.name));
  if (!existing.has('top_up')) sql.exec('ALTER TABLE watches ADD COLUMN top_up TEXT');
  if (!existing.has('top_up_episode')) sql.exec('ALTER TABLE watches ADD COLUMN top_up_episode INTEGER NOT NULL DEFAULT 0');
  if (!existing.has('top_up_below')) sql.exec('ALTER TABLE watches ADD COLUMN top_up_below INTEGER NOT NULL DEFAULT 0');
}

function enabledPolicy(row: TopUpColumns): StoredTopUpPolicy | null {
  if (!row.top_up) return null;
  const policy = JSON.parse(row.top_up) as StoredTopUpPolicy;
  return policy.enabled ? policy : null;
}

function belowTrigger(policy: StoredTopUpPolicy, healthFactor: bigint | null): boolean {
  return healthFactor !== null && healthFactor < decimalToWad(String(policy.triggerHealthFactor));
}

/** Accounts whose enabled policy is triggered get their per-asset breakdown read this tick. */
export function needsTopUpDetail(row: TopUpColumns, healthFactor: bigint | null): boolean {
  const policy = enabledPolicy(row);
  return policy !== null && belowTrigger(policy, healthFactor);
}

/**
 * Pure episode bookkeeping for one observation: an episode starts each time the health
 * factor falls below the trigger and lasts while it stays below. Its number is part of the
 * trigger id, so every tick of one episode names the same trigger and the executor acts once.
 * Null when the watch has no enabled policy (the columns are then left as they are).
 */
export function topUpEpisodeStep(row: TopUpColumns, healthFactor: bigint | null): { episode: number; below: boolean } | null {
  const policy = enabledPolicy(row);
  if (!policy) return null;
  const previousEpisode = row.top_up_episode ?? 0;
  const below = belowTrigger(policy, healthFactor);
  const episode = below && (row.top_up_below ?? 0) === 0 ? previousEpisode + 1 : previousEpisode;
  return { episode, below };
}

export function topUpRequest(row: TopUpColumns & { tenant_id: string }, watch: WatchRef, snapshot: PositionSnapshot, episode: number): TopUpRequest {
  return {
    watch,
    tenantId: row.tenant_id,
    policy: JSON.parse(row.top_up!) as StoredTopUpPolicy,
    episode,
    observedBlock: snapshot.blockNumber.toString(),
    observedHealthFactor: snapshot.healthFactor === null ? null : snapshot.healthFactor.toString(),
    observed: observePosition(snapshot),
  };
}

/**
 * Hands triggered watches to the executor of (chain, signer). Called after the shard's state
 * transaction commits; it only stores the requests over there, and any error is swallowed:
 * the alert path never waits on or fails because of the executor. The next tick repeats the
 * request while the trigger holds, and the executor is idempotent per trigger.
 */
export async function dispatchTopUpRequests(env: Env, config: AppConfig, chainId: number, requests: TopUpRequest[]): Promise<void> {
  if (requests.length === 0) return;
  try {
    await topUpStub(env, topUpObjectName(chainId, config.topUp.signer)).requestTopUp(requests);
  } catch (error) {
    console.warn('topup: executor did not take the requests; retried next tick', error instanceof Error ? error.name : 'unknown');
  }
}
