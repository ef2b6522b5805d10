/*
 * The risk figures of one watched position, as the API and alert bodies show them: liquidation
 * probability (1 h, 24 h), volatility per asset, 24 h VaR / ES of the equity, the cost of a
 * liquidation now and the safe top-up. Pure: the shard gives the position, the market's
 * volatility and the protocol's liquidation rule. Unknown inputs give null, never a made-up number.
 */
import { formatUnits, type Address } from 'viem';
import type { PositionSnapshot } from '../domain/position';
import type { ProbabilityLevels } from '../domain/alert-machine';
import type { LiquidationRule } from '../protocols/adapter';
import { annualisedVolatility, RISKMETRICS_LAMBDA_PER_DAY, type CovarianceMatrix } from './ewma';
import type { Calibration } from './calibration';
import { assetClassOf } from './asset-class';
import { gbmLiquidationProbability, positionRisk, weightedVariance, factorWeights, type Barrier, type RegimeInput } from './position-risk';
import { riskAssetsFromPositions, safeTopUp, type RiskMarket } from './safe-top-up';
import { liquidationCostByRule } from './liquidation-cost';
import type { SeedSource, VolatilitySeed } from './market-volatility';
import { assetValueBase } from '../domain/risk';

/** A watch's risk settings: with `enabled`, its level is the worse of its health-factor and probability levels. */
export type RiskSettings = { enabled: boolean; levels: ProbabilityLevels };

export const DEFAULT_PROBABILITY_LEVELS: Readonly<ProbabilityLevels> = Object.freeze({ warning: 0.01, marginCall: 0.05, critical: 0.2 });

/** A watch without risk-based levels (the default). */
export const RISK_OFF: Readonly<RiskSettings> = Object.freeze({ enabled: false, levels: DEFAULT_PROBABILITY_LEVELS });

export type WatchRisk = {
  enabled: boolean;
  levels: ProbabilityLevels;
  /** Probability of the health factor touching 1 within the horizon (filtered historical simulation). */
  liquidationProbability: { '1h': number | null; '24h': number | null };
  /** The same under driftless GBM (closed form): thin-tailed, shown only to explain the difference. */
  gbmLiquidationProbability24h: number | null;
  /** Annualised volatility of each volatile asset of the position (0.71 = 71 %/yr), and where it started from. */
  volatility: Array<{ asset: Address; symbol: string; annualised: number | null; seed: SeedSource | null }>;
  /** Uniform move of the volatile prices that liquidates (−0.32: 32 % lower); null when no such move exists. */
  liquidationMove: number | null;
  /** 24 h loss of the equity (collateral − debt) in USD: VaR at 95 % / 99 %, ES at 97.5 %; null without USD prices. */
  valueAtRisk: { '95': number; '99': number } | null;
  expectedShortfall: { '97.5': number } | null;
  /** USD the borrower would lose to a liquidation now, by the protocol's rule; null without USD prices. */
  liquidationCost: number | null;
  /** The smallest supply of the main collateral (or repayment) that brings the 24 h probability to at most `targetProbability` (the warning level). */
  safeTopUp: { action: 'supply' | 'repay'; asset: Address; symbol: string; amount: string; targetProbability: number; reachesTarget: boolean } | null;
  /** What the figures rest on; null before the position was read with its breakdown. */
  basis: {
    method: 'filtered_historical_simulation';
    lambdaPerDay: number;
    /** Price bars the EWMA has used since its seed, and the window they span. */
    samples: number;
    from: string | null;
    to: string | null;
    barSeconds: number;
    windowDays: number;
    calibration: string;
  } | null;
};

/** A watch's risk before any figures exist (not read with its breakdown yet): its settings, every figure null. */
export function riskWithoutFigures(settings: RiskSettings): WatchRisk {
  return {
    enabled: settings.enabled,
    levels: settings.levels,
    liquidationProbability: { '1h': null, '24h': null },
    gbmLiquidationProbability24h: null,
    volatility: [],
    liquidationMove: null,
    valueAtRisk: null,
    expectedShortfall: null,
    liquidationCost: null,
    safeTopUp: null,
    basis: null,
  };
}

