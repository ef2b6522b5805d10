/*
 * The market regime a liquidation probability is conditioned on: the standardised log return of
 * the last 72 h, u = r₇₂ / (σ_day · √3), with σ the λ = 0.94/day EWMA volatility. After a fall,
 * the moves that follow, measured in that slowly moving σ, are larger than after a calm or rising
 * stretch (volatility clusters faster than the EWMA follows); a position near its barrier is
 * usually there because of such a fall. So the calibration keeps one table of standardised moves
 * per band of u. Chosen on 2017–2018 by Brier score against 24 h and 168 h returns and the ratio
 * of a fast to the slow EWMA volatility; a 7- or 14-day drawdown (or 14-day return) as a second
 * dimension did not do better out of sample (README "Risk"). Pure.
 */

/** The look-back of the return the regime is measured on. */
export const REGIME_HOURS = 72;
/** Band edges on u; band k holds edges[k − 1] ≤ u < edges[k]. */
export const REGIME_EDGES: readonly number[] = [-2.5, -2, -1.5, -1, -0.5, 0, 1];
/** A band with fewer standardised moves than this is not trusted: the pooled table is used instead. */
export const MIN_BAND_MOVES = 200;

/** u: a log return over `hours`, in units of the EWMA volatility over the same span; null when the variance is not positive. */
export function standardisedReturn(logReturn: number, variancePerDay: number, hours = REGIME_HOURS): number | null {
  if (!(variancePerDay > 0) || !Number.isFinite(logReturn)) return null;
  return logReturn / Math.sqrt(variancePerDay * (hours / 24));
}

/** The band of a standardised return: the number of edges at or below it. */
export function regimeBand(u: number, edges: readonly number[] = REGIME_EDGES): number {
  let band = 0;
  while (band < edges.length && u >= edges[band]!) band++;
  return band;
}

/**
 * What a regime dimension measures at a close, over the last `hours`: `return`, the log return
 * since the close `hours` earlier; `drawdown`, the log of the close over the highest close of that
 * span (≤ 0: how far the market has fallen from its running maximum, however long it took).
 * Either is standardised like u, by the EWMA volatility over the same span.
 */
export type RegimeMeasure = 'return' | 'drawdown';
export type RegimeDimension = { measure: RegimeMeasure; hours: number; edges: readonly number[] };

/** The production regime: one dimension, the standardised 72 h return. */
export const PRODUCTION_REGIME: readonly RegimeDimension[] = [{ measure: 'return', hours: REGIME_HOURS, edges: REGIME_EDGES }];

/** Cells of a regime: the product of every dimension's band count. */
export function regimeCellCount(dimensions: readonly RegimeDimension[]): number {
  return dimensions.reduce((count, dimension) => count * (dimension.edges.length + 1), 1);
}

/**
 * The cell of a point, its bands in mixed radix (the first dimension most significant, so the
 * cells of one first-dimension band are contiguous); −1 when any coordinate is unknown.
 */
export function regimeCell(coordinates: readonly (number | null)[], dimensions: readonly RegimeDimension[]): number {
  let cell = 0;
  for (let d = 0; d < dimensions.length; d++) {
    const u = coordinates[d];
    if (u === null || u === undefined) return -1;
    cell = cell * (dimensions[d]!.edges.length + 1) + regimeBand(u, dimensions[d]!.edges);
  }
  return cell;
}

/** The first dimension's band of a cell: the coarser table a thin cell falls back to. */
export function firstBandOfCell(cell: number, dimensions: readonly RegimeDimension[]): number {
  return Math.floor(cell / (regimeCellCount(dimensions) / (dimensions[0]!.edges.length + 1)));
}
