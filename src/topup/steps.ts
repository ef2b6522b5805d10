import type { Address } from 'viem';
import type { CapReason, TopUpPlan } from '../domain/topup-plan';
import { approveStep, repayStep, supplyStep, type FreshState, type Step } from './chain';
import { maxGasCost, type Fees } from './guards';
import type { TopUpRequest } from './request';

/*
 * The transactions of one top-up: which calls, for how much, with what gas, and what they
 * may cost. Built from the fresh state; no I/O (the calldata is encoded locally).
 */

export type BuiltSteps = { steps: Step[]; amount: bigint; rateMode: 1n | 2n | null };
export type SendPlan = Extract<TopUpPlan, { action: 'send' }>;

/** Gas assumed for a step not measured yet, when pricing the worst case. */
export const UNMEASURED_GAS = 500_000n;

export function buildSteps(request: TopUpRequest, state: FreshState, amount: bigint, signer: Address | null): BuiltSteps {
  const pool = request.watch.market;
  const asset = state.reserve.asset;
  let rateMode: 1n | 2n | null = null;
  let action: Step;
  if (request.policy.mode === 'supply') {
    action = supplyStep(pool, asset, amount, request.watch.account);
  } else {
    // Aave repays one rate mode per call: the larger balance, and never more than it.
    rateMode = state.debt.stable > state.debt.variable ? 1n : 2n;
    const owed = rateMode === 1n ? state.debt.stable : state.debt.variable;
    if (amount > owed) amount = owed;
    action = repayStep(pool, asset, amount, rateMode, request.watch.account);
  }
  const steps: Step[] = [];
  // Exactly the amount, never unlimited: a compromised or buggy pool can take no more than this action.
  const allowance = signer && state.wallet ? state.wallet.allowance : 0n;
  if (allowance < amount) {
    // Tokens such as USDT refuse to change a non-zero allowance to another non-zero value.
    if (allowance > 0n) steps.push(approveStep(asset, pool, 0n));
    steps.push(approveStep(asset, pool, amount));
  }
  steps.push(action);
  return { steps, amount, rateMode };
}

/** The plan resized to what the steps really send: a repayment capped by one rate mode's debt. */
export function sizePlan(plan: SendPlan, built: Pick<BuiltSteps, 'amount'>): SendPlan {
  const cappedBy: CapReason[] = built.amount < plan.amount && !plan.cappedBy.includes('debt') ? [...plan.cappedBy, 'debt'] : plan.cappedBy;
  return { ...plan, amount: built.amount, cappedBy, reachesTarget: plan.reachesTarget && built.amount === plan.amount };
}

/** Without eth_simulateV1 only the first step is measured (with 20% room); the others are measured before they are sent. */
export function firstStepGasOnly(steps: readonly Step[], firstGas: bigint): Array<bigint | null> {
  return steps.map((_, index) => (index === 0 ? (firstGas * 12n) / 10n : null));
}

/** The most the steps may cost in gas at these fees (unmeasured steps at UNMEASURED_GAS). */
export function worstGasCost(gas: ReadonlyArray<bigint | null>, fees: Fees): bigint {
  return gas.reduce<bigint>((sum, limit) => sum + maxGasCost(fees, limit ?? UNMEASURED_GAS), 0n);
}
