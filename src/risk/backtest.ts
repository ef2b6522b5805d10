/*
 * The backtest: a book of positions (one volatile collateral against stable debt) replayed
 * over real hourly prices under three alert policies (src/risk/backtest-alerts.ts): static
 * health-factor thresholds, the product's risk rule (the worse of the health-factor and the
 * 24 h liquidation-probability level) and the probability levels alone, and any extra policies
 * asked for by name, each run through the product's alert machine. Pure: bars in, metrics out (tools/backtest.ts does I/O).
 *
 * No look-ahead: the probability at an hourly close uses the EWMA volatility and the regime
 * known at that close and a worst-move table built only from moves that had fully happened by
 * the start of that day (an expanding window over the input series, rebuilt every 24 h). The
 * committed calibration is not used here, since it was derived from data that may overlap the test.
 */
import { quantileTableOfSorted, tableCdf, type QuantileTable } from './empirical-distribution';
import { WARMUP_DAYS } from './calibration';
import { hourlyVariances, MS_PER_HOUR, regimeCells, standardisedMoves, type PriceBar } from './price-history';
import { firstBandOfCell, MIN_BAND_MOVES, PRODUCTION_REGIME, regimeCellCount, type RegimeDimension } from './regime';
import { DayBinSums, type BinInterval } from './reliability-interval';
import { severity } from '../domain/alert-machine';
import { AlertTrack, alertPolicyOf, BACKTEST_POLICIES, defaultPolicySpecs, type AlertRecord, type BacktestPolicy, type Levels, type PolicySpec } from './backtest-alerts';

export type BacktestSeries = { file: string; asset: string; bars: readonly PriceBar[] };

export type BacktestOptions = {
  openHealthFactors: readonly number[];
  liquidationThreshold: number;
  holdHours: number;
  openEveryHours: number;
  /** Health-factor thresholds of the static and risk policies (an alert when HF < level). */
  staticLevels: Levels;
  /** 24 h probability levels of the risk and probabilityOnly policies (an alert when p ≥ level). */
  riskLevels: Levels;
  falseAlarmWindowHours: number;
  /** Days of moves the expanding calibration holds before the book opens its first position. */
  calibrationDays: number;
  /** Reliability bin edges on the predicted 24 h probability. */
  binEdges: readonly number[];
  /** The probability model: one worst-move table, or one per regime band. */
  model: ModelSpec;
  /**
   * The regime dimensions of the `regime` model (default PRODUCTION_REGIME, the 72 h return):
   * one table per cell; a cell with fewer than MIN_BAND_MOVES moves uses its first-dimension
   * band's table, and that one, if as thin, the pooled table.
   */
  regime?: readonly RegimeDimension[];
  /** Positions open at or after this time (ms) only; the data before still warms up the EWMA and the tables. */
  bookFrom?: number;
  /** Policies replayed and reported besides static, risk and probabilityOnly, by name (none of those three). */
  extraPolicies?: Readonly<Record<string, PolicySpec>>;
};
export type { Levels, PolicySpec } from './backtest-alerts';

/**
 * pooled: one worst-move table for every hour (the model before regimes, kept to compare);
 * regime: one per band of the standardised 72 h return, as the committed calibration
 * (src/risk/regime.ts), a band with fewer than MIN_BAND_MOVES moves using the pooled table.
 */
export type ModelSpec = 'pooled' | 'regime';

export const DEFAULT_BACKTEST_OPTIONS: BacktestOptions = {
  openHealthFactors: [1.2, 1.35, 1.5, 1.75, 2.0],
  liquidationThreshold: 0.825,
  holdHours: 30 * 24,
  openEveryHours: 24,
  staticLevels: { warning: 1.5, marginCall: 1.25, critical: 1.1 },
  riskLevels: { warning: 0.01, marginCall: 0.05, critical: 0.2 },
  falseAlarmWindowHours: 72,
  calibrationDays: 60,
  binEdges: [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1],
  model: 'regime',
};

