import type { Address, Hex, LocalAccount, PublicClient, TransactionReceipt } from 'viem';
import { bumpFees, type Fees } from './guards';
import { broadcast, confirmedNonce, isKnown, pendingNonce, readFeeMarket, receiptOf, signStep, type StepCall, type StepKind } from './chain';
import { abandonDue, replacementDue, timeoutNoticeDue } from './pending-tx';
import { feesOf, newAttempt, parseAttempts, withBroadcastOutcome, type Attempt, type TxRow } from './records';
import type { Clock } from './request-queue';

/*
 * The executor's transactions on one key: nonces, the intent written before a broadcast,
 * broadcasts and their outcomes, receipts, same-nonce replacements and giving up. It owns
 * the `txs` rows and the `next_nonce` counter; what an outcome means for the top-up (a
 * failure, an event) is the executor's to decide.
 */

/** What one look at a pending transaction found. */
export type TxLook =
  | { outcome: 'receipt' }
  | { outcome: 'pending'; timedOut: Hex | null }
  /** Its nonce was used by a transaction that is none of ours: markDropped, then fail. */
  | { outcome: 'nonce_used_elsewhere' }
  /** No node knows it and its nonce is free after the abandon delay: markDropped releasing the nonce, then fail. */
  | { outcome: 'abandoned' };

