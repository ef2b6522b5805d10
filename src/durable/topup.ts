import { DurableObject } from 'cloudflare:workers';
import { redactUrlsInText } from '../lib/redact-text';
import { formatUnits, type Address, type Hex, type LocalAccount, type PublicClient, type TransactionReceipt } from 'viem';
import { parseConfig, type AppConfig } from '../config/env';
import { policyForPlanning, type StoredTopUpPolicy } from '../config/topup-policy';
import { createChainClient, type ChainClient } from '../chain/client';
import { findAppError } from '../lib/find-app-error';
import { planTopUp, summarizeHistory, type CapReason, type PastAction, type TopUpMode, type TopUpPlan } from '../domain/topup-plan';
import type { WatchRef } from '../notify/event-body';
import { buildTopUpEvent, SKIP_MESSAGES, triggerId, topUpEventId, type TopUpEventInput, type TopUpFailureCode, type TransactionView, type Trigger } from '../topup/events';
import { bumpFees, checkEndpoints, maxGasCost, quoteFees, type Fees } from '../topup/guards';
import {
  approveStep,
  broadcast,
  confirmedNonce,
  healthFactorAt,
  isKnown,
  paddedGas,
  pendingNonce,
  probeEndpoint,
  readFeeMarket,
  readFreshState,
  receiptOf,
  repayStep,
  shortMessage,
  signStep,
  simulateStep,
  simulateSteps,
  supplyStep,
  type FreshState,
  type Step,
  type StepKind,
} from '../topup/chain';
import { loadSigner } from '../topup/signer';
import { tenantStub } from './stubs';

/** What a shard hands over when a watch with a policy is below its trigger. */
export type TopUpRequest = {
  watch: WatchRef;
  tenantId: string;
  policy: StoredTopUpPolicy;
  /** Increments each time the health factor falls below the trigger (kept by the shard). */
  episode: number;
  /** The block and health factor (WAD, decimal string; null = no debt) the shard saw. */
  observedBlock: string;
  observedHealthFactor: string | null;
};

export type ProcessSummary = { handled: number; inFlight: boolean; error: string | null };

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

type ActionStatus = 'dry_run' | 'in_flight' | 'confirmed' | 'failed';
type TxStatus = 'pending' | 'mined' | 'reverted' | 'dropped';

type ActionRow = {
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
};

type StoredStep = { kind: StepKind; to: Address; data: Hex; gas: string | null };

type Attempt = { hash: Hex; raw: Hex; fees: StoredFees; signedAt: number; broadcastAt: number | null; broadcastError: string | null };
type StoredFees = { type: 'eip1559'; maxFeePerGas: string; maxPriorityFeePerGas: string } | { type: 'legacy'; gasPrice: string };