/** The `--json` contract: numbers only, stable names. */
export type PolicyMetrics = {
  positions: number;
  liquidations: number;
  caughtLead1h: number;
  caughtLead6h: number;
  /** Median hours from the first margin_call-or-worse alert to liquidation, over liquidations alerted in advance; null when none was. */
  medianLeadHours: number | null;
  /** Liquidations without a margin_call-or-worse alert at least 1 h before. */
  missed: number;
  falseAlarmsPerPositionMonth: number;
};
export type ReliabilityBin = { from: number; to: number; n: number; predicted: number; realised: number };
export type BacktestResult = {
  series: { file: string; asset: string; from: string; to: string; hours: number }[];
  /** static, risk and probabilityOnly always; then the extra policies under their names. */
  policies: Record<BacktestPolicy, PolicyMetrics> & Record<string, PolicyMetrics>;
  calibration: { brier: number; brierClimatology: number; bins: ReliabilityBin[] };
};
/**
 * The result and, per reliability bin, its distinct days and the day-block bootstrap interval of
 * realised − predicted (src/risk/reliability-interval.ts); printed, not part of the `--json` contract.
 */
export type BacktestRun = BacktestResult & {
  binIntervals: (BinInterval | null)[];
  /** The reliability bins of the position-hours of each open health factor (how far a position has travelled shows there). */
  binsByOpenHealthFactor: { openHealthFactor: number; bins: ReliabilityBin[] }[];
  /** Per policy, margin_call-or-worse reminders per position-month (`remindersPerPositionMonth`). */
  reminders: Record<string, number>;
};

const HOUR = MS_PER_HOUR;
/** The severity of margin_call (AlertRecord levels): alerts at it or worse are the ones the metrics count. */
const MARGIN_CALL = severity('margin_call');
const DAY = 24 * HOUR;

/** 24 h probability that a position at `healthFactor` (one volatile collateral, stable debt) touches HF = 1. */
export function singleAssetProbability24h(healthFactor: number, variancePerDay: number, worstDown: QuantileTable): number {
  if (healthFactor <= 1) return 1;
  if (!(variancePerDay > 0)) return 0;
  return tableCdf(worstDown, -Math.log(healthFactor) / Math.sqrt(variancePerDay));
}

/**
 * What the backtest knows of one series at each bar's close: the EWMA variance, the regime cell
 * (−1: unknown, or the pooled model) and the first dimension's band alone (the fallback of a thin
 * or unknown cell; with one dimension, the cell itself).
 */
export type SeriesState = { variances: number[]; bands: number[]; firstBands: number[] };

export function seriesState(bars: readonly PriceBar[], model: ModelSpec, regime: readonly RegimeDimension[] = PRODUCTION_REGIME): SeriesState {
  const variances = hourlyVariances(bars);
  if (model !== 'regime') {
    const none = variances.map(() => -1);
    return { variances, bands: none, firstBands: none };
  }
  const bands = regimeCells(bars, variances, regime);
  return { variances, bands, firstBands: regime.length > 1 ? regimeCells(bars, variances, regime.slice(0, 1)) : bands };
}

/**
 * 24 h worst-fall tables over the expanding window: for a time, the table of every move fully
 * known by the start of that day (since `start`), pooled, and per regime cell. A cell with fewer
 * than `minBandMoves` moves gets its first-dimension band's table (with one dimension, cells are
 * those bands), and a band as thin the pooled table. Null before any move is known.
 */