export class TransactionSender {
  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly clock: Clock,
    /** A broadcast the node refused (told once by the caller; the next look retries it). Called inside a storage transaction. */
    private readonly onRefused: (tx: TxRow, message: string) => void,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS txs (
      id INTEGER PRIMARY KEY AUTOINCREMENT, nonce INTEGER NOT NULL, action_id TEXT NOT NULL, step_index INTEGER NOT NULL,
      kind TEXT NOT NULL, gas TEXT NOT NULL, status TEXT NOT NULL, attempts TEXT NOT NULL, mined_hash TEXT, block_number TEXT,
      timeout_notified INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL)`);
    sql.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  }

  /** The chain's pending count, or ours if higher (a transaction we sent that this node has not seen yet). */
  async nextNonce(client: PublicClient, address: Address): Promise<number> {
    const chain = await pendingNonce(client, address);
    const local = Number(this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'next_nonce'").toArray()[0]?.value ?? 0);
    return Math.max(chain, local);
  }

  /** The intent: nonce, signed bytes and hash, durable before the broadcast. The caller wraps it in its storage transaction. */
  recordIntent(input: { actionId: string; stepIndex: number; kind: StepKind; nonce: number; gas: bigint; signed: { hash: Hex; raw: Hex }; fees: Fees }): void {
    const attempt = newAttempt(input.signed, input.fees, this.clock());
    this.sql.exec(
      "INSERT INTO txs (nonce, action_id, step_index, kind, gas, status, attempts, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
      input.nonce, input.actionId, input.stepIndex, input.kind, input.gas.toString(), JSON.stringify([attempt]), this.clock(),
    );
    this.sql.exec("INSERT INTO meta (key, value) VALUES ('next_nonce', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", String(input.nonce + 1));
  }

  /**
   * Broadcasts and records the outcome on the attempt. A refusal is handed to `onRefused`
   * (it often needs the owner: gas money, a key used elsewhere) and retried by the next
   * look, never turned into a new intent.
   */
  async send(client: PublicClient, actionId: string, hash: Hex, raw: Hex): Promise<void> {
    const result = await broadcast(client, raw);
    const row = this.sql.exec<TxRow>("SELECT * FROM txs WHERE action_id = ? AND status = 'pending' ORDER BY id DESC LIMIT 1", actionId).toArray()[0];
    if (!row) return;
    const attempts = withBroadcastOutcome(parseAttempts(row), hash, { accepted: result.ok || result.known, message: result.ok ? null : result.message }, this.clock());
    this.storage.transactionSync(() => {
      this.sql.exec('UPDATE txs SET attempts = ? WHERE id = ?', JSON.stringify(attempts), row.id);
      if (!result.ok && !result.known) this.onRefused(row, result.message);
    });
  }

  /**
   * One look at a pending transaction: its receipt (recorded), or a same-nonce replacement
   * with higher fees under the cap, or the same bytes again when no node knows it, then about
   * one block of waiting for a receipt. Safe to repeat: every decision is made from the rows
   * and the chain.
   */
  async look(tx: TxRow, input: { client: PublicClient; signer: LocalAccount | null; chainId: number; step: StepCall; maxGasWei: bigint; waitMs: number }): Promise<TxLook> {
    const { client, signer } = input;
    let attempts = parseAttempts(tx);
    const found = await this.findReceipt(client, attempts);
    if (found) return this.recordReceipt(tx, found);
    if (!signer) return { outcome: 'pending', timedOut: null }; // cannot sign replacements; receipts are still watched

    const now = this.clock();
    if ((await confirmedNonce(client, signer.address)) > tx.nonce) {
      // The nonce is used. One of our attempts should have a receipt; look once more (the node may have just caught up).
      const late = await this.findReceipt(client, attempts);
      return late ? this.recordReceipt(tx, late) : { outcome: 'nonce_used_elsewhere' };
    }

    const latest = attempts[attempts.length - 1]!;
    let replaced = false;
    if (replacementDue(attempts, now)) {
      const bumped = bumpFees(feesOf(latest.fees), await readFeeMarket(client), input.maxGasWei);
      if (bumped) {
        // Same nonce, same call, higher fees: whichever attempt lands, the nonce allows only one.
        const signed = await signStep(signer, { chainId: input.chainId, nonce: tx.nonce, step: input.step, gas: BigInt(tx.gas), fees: bumped });
        attempts = [...attempts, newAttempt(signed, bumped, now)];
        this.sql.exec('UPDATE txs SET attempts = ? WHERE id = ?', JSON.stringify(attempts), tx.id);
        await this.send(client, tx.action_id, signed.hash, signed.raw);
        replaced = true;
      }
    }
    // Any attempt the node still holds may land; only when none is known is the latest sent again (or given up).
    if (!replaced && !(await this.anyKnown(client, attempts))) {
      if (abandonDue(attempts, now)) return { outcome: 'abandoned' };
      // Never broadcast (a restart between intent and send) or dropped from the mempool: the same bytes again.
      await this.send(client, tx.action_id, latest.hash, latest.raw);
    }
    let timedOut: Hex | null = null;
    if (timeoutNoticeDue(tx, attempts, now)) {
      this.sql.exec('UPDATE txs SET timeout_notified = 1 WHERE id = ?', tx.id);
      timedOut = latest.hash;
    }

    // Waiting is real time (sleeps), whatever the clock says.
    for (let waited = 0; waited < input.waitMs; waited += RECEIPT_POLL_MS) {
      await sleep(RECEIPT_POLL_MS);
      const receipt = await this.findReceipt(client, attempts);
      if (receipt) return this.recordReceipt(tx, receipt);
    }
    return { outcome: 'pending', timedOut };
  }

  /**
   * Gives a transaction up. With `releaseNonce` its nonce is handed out again (no node has
   * it). The caller wraps this with its own failure record in one storage transaction.
   */
  markDropped(tx: TxRow, options: { releaseNonce: boolean }): void {
    this.sql.exec("UPDATE txs SET status = 'dropped' WHERE id = ?", tx.id);
    if (options.releaseNonce) this.sql.exec("UPDATE meta SET value = ? WHERE key = 'next_nonce' AND CAST(value AS INTEGER) > ?", String(tx.nonce), tx.nonce);
  }

  private async anyKnown(client: PublicClient, attempts: Attempt[]): Promise<boolean> {
    for (const attempt of attempts) if (await isKnown(client, attempt.hash)) return true;
    return false;
  }

  private async findReceipt(client: PublicClient, attempts: Attempt[]): Promise<TransactionReceipt | null> {
    // Newest first: after a replacement the new hash is the likely one.
    for (const attempt of [...attempts].reverse()) {
      const receipt = await receiptOf(client, attempt.hash);
      if (receipt) return receipt;
    }
    return null;
  }

  private recordReceipt(tx: TxRow, receipt: TransactionReceipt): TxLook {
    this.sql.exec(
      'UPDATE txs SET status = ?, mined_hash = ?, block_number = ? WHERE id = ?',
      receipt.status === 'success' ? 'mined' : 'reverted', receipt.transactionHash, receipt.blockNumber.toString(), tx.id,
    );
    return { outcome: 'receipt' };
  }
}

const RECEIPT_POLL_MS = 250;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
