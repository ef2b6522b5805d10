import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parsePriceCsv, standardisedMoves } from '../../src/risk/price-history';
import { backtestPolicySpecs, DEFAULT_BACKTEST_OPTIONS, expandingTables, policyMetrics, reliability, remindersPerPositionMonth, seriesState } from '../../src/risk/backtest';
import { WARMUP_DAYS } from '../../src/risk/calibration';
import { AlertTrack, alertPolicyFor, alertPolicyOf, defaultPolicySpecs } from '../../src/risk/backtest-alerts';
import { firstBandOfCell, MIN_BAND_MOVES, PRODUCTION_REGIME, REGIME_EDGES, regimeCellCount, type RegimeDimension } from '../../src/risk/regime';

const ROOT = resolve(import.meta.dirname, '../..');
const HOUR = 3_600_000;
const policySchema = z.strictObject({
  positions: z.number(),
  liquidations: z.number(),
  caughtLead1h: z.number(),
  caughtLead6h: z.number(),
  medianLeadHours: z.number().nullable(),
  missed: z.number(),
  falseAlarmsPerPositionMonth: z.number(),
});
/** The `--json` contract of issue 11. */
const resultSchema = z.strictObject({
  series: z.array(z.strictObject({ file: z.string(), asset: z.string(), from: z.string(), to: z.string(), hours: z.number() })),
  policies: z.strictObject({ static: policySchema, risk: policySchema, probabilityOnly: policySchema }),
  calibration: z.strictObject({
    brier: z.number(),
    brierClimatology: z.number(),
    bins: z.array(z.strictObject({ from: z.number(), to: z.number(), n: z.number(), predicted: z.number(), realised: z.number() })),
  }),
});

