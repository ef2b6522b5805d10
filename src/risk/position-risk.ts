/*
 * Per-position risk under the engine's model: volatile assets move together by one factor
 * (a uniform move), stablecoins stay flat. With Vc / S the threshold-weighted volatile /
 * stable collateral and Vd / Ds the volatile / stable debt (USD), the volatile prices
 * multiplied by m give HF(m) = (m·Vc + S) / (m·Vd + Ds), which reaches 1 at
 *   k* = (Ds − S) / (Vc − Vd).
 * The factor's volatility comes from the EWMA covariance and the position's weights. Pure.
 */
import { type CovarianceMatrix, DAYS_PER_YEAR } from './ewma';
import { bandMean, tableCdf, tableQuantile } from './empirical-distribution';
import { HORIZONS, worstMoveTables, type Calibration, type Horizon } from './calibration';
import { standardisedReturn } from './regime';
import { gbmFirstPassageDown, gbmFirstPassageUp } from './normal';

/** One asset of a position in USD (collateral that counts, debt), as the risk model sees it. */
export type RiskAsset = {
  /** Key into the covariance matrix (e.g. the asset address). */
  id: string;
  collateralUsd: number;
  debtUsd: number;
  /** Liquidation threshold as a fraction (0.825). */
  liquidationThreshold: number;
  stable: boolean;
};

export type Exposure = {
  /** Threshold-weighted volatile collateral, stable collateral; volatile debt, stable debt. */
  vc: number;
  s: number;
  vd: number;
  ds: number;
  healthFactor: number | null;
};

export function exposure(assets: readonly RiskAsset[]): Exposure {
  let vc = 0;
  let s = 0;
  let vd = 0;
  let ds = 0;
  for (const asset of assets) {
    const weighted = asset.collateralUsd * asset.liquidationThreshold;
    if (asset.stable) {
      s += weighted;
      ds += asset.debtUsd;
    } else {
      vc += weighted;
      vd += asset.debtUsd;
    }
  }
  const debt = vd + ds;
  return { vc, s, vd, ds, healthFactor: debt === 0 ? null : (vc + s) / debt };
}

/**
 * Where liquidation lies for a uniform move m of the volatile prices.
 * - `none`: the position cannot be liquidated by such a move (no debt, no net volatile
 *   exposure while healthy, or a barrier on the impossible side of zero).
 * - `now`: HF is already at or below 1.
 * - `down`: liquidated when m falls to k* (< 1); `up`: when m rises to k* (> 1), for a
 *   position whose volatile debt outweighs its weighted volatile collateral. While HF > 1,
 *   k* < 1 for `down` and k* > 1 for `up` follow from the formula.
 */
export type Barrier = { kind: 'none' } | { kind: 'now' } | { kind: 'down' | 'up'; multiplier: number };

export function liquidationBarrier(e: Exposure): Barrier {
  if (e.healthFactor === null) return { kind: 'none' };
  if (e.healthFactor <= 1) return { kind: 'now' };
  const net = e.vc - e.vd;
  if (net === 0) return { kind: 'none' };
  const multiplier = (e.ds - e.s) / net;
  if (net > 0) return multiplier > 0 ? { kind: 'down', multiplier } : { kind: 'none' };
  return { kind: 'up', multiplier };
}

/**
 * Variance per day of Σ wᵢ rᵢ for weights over asset ids; null when a weighted asset is
 * missing from the covariance (an unknown input).
 */
export function weightedVariance(weights: ReadonlyMap<string, number>, covariance: CovarianceMatrix): number | null {
  const entries = [...weights].filter(([, weight]) => weight !== 0);
  const index = entries.map(([id]) => covariance.assets.indexOf(id));
  if (index.some((i) => i < 0)) return null;
  let variance = 0;
  for (let a = 0; a < entries.length; a++) {
    for (let b = 0; b < entries.length; b++) {
      variance += entries[a]![1] * entries[b]![1] * covariance.perDay[index[a]!]![index[b]!]!;
    }
  }
  return Math.max(0, variance);
}

/** Weights of the factor k* refers to: each volatile asset's share of the net weighted exposure Vc − Vd. */
export function factorWeights(assets: readonly RiskAsset[]): Map<string, number> {
  const e = exposure(assets);
  const net = e.vc - e.vd;
  return volatileWeights(assets, (asset) => (net === 0 ? 0 : (asset.collateralUsd * asset.liquidationThreshold - asset.debtUsd) / net));
}