export function expandingTables(series: readonly BacktestSeries[], start: number, model: ModelSpec = 'pooled', regime: readonly RegimeDimension[] = PRODUCTION_REGIME) {
  const pooled: { knownAt: number; value: number; band: number; firstBand: number }[] = [];
  for (const { bars } of series) {
    const state = seriesState(bars, model, regime);
    const moves = standardisedMoves(bars, state.variances, 24, WARMUP_DAYS);
    moves.worstDown.forEach((value, i) =>
      pooled.push({ knownAt: moves.knownAt[i]!, value, band: state.bands[moves.origin[i]!]!, firstBand: state.firstBands[moves.origin[i]!]! }),
    );
  }
  pooled.sort((a, b) => a.knownAt - b.knownAt || a.value - b.value);
  const bandCount = model === 'regime' ? regimeCellCount(regime) : 0;
  // The first dimension's bands, kept apart only when there are more dimensions (else they are the cells).
  const firstCount = model === 'regime' && regime.length > 1 ? regime[0]!.edges.length + 1 : 0;
  // Sorted samples so far: all cells, then each cell, then each first-dimension band; merged forward one day at a time.
  let taken = 0;
  let samples: Float64Array[] = Array.from({ length: 1 + bandCount + firstCount }, () => new Float64Array(0));
  type DayTables = { all: QuantileTable | null; cells: (QuantileTable | null)[]; firstBands: (QuantileTable | null)[] };
  let current: { day: number; tables: DayTables } | null = null;
  const tablesOfDay = (day: number): DayTables => {
    const cutoff = start + day * DAY;
    const fresh: number[][] = samples.map(() => []);
    while (taken < pooled.length && pooled[taken]!.knownAt <= cutoff) {
      const move = pooled[taken++]!;
      fresh[0]!.push(move.value);
      if (move.band >= 0) fresh[move.band + 1]!.push(move.value);
      if (firstCount > 0 && move.firstBand >= 0) fresh[1 + bandCount + move.firstBand]!.push(move.value);
    }
    samples = samples.map((sorted, k) => mergeSorted(sorted, fresh[k]!));
    const all = samples[0]!.length === 0 ? null : quantileTableOfSorted(samples[0]!);
    const trusted = (sorted: Float64Array) => (sorted.length === 0 || sorted.length < MIN_BAND_MOVES ? null : quantileTableOfSorted(sorted));
    const firstBands = samples.slice(1 + bandCount).map((sorted) => trusted(sorted) ?? all);
    const cells = samples.slice(1, 1 + bandCount).map((sorted, cell) => trusted(sorted) ?? (firstCount > 0 ? firstBands[firstBandOfCell(cell, regime)]! : all));
    return { all, cells, firstBands };
  };
  /** The table of a cell; of an unknown cell (−1), its first-dimension band's when that is known; else the pooled one. */
  return (time: number, band = -1, firstBand = -1): QuantileTable | null => {
    const day = Math.floor((time - start) / DAY);
    if (current === null || current.day !== day) {
      if (current !== null && day < current.day) throw new RangeError('Expanding tables are read forward in time only');
      current = { day, tables: tablesOfDay(day) };
    }
    const { all, cells, firstBands } = current.tables;
    if (band >= 0 && band < cells.length) return cells[band] ?? null;
    if (firstBand >= 0 && firstBand < firstBands.length) return firstBands[firstBand] ?? null;
    return all;
  };
}

/** What happened to one position: when it was liquidated (bar open, ms), how long it was held, and what each policy told its owner. */
export type Outcome = { liquidatedAt: number | null; heldHours: number; alerts: Record<string, AlertRecord[]> };

