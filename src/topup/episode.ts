import type { StoredTopUpPolicy } from '../config/topup-policy';
import type { PositionSnapshot } from '../domain/position';
import { decimalToWad } from '../domain/risk';
import type { WatchRef } from '../notify/event-body';
import { observePosition } from './observed-position';
import type { TopUpRequest } from './request';

/*
 * Top-up episodes as a shard sees them, pure: whether a watch's health factor is below its
 * policy's trigger, the episode counter that names a trigger, and the request handed to the
 * executor. The shard stores the columns with its alert state, in the same transaction.
 */

/** The shard watch row's top-up columns (see Shard's constructor). */
export type TopUpColumns = { top_up?: string | null; top_up_episode?: number; top_up_below?: number };

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