/** Sensitivities of ln HF to each volatile asset's log return: cᵢ·LTᵢ/(Vc + S) − dᵢ/(Vd + Ds). */
export function healthFactorWeights(assets: readonly RiskAsset[]): Map<string, number> {
  const e = exposure(assets);
  const collateral = e.vc + e.s;
  const debt = e.vd + e.ds;
  return volatileWeights(
    assets,
    (asset) =>
      (collateral === 0 ? 0 : (asset.collateralUsd * asset.liquidationThreshold) / collateral) - (debt === 0 ? 0 : asset.debtUsd / debt),
  );
}

/**
 * What the model needs besides the covariance to condition on the market regime: each volatile
 * asset's log return over the calibration's regime look-back (`calibration.regime.hours`, 72 h),
 * ln(price now / price then), keyed like the covariance. Without it, or with an asset missing,
 * the pooled (regime-blind) tables are used, which run low right after a fall.
 */
export type RegimeInput = { recentLogReturns: ReadonlyMap<string, number> };

/**
 * Probability of touching HF = 1 within the horizon by filtered historical simulation: the
 * barrier's log distance, divided by today's factor volatility over the horizon, is looked up
 * in the calibrated distribution of standardised worst moves, that of the regime band of
 * `standardisedRecentReturn` (the factor's recent log return ÷ its volatility over the
 * look-back) when given, else the pooled one. Null when the volatility is unknown.
 */
export function liquidationProbability(
  barrier: Barrier,
  variancePerDay: number | null,
  horizon: Horizon,
  calibration: Pick<Calibration, 'horizons' | 'regime'>,
  standardisedRecentReturn?: number | null,
): number | null {
  if (barrier.kind === 'none') return 0;
  if (barrier.kind === 'now') return 1;
  if (variancePerDay === null) return null;
  const scale = Math.sqrt(variancePerDay * (HORIZONS[horizon] / 24));
  const distance = Math.log(barrier.multiplier);
  if (scale === 0) return 0;
  const tables = worstMoveTables(calibration, horizon, standardisedRecentReturn);
  if (barrier.kind === 'down') return tableCdf(tables.worstDown, distance / scale);
  return 1 - tableCdf(tables.worstUp, distance / scale);
}

/**
 * The factor's standardised recent return (src/risk/regime.ts): Σ wᵢ rᵢ over the factor
 * weights, divided by the factor volatility over the look-back. Null without a regime input,
 * with a weighted asset's return missing, or without a positive variance.
 */
export function factorStandardisedReturn(
  assets: readonly RiskAsset[],
  factorVariancePerDay: number | null,
  regime: RegimeInput | undefined,
  calibration: Pick<Calibration, 'regime'>,
): number | null {
  if (regime === undefined || calibration.regime === undefined || factorVariancePerDay === null) return null;
  let logReturn = 0;
  for (const [id, weight] of factorWeights(assets)) {
    if (weight === 0) continue;
    const r = regime.recentLogReturns.get(id);
    if (r === undefined) return null;
    logReturn += weight * r;
  }
  return standardisedReturn(logReturn, factorVariancePerDay, calibration.regime.hours);
}

/** The same probability under driftless GBM (closed form), for explanation text only. */
export function gbmLiquidationProbability(barrier: Barrier, variancePerDay: number | null, horizon: Horizon): number | null {
  if (barrier.kind === 'none') return 0;
  if (barrier.kind === 'now') return 1;
  if (variancePerDay === null) return null;
  const volatility = Math.sqrt(variancePerDay);
  const days = HORIZONS[horizon] / 24;
  return barrier.kind === 'down' ? gbmFirstPassageDown(barrier.multiplier, volatility, days) : gbmFirstPassageUp(barrier.multiplier, volatility, days);
}

/** The 24 h loss distribution of a position's equity (USD, positive = loss). */
export type EquityLoss = {
  /** Loss not exceeded with probability `confidence` (0.95 → 95 % VaR). */
  valueAtRisk(confidence: number): number;
  /** Mean loss in the worst 1 − `confidence` of cases. */
  expectedShortfall(confidence: number): number;
};

/**
 * 24 h loss of the position's equity (collateral − debt, USD, marked to market; a liquidation
 * on the way is not modelled) under a uniform factor move r: with X the net volatile exposure,
 * loss = −X·(e^r − 1), r = σ·z, σ from the covariance with weights (cᵢ − dᵢ)/X and z from the
 * calibrated 24 h end-return table. Null when a volatility is unknown.
 */