export function runBacktest(
  series: readonly BacktestSeries[],
  options: BacktestOptions = DEFAULT_BACKTEST_OPTIONS,
  onProgress: (message: string) => void = () => {},
): BacktestRun {
  const firstTime = Math.max(...series.map(({ bars }) => bars[0]?.time ?? Infinity));
  if (!Number.isFinite(firstTime)) throw new RangeError('The backtest needs at least one price row per series');
  // The book opens once every series has warmed its EWMA and the calibration holds `calibrationDays` of moves.
  const start = firstTime + (WARMUP_DAYS + options.calibrationDays) * DAY;
  const bookFrom = Math.max(start, options.bookFrom ?? start);
  const outcomes: Outcome[] = [];
  const predictions: { p: number; y: number }[] = [];
  const predictionsByOpen = new Map(options.openHealthFactors.map((hf) => [hf, [] as { p: number; y: number }[]]));
  const dayBinSums = new DayBinSums(options.binEdges);
  const specs = backtestPolicySpecs(options);
  const names = Object.keys(specs);
  const alertPolicies = names.map((name) => alertPolicyOf(name, specs[name]!));

  for (const { asset, bars } of series) {
    // Tables are read forward in time, so each series walks its own copy.
    const tableAt = expandingTables(series, start, options.model, options.regime);
    const { variances, bands, firstBands } = seriesState(bars, options.model, options.regime);
    const indexByClose = new Map(bars.map((bar, i) => [bar.time + HOUR, i]));
    // Whether the hourly low falls below `price` within the 24 bars after i; null when data is missing.
    const fallsBelowWithin24h = (i: number, price: number): number | null => {
      if (i + 24 >= bars.length || bars[i + 24]!.time - bars[i]!.time !== DAY) return null;
      for (let j = i + 1; j <= i + 24; j++) if (bars[j]!.low < price) return 1;
      return 0;
    };
    // Each hour's probability for one open health factor: the table of the hour's close and band.
    const probabilityAt = (i: number, healthFactor: number): number | null => {
      const table = tableAt(bars[i]!.time + HOUR, bands[i], firstBands[i]);
      return table === null ? null : singleAssetProbability24h(healthFactor, variances[i]!, table);
    };
    const lastClose = bars[bars.length - 1]!.time + HOUR;
    const book: { openHealthFactor: number; i0: number; openAt: number; outcome: Outcome; tracks: AlertTrack[]; liquidationPrice: number }[] = [];
    let opened = 0;
    // Hour by hour, so that tables are read forward: open the day's positions, then observe every open one.
    for (let i = 0; i < bars.length; i++) {
      const close = bars[i]!.time + HOUR;
      if (close >= bookFrom && close <= lastClose && (close - bookFrom) % (options.openEveryHours * HOUR) === 0 && probabilityAt(i, 2) !== null) {
        for (const openHealthFactor of options.openHealthFactors) {
          const tracks = alertPolicies.map((policy) => new AlertTrack(policy));
          const outcome: Outcome = { liquidatedAt: null, heldHours: 0, alerts: Object.fromEntries(names.map((name, k) => [name, tracks[k]!.records])) };
          book.push({ openHealthFactor, i0: i, openAt: close, outcome, tracks, liquidationPrice: bars[i]!.close / openHealthFactor });
          outcomes.push(outcome);
        }
        if (++opened % 100 === 0) onProgress(`${asset}: ${opened} days of positions opened (${new Date(close).toISOString().slice(0, 10)})`);
      }
      for (let k = book.length - 1; k >= 0; k--) {
        const position = book[k]!;
        const { outcome, i0, openAt, openHealthFactor, liquidationPrice } = position;
        if (i > i0) {
          if (bars[i]!.time >= openAt + options.holdHours * HOUR) {
            book.splice(k, 1);
            continue;
          }
          if (bars[i]!.low < liquidationPrice) {
            outcome.liquidatedAt = bars[i]!.time;
            outcome.heldHours = (bars[i]!.time - openAt) / HOUR;
            book.splice(k, 1);
            continue;
          }
          outcome.heldHours = (close - openAt) / HOUR;
        }
        const healthFactor = (openHealthFactor * bars[i]!.close) / bars[i0]!.close;
        const probability = probabilityAt(i, healthFactor);
        const y = fallsBelowWithin24h(i, liquidationPrice);
        if (y !== null && probability !== null) {
          predictions.push({ p: probability, y });
          predictionsByOpen.get(openHealthFactor)?.push({ p: probability, y });
          dayBinSums.add(probability, y, Math.floor(bars[i]!.time / DAY));
        }
        for (const track of position.tracks) track.observe(healthFactor, probability, close);
      }
    }
  }

  return {
    series: series.map(({ file, asset, bars }) => ({
      file,
      asset,
      from: new Date(bars[0]!.time).toISOString(),
      to: new Date(bars[bars.length - 1]!.time).toISOString(),
      hours: bars.length,
    })),
    policies: Object.fromEntries(names.map((name) => [name, policyMetrics(outcomes, name, options)])) as BacktestResult['policies'],
    calibration: reliability(predictions, options.binEdges),
    binIntervals: dayBinSums.intervals(),
    binsByOpenHealthFactor: [...predictionsByOpen].map(([openHealthFactor, list]) => ({ openHealthFactor, bins: reliability(list, options.binEdges).bins })),
    reminders: Object.fromEntries(names.map((name) => [name, remindersPerPositionMonth(outcomes, name)])),
  };
}

/**
 * Lead: from the first margin_call-or-worse notification after the last resolution before the
 * liquidation (a resolution told the owner all was well, so earlier alerts do not count).
 * False alarm: a margin_call-or-worse notification not followed by liquidation within the window.
 */
