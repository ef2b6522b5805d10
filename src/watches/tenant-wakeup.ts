/*
 * When a tenant's alarm must come back. Pure: the object reads the facts from its storage.
 */

const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** A create or delete still in flight is left to its request this long before the alarm finishes it. */
export const SYNC_GRACE_MS = 30_000;
/** The soonest an alarm is set: a run never re-arms itself into a busy loop. */
const MIN_DELAY_MS = 100;

export type TenantWakeUpFacts = {
  /** The earliest next attempt of a pending delivery; null when none is pending. */
  nextDeliveryAt: number | null;
  /** Whether a watch's create or delete is not finished yet. */
  unfinishedSync: boolean;
  /** When the oldest stored event was created; null when there is none. */
  oldestEventAt: number | null;
  /** Whether the last batch job (re-sync, pruning) had more to do than one batch. */
  backlog: boolean;
  retentionDays: number;
  now: number;
};

/**
 * The earliest of: the next due delivery; a re-sync SYNC_GRACE_MS away; a second away while
 * a batch job has more to do; else the moment the oldest event passes the retention (at
 * most hourly, as a pending delivery may hold it). Null when there is nothing to come back for.
 */
export function tenantWakeUpAt(facts: TenantWakeUpFacts): number | null {
  const { now } = facts;
  const nextSync = facts.unfinishedSync ? now + SYNC_GRACE_MS : null;
  const nextPrune = facts.backlog ? now + 1000 : facts.oldestEventAt === null ? null : Math.max(facts.oldestEventAt + facts.retentionDays * DAY_MS, now + HOUR_MS);
  const due = [facts.nextDeliveryAt, nextSync, nextPrune].filter((at): at is number => at !== null);
  return due.length === 0 ? null : Math.max(Math.min(...due), now + MIN_DELAY_MS);
}
