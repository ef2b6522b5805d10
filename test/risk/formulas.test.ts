import { describe, expect, it } from 'vitest';
import {
  annualisedVolatility,
  ewmaCovariance,
  ewmaVariance,
  ewmaVarianceSeries,
  MS_PER_DAY,
  variancePerDayFromAnnual,
  type CovarianceMatrix,
  type PricePoint,
} from '../../src/risk/ewma';
import { gbmFirstPassageDown, gbmFirstPassageUp, normalCdf } from '../../src/risk/normal';
import { bandMean, quantileTable, tableCdf, tableQuantile, type QuantileTable } from '../../src/risk/empirical-distribution';
import {
  equityRisk,
  exposure,
  factorWeights,
  gbmLiquidationProbability,
  liquidationBarrier,
  liquidationProbability,
  positionRisk,
  weightedVariance,
  type RiskAsset,
} from '../../src/risk/position-risk';
import {
  aaveLiquidationCost,
  cometLiquidationCost,
  morphoLiquidationCost,
  morphoLiquidationIncentiveFactor,
} from '../../src/risk/liquidation-cost';
import { parsePriceCsv, standardisedMoves } from '../../src/risk/price-history';
import type { MoveTables } from '../../src/risk/calibration';

const HOUR = 3_600_000;
const daily = (prices: number[]): PricePoint[] => prices.map((price, i) => ({ time: i * MS_PER_DAY, price }));
const table = (p: number[], q: number[]): QuantileTable => ({ p, q, n: 1000 });
/** A hand-made calibration: worst falls spread linearly over [−10, −2] for the lower half, end returns with a known tail. */
const HAND_TABLES: MoveTables = {
  worstDown: table([0, 0.5, 1], [-10, -2, 0]),
  worstUp: table([0, 0.5, 1], [0, 2, 10]),
  end: table([0, 0.01, 0.05, 0.5, 1], [-5, -3, -2, 0, 5]),
};
const HAND = { horizons: { '1h': HAND_TABLES, '24h': HAND_TABLES } };
const asset = (fields: Partial<RiskAsset> & Pick<RiskAsset, 'id'>): RiskAsset => ({
  collateralUsd: 0,
  debtUsd: 0,
  liquidationThreshold: 0.825,
  stable: false,
  ...fields,
});
const covariance = (perDay: Record<string, number>, correlation: Record<string, number> = {}): CovarianceMatrix => {
  const assets = Object.keys(perDay).sort();
  return {
    assets,
    perDay: assets.map((a) => assets.map((b) => (a === b ? perDay[a]! : (correlation[`${a}/${b}`] ?? correlation[`${b}/${a}`] ?? 0)))),
    samples: 100,
    from: 0,
    to: 0,
  };
};

