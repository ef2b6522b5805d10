import { formatUnits } from 'viem';
import type { ProtocolCondition } from '../../domain/position';
import { collateralRatio, isNextRedeemedZombie, redemptionRank, troveIdText, type BranchState, type LiquityMarket, type TroveData } from './normalize';

/*
 * A Liquity v2 branch's own dangers, as conditions of every watch on it (pure):
 * - branch_below_ccr: the branch's total ratio (TCR) under its CCR, where BorrowerOperations
 *   refuses new debt that lowers the TCR;
 * - branch_below_scr: the TCR under the SCR, where anyone may shut the branch down;
 * - branch_shutdown: shut down, for good (after it, the two ratio conditions open no new episode);
 * - redemption_risk: the watched trove is in the front of the redemption line (see below).
 */

/** A ratio condition stays open until the TCR is this far above its line again (as the health-factor levels' 2 %). */
export const RATIO_MARGIN_BPS = 200n;

/**
 * Redemption risk: the trove is among the lowest `REDEMPTION_FRONT_BPS` (10 %) of the branch's
 * active troves by interest rate (rank ≤ ⌈troves × 10 %⌉, so rank 1 always counts), and the episode
 * ends once it is out of the lowest `REDEMPTION_CLEAR_BPS` (15 %).
 *
 * Why: a redemption takes troves from the lowest rate up until it is filled, so what a trove risks
 * is the debt in front of it. The adapter knows every trove's rate (its rank), not every trove's
 * debt, so the share of troves in front stands for the share of debt in front; the front tenth is
 * the part of the line a large redemption reaches, and a tiny branch still has a next in line (rank
 * 1). The wider line for clearing keeps a trove on the boundary from flapping as others open,
 * close or re-price troves.
 *
 * Zombie troves: the branch's last zombie trove (TroveManager.lastZombieTroveId, see
 * isNextRedeemedZombie) is taken by the next redemption before any active trove, whatever its
 * rate, so it is redemption_risk (met) and is named first among an owner's troves. The episode ends
 * when it is no longer the last zombie: fully redeemed or closed (nothing left to redeem), or
 * adjusted back to active, where the rank rule above takes over in the same episode (held while
 * within the 15 %). Any other zombie is out of the line: nothing. Its remainder (under the minimum
 * debt) does not move the ranks of the active troves behind it.
 */
export const REDEMPTION_FRONT_BPS = 1_000n;
export const REDEMPTION_CLEAR_BPS = 1_500n;

const BPS = 10_000n;

/** The last rank inside the lowest `shareBps` of `troves` active troves: ⌈troves × share⌉, at least 1. */
export function redemptionFront(troves: number, shareBps: bigint): number {
  const count = BigInt(troves);
  return Math.max(1, Number((count * shareBps + BPS - 1n) / BPS));
}

/** 1.437… → "143.72%". */
function percentText(ratio: bigint): string {
  return `${(Number(formatUnits(ratio, 18)) * 100).toFixed(2)}%`;
}

function ratioCondition(input: { code: string; severity: ProtocolCondition['severity']; title: string; line: bigint; lineName: string; tcr: bigint; consequence: string }): ProtocolCondition | null {
  const { line, tcr } = input;
  const margin = (line * (BPS + RATIO_MARGIN_BPS)) / BPS;
  if (tcr >= margin) return null;
  return {
    code: input.code,
    severity: input.severity,
    title: input.title,
    message: `The branch's total collateral ratio is ${percentText(tcr)}, ${tcr < line ? 'under' : 'just back above'} its ${input.lineName} of ${percentText(line)}: ${input.consequence}.`,
    facts: { branchCollateralRatio: formatUnits(tcr, 18), [input.lineName === 'CCR' ? 'criticalCollateralRatio' : 'shutdownCollateralRatio']: formatUnits(line, 18) },
    met: tcr < line,
  };
}

/**
 * The conditions of a watch on the branch at one block. `troves` are the watched ones (a trove, or
 * every trove of an owner): redemption risk names the one first in line.
 */
