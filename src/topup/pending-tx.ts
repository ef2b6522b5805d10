import type { Attempt, TxRow } from './records';

/*
 * When a transaction without a receipt gets a replacement, is reported as slow, or is given
 * up. Decisions only; the executor does the signing, sending and storing.
 */

/** A transaction without a receipt this long gets a same-nonce replacement with higher fees. */
export const REPLACE_AFTER_MS = 60_000;
/** Past this, a still-pending transaction is reported (`tx_timeout`); it is still tracked, never resent as new. */
export const TX_TIMEOUT_MS = 15 * 60_000;
/** A transaction no node knows and whose nonce is unused for this long is given up and its nonce reused. */
export const ABANDON_AFTER_MS = 5 * 60_000;

/** The latest attempt is old enough to be replaced (if the fees can be bumped under the cap). */
export function replacementDue(attempts: readonly Attempt[], now: number): boolean {
  return now - attempts[attempts.length - 1]!.signedAt > REPLACE_AFTER_MS;
}

/** No node knows any attempt and the first was signed long enough ago: the nonce is released. */
export function abandonDue(attempts: readonly Attempt[], now: number): boolean {
  return now - attempts[0]!.signedAt > ABANDON_AFTER_MS;
}

/** Reported once: the first attempt is older than the timeout and no report was made yet. */
export function timeoutNoticeDue(tx: Pick<TxRow, 'timeout_notified'>, attempts: readonly Attempt[], now: number): boolean {
  return now - attempts[0]!.signedAt > TX_TIMEOUT_MS && tx.timeout_notified === 0;
}

/** How long one look waits for a receipt: about one block, short enough for an alarm. */
export function receiptWaitMs(pollIntervalSeconds: number): number {
  return Math.min(15_000, pollIntervalSeconds * 1000);
}
