import type { Address } from 'viem';
import type { AssetPosition } from './position';
import { repayAmount, topUpAmount, type CollateralAssetParams } from './risk';

/*
 * Top-up planning: given a watch's policy, a fresh view of the account, what the executor
 * already did for this watch and what its wallet holds, decide whether to act now and with
 * how much. Pure: no I/O, no clock (`now` is an input), bigint for every on-chain amount.
 *
 * The amount is the risk engine's exact minimum that restores the target health factor,
 * then capped, in this order, by the per-action cap, what is left of the rolling 24-hour
 * cap, and (live only) the wallet's balance. A capped amount is still sent: part of the
 * way back is better than none when the position is near liquidation; the plan says the
 * target is not reached and which cap bit.
 */

export type TopUpMode = 'supply' | 'repay';

/** A policy as the planner needs it: health factors in WAD, amounts in token units. */
export type TopUpPolicy = {
  enabled: boolean;
  mode: TopUpMode;
  asset: Address;
  triggerHealthFactor: bigint;
  targetHealthFactor: bigint;
  maxAmountPerAction: bigint;
  maxAmountPerDay: bigint;
  cooldownMs: number;
  dryRun: boolean;
};

/** The day cap is a rolling window (not a UTC day): no burst of two "days" around midnight. */
export const DAY_WINDOW_MS = 24 * 60 * 60 * 1000;

export type CapReason = 'per_action' | 'per_day' | 'tenant_budget' | 'wallet_balance' | 'debt';

export type SkipReason =
  | 'disabled'
  | 'above_trigger'
  | 'cooldown'
  | 'day_cap_reached'
  | 'tenant_budget_reached'
  | 'dry_run'
  | 'no_balance'
  | 'no_breakdown'
  | 'unknown_price'
  | 'no_debt'
  | 'collateral_not_enabled';

/** What would be (or is) sent: the amount, what was needed, and why they differ. */
export type TopUpProposal = {
  amount: bigint;
  /** The engine's minimal amount to reach the target (for repay: at most the whole debt). */
  amountNeeded: bigint;
  /** True when `amount` is expected to bring the health factor to the target. */
  reachesTarget: boolean;
  cappedBy: CapReason[];
};

export type TopUpPlan =
  | ({ action: 'send' } & TopUpProposal)
  | {
      action: 'skip';
      reason: SkipReason;
      /** The transaction's amount had nothing blocked it; absent when it cannot be computed. */
      proposal?: TopUpProposal;
      /** When the blocking condition lifts by itself (cooldown end, day-window slide). */
      retryAt?: number;
    };

export type TopUpPlanInput = {
  policy: TopUpPolicy;
  /** The account as freshly read. Without `assets` only the cheap gates run. */
  position: { healthFactor: bigint | null; assets?: readonly AssetPosition[] };
  /** Supply of an asset the account does not hold yet: its price and (effective) threshold. */
  collateralParams?: CollateralAssetParams;
  /** Amount of the policy's asset already committed in the last DAY_WINDOW_MS (token units). */
  spentInWindow: bigint;
  /** When the oldest action still inside the window happened; tells when room frees up. */
  oldestInWindowAt?: number | null;
  /** Time of the watch's last action (epoch ms), null when none. */
  lastActionAt: number | null;
  /** The signer's balance of the asset; undefined when unknown (no signer configured). */
  walletBalance: bigint | undefined;
  /**
   * Live only: what is left of the tenant's USD grant for the rolling 24 hours, as token
   * units of the policy's asset at the oracle's price. Undefined when not computed (dry runs).
   */
  budgetAmount?: bigint;
  now: number;
};

export function planTopUp(input: TopUpPlanInput): TopUpPlan {
  const { policy, position, now } = input;
  if (!policy.enabled) return { action: 'skip', reason: 'disabled' };
  if (position.healthFactor === null || position.healthFactor >= policy.triggerHealthFactor) {
    return { action: 'skip', reason: 'above_trigger' };
  }

  const need = amountNeeded(input);
  const remainingToday = policy.maxAmountPerDay - input.spentInWindow;
  // What it would send if nothing blocked it now (for the notice of a skip).
  const unblocked = 'amount' in need ? propose(need, policy.maxAmountPerAction, remainingToday > 0n ? remainingToday : policy.maxAmountPerDay) : undefined;
  const withProposal = (reason: SkipReason, retryAt?: number): TopUpPlan => ({
    action: 'skip',
    reason,
    ...(unblocked ? { proposal: unblocked } : {}),
    ...(retryAt !== undefined ? { retryAt } : {}),
  });

  if (input.lastActionAt !== null && now < input.lastActionAt + policy.cooldownMs) {
    return withProposal('cooldown', input.lastActionAt + policy.cooldownMs);
  }
  if (remainingToday <= 0n) {
    const retryAt = input.oldestInWindowAt != null ? input.oldestInWindowAt + DAY_WINDOW_MS : undefined;
    return withProposal('day_cap_reached', retryAt);
  }
  if (!('amount' in need)) return { action: 'skip', reason: need.reason };

  let proposal = propose(need, policy.maxAmountPerAction, remainingToday);
  if (policy.dryRun) return { action: 'skip', reason: 'dry_run', proposal };

  if (input.budgetAmount !== undefined) {
    // The owner's grant bounds what the tenant moves in a day, over all its watches.
    if (input.budgetAmount <= 0n) return { action: 'skip', reason: 'tenant_budget_reached', proposal };
    if (proposal.amount > input.budgetAmount) {
      proposal = { ...proposal, amount: input.budgetAmount, reachesTarget: false, cappedBy: [...proposal.cappedBy, 'tenant_budget'] };
    }
  }
  const balance = input.walletBalance ?? 0n;
  if (balance <= 0n) return { action: 'skip', reason: 'no_balance', proposal };
  if (balance < proposal.amount) {
    return { action: 'send', amount: balance, amountNeeded: proposal.amountNeeded, reachesTarget: false, cappedBy: [...proposal.cappedBy, 'wallet_balance'] };
  }
  return { action: 'send', ...proposal };
}