describe('backtest', () => {
  it('runs each policy through the product alert machine: `for` confirmations, silent downgrades, a re-fired margin call', () => {
    const staticLevels = { warning: 1.5, marginCall: 1.25, critical: 1.1 };
    const probabilityLevels = { warning: 0.01, marginCall: 0.05, critical: 0.2 };
    const observe = (policy: 'static' | 'risk' | 'probabilityOnly', steps: [number, number][]) => {
      const track = new AlertTrack(alertPolicyFor(policy, staticLevels, probabilityLevels));
      steps.forEach(([healthFactor, probability], hour) => track.observe(healthFactor, probability, hour * HOUR));
      return track.records;
    };
    // HF 1.4, 1.2, 1.2, 1.3, 1.2, 1.2 with a negligible probability.
    const path: [number, number][] = [1.4, 1.2, 1.2, 1.3, 1.2, 1.2].map((hf) => [hf, 0.001]);
    // Warning and margin call each wait for one confirmation; HF 1.3 clears 1.25 × 1.02, a silent
    // downgrade, so the margin call fires again (a second notification) two hours later.
    expect(observe('static', path)).toEqual([{ level: 1, at: HOUR }, { level: 2, at: 2 * HOUR }, { level: 2, at: 5 * HOUR }]);
    // The product's risk rule: a probability of 6 % holds the margin call through HF 1.3 (not under 5 % × 0.25),
    // and the held level is reminded hourly (margin call's reminder interval), which the metrics count apart.
    const held = observe('risk', path.map(([hf], i) => [hf, i >= 1 ? 0.06 : 0.001]));
    expect(held).toEqual([{ level: 1, at: HOUR }, { level: 2, at: 2 * HOUR }, ...[3, 4, 5].map((h) => ({ level: 2, at: h * HOUR, reminder: true }))]);
    const outcome = { liquidatedAt: null, heldHours: 30 * 24, alerts: { risk: held, withoutReminders: held.filter((alert) => !alert.reminder) } };
    expect(policyMetrics([outcome], 'risk', DEFAULT_BACKTEST_OPTIONS)).toEqual(policyMetrics([outcome], 'withoutReminders', DEFAULT_BACKTEST_OPTIONS));
    expect(policyMetrics([outcome], 'risk', DEFAULT_BACKTEST_OPTIONS).falseAlarmsPerPositionMonth).toBe(1);
    expect(remindersPerPositionMonth([outcome], 'risk')).toBe(3);
    // Probability alone ignores the health factor until liquidation; critical needs no confirmation.
    expect(observe('probabilityOnly', path)).toEqual([]);
    expect(observe('probabilityOnly', [[1.4, 0.02], [1.4, 0.02], [1.4, 0.25], [1.4, 0.001]])).toEqual([{ level: 1, at: HOUR }, { level: 3, at: 2 * HOUR }, { level: 0, at: 3 * HOUR }]);
  });

  it('an extra policy with only the critical health-factor line (1.1002 / 1.1001 / 1.1, as a watch may be configured) alerts on the probability until HF crosses 1.1', () => {
    const probabilityLevels = { warning: 0.01, marginCall: 0.05, critical: 0.2 };
    const track = new AlertTrack(alertPolicyOf('criticalOnly', { healthFactor: { warning: 1.1002, marginCall: 1.1001, critical: 1.1 }, probability: probabilityLevels }));
    // HF 1.4 → 1.2 → 1.105 at a negligible probability: no alert (the 1.5 / 1.25 lines of a default watch would have fired).
    const steps: [number, number][] = [[1.4, 0.001], [1.2, 0.001], [1.105, 0.001], [1.105, 0.06], [1.105, 0.06], [1.09, 0.06]];
    steps.forEach(([healthFactor, probability], hour) => track.observe(healthFactor, probability, hour * HOUR));
    // 6 % twice: margin call on its confirmation; HF 1.09: critical at once.
    expect(track.records).toEqual([{ level: 2, at: 4 * HOUR }, { level: 3, at: 5 * HOUR }]);
    // The three reported policies are the specs of the defaults, under their own names.
    for (const policy of ['static', 'risk', 'probabilityOnly'] as const) {
      expect(alertPolicyFor(policy, DEFAULT_BACKTEST_OPTIONS.staticLevels, probabilityLevels)).toEqual(alertPolicyOf(policy, defaultPolicySpecs(DEFAULT_BACKTEST_OPTIONS.staticLevels, probabilityLevels)[policy]));
    }
    expect(() => alertPolicyOf('none', { healthFactor: null, probability: null })).toThrow(RangeError);
    expect(() => backtestPolicySpecs({ ...DEFAULT_BACKTEST_OPTIONS, extraPolicies: { risk: { healthFactor: null, probability: probabilityLevels } } })).toThrow(/reserved/);
    expect(Object.keys(backtestPolicySpecs({ ...DEFAULT_BACKTEST_OPTIONS, extraPolicies: { x: { healthFactor: null, probability: probabilityLevels } } }))).toEqual(['static', 'risk', 'probabilityOnly', 'x']);
  });

  it('scores leads, misses and false alarms per position-month as defined', () => {
    const day = 24 * HOUR;
    const outcomes = [
      // Margin call 10 h before liquidation: caught with ≥ 1 h and ≥ 6 h lead.
      { liquidatedAt: 100 * HOUR, heldHours: 100, alerts: { static: [{ level: 1, at: 0 }, { level: 2, at: 90 * HOUR }], risk: [], probabilityOnly: [] } },
      // Critical 3 h before: caught with ≥ 1 h only; its earlier warning does not count.
      { liquidatedAt: 50 * HOUR, heldHours: 50, alerts: { static: [{ level: 3, at: 47 * HOUR }], risk: [], probabilityOnly: [] } },
      // Liquidated without a margin call: missed.
      { liquidatedAt: 20 * HOUR, heldHours: 20, alerts: { static: [{ level: 1, at: 0 }], risk: [], probabilityOnly: [] } },
      // Margin call then critical, no liquidation: two false alarms over 30 days held.
      { liquidatedAt: null, heldHours: 30 * 24, alerts: { static: [{ level: 2, at: day }, { level: 3, at: 2 * day }], risk: [], probabilityOnly: [] } },
    ];
    // A margin call 90 h before, resolved, then another 2 h before: the owner was told all was well, so the lead is 2 h.
    const resolved = [{ liquidatedAt: 100 * HOUR, heldHours: 100, alerts: { static: [{ level: 2, at: 10 * HOUR }, { level: 0, at: 20 * HOUR }, { level: 2, at: 98 * HOUR }], risk: [], probabilityOnly: [] } }];
    expect(policyMetrics(resolved, 'static', { falseAlarmWindowHours: 72 })).toMatchObject({ caughtLead1h: 1, caughtLead6h: 0, medianLeadHours: 2, falseAlarmsPerPositionMonth: 1 / (100 / 720) });
    expect(policyMetrics(outcomes, 'static', { falseAlarmWindowHours: 72 })).toEqual({
      positions: 4,
      liquidations: 3,
      caughtLead1h: 2,
      caughtLead6h: 1,
      medianLeadHours: 6.5,
      missed: 1,
      falseAlarmsPerPositionMonth: 2 / ((100 + 50 + 20 + 720) / 720),
    });
    expect(policyMetrics(outcomes, 'risk', { falseAlarmWindowHours: 72 })).toMatchObject({ caughtLead1h: 0, missed: 3, medianLeadHours: null });
  });

  it('computes Brier scores and reliability bins: predictions 0.1, 0.1, 0.5, 0.5 against outcomes 0, 1, 1, 1', () => {
    const result = reliability(
      [
        { p: 0.1, y: 0 },
        { p: 0.1, y: 1 },
        { p: 0.5, y: 1 },
        { p: 0.5, y: 1 },
      ],
      [0, 0.2, 1],
    );
    expect(result.brier).toBeCloseTo((0.01 + 0.81 + 0.25 + 0.25) / 4, 12);
    expect(result.brierClimatology).toBeCloseTo(0.75 * 0.25, 12);
    expect(result.bins).toEqual([
      { from: 0, to: 0.2, n: 2, predicted: expect.closeTo(0.1, 12), realised: 0.5 },
      { from: 0.2, to: 1, n: 2, predicted: 0.5, realised: 1 },
    ]);
  });

  it('has no look-ahead: the worst-move table used on a day is the same when every later price is dropped', () => {
    const bars = parsePriceCsv(readFileSync(resolve(ROOT, 'tools/backtest-data/ETHUSDT-1h-2019-12-2020-04.csv'), 'utf8'));
    const start = Date.parse('2020-02-29T00:00:00Z');
    const day = Date.parse('2020-03-13T05:00:00Z');
    const truncatedBars = bars.filter((bar) => bar.time + HOUR <= day);
    for (const model of ['pooled', 'regime'] as const) {
      const full = expandingTables([{ file: 'eth', asset: 'ETH', bars }], start, model);
      const truncated = expandingTables([{ file: 'eth', asset: 'ETH', bars: truncatedBars }], start, model);
      for (const band of [-1, ...REGIME_EDGES.map((_, k) => k), REGIME_EDGES.length]) {
        const table = full(day, band);
        expect(table).not.toBeNull();
        expect(truncated(day, band)).toEqual(table);
      }
    }
  });

  it('with a second regime dimension (14-day drawdown), each cell holding at least 200 moves has its own table, a thinner cell its 72 h band’s, and no look-ahead', () => {
    const bars = parsePriceCsv(readFileSync(resolve(ROOT, 'tools/backtest-data/ETHUSDT-1h-2019-12-2020-04.csv'), 'utf8'));
    const regime: RegimeDimension[] = [...PRODUCTION_REGIME, { measure: 'drawdown', hours: 336, edges: [-2, -1] }];
    const start = Date.parse('2020-02-29T00:00:00Z');
    const day = Date.parse('2020-04-20T05:00:00Z');
    const series = [{ file: 'eth', asset: 'ETH', bars }];
    const cells = expandingTables(series, start, 'regime', regime);
    const bands = expandingTables(series, start, 'regime');
    const truncated = expandingTables([{ file: 'eth', asset: 'ETH', bars: bars.filter((bar) => bar.time + HOUR <= day) }], start, 'regime', regime);
    // The moves each cell held at that day's start, counted independently of the tables.
    const state = seriesState(bars, 'regime', regime);
    const moves = standardisedMoves(bars, state.variances, 24, WARMUP_DAYS);
    const cutoff = start + Math.floor((day - start) / 86_400_000) * 86_400_000;
    const counts = new Array<number>(regimeCellCount(regime)).fill(0);
    moves.knownAt.forEach((knownAt, i) => {
      const cell = state.bands[moves.origin[i]!]!;
      if (knownAt <= cutoff && cell >= 0) counts[cell]!++;
    });
    let own = 0;
    let fallback = 0;
    counts.forEach((count, cell) => {
      const table = cells(day, cell);
      expect(truncated(day, cell)).toEqual(table);
      if (count >= MIN_BAND_MOVES) {
        expect(table!.n).toBe(count);
        own++;
      } else {
        expect(table).toEqual(bands(day, firstBandOfCell(cell, regime)));
        fallback++;
      }
    });
    // This window has both kinds (checked so the test cannot pass vacuously).
    expect(own).toBeGreaterThan(0);
    expect(fallback).toBeGreaterThan(0);
  });

  it('npm run backtest --regime replays the model with the given dimensions; the production one spelt out scores exactly as the default', () => {
    const file = resolve(ROOT, 'tools/backtest-data/ETHUSDT-1h-2019-12-2020-04.csv');
    const dir = mkdtempSync(join(tmpdir(), 'backtest-'));
    const run = (name: string, extra: string[]) => {
      const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'tools/backtest.ts', '--prices', file, '--json', join(dir, name), ...extra], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
      return { stdout, result: resultSchema.parse(JSON.parse(readFileSync(join(dir, name), 'utf8'))) };
    };
    const production = run('default.json', []);
    const spelt = run('spelt.json', ['--regime', `return:72:${REGIME_EDGES.join(',')}`]);
    const drawdown = run('drawdown.json', ['--regime', `return:72:${REGIME_EDGES.join(',')}`, '--regime', 'drawdown:336:-2,-1']);
    expect(spelt.result).toEqual(production.result);
    // Same book and liquidations; only the probabilities (and so the risk policies and the bins) may change.
    expect(drawdown.result.policies.static).toEqual(production.result.policies.static);
    expect(drawdown.result.calibration.brier).not.toBe(production.result.calibration.brier);
    // The printout breaks the upper bins down by the health factor positions opened at.
    expect(drawdown.stdout).toMatch(/bins ≥ 10 % by open HF[^\n]*\n  HF 1\.20 /);
    expect(() => execFileSync(process.execPath, ['--import', 'tsx', 'tools/backtest.ts', '--prices', file, '--regime', 'drawdown:336:-1,-2'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' })).toThrow(
      /--regime drawdown:336:-1,-2: edges "-1,-2" must increase strictly/,
    );
  }, 60_000);

  it('npm run backtest on the bundled ETH window writes the stable --json contract with consistent figures', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'backtest-')), 'result.json');
    const file = resolve(ROOT, 'tools/backtest-data/ETHUSDT-1h-2019-12-2020-04.csv');
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'tools/backtest.ts', '--prices', file, '--json', out], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
    expect(stdout).toContain('false alarms / position-month');
    // Each reliability bin is printed with its days and a bootstrap interval; the --json file stays the contract (strict schema).
    expect(stdout).toMatch(/10\.00%–20\.00%.* pp \[[-+]\d+\.\d, [-+]\d+\.\d\]/);
    const result = resultSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(result.series).toEqual([
      { file: 'ETHUSDT-1h-2019-12-2020-04.csv', asset: 'ETHUSDT', from: '2019-12-01T00:00:00.000Z', to: '2020-04-30T23:00:00.000Z', hours: 3639 },
    ]);
    const { static: fixed, risk, probabilityOnly } = result.policies;
    // The book opens 90 days in (30 of EWMA warm-up, 60 of calibration), 5 positions a day until the data ends.
    expect(fixed.positions).toBe(5 * 63);
    expect(risk.positions).toBe(fixed.positions);
    // Black Thursday liquidates positions; both policies see the same book and the same liquidations.
    expect(fixed.liquidations).toBeGreaterThan(20);
    expect(risk.liquidations).toBe(fixed.liquidations);
    expect(probabilityOnly.liquidations).toBe(fixed.liquidations);
    // The worse of two levels is never less severe than the health-factor level alone: never a later first alert.
    expect(risk.caughtLead6h).toBeGreaterThanOrEqual(fixed.caughtLead6h);
    expect(risk.missed).toBeLessThanOrEqual(fixed.missed);
    for (const p of [fixed, risk, probabilityOnly]) {
      expect(p.caughtLead6h).toBeLessThanOrEqual(p.caughtLead1h);
      expect(p.missed).toBe(p.liquidations - p.caughtLead1h);
    }
    const predictions = result.calibration.bins.reduce((sum, bin) => sum + bin.n, 0);
    expect(predictions).toBeGreaterThan(1000);
    for (const bin of result.calibration.bins) if (bin.n > 0) expect(bin.predicted).toBeGreaterThanOrEqual(bin.from);
  }, 30_000);

  it('npm run backtest --policy reports extra policies under their names beside the three of the contract; a copy of a default policy scores the same', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'backtest-')), 'result.json');
    const file = resolve(ROOT, 'tools/backtest-data/ETHUSDT-1h-2019-12-2020-04.csv');
    const args = ['--import', 'tsx', 'tools/backtest.ts', '--prices', file, '--json', out, '--policy', 'sameAsRisk=risk', '--policy', 'sameAsStatic=static:hf=1.5,1.25,1.1', '--policy', 'criticalOnly=risk:hf=1.1002,1.1001,1.1'];
    const stdout = execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
    expect(stdout).toContain('criticalOnly     worse of HF < 1.1002 / 1.1001 / 1.1 and 24 h p ≥ 1 % / 5 % / 20 %');
    const result = z
      .object({ policies: z.strictObject({ static: policySchema, risk: policySchema, probabilityOnly: policySchema, sameAsRisk: policySchema, sameAsStatic: policySchema, criticalOnly: policySchema }) })
      .parse(JSON.parse(readFileSync(out, 'utf8')));
    const { policies } = result;
    expect(Object.keys(policies)).toEqual(['static', 'risk', 'probabilityOnly', 'sameAsRisk', 'sameAsStatic', 'criticalOnly']);
    expect(policies.sameAsRisk).toEqual(policies.risk);
    expect(policies.sameAsStatic).toEqual(policies.static);
    // Without the 1.5 / 1.25 lines the risk rule raises fewer margin calls, so fewer false alarms.
    expect(policies.criticalOnly.liquidations).toBe(policies.risk.liquidations);
    expect(policies.criticalOnly.falseAlarmsPerPositionMonth).toBeLessThan(policies.risk.falseAlarmsPerPositionMonth);
    // A reserved name is refused before any work, naming the option.
    expect(() => execFileSync(process.execPath, ['--import', 'tsx', 'tools/backtest.ts', '--prices', file, '--policy', 'risk=probability'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' })).toThrow(
      /--policy risk=probability: name "risk" is reserved/,
    );
  }, 60_000);
});
