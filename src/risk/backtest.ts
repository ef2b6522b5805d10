/*
 * The backtest: a book of positions (one volatile collateral against stable debt) replayed
 * over real hourly prices under two alert policies, static health-factor thresholds and
 * 24 h liquidation-probability levels. Pure: bars in, metrics out (tools/backtest.ts does I/O).
 *
 * No look-ahead: the probability at an hourly close uses the EWMA volatility known at that
 * close and a worst-move table built only from moves that had fully happened by the start of
 * that day (an expanding window over the input series, rebuilt every 24 h). The committed
 * calibration is not used here, since it was derived from data that may overlap the test.
 */
import { quantileTable, tableCdf, type QuantileTable } from './empirical-distribution';
import { WARMUP_DAYS } from './calibration';
import { hourlyVariances, MS_PER_HOUR, standardisedMoves, type PriceBar } from './price-history';

export type BacktestSeries = { file: string; asset: string; bars: readonly PriceBar[] };

export type BacktestOptions = {
  openHealthFactors: readonly number[];
  liquidationThreshold: number;
  holdHours: number;
  openEveryHours: number;
  /** Health-factor levels of the static policy (an alert when HF < level). */
  staticLevels: Levels;
  /** 24 h probability levels of the risk policy (an alert when p ≥ level). */
  riskLevels: Levels;
  falseAlarmWindowHours: number;
  /** Days of moves the expanding calibration holds before the book opens its first position. */
  calibrationDays: number;
  /** Reliability bin edges on the predicted 24 h probability. */
  binEdges: readonly number[];
};
export type Levels = { warning: number; marginCall: number; critical: number };

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
  policies: { static: PolicyMetrics; risk: PolicyMetrics };
  calibration: { brier: number; brierClimatology: number; bins: ReliabilityBin[] };
};

type Policy = 'static' | 'risk';
const LEVEL_ORDER = ['warning', 'marginCall', 'critical'] as const;
const HOUR = MS_PER_HOUR;
const DAY = 24 * HOUR;

/** Ordinal of a level: 0 none, 1 warning, 2 margin call, 3 critical. */
export function staticLevel(healthFactor: number, levels: Levels): number {
  return LEVEL_ORDER.reduce((level, name, i) => (healthFactor < levels[name] ? i + 1 : level), 0);
}
export function riskLevel(probability: number, levels: Levels): number {
  return LEVEL_ORDER.reduce((level, name, i) => (probability >= levels[name] ? i + 1 : level), 0);
}

/** 24 h probability that a position at `healthFactor` (one volatile collateral, stable debt) touches HF = 1. */
export function singleAssetProbability24h(healthFactor: number, variancePerDay: number, worstDown: QuantileTable): number {
  if (healthFactor <= 1) return 1;
  if (!(variancePerDay > 0)) return 0;
  return tableCdf(worstDown, -Math.log(healthFactor) / Math.sqrt(variancePerDay));
}

/** Worst-move tables over the expanding window, one per day since `start`, built on demand. */
export function expandingTables(series: readonly BacktestSeries[], start: number) {
  const pooled: { knownAt: number; value: number }[] = [];
  for (const { bars } of series) {
    const moves = standardisedMoves(bars, hourlyVariances(bars), 24, WARMUP_DAYS);
    moves.worstDown.forEach((value, i) => pooled.push({ knownAt: moves.knownAt[i]!, value }));
  }
  pooled.sort((a, b) => a.knownAt - b.knownAt || a.value - b.value);
  const cache = new Map<number, QuantileTable | null>();
  return (time: number): QuantileTable | null => {
    const day = Math.floor((time - start) / DAY);
    if (!cache.has(day)) {
      const cutoff = start + day * DAY;
      let count = 0;
      while (count < pooled.length && pooled[count]!.knownAt <= cutoff) count++;
      cache.set(day, count === 0 ? null : quantileTable(pooled.slice(0, count).map((move) => move.value)));
    }
    return cache.get(day)!;
  };
}

/** What happened to one position: when it was liquidated (bar open, ms), how long it was held, and each policy's alerts (level 1–3, at an hourly close). */
export type Outcome = { liquidatedAt: number | null; heldHours: number; alerts: Record<Policy, { level: number; at: number }[]> };

