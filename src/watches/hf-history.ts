/**
 * The health-factor history the dashboard charts: one point per bucket of time per watch,
 * holding the lowest health factor seen in that bucket (the worst moment is what a chart of
 * risk must not smooth away), kept HF_HISTORY_DAYS. Pure; the shard stores it
 * (src/watches/hf-history-store.ts).
 */

export const HF_HISTORY_DAYS = 30;
const DAY_MS = 86_400_000;

/** One point: the bucket's start (ms) and its lowest health factor; null means no debt (∞). */
export type HfPoint = { at: number; healthFactor: number | null };

export function bucketStart(atMs: number, bucketMs: number): number {
  return atMs - (atMs % bucketMs);
}

/** Points older than this are pruned. */
export function retentionCutoff(now: number): number {
  return now - HF_HISTORY_DAYS * DAY_MS;
}

/** The lower of two health factors, where null (no debt) is infinitely high. */
export function lowerHealthFactor(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/**
 * At most `maxPoints` points (oldest first in, oldest first out): consecutive points are
 * merged in equal groups, each keeping its first time and its lowest health factor.
 */
export function downsample(points: readonly HfPoint[], maxPoints: number): HfPoint[] {
  if (maxPoints < 1) throw new RangeError(`maxPoints must be at least 1, got ${maxPoints}`);
  if (points.length <= maxPoints) return [...points];
  const groupSize = Math.ceil(points.length / maxPoints);
  const merged: HfPoint[] = [];
  for (let start = 0; start < points.length; start += groupSize) {
    const group = points.slice(start, start + groupSize);
    merged.push({ at: group[0]!.at, healthFactor: group.reduce<number | null>((low, point) => lowerHealthFactor(low, point.healthFactor), null) });
  }
  return merged;
}

/** The health factor's decimal text (as PositionView shows it) as a chartable number; null stays null. */
export function chartValue(healthFactor: string | null): number | null {
  if (healthFactor === null) return null;
  const value = Number(healthFactor);
  return Number.isFinite(value) ? value : null;
}
