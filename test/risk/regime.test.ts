import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMITTED_CALIBRATION } from '../../src/risk/committed-calibration';
import { tableCdf } from '../../src/risk/empirical-distribution';
import type { CovarianceMatrix } from '../../src/risk/ewma';
import { liquidationProbability, positionRisk, type RiskAsset } from '../../src/risk/position-risk';
import { hourlyVariances, parsePriceCsv, regimeBands, regimeCells, regimeCoordinates, type PriceBar } from '../../src/risk/price-history';
import { firstBandOfCell, PRODUCTION_REGIME, REGIME_EDGES, regimeBand, regimeCell, regimeCellCount, standardisedReturn, type RegimeDimension } from '../../src/risk/regime';

const ETH = 'eth';
// 0.0016 per day: 4 % a day; over 72 h, √(0.0016 × 3) = 0.069282.
const covariance: CovarianceMatrix = { assets: [ETH], perDay: [[0.0016]], samples: 288, from: 0, to: 1 };
/** HF 1.1: 10,000 of ETH at LT 0.825 against 7,500 of stable debt. */
const position: RiskAsset[] = [
  { id: ETH, collateralUsd: 10_000, debtUsd: 0, liquidationThreshold: 0.825, stable: false },
  { id: 'usdc', collateralUsd: 0, debtUsd: 7_500, liquidationThreshold: 0.86, stable: true },
];

describe('regime: the standardised 72 h return and its band', () => {
  it('standardises a log return by the EWMA volatility over the look-back', () => {
    expect(standardisedReturn(-0.1, 0.0016)).toBeCloseTo(-0.1 / Math.sqrt(0.0048), 12);
    expect(standardisedReturn(0.05, 0.0016, 24)).toBeCloseTo(0.05 / 0.04, 12);
    expect(standardisedReturn(-0.1, 0)).toBeNull();
    expect(standardisedReturn(Number.NaN, 0.0016)).toBeNull();
  });

  it('bands count the edges at or below u: −∞ … −2.5 is band 0, an edge belongs to the band above it, 1 … ∞ is band 7', () => {
    expect(REGIME_EDGES).toEqual([-2.5, -2, -1.5, -1, -0.5, 0, 1]);
    expect([-4, -2.5, -2.01, -2, -1.4434, -0.2, 0, 0.99, 1, 6].map((u) => regimeBand(u))).toEqual([0, 1, 1, 2, 3, 5, 6, 6, 7, 7]);
  });
});

describe('liquidation probability conditioned on the regime', () => {
  it('a position after a 72 h fall of 18 % gets its band’s table, higher than the pooled one and than after a rise', () => {
    const pooled = positionRisk(position, covariance, COMMITTED_CALIBRATION).liquidationProbability['24h']!;
    const afterFall = positionRisk(position, covariance, COMMITTED_CALIBRATION, { recentLogReturns: new Map([[ETH, -0.2]]) }).liquidationProbability['24h']!;
    const afterRise = positionRisk(position, covariance, COMMITTED_CALIBRATION, { recentLogReturns: new Map([[ETH, 0.05]]) }).liquidationProbability['24h']!;
    // u = −0.2 / 0.069282 = −2.89: band 0. The barrier 1/1.1 at 4 % a day is ln(1/1.1)/0.04 = −2.383 σ.
    expect(afterFall).toBeCloseTo(tableCdf(COMMITTED_CALIBRATION.regime!.horizons['24h'][0]!.worstDown, Math.log(1 / 1.1) / 0.04), 12);
    expect(pooled).toBeCloseTo(tableCdf(COMMITTED_CALIBRATION.horizons['24h'].worstDown, Math.log(1 / 1.1) / 0.04), 12);
    expect(afterFall).toBeGreaterThan(2 * pooled);
    expect(afterRise).toBeLessThan(pooled);
  });

  it('without a weighted asset’s recent return, or a volatility, it falls back to the pooled table or null', () => {
    const pooled = positionRisk(position, covariance, COMMITTED_CALIBRATION).liquidationProbability;
    expect(positionRisk(position, covariance, COMMITTED_CALIBRATION, { recentLogReturns: new Map([['usdc', 0]]) }).liquidationProbability).toEqual(pooled);
    expect(positionRisk(position, null, COMMITTED_CALIBRATION, { recentLogReturns: new Map([[ETH, -0.2]]) }).liquidationProbability).toEqual({ '1h': null, '24h': null });
    // The low-level call without the optional argument is the pooled figure, as before regimes.
    expect(liquidationProbability({ kind: 'down', multiplier: 1 / 1.1 }, 0.0016, '24h', COMMITTED_CALIBRATION)).toBe(pooled['24h']);
  });

  it('stays monotone: within each band the probability falls as the health factor rises', () => {
    for (let band = 0; band <= REGIME_EDGES.length; band++) {
      const u = band === 0 ? -3 : REGIME_EDGES[band - 1]!;
      const probabilities = [1.02, 1.05, 1.1, 1.2, 1.4].map((hf) => liquidationProbability({ kind: 'down', multiplier: 1 / hf }, 0.0016, '24h', COMMITTED_CALIBRATION, u)!);
      for (let i = 1; i < probabilities.length; i++) expect(probabilities[i]!).toBeLessThanOrEqual(probabilities[i - 1]!);
    }
  });
});