export type WatchRiskInput = {
  protocol: string;
  /** With its per-asset breakdown. */
  snapshot: PositionSnapshot & { assets: NonNullable<PositionSnapshot['assets']> };
  rule: LiquidationRule;
  /** Assets held flat besides USD stablecoins (Morpho's loan token, the quote of its prices), lower-case. */
  flat: ReadonlySet<string>;
  /** Whether the market prices in dollars; where it prices in a token (WETH), a USD stablecoin moves against that token and is not held flat. */
  quoteIsUsd: boolean;
  covariance: CovarianceMatrix | null;
  seeds: ReadonlyMap<string, VolatilitySeed>;
  calibration: Calibration;
  settings: RiskSettings;
  history: { barSeconds: number; windowDays: number };
  /**
   * Optional: each volatile asset's log return over the calibration's regime look-back
   * (`calibration.regime.hours`, 72 h), ln(price now / price 72 h ago) from the recorded bars,
   * keyed like the covariance (lower-case address). It conditions the liquidation probabilities
   * on the recent move; without it the pooled tables are used (low right after a fall).
   */
  regime?: RegimeInput;
};

export function watchRisk(input: WatchRiskInput): WatchRisk {
  const { snapshot, calibration, covariance } = input;
  const stable = stableSet(input.snapshot.assets, input.flat, input.quoteIsUsd);
  const market: RiskMarket = { baseDecimals: snapshot.baseDecimals, stable, covariance, calibration, ...(input.regime === undefined ? {} : { regime: input.regime }) };
  const assets = riskAssetsFromPositions(snapshot.assets, snapshot.baseDecimals, stable);
  const risk = assets === null ? null : positionRisk(assets, covariance, calibration, input.regime);
  const usdPerBase = snapshot.baseUsdPrice === undefined ? null : Number(snapshot.baseUsdPrice) / 10 ** snapshot.baseDecimals;
  const usd = (value: number | null | undefined) => (value === null || value === undefined || usdPerBase === null ? null : roundCents(value * usdPerBase));
  const equity = risk?.equity ?? null;
  const factorVariance = assets === null || covariance === null ? null : weightedVariance(factorWeights(assets), covariance);
  return {
    enabled: input.settings.enabled,
    levels: input.settings.levels,
    liquidationProbability: { '1h': roundProbability(risk?.liquidationProbability['1h']), '24h': roundProbability(risk?.liquidationProbability['24h']) },
    gbmLiquidationProbability24h: roundProbability(risk === null ? null : gbmLiquidationProbability(risk.barrier, factorVariance, '24h')),
    volatility: volatilities(snapshot.assets, stable, covariance, input.seeds),
    liquidationMove: risk === null ? null : liquidationMove(risk.barrier),
    valueAtRisk: equity === null || usdPerBase === null ? null : { '95': usd(equity.valueAtRisk95)!, '99': usd(equity.valueAtRisk99)! },
    expectedShortfall: equity === null || usdPerBase === null ? null : { '97.5': usd(equity.expectedShortfall975)! },
    liquidationCost: usd(liquidationCost(input)),
    safeTopUp: safeTopUpOf(snapshot.assets, input.settings.levels.warning, market),
    basis: {
      method: 'filtered_historical_simulation',
      lambdaPerDay: RISKMETRICS_LAMBDA_PER_DAY,
      samples: covariance?.samples ?? 0,
      from: covariance && Number.isFinite(covariance.from) ? new Date(covariance.from).toISOString() : null,
      to: covariance && Number.isFinite(covariance.to) ? new Date(covariance.to).toISOString() : null,
      barSeconds: input.history.barSeconds,
      windowDays: input.history.windowDays,
      calibration: calibrationSummary(calibration),
    },
  };
}

/** Lower-case addresses the model holds flat: the market's quote, and USD stablecoins by symbol where the market prices in dollars. */
export function stableSet(assets: NonNullable<PositionSnapshot['assets']>, flat: ReadonlySet<string>, quoteIsUsd: boolean): Set<string> {
  const stable = new Set(flat);
  if (!quoteIsUsd) return stable;
  for (const asset of assets) if (assetClassOf(asset.symbol) === 'stable') stable.add(asset.asset.toLowerCase());
  return stable;
}

