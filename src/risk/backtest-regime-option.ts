/*
 * The backtest's `--regime` option: one dimension of the market regime the `regime` model
 * conditions its tables on, written MEASURE:HOURS:EDGES (src/risk/regime.ts):
 *
 *   return     the standardised log return over the last HOURS (production: return:72)
 *   drawdown   the standardised log drawdown from the highest close of the last HOURS
 *
 * EDGES are the band edges on the standardised value, strictly increasing, comma separated.
 * Repeated, the options give the dimensions in order: the first one's bands are what a cell
 * with too few moves falls back to. Without any, the production regime. Pure: text in, spec out.
 */
import { AppError } from '../lib/errors';
import type { RegimeDimension, RegimeMeasure } from './regime';

const MEASURES: readonly RegimeMeasure[] = ['return', 'drawdown'];

/** One `--regime` value → its dimension; AppError `invalid_regime_option` naming what is wrong. */
export function parseRegimeOption(text: string): RegimeDimension {
  const fail = (why: string) => new AppError('invalid_regime_option', `--regime ${text}: ${why} (expected MEASURE:HOURS:EDGES, MEASURE one of ${MEASURES.join(', ')}, e.g. drawdown:336:-2,-1)`);
  const parts = text.split(':');
  if (parts.length !== 3) throw fail('not three parts');
  const [measure, hoursText, edgesText] = parts as [string, string, string];
  if (!(MEASURES as readonly string[]).includes(measure)) throw fail(`unknown measure "${measure}"`);
  const hours = Number(hoursText);
  if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 60) throw fail(`hours "${hoursText}" must be a whole number from 1 to 1440`);
  const edges = edgesText.split(',').map((value) => (value.trim() === '' ? Number.NaN : Number(value)));
  if (edges.some((edge) => !Number.isFinite(edge))) throw fail(`edges "${edgesText}" must be numbers`);
  if (edges.some((edge, i) => i > 0 && edge <= edges[i - 1]!)) throw fail(`edges "${edgesText}" must increase strictly`);
  return { measure: measure as RegimeMeasure, hours, edges };
}

/** Every `--regime` value in order; undefined without any (the production regime). */
export function parseRegimeOptions(texts: readonly string[]): RegimeDimension[] | undefined {
  return texts.length === 0 ? undefined : texts.map(parseRegimeOption);
}

/** One line describing a regime, e.g. "72 h return bands −2.5 … 1 × 336 h drawdown bands −2, −1". */
export function describeRegime(dimensions: readonly RegimeDimension[]): string {
  return dimensions.map((dimension) => `${dimension.hours} h ${dimension.measure} (edges ${dimension.edges.join(', ')})`).join(' × ');
}
