import type { Address } from 'viem';
import type { CapReason, TopUpPlan } from '../domain/topup-plan';
import type { FreshState } from './chain';
import type { TopUpEventInput, TopUpFailureCode, TransactionView, Trigger } from './events';
import { parseSteps, type ActionRow } from './records';
import type { TopUpRequest } from './request';
import { skipMessage } from './messages';
import type { BuiltSteps, SendPlan } from './steps';
import { describeTransaction, describeStoredSteps } from './transaction-view';

/*
 * The inputs of the executor's events (see events.ts for the bodies), from a recorded
 * action, a refusal before anything was recorded, or a skip. The caller supplies the time
 * and the signer's address.
 */

type Extra = Partial<TopUpEventInput> & { reason: TopUpEventInput['reason']; message: string };

/** An event about a recorded action: its amounts, health factor and transactions from the row; `extra` adds or overrides. */
export function actionEventInput(action: ActionRow, request: TopUpRequest, type: TopUpEventInput['type'], extra: Extra, context: { createdAt: Date; signer: Address | null }): TopUpEventInput {
  return {
    type,
    trigger: { watchId: action.watch_id, episode: action.episode, slot: action.slot },
    watch: request.watch,
    policy: request.policy,
    createdAt: context.createdAt,
    amount: BigInt(action.amount),
    amountNeeded: BigInt(action.amount_needed),
    reachesTarget: action.reaches_target === 1,
    cappedBy: JSON.parse(action.capped_by) as CapReason[],
    healthFactorBefore: action.hf_before === null ? null : BigInt(action.hf_before),
    blockNumber: action.block_before === null ? null : BigInt(action.block_before),
    transaction: describeStoredSteps(parseSteps(action), request, context.signer),
    ...extra,
  };
}

/** A refusal before anything is signed; with the plan and state when the decision got that far. */
export function refusalEventInput(
  trigger: Trigger,
  request: TopUpRequest,
  failure: { code: TopUpFailureCode; message: string },
  createdAt: Date,
  context: { plan: SendPlan; state: FreshState } | undefined,
  transaction: TransactionView | null,
): TopUpEventInput {
  return {
    type: 'topup.failed',
    trigger,
    watch: request.watch,
    policy: request.policy,
    createdAt,
    amount: context?.plan.amount ?? null,
    amountNeeded: context?.plan.amountNeeded ?? null,
    reachesTarget: context?.plan.reachesTarget ?? null,
    cappedBy: context?.plan.cappedBy ?? [],
    healthFactorBefore: context?.state.snapshot.healthFactor,
    blockNumber: context?.state.block.number ?? null,
    reason: failure.code,
    message: failure.message,
    transaction,
  };
}

/** A skip decided on the fresh state; `steps` are those the proposal would send (null without one). */
export function skipEventInput(input: {
  trigger: Trigger;
  request: TopUpRequest;
  plan: Extract<TopUpPlan, { action: 'skip' }>;
  state: FreshState;
  steps: BuiltSteps | null;
  signer: Address | null;
  now: number;
}): TopUpEventInput {
  const { plan, state, steps, request } = input;
  const described = plan.proposal && steps ? describeTransaction(steps, request, input.signer) : null;
  return {
    type: 'topup.skipped',
    trigger: input.trigger,
    watch: request.watch,
    policy: request.policy,
    createdAt: new Date(input.now),
    // A repayment is sized to one rate mode's balance (buildSteps); show what would really go out.
    amount: steps?.amount ?? plan.proposal?.amount ?? null,
    amountNeeded: plan.proposal?.amountNeeded ?? null,
    reachesTarget: plan.proposal?.reachesTarget ?? null,
    cappedBy: plan.proposal?.cappedBy ?? [],
    healthFactorBefore: state.snapshot.healthFactor,
    blockNumber: state.block.number,
    reason: plan.reason,
    message: skipMessage(plan, state, request.policy),
    retryAt: plan.retryAt ?? null,
    wallet: { address: input.signer, balance: state.wallet?.token ?? null },
    transaction: described,
  };
}