function volatilities(assets: NonNullable<PositionSnapshot['assets']>, stable: ReadonlySet<string>, covariance: CovarianceMatrix | null, seeds: ReadonlyMap<string, VolatilitySeed>): WatchRisk['volatility'] {
  return assets
    .filter((asset) => !stable.has(asset.asset.toLowerCase()) && (asset.collateral > 0n || asset.debt > 0n))
    .map((asset) => {
      const id = asset.asset.toLowerCase();
      const index = covariance?.assets.indexOf(id) ?? -1;
      const variance = index < 0 ? null : covariance!.perDay[index]![index]!;
      return { asset: asset.asset, symbol: asset.symbol, annualised: variance === null ? null : round4(annualisedVolatility(variance)), seed: seeds.get(id)?.source ?? null };
    });
}

function liquidationMove(barrier: Barrier): number | null {
  if (barrier.kind === 'now') return 0;
  if (barrier.kind === 'none') return null;
  return round4(barrier.multiplier - 1);
}

/** In the snapshot's base unit. */
function liquidationCost(input: WatchRiskInput): number | null {
  const { snapshot, rule } = input;
  const unit = 10 ** snapshot.baseDecimals;
  const penalty = new Map(rule.penaltyBps.map((entry) => [entry.asset.toLowerCase(), Number(entry.bps)]));
  const collaterals = [];
  let debt = 0;
  for (const asset of snapshot.assets) {
    if (asset.price === undefined) {
      if (asset.collateral > 0n || asset.debt > 0n) return null;
      continue;
    }
    debt += Number(assetValueBase(asset.debt, asset.price, asset.decimals)) / unit;
    if (asset.usedAsCollateral && asset.liquidationThresholdBps > 0n && asset.collateral > 0n) {
      collaterals.push({ asset: asset.asset, value: Number(assetValueBase(asset.collateral, asset.price, asset.decimals)) / unit, penaltyBps: penalty.get(asset.asset.toLowerCase()) ?? 0 });
    }
  }
  const healthFactor = snapshot.healthFactor === null ? null : Number(snapshot.healthFactor) / 1e18;
  return liquidationCostByRule(input.protocol, { collaterals, debt, healthFactor })?.cost ?? null;
}

/** Supply of the largest collateral, or (with none that counts) repayment of the largest debt. */
function safeTopUpOf(assets: NonNullable<PositionSnapshot['assets']>, target: number, market: RiskMarket): WatchRisk['safeTopUp'] {
  const valued = (amount: bigint, asset: (typeof assets)[number]) => (asset.price === undefined ? 0n : assetValueBase(amount, asset.price, asset.decimals));
  const collateral = assets.filter((asset) => asset.usedAsCollateral && asset.liquidationThresholdBps > 0n && asset.collateral > 0n).sort((a, b) => (valued(b.collateral, b) > valued(a.collateral, a) ? 1 : -1))[0];
  const debt = assets.filter((asset) => asset.debt > 0n).sort((a, b) => (valued(b.debt, b) > valued(a.debt, a) ? 1 : -1))[0];
  if (!debt) return null;
  const move = collateral ? { action: 'supply' as const, asset: collateral } : { action: 'repay' as const, asset: debt };
  const result = safeTopUp(assets, move.action === 'supply' ? { supply: move.asset.asset } : { repay: move.asset.asset }, target, market);
  if (result === null) return null;
  return { action: move.action, asset: move.asset.asset, symbol: move.asset.symbol, amount: formatUnits(result.amount, move.asset.decimals), targetProbability: target, reachesTarget: result.reachesTarget };
}

function calibrationSummary(calibration: Calibration): string {
  const sources = calibration.provenance.sources.map((source) => `${source.file.split('/').pop()} (${source.from.slice(0, 10)}…${source.to.slice(0, 10)})`);
  return `${calibration.provenance.command}: ${sources.join(', ')}`;
}

function roundProbability(value: number | null | undefined): number | null {
  return value === null || value === undefined ? null : Math.round(value * 1e6) / 1e6;
}

function round4(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

function roundCents(value: number): number {
  return Math.round(value * 100) / 100;
}
