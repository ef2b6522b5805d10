import type { Address, Hex } from 'viem';
import type { Fees } from './guards';
import type { SignedTx, Step, StepCall, StepKind } from './chain';

/*
 * The executor's storage rows and the JSON kept inside them, and the mapping between those
 * and the values the executor works with. No I/O: the Durable Object reads and writes rows.
 */

export type ActionStatus = 'dry_run' | 'in_flight' | 'confirmed' | 'failed';
export type TxStatus = 'pending' | 'mined' | 'reverted' | 'dropped';

export type ActionRow = {
  id: string;
  watch_id: string;
  tenant_id: string;
  episode: number;
  slot: number;
  dry_run: number;
  status: ActionStatus;
  asset: string;
  amount: string;
  amount_needed: string;
  reaches_target: number;
  capped_by: string;
  steps: string;
  step_index: number;
  request: string;
  hf_before: string | null;
  hf_after: string | null;
  block_before: string | null;
  block_after: string | null;
  error: string | null;
  created_at: number;
  finished_at: number | null;
  /** Tenant, chain, market and account: caps and cooldown follow the position across watch ids. Null on old rows. */
  position_key: string | null;
  /** The failure or stop code, apart from the message. Null on old rows (the code is then the error's prefix). */
  error_code: string | null;
  /** USD value (10^-8) booked against the tenant's grant; null for dry runs and old rows. */
  usd: string | null;
  /** The held balance (PolicyAssetState.held) the action draws on, and how much of it it takes when it succeeds; null when none. */
  held_key: string | null;
  held_used: string | null;
  policy_version: number;
};

export type TxRow = {
  id: number;
  nonce: number;
  action_id: string;
  step_index: number;
  kind: StepKind;
  gas: string;
  status: TxStatus;
  attempts: string;
  mined_hash: string | null;
  block_number: string | null;
  timeout_notified: number;
  created_at: number;
};

/** What one pass of the executor did (its alarm, or a test calling processNow). */
export type ProcessSummary = { handled: number; inFlight: boolean; error: string | null };

export type RequestRow = { watch_id: string; tenant_id: string; body: string; received_at: number };
export type NoticeRow = { event_id: string; tenant_id: string; watch_id: string; body: string };
export type FailureRow = { code: string; message: string; at: number };

/** One transaction of an action as stored in `actions.steps`; `gas` is null until measured; `value`: native wei sent (decimal), absent when none. */
export type StoredStep = { kind: StepKind; to: Address; data: Hex; value?: string; gas: string | null; ifLaterFails?: string; strands?: string };

/** One signed version of a transaction (the first, or a same-nonce replacement), in `txs.attempts`. */
export type Attempt = { hash: Hex; raw: Hex; fees: StoredFees; signedAt: number; broadcastAt: number | null; broadcastError: string | null };
export type StoredFees = { type: 'eip1559'; maxFeePerGas: string; maxPriorityFeePerGas: string } | { type: 'legacy'; gasPrice: string };

export function storedFees(fees: Fees): StoredFees {
  return fees.type === 'eip1559'
    ? { type: 'eip1559', maxFeePerGas: fees.maxFeePerGas.toString(), maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString() }
    : { type: 'legacy', gasPrice: fees.gasPrice.toString() };
}

export function feesOf(stored: StoredFees): Fees {
  return stored.type === 'eip1559'
    ? { type: 'eip1559', maxFeePerGas: BigInt(stored.maxFeePerGas), maxPriorityFeePerGas: BigInt(stored.maxPriorityFeePerGas) }
    : { type: 'legacy', gasPrice: BigInt(stored.gasPrice) };
}

/** The steps as stored; `gas` per step when measured (same index), null otherwise. */
export function storedStepsOf(steps: readonly Step[], gas?: ReadonlyArray<bigint | null>): StoredStep[] {
  return steps.map((step, index) => ({
    kind: step.kind,
    to: step.to,
    data: step.data,
    ...(step.value ? { value: step.value.toString() } : {}),
    gas: gas?.[index]?.toString() ?? null,
    ...(step.ifLaterFails ? { ifLaterFails: step.ifLaterFails } : {}),
    ...(step.strands ? { strands: step.strands.toString() } : {}),
  }));
}

/**
 * Where the money of the steps that succeeded is when the action fails at `failedIndex` (the
 * steps before it were mined): the notes of those that leave it somewhere other than the
 * position (Maker: in the executor's Vat balance after a join). Empty when none do.
 */
export function strandedNotes(steps: readonly StoredStep[], failedIndex: number): string[] {
  return steps.slice(0, failedIndex).flatMap((step) => (step.ifLaterFails ? [step.ifLaterFails] : []));
}

/** How much the steps mined before `failedIndex` left in the executor's held balance (Maker: what their joins moved into its Vat balance). */
export function strandedAmount(steps: readonly StoredStep[], failedIndex: number): bigint {
  return steps.slice(0, failedIndex).reduce((sum, step) => sum + BigInt(step.strands ?? '0'), 0n);
}

export function parseSteps(action: Pick<ActionRow, 'steps'>): StoredStep[] {
  return JSON.parse(action.steps) as StoredStep[];
}

export function parseAttempts(tx: Pick<TxRow, 'attempts'>): Attempt[] {
  return JSON.parse(tx.attempts) as Attempt[];
}

/** The call a transaction row sends: its action's step at the row's index, with its value. */
export function stepOf(action: Pick<ActionRow, 'steps'>, tx: Pick<TxRow, 'step_index'>): StepCall {
  return stepCallOf(parseSteps(action)[tx.step_index]!);
}

/** A stored step as the call it sends: the value back to a bigint (absent when none was stored: the call sends none). */
export function stepCallOf(step: StoredStep): StepCall {
  return { to: step.to, data: step.data, ...(step.value !== undefined ? { value: BigInt(step.value) } : {}) };
}

/** The native value all the steps send together (wei). */
export function totalValue(steps: ReadonlyArray<Pick<Step, 'value'>>): bigint {
  return steps.reduce((sum, step) => sum + (step.value ?? 0n), 0n);
}

/** A freshly signed attempt, not broadcast yet. */
export function newAttempt(signed: SignedTx, fees: Fees, signedAt: number): Attempt {
  return { hash: signed.hash, raw: signed.raw, fees: storedFees(fees), signedAt, broadcastAt: null, broadcastError: null };
}

/** The attempts after a broadcast of `hash`: accepted stamps the time and clears the error; refused keeps the time and records why. */
export function withBroadcastOutcome(attempts: readonly Attempt[], hash: Hex, outcome: { accepted: boolean; message: string | null }, now: number): Attempt[] {
  return attempts.map((attempt) =>
    attempt.hash === hash ? { ...attempt, broadcastAt: outcome.accepted ? now : attempt.broadcastAt, broadcastError: outcome.accepted ? null : outcome.message } : attempt,
  );
}

/** The hash that identifies a transaction row: the mined one, else the latest attempt's. */
export function txHashOf(tx: TxRow | undefined): Hex | null {
  return tx ? ((tx.mined_hash ?? parseAttempts(tx).at(-1)?.hash ?? null) as Hex | null) : null;
}
