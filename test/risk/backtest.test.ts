import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parsePriceCsv } from '../../src/risk/price-history';
import { DEFAULT_BACKTEST_OPTIONS, expandingTables, policyMetrics, reliability, riskLevel, staticLevel } from '../../src/risk/backtest';

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
  policies: z.strictObject({ static: policySchema, risk: policySchema }),
  calibration: z.strictObject({
    brier: z.number(),
    brierClimatology: z.number(),
    bins: z.array(z.strictObject({ from: z.number(), to: z.number(), n: z.number(), predicted: z.number(), realised: z.number() })),
  }),
});

describe('backtest', () => {
  it('levels: static alerts below 1.5 / 1.25 / 1.1, risk at 1 % / 5 % / 20 %', () => {
    const { staticLevels, riskLevels } = DEFAULT_BACKTEST_OPTIONS;
    expect([1.6, 1.5, 1.3, 1.2, 1.05].map((hf) => staticLevel(hf, staticLevels))).toEqual([0, 0, 1, 2, 3]);
    expect([0.005, 0.01, 0.049, 0.05, 0.2].map((p) => riskLevel(p, riskLevels))).toEqual([0, 1, 1, 2, 3]);
  });

  it('scores leads, misses and false alarms per position-month as defined', () => {
    const day = 24 * HOUR;
    const outcomes = [
      // Margin call 10 h before liquidation: caught with ≥ 1 h and ≥ 6 h lead.
      { liquidatedAt: 100 * HOUR, heldHours: 100, alerts: { static: [{ level: 1, at: 0 }, { level: 2, at: 90 * HOUR }], risk: [] } },
      // Critical 3 h before: caught with ≥ 1 h only; its earlier warning does not count.
      { liquidatedAt: 50 * HOUR, heldHours: 50, alerts: { static: [{ level: 3, at: 47 * HOUR }], risk: [] } },
      // Liquidated without a margin call: missed.
      { liquidatedAt: 20 * HOUR, heldHours: 20, alerts: { static: [{ level: 1, at: 0 }], risk: [] } },
      // Margin call then critical, no liquidation: two false alarms over 30 days held.
      { liquidatedAt: null, heldHours: 30 * 24, alerts: { static: [{ level: 2, at: day }, { level: 3, at: 2 * day }], risk: [] } },
    ];
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
    const full = expandingTables([{ file: 'eth', asset: 'ETH', bars }], start)(day);
    const truncated = expandingTables([{ file: 'eth', asset: 'ETH', bars: bars.filter((bar) => bar.time + HOUR <= day) }], start)(day);
    expect(full).not.toBeNull();
    expect(truncated).toEqual(full);
  });

  it('npm run backtest on the bundled ETH window writes the stable --json contract with consistent figures', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'backtest-')), 'result.json');
    const file = resolve(ROOT, 'tools/backtest-data/ETHUSDT-1h-2019-12-2020-04.csv');
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'tools/backtest.ts', '--prices', file, '--json', out], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
    expect(stdout).toContain('false alarms / position-month');
    const result = resultSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(result.series).toEqual([
      { file: 'ETHUSDT-1h-2019-12-2020-04.csv', asset: 'ETHUSDT', from: '2019-12-01T00:00:00.000Z', to: '2020-04-30T23:00:00.000Z', hours: 3639 },
    ]);
    const { static: fixed, risk } = result.policies;
    // The book opens 90 days in (30 of EWMA warm-up, 60 of calibration), 5 positions a day until the data ends.
    expect(fixed.positions).toBe(5 * 63);
    expect(risk.positions).toBe(fixed.positions);
    // Black Thursday liquidates positions; both policies see the same book and the same liquidations.
    expect(fixed.liquidations).toBeGreaterThan(20);
    expect(risk.liquidations).toBe(fixed.liquidations);
    for (const p of [fixed, risk]) {
      expect(p.caughtLead6h).toBeLessThanOrEqual(p.caughtLead1h);
      expect(p.missed).toBe(p.liquidations - p.caughtLead1h);
    }
    const predictions = result.calibration.bins.reduce((sum, bin) => sum + bin.n, 0);
    expect(predictions).toBeGreaterThan(1000);
    for (const bin of result.calibration.bins) if (bin.n > 0) expect(bin.predicted).toBeGreaterThanOrEqual(bin.from);
  }, 30_000);
});