export function runBacktest(
  series: readonly BacktestSeries[],
  options: BacktestOptions = DEFAULT_BACKTEST_OPTIONS,
  onProgress: (message: string) => void = () => {},
): BacktestResult {
  const firstTime = Math.max(...series.map(({ bars }) => bars[0]?.time ?? Infinity));
  if (!Number.isFinite(firstTime)) throw new RangeError('The backtest needs at least one price row per series');
  // The book opens once every series has warmed its EWMA and the calibration holds `calibrationDays` of moves.
  const start = firstTime + (WARMUP_DAYS + options.calibrationDays) * DAY;
  const tableAt = expandingTables(series, start);
  const outcomes: Outcome[] = [];
  const predictions: { p: number; y: number }[] = [];

  for (const { asset, bars } of series) {
    const variances = hourlyVariances(bars);
    const indexByClose = new Map(bars.map((bar, i) => [bar.time + HOUR, i]));
    // Whether the hourly low falls below `price` within the 24 bars after i; null when data is missing.
    const fallsBelowWithin24h = (i: number, price: number): number | null => {
      if (i + 24 >= bars.length || bars[i + 24]!.time - bars[i]!.time !== DAY) return null;
      for (let j = i + 1; j <= i + 24; j++) if (bars[j]!.low < price) return 1;
      return 0;
    };
    const lastClose = bars[bars.length - 1]!.time + HOUR;
    let opened = 0;
    for (let openAt = start; openAt <= lastClose; openAt += options.openEveryHours * HOUR) {
      const i0 = indexByClose.get(openAt);
      if (i0 === undefined) continue;
      const table = tableAt(openAt);
      if (table === null) continue;
      for (const openHealthFactor of options.openHealthFactors) {
        const liquidationPrice = bars[i0]!.close / openHealthFactor;
        const outcome: Outcome = { liquidatedAt: null, heldHours: 0, alerts: { static: [], risk: [] } };
        const highest: Record<Policy, number> = { static: 0, risk: 0 };
        const observe = (i: number) => {
          const close = bars[i]!.time + HOUR;
          const healthFactor = (openHealthFactor * bars[i]!.close) / bars[i0]!.close;
          const probability = singleAssetProbability24h(healthFactor, variances[i]!, tableAt(close) ?? table);
          const y = fallsBelowWithin24h(i, liquidationPrice);
          if (y !== null) predictions.push({ p: probability, y });
          const levels: Record<Policy, number> = {
            static: staticLevel(healthFactor, options.staticLevels),
            risk: riskLevel(probability, options.riskLevels),
          };
          for (const policy of ['static', 'risk'] as const) {
            if (levels[policy] > highest[policy]) {
              highest[policy] = levels[policy];
              outcome.alerts[policy].push({ level: levels[policy], at: close });
            }
          }
        };
        observe(i0);
        for (let i = i0 + 1; i < bars.length && bars[i]!.time < openAt + options.holdHours * HOUR; i++) {
          outcome.heldHours = (bars[i]!.time + HOUR - openAt) / HOUR;
          if (bars[i]!.low < liquidationPrice) {
            outcome.liquidatedAt = bars[i]!.time;
            outcome.heldHours = (bars[i]!.time - openAt) / HOUR;
            break;
          }
          observe(i);
        }
        outcomes.push(outcome);
      }
      if (++opened % 100 === 0) onProgress(`${asset}: ${opened} days of positions opened (${new Date(openAt).toISOString().slice(0, 10)})`);
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
    policies: { static: policyMetrics(outcomes, 'static', options), risk: policyMetrics(outcomes, 'risk', options) },
    calibration: reliability(predictions, options.binEdges),
  };
}

export function policyMetrics(outcomes: readonly Outcome[], policy: Policy, options: Pick<BacktestOptions, 'falseAlarmWindowHours'>): PolicyMetrics {
  const MARGIN_CALL = 2;
  const leads: number[] = [];
  let liquidations = 0;
  let falseAlarms = 0;
  let heldHours = 0;
  for (const outcome of outcomes) {
    heldHours += outcome.heldHours;
    const serious = outcome.alerts[policy].filter((alert) => alert.level >= MARGIN_CALL);
    const liquidatedAt = outcome.liquidatedAt;
    for (const alert of serious) {
      if (liquidatedAt === null || liquidatedAt - alert.at > options.falseAlarmWindowHours * HOUR) falseAlarms++;
    }
    if (liquidatedAt === null) continue;
    liquidations++;
    const first = serious[0];
    if (first !== undefined && first.at <= liquidatedAt) leads.push((liquidatedAt - first.at) / HOUR);
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
