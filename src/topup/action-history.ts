import type { Address } from 'viem';
import type { PastAction } from '../domain/topup-plan';
import type { Trigger } from './events';
import type { ActionRow } from './records';

/*
 * What a watch's recorded actions say about a new request: its trigger slot, whether its
 * observation predates our last action, the newest block we have seen, and the past
 * actions the planner's caps and cooldown count.
 */

export function pastAction(row: ActionRow): PastAction {
  // Anything that may have moved tokens counts (even a dropped transaction), to stay under the cap.
  // A reverted action, or one whose last transaction was refused by simulation after its
  // approval, moved no tokens (an approval moves none).
  const moved = !(row.status === 'failed' && /^(tx_reverted|simulation_reverted|signer_not_configured)/.test(row.error ?? ''));
  return { asset: row.asset as Address, amount: BigInt(row.amount), at: row.created_at, dryRun: row.dry_run === 1, spends: moved };
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

/** The trigger of the next action in this episode: one slot after the actions already taken in it. */
export function nextTrigger(watchId: string, episode: number, actions: readonly ActionRow[]): Trigger {
  return { watchId, episode, slot: 1 + actions.filter((row) => row.episode === episode).length };
}

/** The oldest block a fresh read may be at: the observation's, or our own newer one. */
export function minReadBlock(lastSeen: bigint | null, observed: bigint): bigint {
  return lastSeen !== null && lastSeen > observed ? lastSeen : observed;
}
