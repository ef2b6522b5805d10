/*
 * An empirical distribution stored as quantiles on a fixed probability grid, the form the
 * calibration is committed in. The grid is fine in both tails (steps of 0.0001 below 0.001,
 * 0.001 below 0.05) because small liquidation probabilities and VaR/ES live there.
 */
import { z } from 'zod';

export const quantileTableSchema = z.object({
  /** Probability levels, strictly increasing, from 0 (the sample minimum) to 1 (the maximum). */
  p: z.array(z.number().min(0).max(1)).min(2),
  /** The sample's quantile at each level, non-decreasing. */
  q: z.array(z.number()).min(2),
  /** Sample size the table was built from. */
  n: z.number().int().positive(),
});
export type QuantileTable = z.infer<typeof quantileTableSchema>;

/** The probability grid: 0, 0.0001…0.001, 0.002…0.05, 0.06…0.94, 0.95…0.999, 0.9991…0.9999, 1. */
export function probabilityGrid(): number[] {
  const grid: number[] = [0];
  const push = (from: number, to: number, step: number) => {
    for (let k = Math.round(from / step); k <= Math.round(to / step); k++) grid.push(Number((k * step).toFixed(6)));
  };
  push(0.0001, 0.001, 0.0001);
  push(0.002, 0.05, 0.001);
  push(0.06, 0.94, 0.01);
  push(0.95, 0.999, 0.001);
  push(0.9991, 0.9999, 0.0001);
  grid.push(1);
  return grid;
}

/**
 * Quantile table of a sample (linear interpolation between order statistics, "type 7":
 * quantile(p) = x[(n−1)p]). Values are rounded to 6 significant digits so the committed
 * file is stable across runs and platforms. Throws on an empty sample.
 */
export function quantileTable(sample: readonly number[] | Float64Array, grid: readonly number[] = probabilityGrid()): QuantileTable {
  if (sample.length === 0) throw new RangeError('A quantile table needs at least one sample');
  return quantileTableOfSorted(Float64Array.from(sample).sort(), grid);
}

/** The same from a sample already sorted ascending (non-empty). */
export function quantileTableOfSorted(sorted: Float64Array, grid: readonly number[] = probabilityGrid()): QuantileTable {
  if (sorted.length === 0) throw new RangeError('A quantile table needs at least one sample');
  return { p: [...grid], q: grid.map((p) => round6(sortedQuantile(sorted, p))), n: sorted.length };
}

/** Quantile at p of an already sorted sample, type 7. */
export function sortedQuantile(sorted: Float64Array, p: number): number {
  const position = (sorted.length - 1) * p;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}

/**
 * P(X ≤ x), interpolating linearly between the table's points. 0 below the sample minimum
 * and 1 at or above its maximum: the table claims nothing beyond what was observed, which
 * is a limit to state (a move worse than history is given probability 0).
 */
export function tableCdf(table: QuantileTable, x: number): number {
  const { p, q } = table;
  if (x < q[0]!) return 0;
  if (x >= q[q.length - 1]!) return 1;
  // Largest index with q[i] <= x (ties take the highest probability at that value).
  let low = 0;
  let high = q.length - 1;
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    if (q[mid]! <= x) low = mid;
    else high = mid;
  }
  const span = q[high]! - q[low]!;
  return span === 0 ? p[low]! : p[low]! + ((x - q[low]!) / span) * (p[high]! - p[low]!);
}

/** Quantile at level `level` (0..1), interpolated in the table. */
export function tableQuantile(table: QuantileTable, level: number): number {
  const { p, q } = table;
  if (level <= 0) return q[0]!;
  if (level >= 1) return q[q.length - 1]!;
  let i = 1;
  while (p[i]! < level) i++;
  const share = (level - p[i - 1]!) / (p[i]! - p[i - 1]!);
  return q[i - 1]! + share * (q[i]! - q[i - 1]!);
}

/**
 * Mean of f(X) over the probability band [from, to] of X's distribution (e.g. [0, 0.025] is
 * the worst 2.5 % of a loss-increasing-downwards variable), integrating f of the piecewise
 * linear quantile function with the trapezoid rule: the building block of expected shortfall.
 */
export function bandMean(table: QuantileTable, from: number, to: number, f: (x: number) => number = (x) => x): number {
  if (!(from >= 0 && to <= 1 && to > from)) throw new RangeError(`Band must satisfy 0 <= from < to <= 1, got [${from}, ${to}]`);
  const { p } = table;
  const cuts = [from, ...p.filter((level) => level > from && level < to), to];
  let area = 0;
  for (let i = 1; i < cuts.length; i++) {
    area += ((f(tableQuantile(table, cuts[i - 1]!)) + f(tableQuantile(table, cuts[i]!))) / 2) * (cuts[i]! - cuts[i - 1]!);
  }
  return area / (to - from);
}

export function round6(value: number): number {
  return value === 0 ? 0 : Number(value.toPrecision(6));
}