type TxRow = {
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

type RequestRow = { watch_id: string; body: string; received_at: number };
type NoticeRow = { event_id: string; tenant_id: string; watch_id: string; body: string };

type Runtime = { config: AppConfig; signer: LocalAccount | null };

/** A request older than this is dropped: the shard sends a fresh one every tick while the trigger holds. */
const REQUEST_TTL_MS = 5 * 60_000;
/** After a refusal (stale RPC, gas above cap, revert), the same watch is not retried sooner. */
const FAILURE_BACKOFF_MS = 30_000;
/** A transaction without a receipt this long gets a same-nonce replacement with higher fees. */
const REPLACE_AFTER_MS = 60_000;
/** Past this, a still-pending transaction is reported (`tx_timeout`); it is still tracked, never resent as new. */
const TX_TIMEOUT_MS = 15 * 60_000;
/** A transaction no node knows and whose nonce is unused for this long is given up and its nonce reused. */
const ABANDON_AFTER_MS = 5 * 60_000;
const NOTICE_RETENTION_MS = 7 * 24 * 60 * 60_000;

/**
 * The executor for one (chain, signer): the single writer of that key's nonces. Shards hand
 * it requests (cheap: stored, then an alarm); its alarm does the work one request at a time.
 *
 * Idempotency. A trigger is `${watchId}:${episode}:${slot}`: the shard's episode counter
 * (it starts when the health factor falls below the trigger) and the number of actions this
 * object already took in that episode. The action row, keyed by that id, and the first
 * transaction's intent (nonce, signed bytes, hash) are written in one storage transaction
 * before the broadcast; the output gate holds the broadcast until the write is durable.
 * A retried alarm, an overlapping tick or a restart therefore finds the row and resumes the
 * recorded transaction (receipt by hash, rebroadcast of the same bytes, or a same-nonce
 * replacement) instead of starting another. While a transaction is in flight no new action
 * starts, so one key never has two of our nonces outstanding.
 */
export class TopUp extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private chainClient: ChainClient | undefined;
  private processing: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      this.sql.exec('CREATE TABLE IF NOT EXISTS requests (watch_id TEXT PRIMARY KEY, body TEXT NOT NULL, received_at INTEGER NOT NULL)');
      this.sql.exec(`CREATE TABLE IF NOT EXISTS actions (
        id TEXT PRIMARY KEY, watch_id TEXT NOT NULL, tenant_id TEXT NOT NULL, episode INTEGER NOT NULL, slot INTEGER NOT NULL,
        dry_run INTEGER NOT NULL, status TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL, amount_needed TEXT NOT NULL,
        reaches_target INTEGER NOT NULL, capped_by TEXT NOT NULL, steps TEXT NOT NULL, step_index INTEGER NOT NULL, request TEXT NOT NULL,
        hf_before TEXT, hf_after TEXT, block_before TEXT, block_after TEXT, error TEXT, created_at INTEGER NOT NULL, finished_at INTEGER)`);
      this.sql.exec('CREATE INDEX IF NOT EXISTS actions_watch ON actions (watch_id, created_at)');
      this.sql.exec(`CREATE TABLE IF NOT EXISTS txs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, nonce INTEGER NOT NULL, action_id TEXT NOT NULL, step_index INTEGER NOT NULL,
        kind TEXT NOT NULL, gas TEXT NOT NULL, status TEXT NOT NULL, attempts TEXT NOT NULL, mined_hash TEXT, block_number TEXT,
        timeout_notified INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL)`);
      this.sql.exec('CREATE TABLE IF NOT EXISTS notices (event_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, watch_id TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL, handed_off INTEGER NOT NULL DEFAULT 0)');
      this.sql.exec('CREATE TABLE IF NOT EXISTS failures (watch_id TEXT PRIMARY KEY, code TEXT NOT NULL, message TEXT NOT NULL, at INTEGER NOT NULL)');
    });
  }

  // ── entry points ──────────────────────────────────────────────────────────

  /** Stores the requests (latest per watch wins) and wakes the alarm. Never does chain I/O. */
  async requestTopUp(requests: TopUpRequest[]): Promise<number> {
    const now = Date.now();
    for (const request of requests) {
      this.sql.exec(
        'INSERT INTO requests (watch_id, body, received_at) VALUES (?, ?, ?) ON CONFLICT(watch_id) DO UPDATE SET body = excluded.body, received_at = excluded.received_at',
        request.watch.id, JSON.stringify(request), now,
      );
    }
    if (requests.length > 0) {
      const alarm = await this.ctx.storage.getAlarm();
      if (alarm === null || alarm > now) await this.ctx.storage.setAlarm(now);
    }
    return requests.length;
  }

  /** A policy removed or replaced: its pending request must not act on the old one. */
  async dropRequest(watchId: string): Promise<void> {
    this.sql.exec('DELETE FROM requests WHERE watch_id = ?', watchId);
  }

  override async alarm(): Promise<void> {
    const summary = await this.processNow();
    const next = this.nextWakeUp(summary);
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  /**
   * One pass: resume what is in flight, then handle waiting requests. Serialized: the alarm,
   * a test or an operator calling this at once queue up instead of interleaving at awaits.
   */
  async processNow(): Promise<ProcessSummary> {
    const run = this.processing.then(() => this.processOnce());
    this.processing = run.catch(() => undefined);
    return run;
  }

  async watchState(watchId: string, policy: StoredTopUpPolicy | null, chainId: number): Promise<TopUpWatchState> {
    const now = Date.now();
    const rows = this.sql.exec<ActionRow>('SELECT * FROM actions WHERE watch_id = ? ORDER BY created_at DESC', watchId).toArray();
    const dryRun = policy?.dryRun ?? false;
    const history = policy ? summarizeHistory(rows.map(pastAction), { asset: policy.asset, dryRun, now }) : null;
    const decimals = policy?.decimals ?? 18;
    const perDay = policy ? policyForPlanning(policy).maxAmountPerDay : 0n;
    const failure = this.sql.exec<{ code: string; message: string; at: number }>('SELECT * FROM failures WHERE watch_id = ?', watchId).toArray()[0];
    const cooldownEnd = history?.lastActionAt != null && policy ? history.lastActionAt + policy.cooldownSeconds * 1000 : null;
    const spent = history?.spentInWindow ?? 0n;
    return {
      executor: { chainId, signer: loadSigner(this.env)?.address ?? null },
      spentLast24h: formatUnits(spent, decimals),
      remainingLast24h: formatUnits(perDay > spent ? perDay - spent : 0n, decimals),
      cooldownUntil: cooldownEnd !== null && cooldownEnd > now ? new Date(cooldownEnd).toISOString() : null,
      inFlight: rows.some((row) => row.status === 'in_flight'),
      lastFailure: failure ? { code: failure.code, message: failure.message, at: new Date(failure.at).toISOString() } : null,
      recent: rows.slice(0, 5).map((row) => this.actionView(row, decimals)),
    };
  }

  // ── the pass ──────────────────────────────────────────────────────────────

  private async processOnce(): Promise<ProcessSummary> {
    let runtime: Runtime;
    try {
      runtime = { config: parseConfig(this.env as unknown as Record<string, unknown>), signer: loadSigner(this.env) };
    } catch (error) {
      // A bad setting is named in /health; requests wait for it to be fixed.
      return { handled: 0, inFlight: false, error: findAppError(error)?.code ?? 'invalid_config' };
    }
    let handled = 0;
    let error: string | null = null;
    try {
      const inFlight = this.inFlightAction();
      if (inFlight && (await this.advance(inFlight.id, runtime)) === 'waiting') {
        await this.handOff();
        return { handled, inFlight: true, error };
      }
      const now = Date.now();
      this.sql.exec('DELETE FROM requests WHERE received_at < ?', now - REQUEST_TTL_MS);
      for (const row of this.sql.exec<RequestRow>('SELECT * FROM requests ORDER BY received_at').toArray()) {
        const request = JSON.parse(row.body) as TopUpRequest;
        const outcome = await this.handleRequest(request, runtime, Date.now());
        // A newer request for the watch may have arrived meanwhile; it stays for the next pass.
        this.sql.exec('DELETE FROM requests WHERE watch_id = ? AND received_at = ?', row.watch_id, row.received_at);
        handled += 1;
        if (outcome === 'waiting') break; // a transaction is in flight: later nonces wait
      }
    } catch (caught) {
      const appError = findAppError(caught);
      error = appError ? `${appError.code}: ${appError.message}` : `internal: ${caught instanceof Error ? caught.name : 'unknown'}`;
      if (!appError) console.error('topup pass failed', caught instanceof Error ? `${caught.name}: ${redactUrlsInText(caught.message.slice(0, 200))}` : 'unknown');
    }
    this.sql.exec('DELETE FROM notices WHERE handed_off = 1 AND created_at < ?', Date.now() - NOTICE_RETENTION_MS);
    await this.handOff();
    return { handled, inFlight: this.inFlightAction() !== undefined, error };
  }

  private nextWakeUp(summary: ProcessSummary): number | null {
    const now = Date.now();
    const pending = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM requests').one().n;
    const undelivered = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM notices WHERE handed_off = 0').one().n;
    const poll = this.pollMs();
    if (summary.inFlight || summary.error !== null || undelivered > 0) return now + poll;
    if (pending > 0) return now + 1000;
    return null;
  }

  private pollMs(): number {
    try {
      return parseConfig(this.env as unknown as Record<string, unknown>).pollIntervalSeconds * 1000;
    } catch {
      return 12_000;
    }
  }

  // ── deciding ──────────────────────────────────────────────────────────────

  private async handleRequest(request: TopUpRequest, runtime: Runtime, now: number): Promise<'done' | 'waiting'> {
    const stored = request.policy;
    const policy = policyForPlanning(stored);
    if (!policy.enabled) return 'done';
    const watchId = request.watch.id;
    const actions = this.sql.exec<ActionRow>('SELECT * FROM actions WHERE watch_id = ?', watchId).toArray();

    // An observation from before our last action was mined (or from the very block a dry run
    // decided on) describes a position already acted on; the shard's next tick will say
    // whether it still needs help. The block of our mined transaction already includes it.
    const observedBlock = BigInt(request.observedBlock);
    const stale = actions.some((row) => (row.block_after !== null ? observedBlock < BigInt(row.block_after) : row.block_before !== null && observedBlock <= BigInt(row.block_before)));
    if (stale) return 'done';
    const lastSeen = actions.reduce<bigint | null>((max, row) => {
      const block = row.block_after ?? row.block_before;
      return block !== null && (max === null || BigInt(block) > max) ? BigInt(block) : max;
    }, null);

    const trigger: Trigger = { watchId, episode: request.episode, slot: 1 + actions.filter((row) => row.episode === request.episode).length };
    const history = summarizeHistory(actions.map(pastAction), { asset: stored.asset, dryRun: stored.dryRun, now });
    const base = { policy, ...history, now };

    // Cheap gate on the shard's observation: most requests stop here without any RPC.
    const observed = request.observedHealthFactor === null ? null : BigInt(request.observedHealthFactor);
    const gate = planTopUp({ ...base, position: { healthFactor: observed }, walletBalance: undefined });
    if (gate.action === 'skip') {
      if (gate.reason === 'disabled' || gate.reason === 'above_trigger') return 'done';
      const waiting = gate.reason === 'cooldown' || gate.reason === 'day_cap_reached';
      if (waiting && this.hasNotice(topUpEventId(trigger, 'topup.skipped', gate.reason))) return 'done';
      if (!waiting && this.inBackoff(watchId, now)) return 'done';
    }
    if (!stored.dryRun && !runtime.signer) {
      this.refuse(trigger, request, 'signer_not_configured', 'live top-ups need TOPUP_PRIVATE_KEY (wrangler secret put TOPUP_PRIVATE_KEY); the policy is live (dryRun false) but no key is set');
      return 'done';
    }

    const fresh = await this.readFresh(request, runtime, lastSeen);
    if (!fresh.ok) {
      this.refuse(trigger, request, fresh.code, fresh.message);
      return 'done';
    }
    const state = fresh.state;
    const plan = planTopUp({
      ...base,
      position: { healthFactor: state.snapshot.healthFactor, assets: state.snapshot.assets },
      collateralParams: state.collateralParams,
      walletBalance: state.wallet?.token,
    });
    if (plan.action === 'skip') {
      if (plan.reason === 'disabled' || plan.reason === 'above_trigger') return 'done';
      const steps = plan.proposal ? this.buildSteps(request, state, plan.proposal.amount, runtime.signer?.address ?? null) : null;
      const described = plan.proposal && steps ? describeTransaction(steps, request, state, runtime.signer?.address ?? null) : null;
      const eventInput: TopUpEventInput = {
        type: 'topup.skipped',
        trigger,
        watch: request.watch,
        policy: stored,
        createdAt: new Date(now),
        // A repayment is sized to one rate mode's balance (buildSteps); show what would really go out.
        amount: steps?.amount ?? plan.proposal?.amount ?? null,
        amountNeeded: plan.proposal?.amountNeeded ?? null,
        reachesTarget: plan.proposal?.reachesTarget ?? null,
        cappedBy: plan.proposal?.cappedBy ?? [],
        healthFactorBefore: state.snapshot.healthFactor,
        blockNumber: state.block.number,
        reason: plan.reason,
        message: skipMessage(plan, state, stored),
        retryAt: plan.retryAt ?? null,
        wallet: { address: runtime.signer?.address ?? null, balance: state.wallet?.token ?? null },
        transaction: described,
      };
      if (plan.reason === 'dry_run' && plan.proposal && steps) {
        // The dry run takes the slot like a live action would, so the next one waits for the cooldown too.
        this.ctx.storage.transactionSync(() => {
          this.insertAction(trigger, request, { ...plan.proposal!, amount: steps.amount, dryRun: true, status: 'dry_run', steps: steps.steps, hfBefore: state.snapshot.healthFactor, blockBefore: state.block.number, now });
          this.notice(request, eventInput);
        });
        return 'done';
      }
      this.ctx.storage.transactionSync(() => {
        // Cooldown and day cap lift at a known time (the gate stops repeats); the others
        // (an empty wallet, collateral turned off) need someone to act: look again after a backoff.
        if (plan.reason !== 'cooldown' && plan.reason !== 'day_cap_reached') this.recordFailure(watchId, plan.reason, eventInput.message, now);
        this.notice(request, eventInput);
      });
      return 'done';
    }
    return this.startAction(trigger, request, plan, state, runtime, now);
  }

  private async readFresh(request: TopUpRequest, runtime: Runtime, lastSeen: bigint | null): Promise<{ ok: true; state: FreshState } | { ok: false; code: TopUpFailureCode; message: string }> {
    const chain = runtime.config.chains.get(request.watch.chainId);
    if (!chain) return { ok: false, code: 'unknown_chain', message: `chain ${request.watch.chainId} is not configured in RPC_URLS` };
    const probes = await Promise.all(
      chain.rpcUrls.map((url) => probeEndpoint(url, { pool: request.watch.market, account: request.watch.account, timeoutMs: runtime.config.rpcTimeoutMs })),
    );
    const observed = BigInt(request.observedBlock);
    const minBlock = lastSeen !== null && lastSeen > observed ? lastSeen : observed;
    const consensus = checkEndpoints(probes, { chainId: request.watch.chainId, minBlock });
    if (!consensus.ok) return consensus;
    try {
      const { client } = this.client(runtime.config, request.watch.chainId);
      const state = await readFreshState(
        { client, chainId: request.watch.chainId, multicall3: chain.multicall3 },
        { pool: request.watch.market, account: request.watch.account, asset: request.policy.asset, signer: runtime.signer?.address ?? null, blockNumber: consensus.blockNumber },
      );
      return { ok: true, state };
    } catch (error) {
      const appError = findAppError(error);
      const code = (appError?.code === 'asset_not_in_market' ? 'asset_not_in_market' : appError?.code === 'rpc_unavailable' ? 'rpc_unavailable' : 'read_failed') as TopUpFailureCode;
      return { ok: false, code, message: appError?.message ?? `reading the position failed: ${shortMessage(error)}` };
    }
  }

  private buildSteps(request: TopUpRequest, state: FreshState, amount: bigint, signer: Address | null): { steps: Step[]; amount: bigint; rateMode: 1n | 2n | null } {
    const pool = request.watch.market;
    const asset = state.reserve.asset;
    let rateMode: 1n | 2n | null = null;
    let action: Step;
    if (request.policy.mode === 'supply') {
      action = supplyStep(pool, asset, amount, request.watch.account);
    } else {
      // Aave repays one rate mode per call: the larger balance, and never more than it.
      rateMode = state.debt.stable > state.debt.variable ? 1n : 2n;
      const owed = rateMode === 1n ? state.debt.stable : state.debt.variable;
      if (amount > owed) amount = owed;
      action = repayStep(pool, asset, amount, rateMode, request.watch.account);
    }
    const steps: Step[] = [];
    // Exactly the amount, never unlimited: a compromised or buggy pool can take no more than this action.
    const allowance = signer && state.wallet ? state.wallet.allowance : 0n;
    if (allowance < amount) {
      // Tokens such as USDT refuse to change a non-zero allowance to another non-zero value.
      if (allowance > 0n) steps.push(approveStep(asset, pool, 0n));
      steps.push(approveStep(asset, pool, amount));
    }
    steps.push(action);
    return { steps, amount, rateMode };
  }

  // ── acting ────────────────────────────────────────────────────────────────

  private async startAction(trigger: Trigger, request: TopUpRequest, plan: Extract<TopUpPlan, { action: 'send' }>, state: FreshState, runtime: Runtime, now: number): Promise<'done' | 'waiting'> {
    const signer = runtime.signer!;
    const { client } = this.client(runtime.config, request.watch.chainId);
    const quote = quoteFees(state.fees, runtime.config.topUp.maxGasWei);
    if (!quote.ok) {
      this.refuse(trigger, request, quote.code, quote.message, { plan, state, signer: signer.address });
      return 'done';
    }
    const built = this.buildSteps(request, state, plan.amount, signer.address);
    const cappedBy: CapReason[] = built.amount < plan.amount && !plan.cappedBy.includes('debt') ? [...plan.cappedBy, 'debt'] : plan.cappedBy;
    const sized = { ...plan, amount: built.amount, cappedBy, reachesTarget: plan.reachesTarget && built.amount === plan.amount };

    // The exact transactions, in order, against the latest state: a revert stops everything before anything is sent.
    let gas: Array<bigint | null>;
    const simulation = await simulateSteps(client, signer.address, built.steps);
    if (simulation.ok === 'unsupported') {
      // Without eth_simulateV1 only the first transaction can be checked now; later ones are checked just before they are sent.
      const first = await simulateStep(client, signer.address, built.steps[0]!);
      if (!first.ok) {
        this.refuse(trigger, request, 'simulation_reverted', `${built.steps[0]!.kind} would revert: ${first.reason}; nothing was sent`, { plan: sized, state, signer: signer.address });
        return 'done';
      }
      gas = built.steps.map((_, index) => (index === 0 ? (first.gas * 12n) / 10n : null));
    } else if (!simulation.ok) {
      const step = built.steps[simulation.step];
      this.refuse(trigger, request, 'simulation_reverted', `${step?.kind ?? 'transaction'} would revert: ${simulation.reason}; nothing was sent`, { plan: sized, state, signer: signer.address });
      return 'done';
    } else {
      gas = simulation.gasUsed.map(paddedGas);
    }

    const worstCost = gas.reduce<bigint>((sum, limit) => sum + maxGasCost(quote.fees, limit ?? 500_000n), 0n);
    if (state.wallet && state.wallet.native < worstCost) {
      this.refuse(trigger, request, 'insufficient_gas_funds', `the executor wallet has ${formatUnits(state.wallet.native, 18)} of the native token, less than the ${formatUnits(worstCost, 18)} the transactions may cost in gas; send it some`, { plan: sized, state, signer: signer.address });
      return 'done';
    }

    const nonce = await this.nextNonce(client, signer.address);
    const signed = await signStep(signer, { chainId: request.watch.chainId, nonce, step: built.steps[0]!, gas: gas[0]!, fees: quote.fees });
    const actionId = triggerId(trigger);
    const storedSteps: StoredStep[] = built.steps.map((step, index) => ({ kind: step.kind, to: step.to, data: step.data, gas: gas[index]?.toString() ?? null }));
    // The intent: action, nonce and the signed bytes (hence the hash), durable before the broadcast.
    this.ctx.storage.transactionSync(() => {
      this.insertAction(trigger, request, { ...sized, dryRun: false, status: 'in_flight', steps: built.steps, storedSteps, hfBefore: state.snapshot.healthFactor, blockBefore: state.block.number, now });
      this.insertTx(actionId, 0, built.steps[0]!.kind, nonce, gas[0]!, signed, quote.fees);
      this.sql.exec('DELETE FROM failures WHERE watch_id = ?', request.watch.id);
    });
    await this.sendAttempt(client, actionId, signed.hash, signed.raw);
    return this.advance(actionId, runtime);
  }

  /**
   * Drives an in-flight action to its end: receipts, the next step after an approval,
   * replacements of a stuck transaction, and the final health factor. Safe to call any
   * number of times: every step is decided from storage and the chain, never from memory.
   */
  private async advance(actionId: string, runtime: Runtime): Promise<'done' | 'waiting'> {
    for (let guard = 0; guard < 16; guard++) {
      const action = this.sql.exec<ActionRow>('SELECT * FROM actions WHERE id = ?', actionId).toArray()[0];
      if (!action || action.status !== 'in_flight') return 'done';
      const request = JSON.parse(action.request) as TopUpRequest;
      const { client } = this.client(runtime.config, request.watch.chainId);
      const steps = JSON.parse(action.steps) as StoredStep[];
      const tx = this.sql.exec<TxRow>('SELECT * FROM txs WHERE action_id = ? AND step_index = ? ORDER BY id DESC LIMIT 1', actionId, action.step_index).toArray()[0];
      if (!tx) {
        const started = await this.startStep(action, request, steps, runtime, client);
        if (started !== 'started') return started;
        continue;
      }
      if (tx.status === 'pending') {
        if ((await this.checkTx(tx, action, request, runtime, client)) === 'pending') return 'waiting';
        continue;
      }
      if (tx.status === 'mined') {
        if (action.step_index < steps.length - 1) {
          this.sql.exec('UPDATE actions SET step_index = step_index + 1 WHERE id = ? AND step_index = ?', actionId, action.step_index);
          continue;
        }
        await this.confirm(action, request, tx, client);
        return 'done';
      }
      const failedStep = steps[action.step_index]?.kind ?? 'transaction';
      if (tx.status === 'reverted') this.ctx.storage.transactionSync(() => this.failAction(action, request, 'tx_reverted', `the ${failedStep} transaction ${tx.mined_hash} was mined but reverted`));
      return 'done';
    }
    return 'waiting';
  }

  /** The next transaction of an action (after an approval was mined): checked, priced, intent recorded, sent. */
  private async startStep(action: ActionRow, request: TopUpRequest, steps: StoredStep[], runtime: Runtime, client: PublicClient): Promise<'started' | 'done' | 'waiting'> {
    const signer = runtime.signer;
    const step = steps[action.step_index];
    if (!signer || !step) {
      this.ctx.storage.transactionSync(() => this.failAction(action, request, 'signer_not_configured', 'TOPUP_PRIVATE_KEY was removed while a top-up was in flight; the remaining transaction was not sent'));
      return 'done';
    }
    const check = await simulateStep(client, signer.address, step);
    if (!check.ok) {
      this.ctx.storage.transactionSync(() => this.failAction(action, request, 'simulation_reverted', `${step.kind} would revert: ${check.reason}; it was not sent (earlier approvals stand, for exactly this amount)`));
      return 'done';
    }
    const quote = quoteFees(await readFeeMarket(client), runtime.config.topUp.maxGasWei);
    if (!quote.ok) {
      // The action stays in flight and retries on the next pass; told once.
      this.notice(request, this.eventInput(action, request, 'topup.failed', { reason: quote.code, message: quote.message }));
      return 'waiting';
    }
    const gas = step.gas !== null ? BigInt(step.gas) : paddedGas(check.gas);
    const nonce = await this.nextNonce(client, signer.address);
    const signed = await signStep(signer, { chainId: request.watch.chainId, nonce, step, gas, fees: quote.fees });
    this.ctx.storage.transactionSync(() => this.insertTx(action.id, action.step_index, step.kind, nonce, gas, signed, quote.fees));
    await this.sendAttempt(client, action.id, signed.hash, signed.raw);
    return 'started';
  }

  /** One look at a pending transaction: receipt, or rebroadcast / replace / give up, then a short wait. */
  private async checkTx(tx: TxRow, action: ActionRow, request: TopUpRequest, runtime: Runtime, client: PublicClient): Promise<'pending' | 'final'> {
    const signer = runtime.signer;
    let attempts = JSON.parse(tx.attempts) as Attempt[];
    const found = await this.findReceipt(client, attempts);
    if (found) return this.recordReceipt(tx, found);
    if (!signer) return 'pending'; // cannot sign replacements; receipts are still watched

    const now = Date.now();
    if ((await confirmedNonce(client, signer.address)) > tx.nonce) {
      // The nonce is used. One of our attempts should have a receipt; look once more (the node may have just caught up).
      const late = await this.findReceipt(client, attempts);
      if (late) return this.recordReceipt(tx, late);
      this.ctx.storage.transactionSync(() => {
        this.sql.exec("UPDATE txs SET status = 'dropped' WHERE id = ?", tx.id);
        this.failAction(action, request, 'nonce_used_elsewhere', `nonce ${tx.nonce} of the executor was used by a transaction this executor did not send; is TOPUP_PRIVATE_KEY used elsewhere?`);
      });
      return 'final';
    }

    const latest = attempts[attempts.length - 1]!;
    const first = attempts[0]!;
    let replaced = false;
    if (now - latest.signedAt > REPLACE_AFTER_MS) {
      const bumped = bumpFees(feesOf(latest.fees), await readFeeMarket(client), runtime.config.topUp.maxGasWei);
      if (bumped) {
        // Same nonce, same call, higher fees: whichever attempt lands, the nonce allows only one.
        const signed = await signStep(signer, { chainId: request.watch.chainId, nonce: tx.nonce, step: this.stepOf(action, tx), gas: BigInt(tx.gas), fees: bumped });
        attempts = [...attempts, { hash: signed.hash, raw: signed.raw, fees: storedFees(bumped), signedAt: now, broadcastAt: null, broadcastError: null }];
        this.sql.exec('UPDATE txs SET attempts = ? WHERE id = ?', JSON.stringify(attempts), tx.id);
        await this.sendAttempt(client, action.id, signed.hash, signed.raw);
        replaced = true;
      }
    }
    // Any attempt the node still holds may land; only when none is known is the latest sent again (or given up).
    if (!replaced && !(await this.anyKnown(client, attempts))) {
      if (now - first.signedAt > ABANDON_AFTER_MS) {
        // No node has it and its nonce is free: nothing of ours can land with it any more
        // unless resent, so the nonce is released. Its amount still counts toward the day cap.
        this.ctx.storage.transactionSync(() => {
          this.sql.exec("UPDATE txs SET status = 'dropped' WHERE id = ?", tx.id);
          this.sql.exec("UPDATE meta SET value = ? WHERE key = 'next_nonce' AND CAST(value AS INTEGER) > ?", String(tx.nonce), tx.nonce);
          this.failAction(action, request, 'tx_dropped', `the ${tx.kind} transaction (nonce ${tx.nonce}) was not accepted by any node for ${ABANDON_AFTER_MS / 60_000} minutes; given up`);
        });
        return 'final';
      }
      // Never broadcast (a restart between intent and send) or dropped from the mempool: the same bytes again.
      await this.sendAttempt(client, action.id, latest.hash, latest.raw);
    }
    if (now - first.signedAt > TX_TIMEOUT_MS && tx.timeout_notified === 0) {
      this.sql.exec('UPDATE txs SET timeout_notified = 1 WHERE id = ?', tx.id);
      this.notice(request, this.eventInput(action, request, 'topup.failed', {
        reason: 'tx_timeout',
        message: `the ${tx.kind} transaction (nonce ${tx.nonce}, last ${latest.hash}) has no receipt after ${TX_TIMEOUT_MS / 60_000} minutes; it is still tracked and replaced with higher fees up to TOPUP_MAX_GAS_GWEI, and no other transaction is sent for this trigger`,
      }));
    }

    // About one block: long enough for a receipt on most chains, short enough for an alarm.
    const deadline = Date.now() + Math.min(15_000, runtime.config.pollIntervalSeconds * 1000);
    while (Date.now() < deadline) {
      await sleep(250);
      const receipt = await this.findReceipt(client, attempts);
      if (receipt) return this.recordReceipt(tx, receipt);
    }
    return 'pending';
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

  private recordReceipt(tx: TxRow, receipt: TransactionReceipt): 'final' {
    this.sql.exec(
      'UPDATE txs SET status = ?, mined_hash = ?, block_number = ? WHERE id = ?',
      receipt.status === 'success' ? 'mined' : 'reverted', receipt.transactionHash, receipt.blockNumber.toString(), tx.id,
    );
    return 'final';
  }

  private async confirm(action: ActionRow, request: TopUpRequest, tx: TxRow, client: PublicClient): Promise<void> {
    const block = BigInt(tx.block_number!);
    const after = await healthFactorAt(client, request.watch.market, request.watch.account, block);
    const approve = this.sql.exec<{ mined_hash: string | null }>("SELECT mined_hash FROM txs WHERE action_id = ? AND kind = 'approve' AND status = 'mined' ORDER BY id DESC LIMIT 1", action.id).toArray()[0];
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE actions SET status = 'confirmed', hf_after = ?, block_after = ?, finished_at = ? WHERE id = ?", after === null ? null : after.toString(), block.toString(), Date.now(), action.id);
      const before = action.hf_before === null ? null : BigInt(action.hf_before);
      const verb = request.policy.mode === 'supply' ? 'supplied' : 'repaid';
      this.notice(request, this.eventInput(action, request, 'topup.executed', {
        healthFactorAfter: after,
        blockNumber: block,
        txHash: tx.mined_hash as Hex,
        approveTxHash: (approve?.mined_hash ?? null) as Hex | null,
        reason: null,
        message: `${verb} ${formatUnits(BigInt(action.amount), request.policy.decimals)} ${request.policy.symbol} on behalf of the account: health factor ${show(before)} → ${show(after)}${action.reaches_target === 1 ? '' : ` (target ${request.policy.targetHealthFactor} not reachable within ${describeCaps(JSON.parse(action.capped_by) as CapReason[])})`}`,
      }));
    });
  }

  // ── records ───────────────────────────────────────────────────────────────

  private insertAction(
    trigger: Trigger,
    request: TopUpRequest,
    input: { amount: bigint; amountNeeded: bigint; reachesTarget: boolean; cappedBy: CapReason[]; dryRun: boolean; status: ActionStatus; steps: Step[]; storedSteps?: StoredStep[]; hfBefore: bigint | null; blockBefore: bigint; now: number },
  ): void {
    const storedSteps = input.storedSteps ?? input.steps.map((step) => ({ kind: step.kind, to: step.to, data: step.data, gas: null }));
    this.sql.exec(
      `INSERT INTO actions (id, watch_id, tenant_id, episode, slot, dry_run, status, asset, amount, amount_needed, reaches_target, capped_by, steps, step_index, request, hf_before, block_before, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`,
      triggerId(trigger), trigger.watchId, request.tenantId, trigger.episode, trigger.slot, input.dryRun ? 1 : 0, input.status, request.policy.asset,
      input.amount.toString(), input.amountNeeded.toString(), input.reachesTarget ? 1 : 0, JSON.stringify(input.cappedBy), JSON.stringify(storedSteps),
      JSON.stringify(request), input.hfBefore === null ? null : input.hfBefore.toString(), input.blockBefore.toString(), input.now,
    );
  }

  private insertTx(actionId: string, stepIndex: number, kind: StepKind, nonce: number, gas: bigint, signed: { hash: Hex; raw: Hex }, fees: Fees): void {
    const attempt: Attempt = { hash: signed.hash, raw: signed.raw, fees: storedFees(fees), signedAt: Date.now(), broadcastAt: null, broadcastError: null };
    this.sql.exec(
      "INSERT INTO txs (nonce, action_id, step_index, kind, gas, status, attempts, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
      nonce, actionId, stepIndex, kind, gas.toString(), JSON.stringify([attempt]), Date.now(),
    );
    this.sql.exec("INSERT INTO meta (key, value) VALUES ('next_nonce', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", String(nonce + 1));
  }

  /**
   * Broadcasts and records the outcome on the attempt. A rejection is told once (it often
   * needs the owner: gas money, a key used elsewhere) and retried by the next look, never
   * turned into a new intent.
   */
  private async sendAttempt(client: PublicClient, actionId: string, hash: Hex, raw: Hex): Promise<void> {
    const result = await broadcast(client, raw);
    const row = this.sql.exec<TxRow>("SELECT * FROM txs WHERE action_id = ? AND status = 'pending' ORDER BY id DESC LIMIT 1", actionId).toArray()[0];
    if (!row) return;
    const accepted = result.ok || result.known;
    const attempts = (JSON.parse(row.attempts) as Attempt[]).map((attempt) =>
      attempt.hash === hash ? { ...attempt, broadcastAt: accepted ? Date.now() : attempt.broadcastAt, broadcastError: accepted ? null : result.message } : attempt,
    );
    this.ctx.storage.transactionSync(() => {
      this.sql.exec('UPDATE txs SET attempts = ? WHERE id = ?', JSON.stringify(attempts), row.id);
      const action = this.sql.exec<ActionRow>('SELECT * FROM actions WHERE id = ?', actionId).toArray()[0];
      if (!result.ok && !result.known && action) {
        const request = JSON.parse(action.request) as TopUpRequest;
        this.notice(request, this.eventInput(action, request, 'topup.failed', {
          reason: 'broadcast_failed',
          message: `the node refused the ${row.kind} transaction (nonce ${row.nonce}): ${result.message}; it is retried with the same nonce and given up after ${ABANDON_AFTER_MS / 60_000} minutes if no node takes it`,
        }));
      }
    });
  }

  /** The chain's pending count, or ours if higher (a transaction we sent that this node has not seen yet). */
  private async nextNonce(client: PublicClient, address: Address): Promise<number> {
    const chain = await pendingNonce(client, address);
    const local = Number(this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'next_nonce'").toArray()[0]?.value ?? 0);
    return Math.max(chain, local);
  }

  private stepOf(action: ActionRow, tx: TxRow): Pick<Step, 'to' | 'data'> {
    const step = (JSON.parse(action.steps) as StoredStep[])[tx.step_index]!;
    return { to: step.to, data: step.data };
  }

  /** Final failure of an action; callers that change other rows too wrap it in their transaction. */
  private failAction(action: ActionRow, request: TopUpRequest, code: TopUpFailureCode, message: string): void {
    this.sql.exec("UPDATE actions SET status = 'failed', error = ?, finished_at = ? WHERE id = ?", `${code}: ${message}`, Date.now(), action.id);
    this.notice(request, this.eventInput(action, request, 'topup.failed', { reason: code, message }));
  }

  /** A refusal before anything is signed: told once per trigger and reason, retried after a backoff. */
  private refuse(trigger: Trigger, request: TopUpRequest, code: TopUpFailureCode, message: string, context?: { plan: Extract<TopUpPlan, { action: 'send' }>; state: FreshState; signer: Address }): void {
    const now = Date.now();
    let transaction: TransactionView | null = null;
    if (context) {
      const built = this.buildSteps(request, context.state, context.plan.amount, context.signer);
      transaction = describeTransaction(built, request, context.state, context.signer);
    }
    this.ctx.storage.transactionSync(() => {
      this.recordFailure(request.watch.id, code, message, now);
      this.notice(request, {
        type: 'topup.failed',
        trigger,
        watch: request.watch,
        policy: request.policy,
        createdAt: new Date(now),
        amount: context?.plan.amount ?? null,
        amountNeeded: context?.plan.amountNeeded ?? null,
        reachesTarget: context?.plan.reachesTarget ?? null,
        cappedBy: context?.plan.cappedBy ?? [],
        healthFactorBefore: context?.state.snapshot.healthFactor,
        blockNumber: context?.state.block.number ?? null,
        reason: code,
        message,
        transaction,
      });
    });
  }

  private eventInput(action: ActionRow, request: TopUpRequest, type: TopUpEventInput['type'], extra: Partial<TopUpEventInput> & { reason: TopUpEventInput['reason']; message: string }): TopUpEventInput {
    return {
      type,
      trigger: { watchId: action.watch_id, episode: action.episode, slot: action.slot },
      watch: request.watch,
      policy: request.policy,
      createdAt: new Date(),
      amount: BigInt(action.amount),
      amountNeeded: BigInt(action.amount_needed),
      reachesTarget: action.reaches_target === 1,
      cappedBy: JSON.parse(action.capped_by) as CapReason[],
      healthFactorBefore: action.hf_before === null ? null : BigInt(action.hf_before),
      blockNumber: action.block_before === null ? null : BigInt(action.block_before),
      transaction: describeStoredSteps(JSON.parse(action.steps) as StoredStep[], request, loadSigner(this.env)?.address ?? null),
      ...extra,
    };
  }

  /** Records an event for the tenant (idempotent by id); handed off after the state is stored. */
  private notice(request: TopUpRequest, input: TopUpEventInput): void {
    const body = buildTopUpEvent(input);
    this.sql.exec('INSERT OR IGNORE INTO notices (event_id, tenant_id, watch_id, body, created_at) VALUES (?, ?, ?, ?, ?)', body.id, request.tenantId, request.watch.id, JSON.stringify(body), Date.now());
  }

  private hasNotice(eventId: string): boolean {
    return this.sql.exec('SELECT 1 FROM notices WHERE event_id = ?', eventId).toArray().length > 0;
  }

  /** The watch's last refusal: shown in topUpState.lastFailure, and the start of its retry backoff. */
  private recordFailure(watchId: string, code: string, message: string, at: number): void {
    this.sql.exec(
      'INSERT INTO failures (watch_id, code, message, at) VALUES (?, ?, ?, ?) ON CONFLICT(watch_id) DO UPDATE SET code = excluded.code, message = excluded.message, at = excluded.at',
      watchId, code, message, at,
    );
  }

  private inBackoff(watchId: string, now: number): boolean {
    const failure = this.sql.exec<{ at: number }>('SELECT at FROM failures WHERE watch_id = ?', watchId).toArray()[0];
    return failure !== undefined && now - failure.at < FAILURE_BACKOFF_MS;
  }

  /** Same hand-off as the shard's: kept until the tenant confirms; the tenant ignores ids it has. */
  private async handOff(): Promise<void> {
    const rows = this.sql.exec<NoticeRow>('SELECT event_id, tenant_id, watch_id, body FROM notices WHERE handed_off = 0 ORDER BY created_at, event_id').toArray();
    const byTenant = new Map<string, NoticeRow[]>();
    for (const row of rows) byTenant.set(row.tenant_id, [...(byTenant.get(row.tenant_id) ?? []), row]);
    for (const [tenantId, tenantRows] of byTenant) {
      try {
        await tenantStub(this.env, tenantId).ingestEvents(tenantRows.map((row) => ({ eventId: row.event_id, watchId: row.watch_id, body: row.body, silenced: false })));
        for (const row of tenantRows) this.sql.exec('UPDATE notices SET handed_off = 1 WHERE event_id = ?', row.event_id);
      } catch {
        // Kept for the next pass.
      }
    }
  }

  private inFlightAction(): ActionRow | undefined {
    return this.sql.exec<ActionRow>("SELECT * FROM actions WHERE status = 'in_flight' ORDER BY created_at LIMIT 1").toArray()[0];
  }

  private client(config: AppConfig, chainId: number): ChainClient {
    const chain = config.chains.get(chainId);
    if (!chain) throw new Error(`chain ${chainId} is not configured`);
    if (!this.chainClient || this.chainClient.chain.chainId !== chainId || this.chainClient.chain.rpcUrls.join() !== chain.rpcUrls.join()) {
      this.chainClient = createChainClient(chain, { timeoutMs: config.rpcTimeoutMs });
    }
    return this.chainClient;
  }

  private actionView(row: ActionRow, decimals: number): TopUpActionView {
    const txs = this.sql.exec<TxRow>('SELECT * FROM txs WHERE action_id = ? ORDER BY id', row.id).toArray();
    const main = txs.filter((tx) => tx.kind !== 'approve').at(-1);
    const approve = txs.filter((tx) => tx.kind === 'approve').at(-1);
    const hashOf = (tx: TxRow | undefined) => (tx ? ((tx.mined_hash ?? (JSON.parse(tx.attempts) as Attempt[]).at(-1)?.hash ?? null) as Hex | null) : null);
    return {
      id: row.id,
      status: row.status,
      dryRun: row.dry_run === 1,
      mode: (JSON.parse(row.request) as TopUpRequest).policy.mode,
      asset: row.asset as Address,
      amount: formatUnits(BigInt(row.amount), decimals),
      reachesTarget: row.reaches_target === 1,
      txHash: hashOf(main),
      approveTxHash: hashOf(approve),
      healthFactorBefore: row.hf_before === null ? null : show(BigInt(row.hf_before)),
      healthFactorAfter: row.hf_after === null ? null : show(BigInt(row.hf_after)),
      error: row.error,
      createdAt: new Date(row.created_at).toISOString(),
      finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
    };
  }
}

