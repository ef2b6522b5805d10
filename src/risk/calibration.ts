/*
 * The filtered-historical-simulation calibration: distributions of standardised moves
 * (worst fall, worst rise, end return) over 1 h and 24 h, from real hourly history, and
 * default volatilities per asset class for cold start. Derived by `npm run calibrate`
 * (tools/calibrate.ts) and committed as calibration.json with its provenance.
 */
import { z } from 'zod';
import { annualisedVolatility } from './ewma';
import { quantileTable, quantileTableSchema, round6, sortedQuantile } from './empirical-distribution';
import { hourlyVariances, regimeBands, standardisedMoves, type PriceBar } from './price-history';
import { MIN_BAND_MOVES, REGIME_EDGES, REGIME_HOURS, regimeBand } from './regime';

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

/** Worst-move tables of one regime band (the end-return table, for VaR / ES, stays pooled). */
export const bandTablesSchema = z.object({ worstDown: quantileTableSchema, worstUp: quantileTableSchema });
export type BandTables = z.infer<typeof bandTablesSchema>;

/** Worst-move tables per band of the standardised recent return (src/risk/regime.ts). */
export const regimeTablesSchema = z.object({
  feature: z.literal('standardised_return'),
  hours: z.number().positive(),
  edges: z.array(z.number()),
  horizons: z.object({ '1h': z.array(bandTablesSchema), '24h': z.array(bandTablesSchema) }),
});
export type RegimeTables = z.infer<typeof regimeTablesSchema>;

export const calibrationSchema = z.object({
  method: z.string(),
  provenance: z.object({
    command: z.string(),
    sources: z.array(
      z.object({ file: z.string(), sha256: z.string(), rows: z.number().int(), from: z.string(), to: z.string(), assetClass: assetClassSchema }),
    ),
    parameters: z.object({ lambdaPerDay: z.number(), warmupDays: z.number(), horizonsHours: z.array(z.number()), minBandMoves: z.number().optional() }),
  }),
  horizons: z.object({ '1h': moveTablesSchema, '24h': moveTablesSchema }),
  /** Absent in calibrations from before regimes: the pooled tables serve every regime. */
  regime: regimeTablesSchema.optional(),
  /** Annualised volatility to start from when an asset has no price history yet. */
  defaultVolatility: z.record(assetClassSchema, z.number().nonnegative()),
});
export type Calibration = z.infer<typeof calibrationSchema>;

export type CalibrationSeries = { assetClass: AssetClass; bars: readonly PriceBar[] };

/** Standardised moves of every series for one horizon, pooled, with the regime band each started in (−1: unknown). */
export function pooledMoves(series: readonly CalibrationSeries[], horizonHours: number) {
  const worstDown: number[] = [];
  const worstUp: number[] = [];
  const end: number[] = [];
  const band: number[] = [];
  for (const { bars } of series) {
    const variances = hourlyVariances(bars);
    const bands = regimeBands(bars, variances);
    const moves = standardisedMoves(bars, variances, horizonHours, WARMUP_DAYS);
    worstDown.push(...moves.worstDown);
    worstUp.push(...moves.worstUp);
    end.push(...moves.end);
    band.push(...moves.origin.map((i) => bands[i]!));
  }
  return { worstDown, worstUp, end, band };
}

/** Worst-move tables per regime band; a band holding fewer than MIN_BAND_MOVES moves gets the pooled ones. */
export function bandTables(moves: { worstDown: readonly number[]; worstUp: readonly number[]; band: readonly number[] }, pooled: MoveTables): BandTables[] {
  return Array.from({ length: REGIME_EDGES.length + 1 }, (_, k) => {
    const worstDown = moves.worstDown.filter((_, i) => moves.band[i] === k);
    const worstUp = moves.worstUp.filter((_, i) => moves.band[i] === k);
    if (worstDown.length < MIN_BAND_MOVES) return { worstDown: pooled.worstDown, worstUp: pooled.worstUp };
    return { worstDown: quantileTable(worstDown), worstUp: quantileTable(worstUp) };
  });
}

export function regimeTables(horizons: Record<Horizon, BandTables[]>): RegimeTables {
  return { feature: 'standardised_return', hours: REGIME_HOURS, edges: [...REGIME_EDGES], horizons };
}

/**
 * The worst-move tables for a horizon in a regime: the band of the standardised recent return
 * when the calibration has regimes and the return is known, else the pooled tables.
 */
export function worstMoveTables(calibration: Pick<Calibration, 'horizons' | 'regime'>, horizon: Horizon, standardisedReturn: number | null | undefined): BandTables {
  const pooled = calibration.horizons[horizon];
  if (calibration.regime === undefined || standardisedReturn === null || standardisedReturn === undefined) return pooled;
  return calibration.regime.horizons[horizon][regimeBand(standardisedReturn, calibration.regime.edges)] ?? pooled;
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
