import { describe, expect, it } from 'vitest';
import { COMMITTED_CALIBRATION } from '../../src/risk/committed-calibration';
import { tableCdf } from '../../src/risk/empirical-distribution';
import type { CovarianceMatrix } from '../../src/risk/ewma';
import { liquidationProbability, positionRisk, type RiskAsset } from '../../src/risk/position-risk';
import { REGIME_EDGES, regimeBand, standardisedReturn } from '../../src/risk/regime';

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
