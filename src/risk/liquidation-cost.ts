/*
 * What a liquidation would cost the borrower (USD), by each protocol's rule. The cost is the
 * collateral taken beyond the debt it repays. Pure; inputs in USD and fractions.
 */

/** Aave v3 / Spark: above this health factor a liquidation may repay at most half the debt. */
export const AAVE_CLOSE_FACTOR_HF_THRESHOLD = 0.95;
/** Aave v3.3: a reserve position worth less than this (USD) may be liquidated in full. */
export const AAVE_SMALL_POSITION_USD = 2_000;

export type LiquidationCost = {
  /** Debt the liquidator repays (USD). */
  debtRepaid: number;
  /** Collateral the liquidator takes (USD). */
  collateralSeized: number;
  /** collateralSeized − debtRepaid. */
  cost: number;
};

/**
 * Aave v3 / Spark. The liquidator repays closeFactor × debt of one reserve and seizes that
 * much collateral of one reserve plus the bonus (liquidationBonus 1.05 → 5 %); the close
 * factor is 50 % above HF 0.95 and 100 % at or below it, or when the debt or collateral
 * reserve is worth less than AAVE_SMALL_POSITION_USD. When the collateral cannot cover the
 * bonus, the repaid debt shrinks to what it covers. `healthFactor` is the one at liquidation:
 * a position that is still healthy would be liquidated just below 1, i.e. at the 50 % factor.
 */
export function aaveLiquidationCost(input: {
  debtUsd: number;
  collateralUsd: number;
  liquidationBonus: number;
  healthFactor: number | null;
  smallPositionUsd?: number;
}): LiquidationCost {
  const small = input.smallPositionUsd ?? AAVE_SMALL_POSITION_USD;
  const fullClose =
    (input.healthFactor !== null && input.healthFactor <= AAVE_CLOSE_FACTOR_HF_THRESHOLD) ||
    input.debtUsd < small ||
    input.collateralUsd < small;
  const wanted = input.debtUsd * (fullClose ? 1 : 0.5);
  const debtRepaid = Math.min(wanted, input.collateralUsd / input.liquidationBonus);
  const collateralSeized = debtRepaid * input.liquidationBonus;
  return { debtRepaid, collateralSeized, cost: collateralSeized - debtRepaid };
}

/**
 * Compound v3 (Comet) `absorb`: the protocol takes all collateral and credits each asset at
 * liquidationFactor of its value, so the borrower loses Σ collateral × (1 − liquidationFactor).
 */
export function cometLiquidationCost(collaterals: readonly { valueUsd: number; liquidationFactor: number }[]): LiquidationCost {
  let seized = 0;
  let credited = 0;
  for (const { valueUsd, liquidationFactor } of collaterals) {
    seized += valueUsd;
    credited += valueUsd * liquidationFactor;
  }
  return { debtRepaid: credited, collateralSeized: seized, cost: seized - credited };
}

/** Morpho Blue's liquidation incentive factor: min(1.15, 1 / (1 − 0.3 × (1 − LLTV))). */
export function morphoLiquidationIncentiveFactor(lltv: number): number {
  return Math.min(1.15, 1 / (1 - 0.3 * (1 - lltv)));
}

/** Morpho Blue: the whole debt may be repaid; collateral is seized at the incentive factor, up to all of it. */
export function morphoLiquidationCost(input: { debtUsd: number; collateralUsd: number; lltv: number }): LiquidationCost {
  const factor = morphoLiquidationIncentiveFactor(input.lltv);
  const debtRepaid = Math.min(input.debtUsd, input.collateralUsd / factor);
  const collateralSeized = debtRepaid * factor;
  return { debtRepaid, collateralSeized, cost: collateralSeized - debtRepaid };
}

/** One collateral asset's counted value (any unit) and the protocol's penalty on it (basis points). */
export type PenalisedCollateral = { asset: string; value: number; penaltyBps: number };

/**
 * The cost of a liquidation now, by the protocol's rule (values in one unit, e.g. USD):
 * Comet absorbs every collateral at its liquidation factor; Morpho, Euler v2, Maker (the Dog's
 * `chop` on the whole debt) and Liquity v2 (the stability pool's 5 % on the whole trove) take
 * the whole debt at their penalty against the largest collateral; Aave and Spark repay up to
 * the close factor against the largest collateral at its bonus. Null when there is nothing to
 * liquidate, or for a protocol whose rule is not modelled here (Fluid's partial liquidation back
 * to its threshold): never a guess.
 */
export function liquidationCostByRule(
  protocol: string,
  input: { collaterals: readonly PenalisedCollateral[]; debt: number; healthFactor: number | null },
): LiquidationCost | null {
  const collaterals = input.collaterals.filter((collateral) => collateral.value > 0);
  if (collaterals.length === 0 || input.debt <= 0) return null;
  if (protocol === 'compound-v3') {
    return cometLiquidationCost(collaterals.map((collateral) => ({ valueUsd: collateral.value, liquidationFactor: 1 - collateral.penaltyBps / 10_000 })));
  }
  const main = collaterals.reduce((largest, collateral) => (collateral.value > largest.value ? collateral : largest));
  const factor = 1 + main.penaltyBps / 10_000;
  if (WHOLE_DEBT_AT_PENALTY.has(protocol)) {
    const debtRepaid = Math.min(input.debt, main.value / factor);
    return { debtRepaid, collateralSeized: debtRepaid * factor, cost: debtRepaid * (factor - 1) };
  }
  if (protocol === 'aave-v3' || protocol === 'spark') {
    return aaveLiquidationCost({ debtUsd: input.debt, collateralUsd: main.value, liquidationBonus: factor, healthFactor: input.healthFactor });
  }
  return null;
}

/** Protocols whose liquidation repays the whole debt and seizes collateral worth it plus the penalty. */
const WHOLE_DEBT_AT_PENALTY = new Set(['morpho-blue', 'euler-v2', 'maker', 'liquity-v2']);