export function liquityConditions(market: LiquityMarket, input: { troves: readonly TroveData[]; branch: BranchState & { price: bigint } }): ProtocolCondition[] {
  const { branch } = input;
  const conditions: ProtocolCondition[] = [];
  if (branch.entireDebt > 0n) {
    const tcr = collateralRatio(branch.entireColl, branch.entireDebt, branch.price);
    const ccr = ratioCondition({
      code: 'branch_below_ccr',
      severity: 'warning',
      title: 'Branch below its critical collateral ratio',
      line: market.ccr,
      lineName: 'CCR',
      tcr,
      consequence: 'borrowing is restricted on the branch (no new debt that lowers the ratio), and a further fall would let anyone shut it down',
    });
    const scr = ratioCondition({
      code: 'branch_below_scr',
      severity: 'critical',
      title: 'Branch can be shut down',
      line: market.scr,
      lineName: 'SCR',
      tcr,
      consequence: 'anyone may now shut the branch down for good',
    });
    // Once shut down, falling under a line is no news (the shutdown says it all): an open episode
    // stays open until the ratio recovers, but none is opened.
    for (const line of [ccr, scr]) if (line) conditions.push(branch.shutdown ? { ...line, met: false } : line);
  }
  if (branch.shutdown) {
    conditions.push({
      code: 'branch_shutdown',
      severity: 'critical',
      title: 'Branch shut down',
      message: `The ${market.collateral.symbol} branch has been shut down for good: no new debt, and urgent redemptions may take collateral from any of its troves regardless of the interest rate. Closing the trove ends the exposure.`,
      facts: { branchShutdown: true, oracleFailure: branch.oracleFailure },
      met: true,
    });
    return conditions;
  }
  const redemption = zombieCondition(input.troves, branch.lastZombieTroveId) ?? redemptionCondition(input.troves, branch.activeRates);
  if (redemption) conditions.push(redemption);
  return conditions;
}

function zombieCondition(troves: readonly TroveData[], lastZombieTroveId: bigint): ProtocolCondition | null {
  const zombie = troves.find((trove) => isNextRedeemedZombie(trove, lastZombieTroveId));
  if (!zombie) return null;
  const troveId = troveIdText(zombie.troveId);
  return {
    code: 'redemption_risk',
    severity: 'warning',
    title: 'Next in line for redemptions',
    message: `Trove ${troveId} was redeemed below the minimum debt and is the branch's last zombie trove: the next BOLD redemption takes its remaining ${formatUnits(zombie.entireDebt, 18)} BOLD first, whatever its interest rate. Adjusting it back above the minimum debt returns it to the rate order; closing it ends the exposure.`,
    facts: { troveId, troveStatus: zombie.status, nextRedeemedZombie: true, debt: formatUnits(zombie.entireDebt, 18), interestRate: formatUnits(zombie.annualInterestRate, 18) },
    met: true,
  };
}

function redemptionCondition(troves: readonly TroveData[], activeRates: readonly bigint[]): ProtocolCondition | null {
  const front = troves
    .filter((trove) => trove.status === 'active')
    .map((trove) => ({ trove, rank: redemptionRank(trove.annualInterestRate, activeRates) }))
    .sort((a, b) => a.rank - b.rank)[0];
  if (!front) return null;
  const branchTroves = activeRates.length;
  const raiseAt = redemptionFront(branchTroves, REDEMPTION_FRONT_BPS);
  const clearAfter = redemptionFront(branchTroves, REDEMPTION_CLEAR_BPS);
  if (front.rank > clearAfter) return null;
  const rate = `${(Number(formatUnits(front.trove.annualInterestRate, 18)) * 100).toFixed(2)}%`;
  return {
    code: 'redemption_risk',
    severity: 'warning',
    title: 'Next in line for redemptions',
    message: `Trove ${troveIdText(front.trove.troveId)} pays ${rate}, rank ${front.rank} of ${branchTroves} in the redemption order (lowest rate first): BOLD redemptions may swap its collateral for its debt at face value, however healthy it is. A higher interest rate moves it back in the line.`,
    facts: { troveId: troveIdText(front.trove.troveId), interestRate: formatUnits(front.trove.annualInterestRate, 18), redemptionRank: front.rank, branchTroves, redemptionFront: raiseAt },
    met: front.rank <= raiseAt,
  };
}
