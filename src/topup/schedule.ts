import type { SkipReason } from '../domain/topup-plan';

/*
 * When the executor looks again: request lifetime, retry backoff after a refusal, notice
 * retention, and the next alarm. Decisions only, from counts and times handed in.
 */

/** A request older than this is dropped: the shard sends a fresh one every tick while the trigger holds. */
export const REQUEST_TTL_MS = 5 * 60_000;
/** After a refusal (stale RPC, gas above cap, revert), the same watch is not retried sooner. */
export const FAILURE_BACKOFF_MS = 30_000;
/** Notices handed off to their tenant are kept this long (the tenant ignores ids it has). */
export const NOTICE_RETENTION_MS = 7 * 24 * 60 * 60_000;
/** The poll interval used when the configuration cannot be read. */
export const FALLBACK_POLL_MS = 12_000;

/** Whether a refusal recorded at `failureAt` still holds the watch back at `now`. */
export function inBackoff(failureAt: number | undefined, now: number): boolean {
  return failureAt !== undefined && now - failureAt < FAILURE_BACKOFF_MS;
}

/** Cooldown and day cap lift at a known time; other skips need someone to act. */
export function liftsByItself(reason: SkipReason): boolean {
  return reason === 'cooldown' || reason === 'day_cap_reached' || reason === 'tenant_budget_reached';
}

/**
 * The next alarm after a pass: a poll interval away while something is in flight, failed or
 * undelivered; a second away when requests wait; none when there is nothing to do.
 */
export function nextWakeUp(input: { inFlight: boolean; error: string | null; pendingRequests: number; undeliveredNotices: number; pollMs: number; now: number }): number | null {
  if (input.inFlight || input.error !== null || input.undeliveredNotices > 0) return input.now + input.pollMs;
  if (input.pendingRequests > 0) return input.now + 1000;
  return null;
}
