/** The longest a shard whose reads keep failing waits between attempts. */
export const MAX_POLL_BACKOFF_MS = 5 * 60_000;

/**
 * The delay before the next poll after `failures` failed ticks in a row: the poll interval
 * doubling per failure, up to MAX_POLL_BACKOFF_MS; a success resets `failures` to 0.
 */
export function pollBackoffMs(pollIntervalMs: number, failures: number): number {
  if (failures <= 0) return pollIntervalMs;
  const doublings = Math.min(failures, 20);
  return Math.min(MAX_POLL_BACKOFF_MS, Math.max(pollIntervalMs, pollIntervalMs * 2 ** doublings));
}