// ── pure helpers ────────────────────────────────────────────────────────────

function pastAction(row: ActionRow): PastAction {
  // Anything that may have moved tokens counts (even a dropped transaction), to stay under the cap.
  // A reverted action, or one whose last transaction was refused by simulation after its
  // approval, moved no tokens (an approval moves none).
  const moved = !(row.status === 'failed' && /^(tx_reverted|simulation_reverted|signer_not_configured)/.test(row.error ?? ''));
  return { asset: row.asset as Address, amount: BigInt(row.amount), at: row.created_at, dryRun: row.dry_run === 1, spends: moved };
}

function storedFees(fees: Fees): StoredFees {
  return fees.type === 'eip1559'
    ? { type: 'eip1559', maxFeePerGas: fees.maxFeePerGas.toString(), maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString() }
    : { type: 'legacy', gasPrice: fees.gasPrice.toString() };
}

function feesOf(stored: StoredFees): Fees {
  return stored.type === 'eip1559'
    ? { type: 'eip1559', maxFeePerGas: BigInt(stored.maxFeePerGas), maxPriorityFeePerGas: BigInt(stored.maxPriorityFeePerGas) }
    : { type: 'legacy', gasPrice: BigInt(stored.gasPrice) };
}

function show(healthFactor: bigint | null): string {
  if (healthFactor === null) return '∞';
  return formatUnits(healthFactor - (healthFactor % 10n ** 14n), 18);
}

