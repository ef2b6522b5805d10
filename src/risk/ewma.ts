/*
 * EWMA (RiskMetrics) variance and covariance of log returns over irregularly sampled prices.
 *
 * λ is given per day (0.94, half-life ≈ 11.2 days). A return observed over Δt days decays the
 * previous estimate by λ^Δt, so the half-life in calendar time is the same at any sampling
 * interval, and a gap simply decays the old estimate more. The new information is the return's
 * per-day variance r²/Δt (or r_a·r_b/Δt for a covariance):
 *   σ²_t = λ^Δt · σ²_{t−1} + (1 − λ^Δt) · r²/Δt
 * With daily samples this is exactly RiskMetrics. Estimates are per day; annualise with 365
 * (crypto trades every day).
 */

export const RISKMETRICS_LAMBDA_PER_DAY = 0.94;
export const DAYS_PER_YEAR = 365;
export const MS_PER_DAY = 86_400_000;

/** One observation: time in milliseconds since the epoch, price > 0. */
export type PricePoint = { time: number; price: number };

export type EwmaOptions = {
  lambdaPerDay?: number;
  /** Variance per day to start from (a cold-start default); without it the first return seeds the estimate. */
  seedVariancePerDay?: number;
};

export type EwmaEstimate = {
  /** Variance of log returns per day. */
  variancePerDay: number;
  /** Returns that went into the estimate. */
  samples: number;
  /** Time of the first and last price used (ms). */
  from: number;
  to: number;
};

/**
 * Decay factor and weight for a return observed over `days`: λ^Δt and 1 − λ^Δt.
 * Throws on a non-increasing time, which would mean unsorted or duplicated input.
 */
export function ewmaStep(days: number, lambdaPerDay = RISKMETRICS_LAMBDA_PER_DAY): { decay: number; weight: number } {
  if (!(days > 0)) throw new RangeError(`EWMA needs strictly increasing times, got an interval of ${days} days`);
  const decay = Math.pow(lambdaPerDay, days);
  return { decay, weight: 1 - decay };
}

/**
 * EWMA variance per day after every point (index i holds the estimate using points 0..i;
 * index 0 holds the seed, or NaN without one). Points must be sorted by time.
 */
export function ewmaVarianceSeries(points: readonly PricePoint[], options: EwmaOptions = {}): number[] {
  const lambda = options.lambdaPerDay ?? RISKMETRICS_LAMBDA_PER_DAY;
  const out: number[] = new Array<number>(points.length);
  let variance = options.seedVariancePerDay ?? Number.NaN;
  for (let i = 0; i < points.length; i++) {
    if (i > 0) {
      const days = (points[i]!.time - points[i - 1]!.time) / MS_PER_DAY;
      const r = logReturn(points[i - 1]!.price, points[i]!.price);
      const { decay, weight } = ewmaStep(days, lambda);
      variance = Number.isNaN(variance) ? (r * r) / days : decay * variance + (weight * r * r) / days;
    }
    out[i] = variance;
  }
  return out;
}

/** The latest EWMA variance of one series; null when there is neither a return nor a seed. */
export function ewmaVariance(points: readonly PricePoint[], options: EwmaOptions = {}): EwmaEstimate | null {
  if (points.length === 0) return null;
  const series = ewmaVarianceSeries(points, options);
  const variancePerDay = series[series.length - 1]!;
  if (Number.isNaN(variancePerDay)) return null;
  return { variancePerDay, samples: points.length - 1, from: points[0]!.time, to: points[points.length - 1]!.time };
}

export type CovarianceMatrix = {
  assets: string[];
  /** Per day, row-major, symmetric: perDay[i][j] = cov(asset i, asset j). */
  perDay: number[][];
  samples: number;
  from: number;
  to: number;
};

/**
 * EWMA covariance matrix of several assets' log returns, over the times every series has a
 * price (prices recorded at the same poll share a timestamp). `seeds` gives a per-asset
 * variance per day to start from; off-diagonal terms start at 0 (no assumed correlation).
 * Null when fewer than two common times exist and an asset has no seed.
 */
export function ewmaCovariance(
  series: Readonly<Record<string, readonly PricePoint[]>>,
  options: { lambdaPerDay?: number; seeds?: Readonly<Record<string, number>> } = {},
): CovarianceMatrix | null {
  const lambda = options.lambdaPerDay ?? RISKMETRICS_LAMBDA_PER_DAY;
  const assets = Object.keys(series).sort();
  const times = commonTimes(assets.map((asset) => series[asset]!));
  const priceAt = assets.map((asset) => new Map(series[asset]!.map((point) => [point.time, point.price])));
  const n = assets.length;
  const seeded = assets.every((asset) => options.seeds?.[asset] !== undefined);
  let matrix: number[][] | null = seeded
    ? assets.map((a, i) => assets.map((_, j) => (i === j ? options.seeds![a]! : 0)))
    : null;
  for (let t = 1; t < times.length; t++) {
    const days = (times[t]! - times[t - 1]!) / MS_PER_DAY;
    const { decay, weight } = ewmaStep(days, lambda);
    const r = priceAt.map((prices) => logReturn(prices.get(times[t - 1]!)!, prices.get(times[t]!)!));
    const fresh = r.map((ri) => r.map((rj) => (ri * rj) / days));
    matrix = matrix === null ? fresh : matrix.map((row, i) => row.map((value, j) => decay * value + weight * fresh[i]![j]!));
  }
  if (matrix === null || n === 0) return null;
  return {
    assets,
    perDay: matrix,
    samples: Math.max(0, times.length - 1),
    from: times[0] ?? Number.NaN,
    to: times[times.length - 1] ?? Number.NaN,
  };
}

/** Annualised volatility (e.g. 0.71 = 71 %/yr) from a variance per day. */
export function annualisedVolatility(variancePerDay: number): number {
  return Math.sqrt(variancePerDay * DAYS_PER_YEAR);
}

/** Variance per day from an annualised volatility. */
export function variancePerDayFromAnnual(volatility: number): number {
  return (volatility * volatility) / DAYS_PER_YEAR;
}

export function logReturn(from: number, to: number): number {
  if (!(from > 0) || !(to > 0)) throw new RangeError(`Log return needs positive prices, got ${from} → ${to}`);
  return Math.log(to / from);
}

function commonTimes(all: readonly (readonly PricePoint[])[]): number[] {
  if (all.length === 0) return [];
  const counts = new Map<number, number>();
  for (const points of all) for (const time of new Set(points.map((point) => point.time))) counts.set(time, (counts.get(time) ?? 0) + 1);
  return [...counts].filter(([, count]) => count === all.length).map(([time]) => time).sort((a, b) => a - b);
}