describe('EWMA variance and covariance of log returns', () => {
  it('seeds from the first return: one daily return of +10% gives ln(1.1)² per day', () => {
    expect(ewmaVariance(daily([100, 110]))?.variancePerDay).toBeCloseTo(0.00908403037, 10);
  });

  it('applies λ = 0.94 per daily step from a seed: 0.0004 → 0.000921042 → 0.00153183 over +10%, −10%', () => {
    const series = ewmaVarianceSeries(daily([100, 110, 99]), { seedVariancePerDay: 0.0004 });
    expect(series[0]).toBe(0.0004);
    expect(series[1]).toBeCloseTo(0.000921041822, 11);
    expect(series[2]).toBeCloseTo(0.001531829609, 11);
  });

  it('weighs a half-day return by 1 − 0.94^0.5 and scales it to a per-day variance (r²/Δt)', () => {
    const points = [
      { time: 0, price: 100 },
      { time: MS_PER_DAY / 2, price: 100 * Math.exp(0.01) },
    ];
    expect(ewmaVariance(points, { seedVariancePerDay: 0.0004 })?.variancePerDay).toBeCloseTo(0.000393907194, 11);
  });

  it('has the same ~11.2-day half-life with hourly and with daily samples', () => {
    const days = Math.log(0.5) / Math.log(0.94);
    const flat = (stepMs: number) => Array.from({ length: Math.round((days * MS_PER_DAY) / stepMs) + 1 }, (_, i) => ({ time: i * stepMs, price: 1 }));
    const hourly = ewmaVariance(flat(HOUR), { seedVariancePerDay: 1 })!.variancePerDay;
    const everyDay = ewmaVariance(flat(MS_PER_DAY), { seedVariancePerDay: 1 })!.variancePerDay;
    expect(hourly).toBeCloseTo(0.5, 2);
    expect(everyDay).toBeCloseTo(0.5, 1);
  });

  it('keeps a constant per-day variance whatever the sampling interval, gaps included', () => {
    // A return of r over Δt days always carries r²/Δt = 0.0024 per day.
    const times = [0, 1, 2, 5, 6, 30, 31].map((hours) => hours * HOUR);
    let price = 100;
    const points = times.map((time, i) => {
      if (i > 0) price *= Math.exp(Math.sqrt((0.0024 * (time - times[i - 1]!)) / MS_PER_DAY));
      return { time, price };
    });
    for (const value of ewmaVarianceSeries(points, { seedVariancePerDay: 0.0024 })) expect(value).toBeCloseTo(0.0024, 12);
  });

  it('annualises with 365 days: 0.0016 per day is 76.4 %/yr', () => {
    expect(annualisedVolatility(0.0016)).toBeCloseTo(0.764199, 5);
    expect(variancePerDayFromAnnual(0.764199)).toBeCloseTo(0.0016, 8);
  });

  it('computes the covariance over common times: +10% against −10% gives ln(1.1)·ln(0.9)', () => {
    const matrix = ewmaCovariance({ eth: daily([100, 110]), btc: [...daily([50, 45]), { time: 5 * MS_PER_DAY, price: 40 }] })!;
    expect(matrix.assets).toEqual(['btc', 'eth']);
    expect(matrix.perDay[0]![1]).toBeCloseTo(-0.0100419297, 9);
    expect(matrix.perDay[1]![0]).toBe(matrix.perDay[0]![1]);
    expect(matrix.perDay[1]![1]).toBeCloseTo(0.00908403037, 10);
    expect(matrix.samples).toBe(1);
  });

  it('answers null, not a number, without a return or a seed', () => {
    expect(ewmaVariance(daily([100]))).toBeNull();
    expect(ewmaVariance([])).toBeNull();
    expect(ewmaCovariance({ eth: daily([100]) })).toBeNull();
  });

  it('rejects unsorted times', () => {
    expect(() => ewmaVariance([{ time: 5, price: 1 }, { time: 5, price: 2 }])).toThrow(RangeError);
  });
});

describe('normal CDF and GBM first passage', () => {
  it('matches Φ at 0, −1.96 and −3', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(-1.959964)).toBeCloseTo(0.025, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980, 8);
  });

  it('gives 3.6989 % for a 10 % fall within a day at 5 %/√day', () => {
    expect(gbmFirstPassageDown(0.9, 0.05, 1)).toBeCloseTo(0.0369891657, 6);
  });

  it('gives 5.3976 % for a 10 % rise within a day at 5 %/√day (the martingale drifts down in log)', () => {
    expect(gbmFirstPassageUp(1.1, 0.05, 1)).toBeCloseTo(0.0539763164, 6);
    expect(gbmLiquidationProbability({ kind: 'up', multiplier: 1.1 }, 0.0025, '24h')).toBeCloseTo(0.0539763164, 6);
  });

  it('is 1 at or above the barrier and 0 without volatility', () => {
    expect(gbmFirstPassageDown(1, 0.05, 1)).toBe(1);
    expect(gbmFirstPassageDown(0.9, 0, 1)).toBe(0);
  });
});

