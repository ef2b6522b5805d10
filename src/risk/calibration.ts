/*
 * The filtered-historical-simulation calibration: distributions of standardised moves
 * (worst fall, worst rise, end return) over 1 h and 24 h, from real hourly history, and
 * default volatilities per asset class for cold start. Derived by `npm run calibrate`
 * (tools/calibrate.ts) and committed as calibration.json with its provenance.
 */
import { z } from 'zod';
import { annualisedVolatility } from './ewma';
import { quantileTable, quantileTableSchema, round6, sortedQuantile } from './empirical-distribution';
import { hourlyVariances, standardisedMoves, type PriceBar } from './price-history';

/** Days of history an EWMA estimate needs before it is used (λ^30 ≈ 0.16 left on the seed). */
export const WARMUP_DAYS = 30;
export const HORIZONS = { '1h': 1, '24h': 24 } as const;
export type Horizon = keyof typeof HORIZONS;

export const assetClassSchema = z.enum(['stable', 'btc', 'eth', 'volatile']);
/** stable: held flat by the model; btc / eth: their own defaults; volatile: any other non-stable asset. */
export type AssetClass = z.infer<typeof assetClassSchema>;

export const moveTablesSchema = z.object({
  worstDown: quantileTableSchema,
  worstUp: quantileTableSchema,
  end: quantileTableSchema,
});
export type MoveTables = z.infer<typeof moveTablesSchema>;

export const calibrationSchema = z.object({
  method: z.string(),
  provenance: z.object({
    command: z.string(),
    sources: z.array(
      z.object({ file: z.string(), sha256: z.string(), rows: z.number().int(), from: z.string(), to: z.string(), assetClass: assetClassSchema }),
    ),
    parameters: z.object({ lambdaPerDay: z.number(), warmupDays: z.number(), horizonsHours: z.array(z.number()) }),
  }),
  horizons: z.object({ '1h': moveTablesSchema, '24h': moveTablesSchema }),
  /** Annualised volatility to start from when an asset has no price history yet. */
  defaultVolatility: z.record(assetClassSchema, z.number().nonnegative()),
});
export type Calibration = z.infer<typeof calibrationSchema>;

export type CalibrationSeries = { assetClass: AssetClass; bars: readonly PriceBar[] };

/** Standardised moves of every series for one horizon, pooled. */
export function pooledMoves(series: readonly CalibrationSeries[], horizonHours: number) {
  const worstDown: number[] = [];
  const worstUp: number[] = [];
  const end: number[] = [];
  for (const { bars } of series) {
    const moves = standardisedMoves(bars, hourlyVariances(bars), horizonHours, WARMUP_DAYS);
    worstDown.push(...moves.worstDown);
    worstUp.push(...moves.worstUp);
    end.push(...moves.end);
  }
  return { worstDown, worstUp, end };
}

export function moveTables(moves: { worstDown: readonly number[]; worstUp: readonly number[]; end: readonly number[] }): MoveTables {
  return { worstDown: quantileTable(moves.worstDown), worstUp: quantileTable(moves.worstUp), end: quantileTable(moves.end) };
}

/**
 * Default annualised volatility per class: the median EWMA volatility of that class's series
 * after warm-up (btc, eth), and for `volatile` (an asset we have no history for) the 90th
 * percentile over all series, on the side of caution. Stablecoins are held flat: 0.
 */
export function defaultVolatilities(series: readonly CalibrationSeries[]): Record<AssetClass, number> {
  const byClass = new Map<AssetClass, number[]>();
  const all: number[] = [];
  for (const { assetClass, bars } of series) {
    const variances = hourlyVariances(bars);
    const start = (bars[0]?.time ?? 0) + WARMUP_DAYS * 86_400_000;
    const vols = variances.filter((_, i) => bars[i]!.time >= start).map(annualisedVolatility);
    byClass.set(assetClass, [...(byClass.get(assetClass) ?? []), ...vols]);
    all.push(...vols);
  }
  const quantileOf = (values: readonly number[], p: number) => round6(sortedQuantile(Float64Array.from(values).sort(), p));
  const overall = all.length > 0 ? quantileOf(all, 0.9) : 0;
  const median = (assetClass: AssetClass) => {
    const values = byClass.get(assetClass);
    return values === undefined || values.length === 0 ? overall : quantileOf(values, 0.5);
  };
  return { stable: 0, btc: median('btc'), eth: median('eth'), volatile: overall };
}