describe('regime dimensions: the drawdown from the running maximum and cells over several dimensions', () => {
  const HOUR = 3_600_000;
  /** Closes 100, 110, 121, 99, 104.5, 90 at hours 0 … 5, with the 4th hour missing (a gap). */
  const bars: PriceBar[] = [100, 110, 121, 99, null, 104.5, 90].flatMap((close, i) =>
    close === null ? [] : [{ time: i * HOUR, open: close, high: close, low: close, close }],
  );
  const variances = bars.map(() => 0.0024); // √(0.0024 × 2/24) = √0.0002 over 2 h

  it('the drawdown over 2 h is ln(close / highest close of the span), by σ over 2 h; the return is ln(close / close 2 h before); null without the bar 2 h back', () => {
    const scale = Math.sqrt(0.0024 * (2 / 24));
    const drawdown = regimeCoordinates(bars, variances, { measure: 'drawdown', hours: 2 });
    const ret = regimeCoordinates(bars, variances, { measure: 'return', hours: 2 });
    // Hours 0, 1, 2, 3, 5, 6; at hour 5 the bar of hour 3 is there, hour 6's back bar (4) is missing.
    expect(drawdown.map((u) => (u === null ? null : u * scale))).toEqual([null, null, 0, expect.closeTo(Math.log(99 / 121), 12), expect.closeTo(Math.log(104.5 / 104.5), 12), null]);
    expect(ret.map((u) => (u === null ? null : u * scale))).toEqual([null, null, expect.closeTo(Math.log(121 / 100), 12), expect.closeTo(Math.log(99 / 110), 12), expect.closeTo(Math.log(104.5 / 99), 12), null]);
  });

  it('the running maximum forgets a high once it is older than the span', () => {
    const scale = Math.sqrt(0.0024 * (3 / 24));
    // Span 3 h: at hour 5 the span holds hours 2 … 5 (121 included), at hour 6 hours 3 … 6 (121 gone: 104.5 is the highest).
    const drawdown = regimeCoordinates(bars, variances, { measure: 'drawdown', hours: 3 });
    expect(drawdown[4]! * scale).toBeCloseTo(Math.log(104.5 / 121), 12);
    expect(drawdown[5]! * scale).toBeCloseTo(Math.log(90 / 104.5), 12);
  });

  it('cells number the bands in mixed radix, the first dimension most significant; a cell knows its first band; unknown coordinates give −1', () => {
    const dimensions: RegimeDimension[] = [{ measure: 'return', hours: 72, edges: [-1, 0, 1] }, { measure: 'drawdown', hours: 336, edges: [-2, -1] }];
    expect(regimeCellCount(dimensions)).toBe(12);
    expect(regimeCell([-3, -3], dimensions)).toBe(0);
    expect(regimeCell([-3, -0.5], dimensions)).toBe(2);
    expect(regimeCell([0.5, -1.5], dimensions)).toBe(2 * 3 + 1);
    expect(regimeCell([2, 0], dimensions)).toBe(11);
    expect(regimeCell([2, null], dimensions)).toBe(-1);
    expect([0, 2, 7, 11].map((cell) => firstBandOfCell(cell, dimensions))).toEqual([0, 0, 2, 3]);
  });

  it('with the production regime alone, the cells are the 72 h return bands the calibration uses, on the real ETH history', () => {
    const ethBars = parsePriceCsv(readFileSync(resolve(import.meta.dirname, '../../tools/backtest-data/ETHUSDT-1h-2019-12-2020-04.csv'), 'utf8'));
    const ethVariances = hourlyVariances(ethBars);
    expect(regimeCells(ethBars, ethVariances, PRODUCTION_REGIME)).toEqual(regimeBands(ethBars, ethVariances));
  });
});
