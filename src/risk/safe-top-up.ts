/*
 * The "safe top-up": the smallest supply of the main collateral, or repayment of a debt,
 * that brings the 24 h liquidation probability to at most a target. Amounts stay bigint
 * token units; the position changes go through the domain's exact Aave arithmetic
 * (withCollateralSupplied / withDebtRepaid), the probability through the risk model.
 */
import type { Address } from 'viem';
import type { AssetPosition } from '../domain/position';
import { assetValueBase, withCollateralSupplied, withDebtRepaid } from '../domain/risk';
import type { Calibration } from './calibration';
import type { CovarianceMatrix } from './ewma';
import { exposure, factorStandardisedReturn, liquidationBarrier, liquidationProbability, factorWeights, weightedVariance, type RegimeInput, type RiskAsset } from './position-risk';

export type RiskMarket = {
  baseDecimals: number;
  /** Which assets are held flat (stablecoins), by lower-case address. */
  stable: ReadonlySet<string>;
  covariance: CovarianceMatrix | null;
  calibration: Pick<Calibration, 'horizons' | 'regime'>;
  /** Recent log returns to condition on the regime (see RegimeInput); absent: the pooled tables. */
  regime?: RegimeInput;
};

/**
 * The risk model's view of domain positions, keyed by lower-case address. Null when a price
 * that counts is unknown. Only collateral enabled with a non-zero threshold counts, as in Aave.
 */
export function riskAssetsFromPositions(assets: readonly AssetPosition[], baseDecimals: number, stable: ReadonlySet<string>): RiskAsset[] | null {
  const unit = 10 ** baseDecimals;
  const out: RiskAsset[] = [];
  for (const position of assets) {
    const counts = position.usedAsCollateral && position.liquidationThresholdBps > 0n ? position.collateral : 0n;
    if (counts === 0n && position.debt === 0n) continue;
    if (position.price === undefined) return null;
    const id = position.asset.toLowerCase();
    out.push({
      id,
      collateralUsd: Number(assetValueBase(counts, position.price, position.decimals)) / unit,
      debtUsd: Number(assetValueBase(position.debt, position.price, position.decimals)) / unit,
      liquidationThreshold: Number(position.liquidationThresholdBps) / 10_000,
      stable: stable.has(id),
    });
  }
  return out;
}

/** 24 h liquidation probability of domain positions; null when a price or a volatility is unknown. */
export function liquidationProbability24h(assets: readonly AssetPosition[], market: RiskMarket): number | null {
  const risk = riskAssetsFromPositions(assets, market.baseDecimals, market.stable);
  if (risk === null) return null;
  const barrier = liquidationBarrier(exposure(risk));
  const variance = market.covariance === null ? null : weightedVariance(factorWeights(risk), market.covariance);
  return liquidationProbability(barrier, variance, '24h', market.calibration, factorStandardisedReturn(risk, variance, market.regime, market.calibration));
}

export type SafeTopUp = {
  /** Token units of the asset to supply or repay. */
  amount: bigint;
  /** False when even the largest amount tried (the whole debt for a repayment) stays above the target. */
  reachesTarget: boolean;
};

export type TopUpMove = { supply: Address } | { repay: Address };

/** How often the trial supply (first: the holding plus one whole token) doubles before the search gives up. */
const MAX_DOUBLINGS = 64;

/**
 * Smallest amount (token units) of the move after which the 24 h liquidation probability is at
 * most `target`, found by doubling then bisection (the probability does not rise as collateral
 * is added or debt repaid in this model). 0n when already at or under the target. Null when
 * the probability is unknown, or the asset to supply is not in the account.
 */
export function safeTopUp(assets: readonly AssetPosition[], move: TopUpMove, target: number, market: RiskMarket): SafeTopUp | null {
  const after = (amount: bigint) => ('supply' in move ? supplied(assets, move.supply, amount) : withDebtRepaid(assets, move.repay, amount));
  const meets = (amount: bigint) => {
    const changed = after(amount);
    const probability = changed === null ? null : liquidationProbability24h(changed, market);
    return probability === null ? null : probability <= target;
  };
  const now = meets(0n);
  if (now === null) return null;
  if (now) return { amount: 0n, reachesTarget: true };

  let high: bigint;
  if ('repay' in move) {
    const debt = assets.find((position) => position.asset.toLowerCase() === move.repay.toLowerCase())?.debt ?? 0n;
    if (debt === 0n || meets(debt) !== true) return { amount: debt, reachesTarget: false };
    high = debt;
  } else {
    const held = assets.find((position) => position.asset.toLowerCase() === move.supply.toLowerCase());
    if (held === undefined) return null;
    high = held.collateral + 10n ** BigInt(held.decimals);
    let doublings = 0;
    while (meets(high) !== true) {
      if (++doublings > MAX_DOUBLINGS) return { amount: high, reachesTarget: false };
      high *= 2n;
    }
  }
  let low = 0n; // does not meet
  while (high - low > 1n) {
    const mid = (low + high) / 2n;
    if (meets(mid) === true) high = mid;
    else low = mid;
  }
  return { amount: high, reachesTarget: true };
}

function supplied(assets: readonly AssetPosition[], asset: Address, amount: bigint): AssetPosition[] | null {
  const held = assets.find((position) => position.asset.toLowerCase() === asset.toLowerCase());
  return held === undefined ? null : withCollateralSupplied(assets, held, amount);
}
