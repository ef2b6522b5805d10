import type { Address } from 'viem';
import type { PastAction } from '../domain/topup-plan';
import type { TopUpFailureCode, TopUpStopCode, Trigger } from './events';
import type { ActionRow } from './records';

/*
 * What a watch's recorded actions say about a new request: its trigger slot, whether its
 * observation predates our last action, the newest block we have seen, and the past
 * actions the planner's caps and cooldown count.
 */

/**
 * Failures after which the action provably moved no tokens: its money transaction reverted
 * or was never sent (an approval moves none). Anything else that may have moved tokens
 * counts, even a dropped transaction, to stay under the caps.
 */
const MOVED_NOTHING: ReadonlySet<string> = new Set<TopUpFailureCode | TopUpStopCode>([
  'tx_reverted',
  'simulation_reverted',
  'signer_not_configured',
  'watch_deleted',
  'policy_changed',
  'not_permitted',
  'tenant_budget_reached',
  'market_not_trusted',
  'above_trigger',
  'action_timeout',
]);

export function movedNothing(code: string): boolean {
  return MOVED_NOTHING.has(code);
}

/** Rows written before error codes had their own column keep the code as the error's prefix (`code: message`). */
function errorCodeOf(row: Pick<ActionRow, 'error' | 'error_code'>): string | null {
  return row.error_code ?? row.error?.split(':', 1)[0] ?? null;
}

export function pastAction(row: ActionRow): PastAction {
  const code = row.status === 'failed' ? errorCodeOf(row) : null;
  const moved = !(code !== null && movedNothing(code));
  return { asset: row.asset as Address, amount: BigInt(row.amount), at: row.created_at, dryRun: row.dry_run === 1, spends: moved };
}

/** An in-flight action whose next transaction could not be sent for this long gives way to other tenants' actions. */
export const ACTION_START_TIMEOUT_MS = 5 * 60_000;

/** Measured from the action's start: its transactions before the stuck one count against the same bound. */
export function actionStartTimedOut(action: Pick<ActionRow, 'created_at'>, now: number): boolean {
  return now - action.created_at > ACTION_START_TIMEOUT_MS;
}

/**
 * An observation from before our last action was mined (or from the very block a dry run
 * decided on) describes a position already acted on; the shard's next tick will say
 * whether it still needs help. The block of our mined transaction already includes it.
 */
export function isStaleObservation(actions: readonly ActionRow[], observedBlock: bigint): boolean {
  return actions.some((row) => (row.block_after !== null ? observedBlock < BigInt(row.block_after) : row.block_before !== null && observedBlock <= BigInt(row.block_before)));
}

/** The newest block any action of the watch was decided or mined at; null when none. */
export function lastSeenBlock(actions: readonly ActionRow[]): bigint | null {
  return actions.reduce<bigint | null>((max, row) => {
    const block = row.block_after ?? row.block_before;
    return block !== null && (max === null || BigInt(block) > max) ? BigInt(block) : max;
  }, null);
}

/**
 * The trigger of the next action in this episode: one slot after the newest taken in it (by
 * slot, not by count: old dry runs are pruned, and a slot is never used twice).
 */
export function nextTrigger(watchId: string, episode: number, actions: readonly ActionRow[]): Trigger {
  return { watchId, episode, slot: 1 + actions.reduce((max, row) => (row.episode === episode && row.slot > max ? row.slot : max), 0) };
}

/** The oldest block a fresh read may be at: the observation's, or our own newer one. */
export function minReadBlock(lastSeen: bigint | null, observed: bigint): bigint {
  return lastSeen !== null && lastSeen > observed ? lastSeen : observed;
}
