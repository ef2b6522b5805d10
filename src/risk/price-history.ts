/*
 * Hourly OHLC history (CSV `time,open,high,low,close,volume`, gaps tolerated) and the
 * standardised moves the calibration and the backtest are built from. Pure: text in,
 * numbers out.
 */
import { z } from 'zod';
import { ewmaVarianceSeries, type PricePoint } from './ewma';
import { REGIME_EDGES, REGIME_HOURS, regimeBand, regimeCell, standardisedReturn, type RegimeDimension } from './regime';

export const MS_PER_HOUR = 3_600_000;

const positivePrice = z.coerce.number().positive().finite();
const barSchema = z.object({
  time: z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)),
  open: positivePrice,
  high: positivePrice,
  low: positivePrice,
  close: positivePrice,
});
/** One hourly bar; `time` is the hour's open in ms since the epoch. */
export type PriceBar = z.infer<typeof barSchema>;

/**
 * Parses the CSV. Throws a RangeError naming the line and field on a malformed row, on a
 * missing column, or on times that are not strictly increasing.
 */
export function parsePriceCsv(text: string): PriceBar[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((name) => name.trim());
  const column = (name: string) => {
    const index = header.indexOf(name);
    if (index < 0) throw new RangeError(`Price CSV: missing column "${name}" (expected time,open,high,low,close,volume)`);
    return index;
  };
  const indexes = { time: column('time'), open: column('open'), high: column('high'), low: column('low'), close: column('close') };
  const bars: PriceBar[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i]!.split(',');
    const parsed = barSchema.safeParse({
      time: cells[indexes.time],
      open: cells[indexes.open],
      high: cells[indexes.high],
      low: cells[indexes.low],
      close: cells[indexes.close],
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RangeError(`Price CSV line ${i + 1}: ${String(issue?.path[0] ?? 'row')}: ${issue?.message ?? 'invalid'}`);
    }
    const previous = bars[bars.length - 1];
    if (previous !== undefined && parsed.data.time <= previous.time) {
      throw new RangeError(`Price CSV line ${i + 1}: time is not after the previous row`);
    }
    bars.push(parsed.data);
  }
  return bars;
}

/** Closing prices, timed at each bar's close (open + 1 h). */
export function closes(bars: readonly PriceBar[]): PricePoint[] {
  return bars.map((bar) => ({ time: bar.time + MS_PER_HOUR, price: bar.close }));
}

/**
 * EWMA variance per day at each bar's close, seeded with the mean per-day squared return of
 * the first week so the first month is not dominated by a single return. Estimates before
 * `warmupDays` should not be used (the seed still weighs λ^days).
 */
export function hourlyVariances(bars: readonly PriceBar[], lambdaPerDay?: number): number[] {
  const points = closes(bars);
  const week = points.filter((point) => point.time - points[0]!.time <= 7 * 86_400_000);
  let sum = 0;
  for (let i = 1; i < week.length; i++) {
    const r = Math.log(week[i]!.price / week[i - 1]!.price);
    sum += (r * r) / ((week[i]!.time - week[i - 1]!.time) / 86_400_000);
  }
  const seed = week.length > 1 ? sum / (week.length - 1) : undefined;
  return ewmaVarianceSeries(points, { ...(seed === undefined ? {} : { seedVariancePerDay: seed }), ...(lambdaPerDay === undefined ? {} : { lambdaPerDay }) });
}

/** Standardised log moves over the next `horizonHours` bars, one per usable start bar. */
export type StandardisedMoves = {
  /** ln(lowest low / close) ÷ (σ_day √(h/24)): the worst fall along the path. */
  worstDown: number[];
  /** ln(highest high / close) ÷ (σ_day √(h/24)): the worst rise along the path. */
  worstUp: number[];
  /** ln(close after h / close) ÷ (σ_day √(h/24)): the end-of-horizon return. */
  end: number[];
  /** When each move became fully known (ms): the close of its last bar. */
  knownAt: number[];
  /** Index of the bar each move starts at (its close is the origin). */
  origin: number[];
};

