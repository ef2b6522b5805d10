/*
 * The volatility the engine uses for one market: each asset starts from a seed (realised
 * variance of its Chainlink round history, else its class's default from the calibration where
 * prices are in dollars, else the realised variance of a day of recorded bars) and is updated
 * by EWMA over the oracle prices recorded at each poll (downsampled bars). Pure.
 */
import { ewmaCovariance, MS_PER_DAY, variancePerDayFromAnnual, logReturn, type CovarianceMatrix, type PricePoint } from './ewma';
import type { AssetClass, Calibration } from './calibration';

export type SeedSource = 'chainlink_rounds' | 'recorded_bars' | 'asset_class_default';

/** Where an asset's volatility started from; kept per asset so the basis can say it. */
export type VolatilitySeed = { variancePerDay: number; source: SeedSource; samples: number };

/** A price path shorter than this (returns, or days) is not trusted to seed a volatility. */
const MIN_RETURNS = 10;
const MIN_DAYS = 1;

/**
 * The realised variance per day of a price path (Σ r² over the days it spans: a feed's round
 * history, or the bars a shard recorded), when it has at least MIN_RETURNS returns over MIN_DAYS;
 * null when it is shorter.
 */
export function realisedSeed(points: readonly PricePoint[], source: Exclude<SeedSource, 'asset_class_default'>): VolatilitySeed | null {
  if (points.length < MIN_RETURNS + 1) return null;
  const days = (points[points.length - 1]!.time - points[0]!.time) / MS_PER_DAY;
  if (days < MIN_DAYS) return null;
  let sum = 0;
  for (let i = 1; i < points.length; i++) {
    const r = logReturn(points[i - 1]!.price, points[i]!.price);
    sum += r * r;
  }
  return { variancePerDay: sum / days, source, samples: points.length - 1 };
}

/**
 * The seed of an asset seen for the first time: its round history when long enough, else its
 * class default. The defaults are calibrated on prices in US dollars, so `assetClass` is null
 * where the market prices in another token (wstETH in WETH moves nothing like ETH in dollars):
 * then there is no seed until the shard's own bars span a day (`realisedSeed` of them), and the
 * figures that need the volatility stay null meanwhile. Assets held flat (stablecoins in a
 * dollar market, the market's own quote) start at 0.
 */
export function firstSeed(rounds: readonly PricePoint[], assetClass: AssetClass | null, calibration: Pick<Calibration, 'defaultVolatility'>): VolatilitySeed | null {
  if (assetClass === 'stable') return classDefault('stable', calibration);
  return realisedSeed(rounds, 'chainlink_rounds') ?? (assetClass === null ? null : classDefault(assetClass, calibration));
}

function classDefault(assetClass: AssetClass, calibration: Pick<Calibration, 'defaultVolatility'>): VolatilitySeed {
  return { variancePerDay: variancePerDayFromAnnual(calibration.defaultVolatility[assetClass]), source: 'asset_class_default', samples: 0 };
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
