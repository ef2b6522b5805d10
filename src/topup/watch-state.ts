import { formatUnits, type Address, type Hex } from 'viem';
import { policyForPlanning, type StoredTopUpPolicy } from '../config/topup-policy';
import { summarizeHistory } from '../domain/topup-plan';
import { pastAction } from './action-history';
import { showHealthFactor } from './messages';
import { txHashOf, type ActionRow, type ActionStatus, type FailureRow, type TxRow } from './records';
import { parseRequest } from './request';

export type TopUpActionView = {
  id: string;
  status: ActionStatus;
  dryRun: boolean;
  mode: string;
  asset: Address;
  amount: string;
  reachesTarget: boolean;
  txHash: Hex | null;
  approveTxHash: Hex | null;
  healthFactorBefore: string | null;
  healthFactorAfter: string | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
};

/** The "recent top-up state" GET /v1/watches/:id shows next to the policy. */
export type TopUpWatchState = {
  executor: { chainId: number; signer: Address | null };
  /** Committed in the rolling 24 hours (dry runs count only against dry runs), token units. */
  spentLast24h: string;
  remainingLast24h: string;
  cooldownUntil: string | null;
  inFlight: boolean;
  lastFailure: { code: string; message: string; at: string } | null;
  recent: TopUpActionView[];
};

/** How many of the latest actions the state lists. */
export const RECENT_ACTIONS = 5;

/** One action for the API; `txs` are its transaction rows in insertion order. */
export function actionView(row: ActionRow, txs: readonly TxRow[], decimals: number): TopUpActionView {
  const main = txs.filter((tx) => tx.kind !== 'approve').at(-1);
  const approve = txs.filter((tx) => tx.kind === 'approve').at(-1);
  return {
    id: row.id,
    status: row.status,
    dryRun: row.dry_run === 1,
    mode: parseRequest(row.request).policy.mode,
    asset: row.asset as Address,
    amount: formatUnits(BigInt(row.amount), decimals),
    reachesTarget: row.reaches_target === 1,
    txHash: txHashOf(main),
    approveTxHash: txHashOf(approve),
    healthFactorBefore: row.hf_before === null ? null : showHealthFactor(BigInt(row.hf_before)),
    healthFactorAfter: row.hf_after === null ? null : showHealthFactor(BigInt(row.hf_after)),
    error: row.error,
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
  };
}

/**
 * The watch's top-up state from its action rows (newest first), its last refusal and the
 * policy (null when it has none). `txsOf` gives an action's transaction rows; it is only
 * called for the recent actions listed.
 */
export function watchState(input: {
  rows: readonly ActionRow[];
  policy: StoredTopUpPolicy | null;
  failure: FailureRow | undefined;
  executor: { chainId: number; signer: Address | null };
  now: number;
  txsOf: (actionId: string) => readonly TxRow[];
}): TopUpWatchState {
  const { rows, policy, failure, now } = input;
  const dryRun = policy?.dryRun ?? false;
  const history = policy ? summarizeHistory(rows.map(pastAction), { asset: policy.asset, dryRun, now }) : null;
  const decimals = policy?.decimals ?? 18;
  const perDay = policy ? policyForPlanning(policy).maxAmountPerDay : 0n;
  const cooldownEnd = history?.lastActionAt != null && policy ? history.lastActionAt + policy.cooldownSeconds * 1000 : null;
  const spent = history?.spentInWindow ?? 0n;
  return {
    executor: input.executor,
    spentLast24h: formatUnits(spent, decimals),
    remainingLast24h: formatUnits(perDay > spent ? perDay - spent : 0n, decimals),
    cooldownUntil: cooldownEnd !== null && cooldownEnd > now ? new Date(cooldownEnd).toISOString() : null,
    inFlight: rows.some((row) => row.status === 'in_flight'),
    lastFailure: failure ? { code: failure.code, message: failure.message, at: new Date(failure.at).toISOString() } : null,
    recent: rows.slice(0, RECENT_ACTIONS).map((row) => actionView(row, input.txsOf(row.id), decimals)),
  };
}
