/*
 * The volatility the engine uses for one market: each asset starts from a seed (realised
 * variance of its Chainlink round history, else its class's default from the calibration) and
 * is updated by EWMA over the oracle prices recorded at each poll (downsampled bars). Pure.
 */
import { ewmaCovariance, MS_PER_DAY, variancePerDayFromAnnual, logReturn, type CovarianceMatrix, type PricePoint } from './ewma';
import type { AssetClass, Calibration } from './calibration';

export type SeedSource = 'chainlink_rounds' | 'asset_class_default';

/** Where an asset's volatility started from; kept per asset so the basis can say it. */
export type VolatilitySeed = { variancePerDay: number; source: SeedSource; samples: number };

/** Round history shorter than this (returns, or days) is not trusted over the class default. */
const MIN_ROUND_RETURNS = 10;
const MIN_ROUND_DAYS = 1;

/**
 * The seed of one asset: the realised variance per day of its round history (Σ r² over the days
 * it spans) when it has at least MIN_ROUND_RETURNS returns over MIN_ROUND_DAYS; otherwise the
 * class default. Stablecoins are held flat by the model, so their seed is 0 either way.
 */
export function seedVolatility(rounds: readonly PricePoint[], assetClass: AssetClass, calibration: Pick<Calibration, 'defaultVolatility'>): VolatilitySeed {
  const fallback: VolatilitySeed = { variancePerDay: variancePerDayFromAnnual(calibration.defaultVolatility[assetClass]), source: 'asset_class_default', samples: 0 };
  if (assetClass === 'stable' || rounds.length < MIN_ROUND_RETURNS + 1) return fallback;
  const days = (rounds[rounds.length - 1]!.time - rounds[0]!.time) / MS_PER_DAY;
  if (days < MIN_ROUND_DAYS) return fallback;
  let sum = 0;
  for (let i = 1; i < rounds.length; i++) {
    const r = logReturn(rounds[i - 1]!.price, rounds[i]!.price);
    sum += r * r;
  }
  return { variancePerDay: sum / days, source: 'chainlink_rounds', samples: rounds.length - 1 };
}

/**
 * EWMA covariance of the given assets from their seeds and recorded bars (bars of one poll share
 * a time). Null when an asset has no seed (it was never priced).
 */
export function marketCovariance(series: Readonly<Record<string, readonly PricePoint[]>>, seeds: ReadonlyMap<string, VolatilitySeed>): CovarianceMatrix | null {
  const assets = Object.keys(series);
  if (assets.length === 0 || assets.some((asset) => !seeds.has(asset))) return null;
  return ewmaCovariance(series, { seeds: Object.fromEntries(assets.map((asset) => [asset, seeds.get(asset)!.variancePerDay])) });
}
