import { formatUnits, type Address, type Hex } from 'viem';
import type { TopUpMode } from '../domain/topup-plan';
import type { Step } from './chain';
import type { TransactionView } from './events';
import { storedStepsOf, type StoredStep } from './records';
import type { TopUpRequest } from './request';

/** The view of steps just built (nothing measured or stored yet). */
export function describeTransaction(built: { steps: Step[] }, request: TopUpRequest, signer: Address | null): TransactionView {
  return describeStoredSteps(storedStepsOf(built.steps), request, signer);
}

/** The human-checkable face of the transactions: function, arguments in words, and the exact calldata. */
export function describeStoredSteps(steps: StoredStep[], request: TopUpRequest, signer: Address | null): TransactionView {
  const action = steps[steps.length - 1]!;
  const approvals = steps.filter((step) => step.kind === 'approve');
  const finalApprove = approvals.at(-1);
  const policy = request.policy;
  // The calldata is ours (encoded by chain.ts); its fixed layout gives the amount back without an ABI round trip.
  const word = (data: Hex, index: number) => BigInt(`0x${data.slice(10 + index * 64, 10 + (index + 1) * 64)}`);
  const amount = word(action.data, 1);
  const human = `${formatUnits(amount, policy.decimals)} ${policy.symbol}`;
  const args: Record<string, string | number> =
    action.kind === 'supply'
      ? { asset: policy.asset, amount: amount.toString(), onBehalfOf: request.watch.account, referralCode: 0 }
      : { asset: policy.asset, amount: amount.toString(), interestRateMode: Number(word(action.data, 2)), onBehalfOf: request.watch.account };
  const summary =
    action.kind === 'supply'
      ? `supply(${policy.symbol} ${policy.asset}, ${human}, onBehalfOf ${request.watch.account}, referralCode 0)`
      : `repay(${policy.symbol} ${policy.asset}, ${human}, ${args.interestRateMode === 1 ? 'stable' : 'variable'} rate, onBehalfOf ${request.watch.account})`;
  return {
    from: signer,
    to: action.to,
    function: action.kind as TopUpMode,
    summary,
    args,
    data: action.data,
    approve: finalApprove ? { to: finalApprove.to, spender: request.watch.market, amount: word(finalApprove.data, 1).toString() } : null,
  };
}
