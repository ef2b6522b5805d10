import { formatUnits, type Hex } from 'viem';
import type { StoredTopUpPolicy } from '../config/topup-policy';
import type { CapReason, TopUpPlan } from '../domain/topup-plan';
import { findAppError } from '../lib/find-app-error';
import { shortMessage, type FreshState, type StepKind } from './chain';
import { SKIP_MESSAGES, type TopUpFailureCode } from './events';
import { ABANDON_AFTER_MS, TX_TIMEOUT_MS } from './pending-tx';

/*
 * The words of the executor's events: the `message` of each skip, failure and execution.
 * Pure string building from the values handed in.
 */

/** A health factor (WAD) cut to 4 decimals, '∞' without debt. */
export function showHealthFactor(healthFactor: bigint | null): string {
  if (healthFactor === null) return '∞';
  return formatUnits(healthFactor - (healthFactor % 10n ** 14n), 18);
}

export function describeCaps(caps: CapReason[]): string {
  const words: Record<CapReason, string> = { per_action: 'maxAmountPerAction', per_day: 'the 24-hour cap', tenant_budget: "the owner's USD grant for this tenant", wallet_balance: 'the executor wallet balance', debt: 'the debt of this asset' };
  return caps.map((cap) => words[cap]).join(', ') || 'the caps';
}

export function skipMessage(plan: Extract<TopUpPlan, { action: 'skip' }>, state: FreshState, policy: StoredTopUpPolicy): string {
  // A dry-run policy never tops up: its cooldown runs from the last dry run, say so.
  const base = plan.reason === 'cooldown' && policy.dryRun ? 'dry run: the health factor is still below the trigger; the next dry run waits for the cooldown since the last one' : SKIP_MESSAGES[plan.reason];
  const amount = plan.proposal ? ` It would send ${formatUnits(plan.proposal.amount, policy.decimals)} ${policy.symbol}.` : '';
  const wallet = plan.reason === 'dry_run' && state.wallet && plan.proposal && state.wallet.token < plan.proposal.amount
    ? ` The executor wallet holds only ${formatUnits(state.wallet.token, policy.decimals)} ${policy.symbol}.`
    : '';
  return `${base}.${amount}${wallet}`;
}

/** The `topup.executed` message: what went in and how the health factor moved. */
export function executedMessage(input: { policy: StoredTopUpPolicy; amount: bigint; before: bigint | null; after: bigint | null; reachesTarget: boolean; cappedBy: CapReason[] }): string {
  const { policy } = input;
  const verb = policy.mode === 'supply' ? 'supplied' : 'repaid';
  return `${verb} ${formatUnits(input.amount, policy.decimals)} ${policy.symbol} on behalf of the account: health factor ${showHealthFactor(input.before)} → ${showHealthFactor(input.after)}${input.reachesTarget ? '' : ` (target ${policy.targetHealthFactor} not reachable within ${describeCaps(input.cappedBy)})`}`;
}

// ── failures ────────────────────────────────────────────────────────────────

export const SIGNER_NOT_CONFIGURED_MESSAGE = 'live top-ups need TOPUP_PRIVATE_KEY (wrangler secret put TOPUP_PRIVATE_KEY); the policy is live (dryRun false) but no key is set';
export const SIGNER_REMOVED_MESSAGE = 'TOPUP_PRIVATE_KEY was removed while a top-up was in flight; the remaining transaction was not sent';

export function unknownChainMessage(chainId: number): string {
  return `chain ${chainId} is not configured in RPC_URLS`;
}

/** A failed fresh read, as a failure code and message. */
export function readFailure(error: unknown): { code: TopUpFailureCode; message: string } {
  const appError = findAppError(error);
  const code = (appError?.code === 'asset_not_in_market' ? 'asset_not_in_market' : appError?.code === 'rpc_unavailable' ? 'rpc_unavailable' : 'read_failed') as TopUpFailureCode;
  return { code, message: appError?.message ?? `reading the position failed: ${shortMessage(error)}` };
}

/** Simulation refused a step before anything was sent. */
export function wouldRevertMessage(kind: StepKind | 'transaction', reason: string): string {
  return `${kind} would revert: ${reason}; nothing was sent`;
}

/** Simulation refused a later step (after an approval was mined). */
export function laterStepRevertMessage(kind: StepKind, reason: string): string {
  return `${kind} would revert: ${reason}; it was not sent (earlier approvals stand, for exactly this amount)`;
}

/** `value`: native coin the top-up itself sends (a native-ETH asset); `worstCost` null before the gas is measured. */
export function insufficientGasMessage(native: bigint, worstCost: bigint | null, value = 0n): string {
  if (value === 0n) return `the executor wallet has ${formatUnits(native, 18)} of the native token, less than the ${formatUnits(worstCost ?? 0n, 18)} the transactions may cost in gas; send it some`;
  const gas = worstCost === null ? 'plus gas' : `plus up to ${formatUnits(worstCost, 18)} for gas (${formatUnits(value + worstCost, 18)} in all)`;
  return `the executor wallet has ${formatUnits(native, 18)} of the native token, less than the ${formatUnits(value, 18)} the top-up sends as the transaction's value ${gas}; send it some or lower maxAmountPerAction (the amount is not shrunk to leave gas)`;
}

export function broadcastFailedMessage(kind: StepKind, nonce: number, reason: string): string {
  return `the node refused the ${kind} transaction (nonce ${nonce}): ${reason}; it is retried with the same nonce and given up after ${ABANDON_AFTER_MS / 60_000} minutes if no node takes it`;
}

export function txRevertedMessage(kind: StepKind | 'transaction', hash: string | null): string {
  return `the ${kind} transaction ${hash} was mined but reverted`;
}

export function nonceUsedElsewhereMessage(nonce: number): string {
  return `nonce ${nonce} of the executor was used by a transaction this executor did not send; is TOPUP_PRIVATE_KEY used elsewhere?`;
}

export function txDroppedMessage(kind: StepKind, nonce: number): string {
  return `the ${kind} transaction (nonce ${nonce}) was not accepted by any node for ${ABANDON_AFTER_MS / 60_000} minutes; given up`;
}

export function txTimeoutMessage(kind: StepKind, nonce: number, latestHash: Hex): string {
  return `the ${kind} transaction (nonce ${nonce}, last ${latestHash}) has no receipt after ${TX_TIMEOUT_MS / 60_000} minutes; it is still tracked and replaced with higher fees up to TOPUP_MAX_GAS_GWEI, and no other transaction is sent for this trigger`;
}