/**
 * The health factor the amount is computed for: the target plus 0.01%. The amount is exact
 * at the block it was read, but the transaction lands a block or more later, after more
 * interest has accrued on the debt; without headroom the Pool could report a hair under target.
 */
export function planningTarget(targetHealthFactor: bigint): bigint {
  return targetHealthFactor + targetHealthFactor / 10_000n;
}

type NeedAmount = { amount: bigint; reachesTarget: boolean };
type NeedResult = NeedAmount | { reason: 'no_breakdown' | 'unknown_price' | 'no_debt' | 'collateral_not_enabled' };

function amountNeeded(input: TopUpPlanInput): NeedResult {
  const { policy } = input;
  const assets = input.position.assets;
  if (assets === undefined) return { reason: 'no_breakdown' };
  const held = assets.find((position) => sameAddress(position.asset, policy.asset));
  if (policy.mode === 'repay') {
    if (!held || held.debt === 0n) return { reason: 'no_debt' };
    const result = repayAmount(assets, policy.asset, planningTarget(policy.targetHealthFactor));
    return result ?? { reason: 'unknown_price' };
  }
  // Supplying more of a balance the owner turned off as collateral moves nothing: Aave only
  // enables collateral on a first supply, and only the owner may switch it back on.
  if (held && held.collateral > 0n && !held.usedAsCollateral) return { reason: 'collateral_not_enabled' };
  const result = topUpAmount(assets, held ? policy.asset : (input.collateralParams ?? policy.asset), planningTarget(policy.targetHealthFactor));
  return result ?? { reason: 'unknown_price' };
}

function propose(need: NeedAmount, perAction: bigint, remainingToday: bigint): TopUpProposal {
  const cappedBy: CapReason[] = [];
  let amount = need.amount;
  if (amount > perAction) {
    amount = perAction;
    cappedBy.push('per_action');
  }
  if (amount > remainingToday) {
    amount = remainingToday;
    cappedBy.push('per_day');
  }
  // repayAmount says false when even the whole debt falls short: the debt itself is the cap.
  if (!need.reachesTarget) cappedBy.push('debt');
  return { amount, amountNeeded: need.amount, reachesTarget: need.reachesTarget && cappedBy.length === 0, cappedBy };
}

// ---- history ----

/** One earlier action of a watch, as the executor recorded it. */
export type PastAction = {
  asset: Address;
  amount: bigint;
  /** Epoch ms of the decision (intent), not of mining: the cooldown starts when we commit. */
  at: number;
  dryRun: boolean;
  /** False for actions that provably moved no tokens (reverted or never mined). */
  spends: boolean;
};

export type HistorySummary = { spentInWindow: bigint; oldestInWindowAt: number | null; lastActionAt: number | null };

/**
 * Cooldown and day cap inputs from a watch's past actions. Dry runs and live actions are
 * kept apart: a dry run simulates the caps it would hit without eating into the live ones.
 * Only actions of the policy's asset count toward the cap (amounts of different tokens do
 * not add up); any action starts the cooldown.
 */
export function summarizeHistory(actions: readonly PastAction[], options: { asset: Address; dryRun: boolean; now: number }): HistorySummary {
  let spentInWindow = 0n;
  let oldestInWindowAt: number | null = null;
  let lastActionAt: number | null = null;
  for (const action of actions) {
    if (action.dryRun !== options.dryRun) continue;
    if (lastActionAt === null || action.at > lastActionAt) lastActionAt = action.at;
    const inWindow = action.at > options.now - DAY_WINDOW_MS;
    if (inWindow && action.spends && sameAddress(action.asset, options.asset)) {
      spentInWindow += action.amount;
      if (oldestInWindowAt === null || action.at < oldestInWindowAt) oldestInWindowAt = action.at;
    }
  }
  return { spentInWindow, oldestInWindowAt, lastActionAt };
}

function sameAddress(left: string, right: string): boolean {
  return left.toLowerCase() === right.toLowerCase();
}