describe('empirical quantile tables', () => {
  const small = quantileTable([5, 1, 4, 2, 3], [0, 0.25, 0.5, 1]);

  it('stores type-7 quantiles of the sorted sample', () => {
    expect(small).toEqual({ p: [0, 0.25, 0.5, 1], q: [1, 2, 3, 5], n: 5 });
  });

  it('interpolates the CDF between points, 0 below the minimum and 1 at the maximum', () => {
    expect(tableCdf(small, 2.5)).toBeCloseTo(0.375, 12);
    expect(tableCdf(small, 0.99)).toBe(0);
    expect(tableCdf(small, 5)).toBe(1);
    expect(tableQuantile(small, 0.375)).toBeCloseTo(2.5, 12);
  });

  it('integrates tail means: the lower half of a uniform [0, 1] has mean 0.25', () => {
    expect(bandMean(table([0, 1], [0, 1]), 0, 0.5)).toBeCloseTo(0.25, 12);
    expect(bandMean(table([0, 1], [0, 1]), 0.9, 1)).toBeCloseTo(0.95, 12);
  });
});

describe('distance to liquidation and probabilities per position', () => {
  it('k* = D / (C·LT) = 1/HF for one volatile collateral against stable debt', () => {
    const e = exposure([asset({ id: 'eth', collateralUsd: 1000 }), asset({ id: 'usdc', debtUsd: 600, stable: true })]);
    expect(e.healthFactor).toBeCloseTo(1.375, 12);
    expect(liquidationBarrier(e)).toEqual({ kind: 'down', multiplier: expect.closeTo(0.727273, 6) });
  });

  it('k* = (Ds − S)/(Vc − Vd) with stable collateral and volatile debt: 250/700', () => {
    const assets = [
      asset({ id: 'eth', collateralUsd: 1000, liquidationThreshold: 0.8, debtUsd: 100 }),
      asset({ id: 'usdc', collateralUsd: 500, liquidationThreshold: 0.9, debtUsd: 700, stable: true }),
    ];
    const e = exposure(assets);
    expect(e).toMatchObject({ vc: 800, s: 450, vd: 100, ds: 700 });
    expect(e.healthFactor).toBeCloseTo(1.5625, 12);
    expect(liquidationBarrier(e)).toEqual({ kind: 'down', multiplier: expect.closeTo(250 / 700, 12) });
  });

  it('a net short volatile position is liquidated by a rise to k* = 1.6', () => {
    const e = exposure([asset({ id: 'eth', debtUsd: 1000 }), asset({ id: 'usdc', collateralUsd: 2000, liquidationThreshold: 0.8, stable: true })]);
    expect(liquidationBarrier(e)).toEqual({ kind: 'up', multiplier: expect.closeTo(1.6, 12) });
  });

  it('no debt, stable-only and already-liquidatable positions have barriers none, none and now', () => {
    expect(liquidationBarrier(exposure([asset({ id: 'eth', collateralUsd: 1 })]))).toEqual({ kind: 'none' });
    expect(liquidationBarrier(exposure([asset({ id: 'usdc', collateralUsd: 2000, debtUsd: 1000, stable: true })]))).toEqual({ kind: 'none' });
    expect(liquidationBarrier(exposure([asset({ id: 'eth', collateralUsd: 1000 }), asset({ id: 'usdc', debtUsd: 900, stable: true })]))).toEqual({ kind: 'now' });
  });

  it('weights volatile assets by their share of Vc − Vd: (4/9)·0.0016 + (1/9)·0.0009 + 2·(2/9)·0.0006', () => {
    const assets = [
      asset({ id: 'eth', collateralUsd: 1000, liquidationThreshold: 0.8 }),
      asset({ id: 'btc', collateralUsd: 500, liquidationThreshold: 0.8 }),
      asset({ id: 'usdc', debtUsd: 600, stable: true }),
    ];
    const weights = factorWeights(assets);
    expect(weights.get('eth')).toBeCloseTo(2 / 3, 12);
    expect(weights.get('btc')).toBeCloseTo(1 / 3, 12);
    const matrix = covariance({ eth: 0.0016, btc: 0.0009 }, { 'eth/btc': 0.0006 });
    expect(weightedVariance(weights, matrix)).toBeCloseTo(0.001077778, 9);
    expect(weightedVariance(weights, covariance({ eth: 0.0016 }))).toBeNull();
  });

  it('looks the standardised barrier up in the worst-fall table: ln(0.727273)/0.04 = −7.961 → (10 − 7.961)/16 = 12.742 %', () => {
    const barrier = { kind: 'down' as const, multiplier: 600 / 825 };
    expect(liquidationProbability(barrier, 0.0016, '24h', HAND)).toBeCloseTo(0.127416, 6);
    // Over 1 h the same distance is −39 σ, beyond anything in the table.
    expect(liquidationProbability(barrier, 0.0016, '1h', HAND)).toBe(0);
    expect(liquidationProbability(barrier, null, '24h', HAND)).toBeNull();
  });

  it('uses the worst-rise table for a rise: ln(1.6)/0.1 = 4.70 σ → 1 − (0.5 + 2.70/8·0.5) = 33.1 %', () => {
    expect(liquidationProbability({ kind: 'up', multiplier: 1.6 }, 0.01, '24h', HAND)).toBeCloseTo(1 - (0.5 + ((Math.log(1.6) / 0.1 - 2) / 8) * 0.5), 10);
  });

  it('keeps the GBM closed form for explanations: 10 % fall at 5 %/√day is 3.70 %', () => {
    expect(gbmLiquidationProbability({ kind: 'down', multiplier: 0.9 }, 0.0025, '24h')).toBeCloseTo(0.0369891657, 6);
  });

  it('VaR 95 %, 99 % and ES 97.5 % of equity from the end-return table: $76.88, $113.08, $122.70', () => {
    const assets = [asset({ id: 'eth', collateralUsd: 1000 }), asset({ id: 'usdc', debtUsd: 600, stable: true })];
    const risk = equityRisk(assets, covariance({ eth: 0.0016 }), HAND)!;
    expect(risk.valueAtRisk95).toBeCloseTo(76.8836536, 5);
    expect(risk.valueAtRisk99).toBeCloseTo(113.0795633, 5);
    expect(risk.expectedShortfall975).toBeCloseTo(122.6962742, 5);
  });

  it('answers null for every volatility-dependent figure when the volatility is unknown', () => {
    const assets = [asset({ id: 'eth', collateralUsd: 1000 }), asset({ id: 'usdc', debtUsd: 600, stable: true })];
    const risk = positionRisk(assets, null, HAND);
    expect(risk).toMatchObject({
      healthFactor: 1.375,
      factorVolatility: null,
      healthFactorVolatility: null,
      liquidationProbability: { '1h': null, '24h': null },
      gbmLiquidationProbability: { '1h': null, '24h': null },
      equity: null,
    });
  });

  it('reports the factor and health-factor volatility annualised: 76.4 %/yr for a lone ETH collateral', () => {
    const assets = [asset({ id: 'eth', collateralUsd: 1000 }), asset({ id: 'usdc', debtUsd: 600, stable: true })];
    const risk = positionRisk(assets, covariance({ eth: 0.0016 }), HAND);
    expect(risk.factorVolatility).toBeCloseTo(0.764199, 5);
    expect(risk.healthFactorVolatility).toBeCloseTo(0.764199, 5);
    expect(risk.liquidationProbability['24h']).toBeCloseTo(0.127416, 6);
  });
});