export function policyMetrics(outcomes: readonly Outcome[], policy: string, options: Pick<BacktestOptions, 'falseAlarmWindowHours'>): PolicyMetrics {
  const leads: number[] = [];
  let liquidations = 0;
  let falseAlarms = 0;
  let heldHours = 0;
  for (const outcome of outcomes) {
    heldHours += outcome.heldHours;
    const records = outcome.alerts[policy]?.filter((alert) => !alert.reminder);
    if (records === undefined) throw new RangeError(`No alerts recorded for policy ${policy}`);
    const liquidatedAt = outcome.liquidatedAt;
    for (const alert of records) {
      if (alert.level >= MARGIN_CALL && (liquidatedAt === null || liquidatedAt - alert.at > options.falseAlarmWindowHours * HOUR)) falseAlarms++;
    }
    if (liquidatedAt === null) continue;
    liquidations++;
    let first: AlertRecord | undefined;
    for (const alert of records) {
      if (alert.at > liquidatedAt) break;
      if (alert.level === 0) first = undefined;
      else if (alert.level >= MARGIN_CALL && first === undefined) first = alert;
    }
    if (first !== undefined) leads.push((liquidatedAt - first.at) / HOUR);
  }
  const caughtLead1h = leads.filter((lead) => lead >= 1).length;
  return {
    positions: outcomes.length,
    liquidations,
    caughtLead1h,
    caughtLead6h: leads.filter((lead) => lead >= 6).length,
    medianLeadHours: median(leads),
    missed: liquidations - caughtLead1h,
    falseAlarmsPerPositionMonth: heldHours === 0 ? 0 : falseAlarms / (heldHours / (30 * 24)),
  };
}

/**
 * Margin_call-or-worse reminders per position-month: what holding a level costs the owner in
 * messages beyond the alerts counted above (printed, not part of the `--json` contract).
 */
export function remindersPerPositionMonth(outcomes: readonly Outcome[], policy: string): number {
  let reminders = 0;
  let heldHours = 0;
  for (const outcome of outcomes) {
    heldHours += outcome.heldHours;
    reminders += (outcome.alerts[policy] ?? []).filter((alert) => alert.reminder && alert.level >= MARGIN_CALL).length;
  }
  return heldHours === 0 ? 0 : reminders / (heldHours / (30 * 24));
}

/** Every policy the backtest replays, by name: the three reported ones first, then the extra ones. */
export function backtestPolicySpecs(options: Pick<BacktestOptions, 'staticLevels' | 'riskLevels' | 'extraPolicies'>): Record<string, PolicySpec> {
  const specs: Record<string, PolicySpec> = defaultPolicySpecs(options.staticLevels, options.riskLevels);
  for (const [name, spec] of Object.entries(options.extraPolicies ?? {})) {
    // The three names keep their meaning in the --json contract.
    if (Object.hasOwn(specs, name)) throw new RangeError(`Backtest policy name ${name} is reserved (${BACKTEST_POLICIES.join(', ')} are always reported)`);
    specs[name] = spec;
  }
  return specs;
}

/** Merges a sorted array with unsorted fresh values into a new sorted array. */
function mergeSorted(sorted: Float64Array, fresh: number[]): Float64Array {
  if (fresh.length === 0) return sorted;
  const add = Float64Array.from(fresh).sort();
  const out = new Float64Array(sorted.length + add.length);
  let a = 0;
  let b = 0;
  for (let k = 0; k < out.length; k++) out[k] = b >= add.length || (a < sorted.length && sorted[a]! <= add[b]!) ? sorted[a++]! : add[b++]!;
  return out;
}

/** Brier score of the predictions, the climatological (base-rate) Brier score, and reliability bins. */
export function reliability(predictions: readonly { p: number; y: number }[], edges: readonly number[]): BacktestResult['calibration'] {
  const n = predictions.length;
  let brier = 0;
  let events = 0;
  for (const { p, y } of predictions) {
    brier += (p - y) ** 2;
    events += y;
  }
  const base = n === 0 ? 0 : events / n;
  const bins = edges.slice(1).map((to, i) => ({ from: edges[i]!, to, n: 0, predicted: 0, realised: 0 }));
  for (const { p, y } of predictions) {
    const bin = bins.find((candidate, i) => p < candidate.to || i === bins.length - 1)!;
    bin.n++;
    bin.predicted += p;
    bin.realised += y;
  }
  return {
    brier: n === 0 ? 0 : brier / n,
    brierClimatology: base * (1 - base),
    bins: bins.map((bin) => ({ ...bin, predicted: bin.n === 0 ? 0 : bin.predicted / bin.n, realised: bin.n === 0 ? 0 : bin.realised / bin.n })),
  };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