/**
 * Moves starting at each bar's close whose next `horizonHours` bars are all present (windows
 * across a data gap are skipped), standardised by the EWMA volatility known at that close
 * (no look-ahead). Start bars before `warmupDays` are skipped.
 */
export function standardisedMoves(
  bars: readonly PriceBar[],
  variances: readonly number[],
  horizonHours: number,
  warmupDays: number,
): StandardisedMoves {
  const moves: StandardisedMoves = { worstDown: [], worstUp: [], end: [], knownAt: [], origin: [] };
  if (bars.length === 0) return moves;
  const start = bars[0]!.time + warmupDays * 86_400_000;
  const horizonDays = horizonHours / 24;
  for (let i = 0; i + horizonHours < bars.length; i++) {
    const origin = bars[i]!;
    if (origin.time < start) continue;
    const last = bars[i + horizonHours]!;
    if (last.time - origin.time !== horizonHours * MS_PER_HOUR) continue;
    const variance = variances[i]!;
    if (!(variance > 0)) continue;
    const scale = Math.sqrt(variance * horizonDays);
    let low = Infinity;
    let high = -Infinity;
    for (let j = i + 1; j <= i + horizonHours; j++) {
      low = Math.min(low, bars[j]!.low);
      high = Math.max(high, bars[j]!.high);
    }
    moves.worstDown.push(Math.log(Math.min(low, origin.close) / origin.close) / scale);
    moves.worstUp.push(Math.log(Math.max(high, origin.close) / origin.close) / scale);
    moves.end.push(Math.log(last.close / origin.close) / scale);
    moves.knownAt.push(last.time + MS_PER_HOUR);
    moves.origin.push(i);
  }
  return moves;
}

/**
 * The regime band at each bar's close (src/risk/regime.ts): the standardised log return since
 * the close REGIME_HOURS earlier, by the EWMA variance at this close; −1 when that bar is missing.
 */
export function regimeBands(bars: readonly PriceBar[], variances: readonly number[], hours = REGIME_HOURS, edges: readonly number[] = REGIME_EDGES): number[] {
  const indexByTime = new Map(bars.map((bar, i) => [bar.time, i]));
  return bars.map((bar, i) => {
    const back = indexByTime.get(bar.time - hours * MS_PER_HOUR);
    const u = back === undefined ? null : standardisedReturn(Math.log(bar.close / bars[back]!.close), variances[i]!, hours);
    return u === null ? -1 : regimeBand(u, edges);
  });
}

/**
 * One regime dimension's standardised value at each bar's close (src/risk/regime.ts): the log
 * return since, or the log drawdown from the highest close since, the close `hours` earlier, by
 * the EWMA variance at this close; null when that earlier bar is missing (a gap inside the span
 * is tolerated: the drawdown takes the highest close present).
 */
export function regimeCoordinates(bars: readonly PriceBar[], variances: readonly number[], dimension: Pick<RegimeDimension, 'measure' | 'hours'>): (number | null)[] {
  const indexByTime = new Map(bars.map((bar, i) => [bar.time, i]));
  const span = dimension.hours * MS_PER_HOUR;
  // Indexes of the span's closes in decreasing price order: the front is the running maximum.
  const maxima: number[] = [];
  let head = 0;
  return bars.map((bar, i) => {
    while (maxima.length > head && bars[maxima[maxima.length - 1]!]!.close <= bar.close) maxima.pop();
    maxima.push(i);
    while (bars[maxima[head]!]!.time < bar.time - span) head++;
    const back = indexByTime.get(bar.time - span);
    if (back === undefined) return null;
    const reference = dimension.measure === 'return' ? bars[back]!.close : bars[maxima[head]!]!.close;
    return standardisedReturn(Math.log(bar.close / reference), variances[i]!, dimension.hours);
  });
}

/** The regime cell at each bar's close over several dimensions (regimeCell); −1 when any is unknown. */
export function regimeCells(bars: readonly PriceBar[], variances: readonly number[], dimensions: readonly RegimeDimension[]): number[] {
  const coordinates = dimensions.map((dimension) => regimeCoordinates(bars, variances, dimension));
  return bars.map((_, i) => regimeCell(coordinates.map((values) => values[i]!), dimensions));
}
