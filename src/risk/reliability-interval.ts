/*
 * How far a reliability bin's gap (realised − predicted) could move by chance. The backtest's
 * position-hours are not independent: every position open on a day rides the same price path,
 * and consecutive hours share 23 of their 24 h windows. So the bins' position-hour counts
 * overstate the evidence, and a gap of 2 pp in a bin of 20,000 position-hours can rest on a few
 * hundred days. A day-block bootstrap (resample whole calendar days, all assets together, with
 * replacement) gives the gap's spread at the resolution the data really has. Pure, deterministic
 * for a seed.
 */

export type DatedPrediction = { p: number; y: number; day: number };
/** A bin's distinct days, and the 2.5 % and 97.5 % quantiles of its resampled gap (realised − predicted, fraction). */
export type BinInterval = { days: number; low: number; high: number };

/** The reliability bin of a probability: [from, to), the last bin closed. The same rule as `reliability`. */
export function binIndex(p: number, edges: readonly number[]): number {
  const last = edges.length - 2;
  for (let k = 0; k < last; k++) if (p < edges[k + 1]!) return k;
  return last;
}

/**
 * Per day and bin: count, Σp and Σy of the predictions, all a resample needs (a resample adds up
 * whole days), so millions of position-hours take a few kilobytes per day.
 */
export class DayBinSums {
  private readonly dayIndex = new Map<number, number>();
  private readonly sums: Float64Array[] = [];
  private readonly daysOfBin: Set<number>[];

  constructor(private readonly edges: readonly number[]) {
    this.daysOfBin = Array.from({ length: edges.length - 1 }, () => new Set<number>());
  }

  add(p: number, y: number, day: number): void {
    let d = this.dayIndex.get(day);
    if (d === undefined) {
      d = this.sums.length;
      this.dayIndex.set(day, d);
      this.sums.push(new Float64Array((this.edges.length - 1) * 3));
    }
    const k = binIndex(p, this.edges);
    const row = this.sums[d]!;
    row[3 * k] = row[3 * k]! + 1;
    row[3 * k + 1] = row[3 * k + 1]! + p;
    row[3 * k + 2] = row[3 * k + 2]! + y;
    this.daysOfBin[k]!.add(day);
  }

  /** Per bin (null when empty): distinct days and the day-block bootstrap 95 % interval of its gap. */
  intervals(options: { resamples?: number; seed?: number } = {}): (BinInterval | null)[] {
    const { resamples = 1000, seed = 1 } = options;
    const binCount = this.edges.length - 1;
    const random = mulberry32(seed);
    const gaps: number[][] = Array.from({ length: binCount }, () => []);
    const total = new Float64Array(binCount * 3);
    for (let r = 0; r < resamples; r++) {
      total.fill(0);
      for (let j = 0; j < this.sums.length; j++) {
        const row = this.sums[Math.floor(random() * this.sums.length)]!;
        for (let i = 0; i < total.length; i++) total[i] = total[i]! + row[i]!;
      }
      for (let k = 0; k < binCount; k++) if (total[3 * k]! > 0) gaps[k]!.push((total[3 * k + 2]! - total[3 * k + 1]!) / total[3 * k]!);
    }
    return gaps.map((values, k) => {
      if (this.daysOfBin[k]!.size === 0 || values.length === 0) return null;
      values.sort((a, b) => a - b);
      return { days: this.daysOfBin[k]!.size, low: quantileOfSorted(values, 0.025), high: quantileOfSorted(values, 0.975) };
    });
  }
}

/** `DayBinSums` of a list of dated predictions, then its intervals. */
export function dayBlockIntervals(predictions: readonly DatedPrediction[], edges: readonly number[], options: { resamples?: number; seed?: number } = {}): (BinInterval | null)[] {
  const sums = new DayBinSums(edges);
  for (const { p, y, day } of predictions) sums.add(p, y, day);
  return sums.intervals(options);
}

function quantileOfSorted(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

/** A small seeded generator (mulberry32): the same intervals on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