function describeCaps(caps: CapReason[]): string {
  const words: Record<CapReason, string> = { per_action: 'maxAmountPerAction', per_day: 'the 24-hour cap', wallet_balance: 'the executor wallet balance', debt: 'the debt of this asset' };
  return caps.map((cap) => words[cap]).join(', ') || 'the caps';
}

function skipMessage(plan: Extract<TopUpPlan, { action: 'skip' }>, state: FreshState, policy: StoredTopUpPolicy): string {
  // A dry-run policy never tops up: its cooldown runs from the last dry run, say so.
  const base = plan.reason === 'cooldown' && policy.dryRun ? 'dry run: the health factor is still below the trigger; the next dry run waits for the cooldown since the last one' : SKIP_MESSAGES[plan.reason];
  const amount = plan.proposal ? ` It would send ${formatUnits(plan.proposal.amount, policy.decimals)} ${policy.symbol}.` : '';
  const wallet = plan.reason === 'dry_run' && state.wallet && plan.proposal && state.wallet.token < plan.proposal.amount
    ? ` The executor wallet holds only ${formatUnits(state.wallet.token, policy.decimals)} ${policy.symbol}.`
    : '';
  return `${base}.${amount}${wallet}`;
}

function describeTransaction(built: { steps: Step[] }, request: TopUpRequest, _state: FreshState, signer: Address | null): TransactionView {
  return describeStoredSteps(built.steps.map((step) => ({ kind: step.kind, to: step.to, data: step.data, gas: null })), request, signer);
}

/** The human-checkable face of the transactions: function, arguments in words, and the exact calldata. */
function describeStoredSteps(steps: StoredStep[], request: TopUpRequest, signer: Address | null): TransactionView {
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