export function equityLoss(assets: readonly RiskAsset[], covariance: CovarianceMatrix, calibration: Pick<Calibration, 'horizons'>): EquityLoss | null {
  let net = 0;
  for (const asset of assets) if (!asset.stable) net += asset.collateralUsd - asset.debtUsd;
  if (net === 0) return { valueAtRisk: () => 0, expectedShortfall: () => 0 };
  // The daily standard deviation of the book's dollar P&L, from its exposures (finite however small `net` is).
  const dollarVariance = weightedVariance(volatileWeights(assets, (asset) => asset.collateralUsd - asset.debtUsd), covariance);
  if (dollarVariance === null) return null;
  const dollarSigma = Math.sqrt(dollarVariance);
  const sigma = dollarSigma / Math.abs(net);
  const table = calibration.horizons['24h'].end;
  // A book whose net equity is small against its exposures (a hedge: daily moves above 100 % of
  // it) has no meaningful relative return; its P&L is the sum of its exposures' moves, linear in z.
  const loss = sigma > 1 ? (z: number) => -Math.sign(net) * dollarSigma * z : (z: number) => -net * Math.expm1(sigma * z);
  // A long exposure loses in the lower tail of z, a short one in the upper tail.
  return {
    valueAtRisk: (confidence) => loss(tableQuantile(table, net > 0 ? 1 - confidence : confidence)),
    expectedShortfall: (confidence) => (net > 0 ? bandMean(table, 0, 1 - confidence, loss) : bandMean(table, confidence, 1, loss)),
  };
}

/** The figures the product shows: 24 h VaR at 95 % and 99 %, ES at 97.5 % (USD). */
export type EquityRisk = { valueAtRisk95: number; valueAtRisk99: number; expectedShortfall975: number };

export function equityRisk(assets: readonly RiskAsset[], covariance: CovarianceMatrix, calibration: Pick<Calibration, 'horizons'>): EquityRisk | null {
  const distribution = equityLoss(assets, covariance, calibration);
  if (distribution === null) return null;
  return {
    valueAtRisk95: distribution.valueAtRisk(0.95),
    valueAtRisk99: distribution.valueAtRisk(0.99),
    expectedShortfall975: distribution.expectedShortfall(0.975),
  };
}

export type PositionRisk = {
  healthFactor: number | null;
  barrier: Barrier;
  /** Annualised volatility of the factor k* refers to, and of the health factor; null when unknown. */
  factorVolatility: number | null;
  healthFactorVolatility: number | null;
  liquidationProbability: Record<Horizon, number | null>;
  /** Closed-form GBM probability, for explanation text only. */
  gbmLiquidationProbability: Record<Horizon, number | null>;
  equity: EquityRisk | null;
};

/**
 * Everything above for one position. `covariance` null means no volatility is known. `regime`
 * (optional) conditions the liquidation probabilities on the recent move, see RegimeInput.
 */
export function positionRisk(
  assets: readonly RiskAsset[],
  covariance: CovarianceMatrix | null,
  calibration: Pick<Calibration, 'horizons' | 'regime'>,
  regime?: RegimeInput,
): PositionRisk {
  const e = exposure(assets);
  const barrier = liquidationBarrier(e);
  const factorVariance = covariance === null ? null : weightedVariance(factorWeights(assets), covariance);
  const u = factorStandardisedReturn(assets, factorVariance, regime, calibration);
  const hfVariance = covariance === null ? null : weightedVariance(healthFactorWeights(assets), covariance);
  const annual = (variance: number | null) => (variance === null ? null : Math.sqrt(variance * DAYS_PER_YEAR));
  return {
    healthFactor: e.healthFactor,
    barrier,
    factorVolatility: annual(factorVariance),
    healthFactorVolatility: annual(hfVariance),
    liquidationProbability: {
      '1h': liquidationProbability(barrier, factorVariance, '1h', calibration, u),
      '24h': liquidationProbability(barrier, factorVariance, '24h', calibration, u),
    },
    gbmLiquidationProbability: {
      '1h': gbmLiquidationProbability(barrier, factorVariance, '1h'),
      '24h': gbmLiquidationProbability(barrier, factorVariance, '24h'),
    },
    equity: covariance === null ? null : equityRisk(assets, covariance, calibration),
  };
}

function volatileWeights(assets: readonly RiskAsset[], weight: (asset: RiskAsset) => number): Map<string, number> {
  const weights = new Map<string, number>();
  for (const asset of assets) if (!asset.stable) weights.set(asset.id, (weights.get(asset.id) ?? 0) + weight(asset));
  return weights;
}
