import type { Address } from 'viem';
import type { CapReason, TopUpPlan } from '../domain/topup-plan';
import type { TopUpProtocol } from '../protocols/adapter';
import { approveStep, type FreshState, type Step } from './chain';
import { maxGasCost, type Fees } from './guards';
import type { TopUpRequest } from './request';

/*
 * The transactions of one top-up: which calls, for how much, with what gas, and what they
 * may cost. Built from the fresh state; no I/O (the calldata is encoded locally).
 */

/** `fromHeld`: how much of the executor's held balance (PolicyAssetState.held) the action takes. */
export type BuiltSteps = { steps: Step[]; amount: bigint; fromHeld: bigint };
export type SendPlan = Extract<TopUpPlan, { action: 'send' }>;

/** Gas assumed for a step not measured yet, when pricing the worst case. */
export const UNMEASURED_GAS = 500_000n;

export function buildSteps(protocol: TopUpProtocol, request: TopUpRequest, state: FreshState, amount: bigint, signer: Address | null): BuiltSteps {
  // A repayment never exceeds what one call can pay (Aave: one rate mode's balance).
  if (request.policy.mode === 'repay' && amount > state.assetState.repayable) amount = state.assetState.repayable;
  const action = protocol.capability.buildAction(state.market, { mode: request.policy.mode, asset: state.asset, amount, account: request.watch.account, state: state.assetState, actor: signer });
  const steps: Step[] = [];
  // Exactly the amount, never unlimited: a compromised or buggy market can take no more than this action.
  const allowance = signer && state.wallet ? state.wallet.allowance : 0n;
  const approveAmount = action.approveAmount ?? amount;
  // A call paid in native coin (its value) takes no allowance.
  if (!action.noApproval && action.value === undefined && approveAmount > 0n && allowance < approveAmount) {
    // Tokens such as USDT refuse to change a non-zero allowance to another non-zero value.
    if (allowance > 0n) steps.push(approveStep(state.asset.asset, state.spender, 0n));
    steps.push(approveStep(state.asset.asset, state.spender, approveAmount));
  }
  // Preparing calls (Maker's join) go in order between the approval and the action's own call.
  for (const call of action.before ?? []) {
    steps.push({ kind: 'join', to: call.to, data: call.data, ...(call.ifLaterFails ? { ifLaterFails: call.ifLaterFails } : {}), ...(call.strands ? { strands: call.strands } : {}) });
  }
  steps.push({ kind: action.kind, to: action.to, data: action.data, ...(action.value !== undefined ? { value: action.value } : {}) });
  return { steps, amount, fromHeld: action.fromHeld ?? 0n };
}

/** The plan resized to what the steps really send: a repayment capped by what one call can pay. */
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
