import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrationSchema } from '../../src/risk/calibration';
import calibrationJson from '../../src/risk/calibration.json';
import { gbmLiquidationProbability, equityLoss, liquidationProbability, type RiskAsset } from '../../src/risk/position-risk';
import type { CovarianceMatrix } from '../../src/risk/ewma';

const calibration = calibrationSchema.parse(calibrationJson);
const singleAsset = (healthFactor: number) => ({ kind: 'down' as const, multiplier: 1 / healthFactor });
const healthFactor = fc.double({ min: 1.0001, max: 5, noNaN: true });
const variance = fc.double({ min: 1e-6, max: 0.05, noNaN: true });
const horizon = fc.constantFrom('1h' as const, '24h' as const);

describe('liquidation probability (FHS on the committed calibration, and GBM)', () => {
  it('never rises as the health factor rises', () => {
    fc.assert(
      fc.property(healthFactor, healthFactor, variance, horizon, (a, b, v, h) => {
        const [low, high] = a < b ? [a, b] : [b, a];
        expect(liquidationProbability(singleAsset(low), v, h, calibration)!).toBeGreaterThanOrEqual(liquidationProbability(singleAsset(high), v, h, calibration)!);
        expect(gbmLiquidationProbability(singleAsset(low), v, h)!).toBeGreaterThanOrEqual(gbmLiquidationProbability(singleAsset(high), v, h)! - 1e-12);
      }),
    );
  });

  it('never falls as the volatility rises', () => {
    fc.assert(
      fc.property(healthFactor, variance, variance, horizon, (hf, a, b, h) => {
        const [low, high] = a < b ? [a, b] : [b, a];
        expect(liquidationProbability(singleAsset(hf), high, h, calibration)!).toBeGreaterThanOrEqual(liquidationProbability(singleAsset(hf), low, h, calibration)!);
        expect(gbmLiquidationProbability(singleAsset(hf), high, h)!).toBeGreaterThanOrEqual(gbmLiquidationProbability(singleAsset(hf), low, h)! - 1e-12);
      }),
    );
  });

  it('stays within [0, 1] and is at least as large over 24 h as over 1 h', () => {
    fc.assert(
      fc.property(healthFactor, variance, (hf, v) => {
        const hour = liquidationProbability(singleAsset(hf), v, '1h', calibration)!;
        const day = liquidationProbability(singleAsset(hf), v, '24h', calibration)!;
        expect(hour).toBeGreaterThanOrEqual(0);
        expect(day).toBeLessThanOrEqual(1);
        expect(day).toBeGreaterThanOrEqual(hour);
      }),
    );
  });
});

describe('equity VaR and ES', () => {
  const matrix: CovarianceMatrix = { assets: ['btc', 'eth'], perDay: [[0.0009, 0.0007], [0.0007, 0.0016]], samples: 1, from: 0, to: 0 };
  const usd = fc.double({ min: 0, max: 1e7, noNaN: true });
  const position = fc.tuple(usd, usd, usd, usd, usd).map(([eth, btc, ethDebt, usdc, usdcDebt]): RiskAsset[] => [
    { id: 'eth', collateralUsd: eth, debtUsd: ethDebt, liquidationThreshold: 0.8, stable: false },
    { id: 'btc', collateralUsd: btc, debtUsd: 0, liquidationThreshold: 0.75, stable: false },
    { id: 'usdc', collateralUsd: usdc, debtUsd: usdcDebt, liquidationThreshold: 0.9, stable: true },
  ]);

  it('a hedged book (net equity near 0 against large exposures) has finite VaR ≤ ES: its loss is linear in its exposures\' moves', () => {
    const hedged: RiskAsset[] = [
      { id: 'eth', collateralUsd: 0, debtUsd: 9_999_999.999999965, liquidationThreshold: 0.8, stable: false },
      { id: 'btc', collateralUsd: 9_999_999.999999993, debtUsd: 0, liquidationThreshold: 0.75, stable: false },
    ];
    const loss = equityLoss(hedged, matrix, calibration)!;
    for (const confidence of [0.5, 0.95, 0.99]) {
      expect(Number.isFinite(loss.valueAtRisk(confidence))).toBe(true);
      expect(loss.valueAtRisk(confidence)).toBeLessThanOrEqual(loss.expectedShortfall(confidence) + 1e-6);
    }
  });

  it('VaR ≤ ES at every confidence, long or short, and both grow with the confidence', () => {
    fc.assert(
      fc.property(position, fc.double({ min: 0.5, max: 0.999, noNaN: true }), (assets, confidence) => {
        const loss = equityLoss(assets, matrix, calibration)!;
        const tolerance = 1e-9 * (1 + Math.abs(loss.expectedShortfall(confidence)));
        expect(loss.valueAtRisk(confidence)).toBeLessThanOrEqual(loss.expectedShortfall(confidence) + tolerance);
        expect(loss.valueAtRisk(0.95)).toBeLessThanOrEqual(loss.valueAtRisk(0.99) + tolerance);
        expect(loss.valueAtRisk(0.95)).toBeLessThanOrEqual(loss.expectedShortfall(0.975) + tolerance);
      }),
    );
  });
});
