import { decodeFunctionData, type Address, type Hex } from 'viem';
import { topUpProtocolOf } from '../protocols';
import { erc20ApproveAbi, type Step } from './chain';
import type { TransactionView } from './events';
import { storedStepsOf, type StoredStep } from './records';
import type { TopUpRequest } from './request';

/** The view of steps just built (nothing measured or stored yet). */
export function describeTransaction(built: { steps: Step[] }, request: TopUpRequest, signer: Address | null): TransactionView {
  return describeStoredSteps(storedStepsOf(built.steps), request, signer);
}

/** The human-checkable face of the transactions: function, arguments in words, and the exact calldata, decoded by the protocol that built them. */
export function describeStoredSteps(steps: StoredStep[], request: TopUpRequest, signer: Address | null): TransactionView {
  const action = steps[steps.length - 1]!;
  const finalApprove = steps.filter((step) => step.kind === 'approve').at(-1);
  const policy = request.policy;
  const capability = topUpProtocolOf(request.watch).capability;
  const input = { mode: policy.mode, asset: { asset: policy.asset, symbol: policy.symbol, decimals: policy.decimals }, account: request.watch.account };
  const described = capability.describeAction(action.data, input);
  const prepare = steps.filter((step) => step.kind === 'join');
  return {
    from: signer,
    to: action.to,
    function: described.kind,
    summary: described.summary,
    args: described.args,
    data: action.data,
    ...(action.value !== undefined ? { value: action.value } : {}),
    approve: finalApprove ? approvalView(finalApprove.to, finalApprove.data) : null,
    ...(prepare.length > 0 ? { before: prepare.map((step) => ({ to: step.to, summary: capability.describePrepare?.(step.to, step.data, input) ?? step.kind, data: step.data })) } : {}),
  };
}

function approvalView(token: Address, data: Hex): TransactionView['approve'] {
  const [spender, amount] = decodeFunctionData({ abi: erc20ApproveAbi, data }).args as readonly [Address, bigint];
  return { to: token, spender, amount: amount.toString() };
}