describe('liquidation cost per protocol rule', () => {
  it('Aave/Spark: 50 % close factor above HF 0.95 → repays $5,000, costs $250 at a 5 % bonus', () => {
    expect(aaveLiquidationCost({ debtUsd: 10_000, collateralUsd: 15_000, liquidationBonus: 1.05, healthFactor: 0.98 })).toEqual({
      debtRepaid: 5000,
      collateralSeized: 5250,
      cost: expect.closeTo(250, 9),
    });
  });

  it('Aave/Spark: 100 % at or below HF 0.95, and for positions under $2,000', () => {
    expect(aaveLiquidationCost({ debtUsd: 10_000, collateralUsd: 15_000, liquidationBonus: 1.05, healthFactor: 0.95 }).cost).toBeCloseTo(500, 9);
    expect(aaveLiquidationCost({ debtUsd: 1500, collateralUsd: 1800, liquidationBonus: 1.05, healthFactor: 0.99 }).cost).toBeCloseTo(75, 9);
  });

  it('Aave/Spark: a collateral too small for the bonus caps the repayment at collateral / bonus', () => {
    const cost = aaveLiquidationCost({ debtUsd: 10_000, collateralUsd: 8000, liquidationBonus: 1.05, healthFactor: 0.5 });
    expect(cost.debtRepaid).toBeCloseTo(7619.047619, 5);
    expect(cost.cost).toBeCloseTo(380.952381, 5);
  });

  it('Comet: Σ collateral × (1 − liquidationFactor) = 10,000·0.07 + 5,000·0.10', () => {
    expect(cometLiquidationCost([{ valueUsd: 10_000, liquidationFactor: 0.93 }, { valueUsd: 5000, liquidationFactor: 0.9 }]).cost).toBeCloseTo(1200, 9);
  });

  it('Morpho: LIF = min(1.15, 1/(1 − 0.3·(1 − LLTV))): 1.04384 at 86 %, 1.01678 at 94.5 %, capped 1.15 at 50 %', () => {
    expect(morphoLiquidationIncentiveFactor(0.86)).toBeCloseTo(1.0438413361, 9);
    expect(morphoLiquidationIncentiveFactor(0.945)).toBeCloseTo(1.0167768175, 9);
    expect(morphoLiquidationIncentiveFactor(0.5)).toBe(1.15);
    expect(morphoLiquidationCost({ debtUsd: 10_000, collateralUsd: 12_000, lltv: 0.86 }).cost).toBeCloseTo(438.4133612, 6);
  });
});

describe('hourly price history', () => {
  it('parses the CSV, tolerating gaps, and names the line and field of a bad row', () => {
    const bars = parsePriceCsv('time,open,high,low,close,volume\n2020-03-12T00:00:00Z,10,11,9,10.5,1\n2020-03-12T02:00:00Z,10.5,12,10,11,2\n');
    expect(bars).toEqual([
      { time: Date.parse('2020-03-12T00:00:00Z'), open: 10, high: 11, low: 9, close: 10.5 },
      { time: Date.parse('2020-03-12T02:00:00Z'), open: 10.5, high: 12, low: 10, close: 11 },
    ]);
    expect(() => parsePriceCsv('time,open,high,low,close\n2020-03-12T00:00:00Z,10,11,-9,10.5\n')).toThrow('line 2: low');
    expect(() => parsePriceCsv('time,open,high,low\n')).toThrow('missing column "close"');
  });

  it('standardises worst moves by the volatility known at the start and skips windows across a gap', () => {
    const bars = [0, 1, 2, 4, 5].map((hour, i) => ({ time: hour * HOUR, open: 100, high: 100 + i, low: 100 - 2 * i, close: 100 }));
    const moves = standardisedMoves(bars, [0.0024, 0.0024, 0.0024, 0.0024, 0.0024], 1, 0);
    // 1 h at 0.0024/day is a scale of 0.01; the bar 2→4 spans a gap and is skipped.
    expect(moves.worstDown).toEqual([Math.log(98 / 100) / 0.01, Math.log(96 / 100) / 0.01, Math.log(92 / 100) / 0.01].map((x) => expect.closeTo(x, 9)));
    expect(moves.knownAt).toEqual([2 * HOUR, 3 * HOUR, 6 * HOUR]);
  });
});
