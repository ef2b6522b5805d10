import { tenantStub } from '../durable/stubs';
import { redactUrlsInText } from '../lib/redact-text';
import type { Address, Hex, LocalAccount, PublicClient } from 'viem';
import { parseConfig, type AppConfig } from '../config/env';
import { policyForPlanning, type StoredTopUpPolicy } from '../config/topup-policy';
import { createChainClient, ISOLATE_PROVEN_CHAINS, type ChainClient } from '../chain/client';
import { findAppError } from '../lib/find-app-error';
import { DRY_RUN_RETENTION_MS, MAX_DRY_RUNS_PER_DAY } from './retention';
import { AppError } from '../lib/errors';
import { planTopUp, summarizeHistory, type CapReason } from '../domain/topup-plan';
import { buildTopUpEvent, topUpEventId, triggerId, type TopUpEventInput, type TopUpFailureCode, type TransactionView, type Trigger } from './events';
import { checkEndpoints, quoteFees } from './guards';
import {
  healthFactorAt,
  paddedGas,
  probeEndpoint,
  readFeeMarket,
  readFreshState,
  readObservedState,
  signStep,
  simulateStep,
  simulateSteps,
  type FreshState,
  type Step,
} from './chain';
import { loadSigner } from './signer';
import { parseRequest, type TopUpRequest } from './request';
import {
  parseSteps,
  stepCallOf,
  stepOf,
  storedStepsOf,
  totalValue,
  strandedAmount,
  strandedNotes,
  type ActionRow,
  type ActionStatus,
  type FailureRow,
  type ProcessSummary,
  type StoredStep,
  type TxRow,
} from './records';
import { isStaleObservation, lastSeenBlock, minReadBlock, nextTrigger, pastAction } from './action-history';
import { FALLBACK_POLL_MS, inBackoff, liftsByItself, nextWakeUp } from './schedule';
import { receiptWaitMs } from './pending-tx';
import { buildSteps, firstStepGasOnly, sizePlan, worstGasCost, type SendPlan } from './steps';
import { describeTransaction } from './transaction-view';
import { actionEventInput, refusalEventInput, skipEventInput } from './event-input';
import {
  SIGNER_NOT_CONFIGURED_MESSAGE,
  SIGNER_REMOVED_MESSAGE,
  broadcastFailedMessage,
  executedMessage,
  insufficientGasMessage,
  laterStepRevertMessage,
  nonceUsedElsewhereMessage,
  readFailure,
  showHealthFactor,
  txDroppedMessage,
  txRevertedMessage,
  txTimeoutMessage,
  unknownChainMessage,
  wouldRevertMessage,
} from './messages';
import { watchState, type TopUpWatchState } from './watch-state';
import { RequestQueue, type Clock } from './request-queue';
import { TransactionSender } from './tx-sender';
import { TenantOutbox } from './tenant-outbox';
import { HeldLedger, type HeldOwner, type HeldShare } from './held-ledger';
import { checkMarketTrust } from './trust';
import { amountWithinUsd, usdValue } from '../domain/topup-budget';
import { policyVersionOf, type TopUpAuthorization } from './authorization';
import type { TopUpStopCode } from './events';
import { ACTION_START_TIMEOUT_MS, actionStartTimedOut, movedNothing } from './action-history';

import { topUpProtocolOf } from '../protocols';
import type { ReadContext } from '../protocols/read-types';
import type { AssetFacts } from '../protocols/topup-capability';

type Runtime = { config: AppConfig; signer: LocalAccount | null };

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
export class TopUpExecutor {
  private readonly queue: RequestQueue;
  private readonly sender: TransactionSender;
  private readonly outbox: TenantOutbox;
  private chainClient: ChainClient | undefined;

  /**
   * `storage` is the object's SQLite storage; `env` is read at every use (settings can
   * change under a running object); `clock` is every time the executor reads.
   */
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly env: () => Env,
    private readonly clock: Clock,
  ) {
    this.sql = storage.sql;
    this.sql.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    this.sql.exec(`CREATE TABLE IF NOT EXISTS actions (
      id TEXT PRIMARY KEY, watch_id TEXT NOT NULL, tenant_id TEXT NOT NULL, episode INTEGER NOT NULL, slot INTEGER NOT NULL,
      dry_run INTEGER NOT NULL, status TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL, amount_needed TEXT NOT NULL,
      reaches_target INTEGER NOT NULL, capped_by TEXT NOT NULL, steps TEXT NOT NULL, step_index INTEGER NOT NULL, request TEXT NOT NULL,
      hf_before TEXT, hf_after TEXT, block_before TEXT, block_after TEXT, error TEXT, created_at INTEGER NOT NULL, finished_at INTEGER)`);
    this.sql.exec('CREATE INDEX IF NOT EXISTS actions_watch ON actions (watch_id, created_at)');
    this.sql.exec('CREATE TABLE IF NOT EXISTS failures (watch_id TEXT PRIMARY KEY, code TEXT NOT NULL, message TEXT NOT NULL, at INTEGER NOT NULL)');
    // Added with the owner's grants; guarded so executors created before keep their rows.
    addColumns(this.sql, 'actions', { position_key: 'TEXT', error_code: 'TEXT', usd: 'TEXT', policy_version: 'INTEGER NOT NULL DEFAULT 0', held_key: 'TEXT', held_used: 'TEXT' });
    this.sql.exec('CREATE INDEX IF NOT EXISTS actions_position ON actions (position_key, created_at)');
    this.queue = new RequestQueue(this.sql, clock);
    this.outbox = new TenantOutbox(this.sql, clock);
    this.held = new HeldLedger(this.sql);
    this.sender = new TransactionSender(this.sql, storage, clock, (tx, message) => this.broadcastRefused(tx, message));
  }

  private readonly sql: SqlStorage;
  private readonly held: HeldLedger;

  // ── what the object asks ──────────────────────────────────────────────────

  /** Stores the requests (latest per watch wins). Never does chain I/O. */
  addRequests(requests: readonly TopUpRequest[]): void {
    this.queue.add(requests);
  }

  /** The watch was deleted or its policy replaced: its waiting request and its failure backoff go (the new policy tries afresh). */
  dropRequest(watchId: string): void {
    this.queue.dropWatch(watchId);
    this.sql.exec('DELETE FROM failures WHERE watch_id = ?', watchId);
  }

  dropTenantRequests(tenantId: string): number {
    return this.queue.dropTenant(tenantId);
  }

  async watchState(watchId: string, policy: StoredTopUpPolicy | null, chainId: number): Promise<TopUpWatchState> {
    const now = this.clock();
    const rows = this.sql.exec<ActionRow>('SELECT * FROM actions WHERE watch_id = ? ORDER BY created_at DESC', watchId).toArray();
    const failure = this.sql.exec<FailureRow>('SELECT * FROM failures WHERE watch_id = ?', watchId).toArray()[0];
    return watchState({
      rows,
      policy,
      failure,
      executor: { chainId, signer: loadSigner(this.env())?.address ?? null },
      now,
      txsOf: (actionId) => this.sql.exec<TxRow>('SELECT * FROM txs WHERE action_id = ? ORDER BY id', actionId).toArray(),
    });
  }

  /** Each tenant's share of what its failed actions left in the executor's held balances (./held-ledger). */
  heldShares(): HeldShare[] {
    return this.held.shares();
  }

  // ── the pass ──────────────────────────────────────────────────────────────

  /** One pass: resume what is in flight, then handle waiting requests (the object serializes passes). */
  async processOnce(): Promise<ProcessSummary> {
    let runtime: Runtime;
    try {
      runtime = { config: parseConfig(this.env() as unknown as Record<string, unknown>), signer: loadSigner(this.env()) };
    } catch (error) {
      // A bad setting is named in /health; requests wait for it to be fixed.
      return { handled: 0, inFlight: false, error: findAppError(error)?.code ?? 'invalid_config' };
    }
    let handled = 0;
    let error: string | null = null;
    try {
      const inFlight = this.inFlightAction();
      // While a live transaction is in flight, later live requests wait for its nonce; dry runs sign nothing and go on.
      let liveBlocked = inFlight !== undefined && (await this.advance(inFlight.id, runtime)) === 'waiting';
      // One tenant's many triggered watches take turns with other tenants' instead of going first.
      for (const { row, request } of this.queue.waiting()) {
        if (liveBlocked && !request.policy.dryRun) continue;
        const outcome = await this.handleRequest(request, runtime, this.clock());
        this.queue.done(row);
        handled += 1;
        if (outcome === 'waiting') liveBlocked = true;
      }
    } catch (caught) {
      const appError = findAppError(caught);
      error = appError ? `${appError.code}: ${appError.message}` : `internal: ${caught instanceof Error ? caught.name : 'unknown'}`;
      if (!appError) console.error('topup pass failed', caught instanceof Error ? `${caught.name}: ${redactUrlsInText(caught.message.slice(0, 200))}` : 'unknown');
    }
    this.outbox.prune();
    await this.handOff();
    return { handled, inFlight: this.inFlightAction() !== undefined, error };
  }

  /** Whether a pass has work: an action in flight, requests waiting, or notices not yet handed to tenants. */
  hasPendingWork(): boolean {
    return this.inFlightAction() !== undefined || this.queue.size() > 0 || this.outbox.undeliveredCount() > 0;
  }

  /** When the next pass is due after this one; null when there is nothing to do. */
  nextWakeUp(summary: ProcessSummary): number | null {
    const now = this.clock();
    const pendingRequests = this.queue.size();
    const undeliveredNotices = this.outbox.undeliveredCount();
    return nextWakeUp({ inFlight: summary.inFlight, error: summary.error, pendingRequests, undeliveredNotices, pollMs: this.pollMs(), now });
  }

  private pollMs(): number {
    try {
      return parseConfig(this.env() as unknown as Record<string, unknown>).pollIntervalSeconds * 1000;
    } catch {
      return FALLBACK_POLL_MS;
    }
  }

  // ── deciding ──────────────────────────────────────────────────────────────

  private async handleRequest(request: TopUpRequest, runtime: Runtime, now: number): Promise<'done' | 'waiting'> {
    const stored = request.policy;
    const policy = policyForPlanning(stored);
    if (!policy.enabled) return 'done';
    const watchId = request.watch.id;
    const watchActions = this.sql.exec<ActionRow>('SELECT * FROM actions WHERE watch_id = ?', watchId).toArray();
    // Caps and cooldown follow the position, not the watch id: deleting and re-creating a watch resets nothing.
    const actions = this.sql.exec<ActionRow>('SELECT * FROM actions WHERE watch_id = ? OR position_key = ?', watchId, positionKey(request)).toArray();

    if (isStaleObservation(actions, BigInt(request.observedBlock))) return 'done';
    const lastSeen = lastSeenBlock(actions);

    const trigger = nextTrigger(watchId, request.episode, watchActions);
    const history = summarizeHistory(actions.map(pastAction), { asset: stored.asset, dryRun: stored.dryRun, now });
    const base = { policy, ...history, now };

    // Cheap gate on the shard's observation: most requests stop here without any RPC.
    const observed = request.observedHealthFactor === null ? null : BigInt(request.observedHealthFactor);
    const gate = planTopUp({ ...base, position: { healthFactor: observed }, walletBalance: undefined });
    if (gate.action === 'skip') {
      if (gate.reason === 'disabled' || gate.reason === 'above_trigger') return 'done';
      // A dry run's cooldown is its rate limit: no read, no notice.
      if (gate.reason === 'cooldown' && stored.dryRun) return 'done';
      const waiting = liftsByItself(gate.reason);
      if (waiting && this.hasNotice(topUpEventId(trigger, 'topup.skipped', gate.reason))) return 'done';
      if (!waiting && this.inBackoff(watchId, now)) return 'done';
    }
    let remainingUsd: bigint | undefined;
    if (!stored.dryRun) {
      if (!runtime.signer) {
        this.refuse(trigger, request, 'signer_not_configured', SIGNER_NOT_CONFIGURED_MESSAGE);
        return 'done';
      }
      // The tenant first (cheap, no RPC): the watch, its policy version and the owner's grant.
      const authorization = await this.authorize(request);
      if (!authorization.ok) {
        this.skipTrigger(trigger, request, authorization.reason, authorization.message);
        return 'done';
      }
      remainingUsd = authorization.remainingUsd;
      const trust = await this.trustOf(request, runtime);
      if (!trust.trusted) {
        this.skipTrigger(trigger, request, 'market_not_trusted', trust.message);
        return 'done';
      }
    }

    const fresh = await this.readFresh(request, runtime, lastSeen);
    if (!fresh.ok) {
      this.refuse(trigger, request, fresh.code, fresh.message);
      return 'done';
    }
    const state = fresh.state;
    const price = state.collateralParams?.price;
    if (remainingUsd !== undefined && (state.usdUnit === undefined || price === undefined)) {
      const why = price === undefined ? `the market's price of ${request.policy.symbol} is not known` : (state.usdUnknown ?? "the market's prices are not in US dollars");
      this.skipTrigger(trigger, request, 'usd_price_unknown', `${why}, so the action cannot be valued against the owner's USD grant; nothing live is sent (dry runs still report)`);
      return 'done';
    }
    const plan = planTopUp({
      ...base,
      position: { healthFactor: state.snapshot.healthFactor, assets: state.snapshot.assets },
      collateralParams: state.collateralParams,
      walletBalance: state.wallet?.token,
      // Unknown price: nothing can be valued against the USD grant, so nothing live is sent.
      ...(remainingUsd !== undefined ? { budgetAmount: amountWithinUsd(remainingUsd, state.asset.decimals, price!, state.usdUnit!) } : {}),
    });
    if (plan.action === 'skip') {
      if (plan.reason === 'disabled' || plan.reason === 'above_trigger') return 'done';
      const signer = runtime.signer?.address ?? null;
      const steps = plan.proposal ? buildSteps(topUpProtocolOf(request.watch), request, state, plan.proposal.amount, signer) : null;
      const eventInput = skipEventInput({ trigger, request, plan, state, steps, signer, now });
      if (plan.reason === 'dry_run' && plan.proposal && steps) {
        // A report, not a transfer: past a day's worth for this position, the next waits (see MAX_DRY_RUNS_PER_DAY).
        if (actions.filter((row) => row.dry_run === 1 && row.created_at > now - DRY_RUN_RETENTION_MS).length >= MAX_DRY_RUNS_PER_DAY) return 'done';
        // The dry run takes the slot like a live action would, so the next one waits for the cooldown too.
        this.storage.transactionSync(() => {
          this.insertAction(trigger, request, { ...plan.proposal!, amount: steps.amount, dryRun: true, status: 'dry_run', steps: steps.steps, hfBefore: state.snapshot.healthFactor, blockBefore: state.block.number, now });
          this.notice(request, eventInput);
        });
        return 'done';
      }
      this.storage.transactionSync(() => {
        // Cooldown and day cap lift at a known time (the gate stops repeats); the others
        // (an empty wallet, collateral turned off) need someone to act: look again after a backoff.
        if (!liftsByItself(plan.reason)) this.recordFailure(watchId, plan.reason, eventInput.message, now);
        this.notice(request, eventInput);
      });
      return 'done';
    }
    return this.startAction(trigger, request, plan, state, runtime, now);
  }

  private async readFresh(request: TopUpRequest, runtime: Runtime, lastSeen: bigint | null): Promise<{ ok: true; state: FreshState } | { ok: false; code: TopUpFailureCode; message: string }> {
    const chain = runtime.config.chains.get(request.watch.chainId);
    if (!chain) return { ok: false, code: 'unknown_chain', message: unknownChainMessage(request.watch.chainId) };
    const protocol = topUpProtocolOf(request.watch);
    if (request.policy.dryRun) {
      // A dry run moves nothing: it is planned on the position the shard read, plus one read of the policy asset at that block.
      try {
        const context = this.context(runtime.config, request.watch.chainId);
        const state = request.observed
          ? await readObservedState(context, { protocol, asset: assetOf(request), observed: request.observed })
          : await readFreshState(context, { protocol, account: request.watch.account, asset: assetOf(request), signer: null, blockNumber: BigInt(request.observedBlock), live: false });
        return { ok: true, state };
      } catch (error) {
        return { ok: false, ...readFailure(error) };
      }
    }
    const probes = await Promise.all(
      chain.rpcUrls.map((url) => probeEndpoint(url, { protocol, account: request.watch.account, chainId: request.watch.chainId, multicall3: chain.multicall3, protocolContracts: chain.protocolContracts, timeoutMs: runtime.config.rpcTimeoutMs })),
    );
    const consensus = checkEndpoints(probes, { chainId: request.watch.chainId, minBlock: minReadBlock(lastSeen, BigInt(request.observedBlock)) });
    if (!consensus.ok) return consensus;
    try {
      const state = await readFreshState(this.context(runtime.config, request.watch.chainId), {
        protocol,
        account: request.watch.account,
        asset: assetOf(request),
        signer: runtime.signer?.address ?? null,
        blockNumber: consensus.blockNumber,
        live: true,
        // No feeds for the chain: an empty map, so the refusal says none is named for the token.
        usdFeeds: runtime.config.usdPriceFeeds.get(request.watch.chainId) ?? new Map(),
      });
      return { ok: true, state: this.withTenantsHeld(state, request) };
    } catch (error) {
      return { ok: false, ...readFailure(error) };
    }
  }

  /** The executor's held balance (Maker's Vat balance) lowered to what this tenant's own failed actions left there (./held-ledger). */
  private withTenantsHeld(state: FreshState, request: TopUpRequest): FreshState {
    const held = state.assetState.held;
    if (!held) return state;
    const amount = this.held.usable({ tenantId: request.tenantId, chainId: request.watch.chainId, key: held.key }, held.amount);
    return { ...state, assetState: { ...state.assetState, held: { key: held.key, amount } } };
  }

  // ── acting ────────────────────────────────────────────────────────────────

  private async startAction(trigger: Trigger, request: TopUpRequest, plan: SendPlan, state: FreshState, runtime: Runtime, now: number): Promise<'done' | 'waiting'> {
    const signer = runtime.signer!;
    const { client } = this.client(runtime.config, request.watch.chainId);
    const quote = quoteFees(state.fees!, runtime.config.topUp.maxGasWei);
    if (!quote.ok) {
      this.refuse(trigger, request, quote.code, quote.message, { plan, state, signer: signer.address });
      return 'done';
    }
    const protocol = topUpProtocolOf(request.watch);
    const describe = protocol.capability;
    const built = buildSteps(protocol, request, state, plan.amount, signer.address);
    const sized = sizePlan(plan, built);
    // Native coin the steps send as value (a native-ETH asset): the wallet pays it on top of gas; checked before a simulation would fail on it.
    const value = totalValue(built.steps);
    if (state.wallet && value > 0n && state.wallet.native < value) {
      this.refuse(trigger, request, 'insufficient_gas_funds', insufficientGasMessage(state.wallet.native, null, value), { plan: sized, state, signer: signer.address });
      return 'done';
    }

    // The exact transactions, in order, against the latest state: a revert stops everything before anything is sent.
    let gas: Array<bigint | null>;
    const simulation = await simulateSteps(client, signer.address, built.steps, describe);
    if (simulation.ok === 'unsupported') {
      // Without eth_simulateV1 only the first transaction can be checked now; later ones are checked just before they are sent.
      const first = await simulateStep(client, signer.address, built.steps[0]!, describe);
      if (!first.ok) {
        this.refuse(trigger, request, 'simulation_reverted', wouldRevertMessage(built.steps[0]!.kind, first.reason), { plan: sized, state, signer: signer.address });
        return 'done';
      }
      gas = firstStepGasOnly(built.steps, first.gas);
    } else if (!simulation.ok) {
      const step = built.steps[simulation.step];
      this.refuse(trigger, request, 'simulation_reverted', wouldRevertMessage(step?.kind ?? 'transaction', simulation.reason), { plan: sized, state, signer: signer.address });
      return 'done';
    } else {
      gas = simulation.gasUsed.map(paddedGas);
    }

    const worstCost = worstGasCost(gas, quote.fees);
    if (state.wallet && state.wallet.native < value + worstCost) {
      this.refuse(trigger, request, 'insufficient_gas_funds', insufficientGasMessage(state.wallet.native, worstCost, value), { plan: sized, state, signer: signer.address });
      return 'done';
    }

    const actionId = triggerId(trigger);
    const storedSteps = storedStepsOf(built.steps, gas);
    // What the action moves, at the oracle's price now: booked against the tenant's grant before the first broadcast.
    const usd = usdValue(sized.amount, state.asset.decimals, state.collateralParams!.price!, state.usdUnit!);
    // The action is recorded first; its transactions are signed and sent one by one by advance(), each after a fresh check.
    this.storage.transactionSync(() => {
      const held = state.assetState.held ? { key: state.assetState.held.key, used: built.fromHeld } : undefined;
      this.insertAction(trigger, request, { ...sized, dryRun: false, status: 'in_flight', steps: built.steps, storedSteps, hfBefore: state.snapshot.healthFactor, blockBefore: state.block.number, usd, held, now });
      this.sql.exec('DELETE FROM failures WHERE watch_id = ?', request.watch.id);
    });
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
      const request = parseRequest(action.request);
      const { client } = this.client(runtime.config, request.watch.chainId);
      const steps = parseSteps(action);
      const tx = this.sql.exec<TxRow>('SELECT * FROM txs WHERE action_id = ? AND step_index = ? ORDER BY id DESC LIMIT 1', actionId, action.step_index).toArray()[0];
      if (!tx) {
        if (actionStartTimedOut(action, this.clock())) {
          // Its next transaction could not be sent for too long (gas above the cap, the tenant unreachable): it gives way to others.
          this.storage.transactionSync(() => this.stopAction(action, request, 'action_timeout', `the ${steps[action.step_index]?.kind ?? 'next'} transaction could not be sent within ${ACTION_START_TIMEOUT_MS / 60_000} minutes; the action is given up and nothing more is sent for it`));
          return 'done';
        }
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
      if (tx.status === 'reverted') this.storage.transactionSync(() => this.failAction(action, request, 'tx_reverted', txRevertedMessage(failedStep, tx.mined_hash)));
      return 'done';
    }
    return 'waiting';
  }

  /** The next transaction of an action (after an approval was mined): checked, priced, intent recorded, sent. */
  private async startStep(action: ActionRow, request: TopUpRequest, steps: StoredStep[], runtime: Runtime, client: PublicClient): Promise<'started' | 'done' | 'waiting'> {
    const signer = runtime.signer;
    const step = steps[action.step_index];
    if (!signer || !step) {
      this.storage.transactionSync(() => this.failAction(action, request, 'signer_not_configured', SIGNER_REMOVED_MESSAGE));
      return 'done';
    }
    const check = await simulateStep(client, signer.address, stepCallOf(step), topUpProtocolOf(request.watch).capability);
    if (!check.ok) {
      this.storage.transactionSync(() => this.failAction(action, request, 'simulation_reverted', laterStepRevertMessage(step.kind, check.reason)));
      return 'done';
    }
    const quote = quoteFees(await readFeeMarket(client), runtime.config.topUp.maxGasWei);
    if (!quote.ok) {
      // The action stays in flight and retries on the next pass; told once.
      this.notice(request, this.eventInput(action, request, 'topup.failed', { reason: quote.code, message: quote.message }));
      return 'waiting';
    }
    const gas = step.gas !== null ? BigInt(step.gas) : paddedGas(check.gas);
    // Immediately before the broadcast: is the trigger still live, and does the tenant still say yes?
    const live = await this.preflight(action, request, runtime, client);
    if (!live.ok) {
      this.storage.transactionSync(() => this.stopAction(action, request, live.reason, live.message));
      return 'done';
    }
    const nonce = await this.sender.nextNonce(client, signer.address);
    const signed = await signStep(signer, { chainId: request.watch.chainId, nonce, step: stepCallOf(step), gas, fees: quote.fees });
    this.storage.transactionSync(() => this.sender.recordIntent({ actionId: action.id, stepIndex: action.step_index, kind: step.kind, nonce, gas, signed, fees: quote.fees }));
    await this.sender.send(client, action.id, signed.hash, signed.raw);
    return 'started';
  }

  /** One look at a pending transaction (see TransactionSender.look); what its outcome means for the action. */
  private async checkTx(tx: TxRow, action: ActionRow, request: TopUpRequest, runtime: Runtime, client: PublicClient): Promise<'pending' | 'final'> {
    const look = await this.sender.look(tx, {
      client,
      signer: runtime.signer,
      chainId: request.watch.chainId,
      step: stepOf(action, tx),
      maxGasWei: runtime.config.topUp.maxGasWei,
      // About one block: long enough for a receipt on most chains, short enough for an alarm.
      waitMs: receiptWaitMs(runtime.config.pollIntervalSeconds),
    });
    switch (look.outcome) {
      case 'receipt':
        return 'final';
      case 'nonce_used_elsewhere':
        this.storage.transactionSync(() => {
          this.sender.markDropped(tx, { releaseNonce: false });
          this.failAction(action, request, 'nonce_used_elsewhere', nonceUsedElsewhereMessage(tx.nonce));
        });
        return 'final';
      case 'abandoned':
        // No node has it and its nonce is free: nothing of ours can land with it any more
        // unless resent, so the nonce is released. Its amount still counts toward the caps.
        this.storage.transactionSync(() => {
          this.sender.markDropped(tx, { releaseNonce: true });
          this.failAction(action, request, 'tx_dropped', txDroppedMessage(tx.kind, tx.nonce));
        });
        return 'final';
      case 'pending':
        if (look.timedOut) this.notice(request, this.eventInput(action, request, 'topup.failed', { reason: 'tx_timeout', message: txTimeoutMessage(tx.kind, tx.nonce, look.timedOut) }));
        return 'pending';
    }
  }

  private async confirm(action: ActionRow, request: TopUpRequest, tx: TxRow, client: PublicClient): Promise<void> {
    const block = BigInt(tx.block_number!);
    // The money has moved: a node that cannot read the position at that block (not an archive,
    // down) leaves the figure unknown; it must not keep the action in flight and the queue stuck.
    let after: bigint | null;
    try {
      after = await healthFactorAt(this.context(this.runtimeConfig(), request.watch.chainId), topUpProtocolOf(request.watch), request.watch.account, block);
    } catch (error) {
      const appError = findAppError(error);
      console.warn('topup: health factor after a mined action could not be read; recorded as unknown', action.id, appError ? redactUrlsInText(`${appError.code}: ${appError.message}`) : error instanceof Error ? error.name : 'unknown');
      after = null;
    }
    const approve = this.sql.exec<{ mined_hash: string | null }>("SELECT mined_hash FROM txs WHERE action_id = ? AND kind = 'approve' AND status = 'mined' ORDER BY id DESC LIMIT 1", action.id).toArray()[0];
    this.storage.transactionSync(() => {
      this.sql.exec("UPDATE actions SET status = 'confirmed', hf_after = ?, block_after = ?, finished_at = ? WHERE id = ?", after === null ? null : after.toString(), block.toString(), this.clock(), action.id);
      const owner = heldOwnerOf(action, request);
      if (owner) this.held.debit(owner, BigInt(action.held_used ?? '0'));
      const before = action.hf_before === null ? null : BigInt(action.hf_before);
      this.notice(request, this.eventInput(action, request, 'topup.executed', {
        healthFactorAfter: after,
        blockNumber: block,
        txHash: tx.mined_hash as Hex,
        approveTxHash: (approve?.mined_hash ?? null) as Hex | null,
        reason: null,
        message: executedMessage({ policy: request.policy, amount: BigInt(action.amount), before, after, reachesTarget: action.reaches_target === 1, cappedBy: JSON.parse(action.capped_by) as CapReason[] }),
      }));
    });
  }

  // ── records ───────────────────────────────────────────────────────────────

  private insertAction(
    trigger: Trigger,
    request: TopUpRequest,
    input: { amount: bigint; amountNeeded: bigint; reachesTarget: boolean; cappedBy: CapReason[]; dryRun: boolean; status: ActionStatus; steps: Step[]; storedSteps?: StoredStep[]; hfBefore: bigint | null; blockBefore: bigint; usd?: bigint; held?: { key: string; used: bigint }; now: number },
  ): void {
    const storedSteps = input.storedSteps ?? storedStepsOf(input.steps);
    this.sql.exec(
      `INSERT INTO actions (id, watch_id, tenant_id, episode, slot, dry_run, status, asset, amount, amount_needed, reaches_target, capped_by, steps, step_index, request, hf_before, block_before, created_at, position_key, usd, policy_version, held_key, held_used)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      triggerId(trigger), trigger.watchId, request.tenantId, trigger.episode, trigger.slot, input.dryRun ? 1 : 0, input.status, request.policy.asset,
      input.amount.toString(), input.amountNeeded.toString(), input.reachesTarget ? 1 : 0, JSON.stringify(input.cappedBy), JSON.stringify(storedSteps),
      JSON.stringify(request), input.hfBefore === null ? null : input.hfBefore.toString(), input.blockBefore.toString(), input.now,
      positionKey(request), input.usd === undefined ? null : input.usd.toString(), policyVersionOf(request.policy),
      input.held?.key ?? null, input.held === undefined ? null : input.held.used.toString(),
    );
  }

  /** A broadcast the node refused: told once per attempt; the next look sends it again. */
  private broadcastRefused(tx: TxRow, message: string): void {
    const action = this.sql.exec<ActionRow>('SELECT * FROM actions WHERE id = ?', tx.action_id).toArray()[0];
    if (!action) return;
    const request = parseRequest(action.request);
    this.notice(request, this.eventInput(action, request, 'topup.failed', { reason: 'broadcast_failed', message: broadcastFailedMessage(tx.kind, tx.nonce, message) }));
  }

  /** Final failure of an action; callers that change other rows too wrap it in their transaction. */
  private failAction(action: ActionRow, request: TopUpRequest, code: TopUpFailureCode, message: string): void {
    message = withStranded(action, message);
    this.creditStranded(action, request);
    this.sql.exec("UPDATE actions SET status = 'failed', error_code = ?, error = ?, finished_at = ? WHERE id = ?", code, `${code}: ${message}`, this.clock(), action.id);
    if (movedNothing(code)) this.queueRelease(action);
    this.notice(request, this.eventInput(action, request, 'topup.failed', { reason: code, message }));
  }

  /** A live action stopped before its money moved (its check failed): nothing more is sent, its reservation is given back. */
  private stopAction(action: ActionRow, request: TopUpRequest, code: TopUpStopCode, message: string): void {
    message = withStranded(action, message);
    this.creditStranded(action, request);
    this.sql.exec("UPDATE actions SET status = 'failed', error_code = ?, error = ?, finished_at = ? WHERE id = ?", code, `${code}: ${message}`, this.clock(), action.id);
    this.queueRelease(action);
    this.notice(request, this.eventInput(action, request, 'topup.skipped', { reason: code, message }));
  }

  /** What the mined steps of a failed action left in the held balance is the tenant's to draw on next time (./held-ledger). */
  private creditStranded(action: ActionRow, request: TopUpRequest): void {
    const owner = heldOwnerOf(action, request);
    if (owner) this.held.credit(owner, strandedAmount(parseSteps(action), action.step_index), { symbol: request.policy.symbol, decimals: request.policy.decimals });
  }

  private queueRelease(action: ActionRow): void {
    if (action.dry_run === 1) return;
    this.outbox.addRelease(action.id, action.tenant_id);
  }

  /** A request stopped before any action was recorded: told once per trigger and reason. */
  private skipTrigger(trigger: Trigger, request: TopUpRequest, code: TopUpStopCode, message: string): void {
    this.notice(request, { type: 'topup.skipped', trigger, watch: request.watch, policy: request.policy, createdAt: new Date(), reason: code, message });
  }

  private authorize(request: TopUpRequest, reservation?: { actionId: string; usd: bigint }): Promise<TopUpAuthorization> {
    return tenantStub(this.env(), request.tenantId).authorizeTopUp({
      watchId: request.watch.id,
      policyVersion: policyVersionOf(request.policy),
      ...(reservation ? { actionId: reservation.actionId, reserveUsd: reservation.usd.toString() } : {}),
    });
  }

  private async trustOf(request: TopUpRequest, runtime: Runtime) {
    if (!runtime.config.chains.has(request.watch.chainId)) return { trusted: false as const, message: unknownChainMessage(request.watch.chainId) };
    return checkMarketTrust(this.context(runtime.config, request.watch.chainId), topUpProtocolOf(request.watch), runtime.config.topUp.trustedMarkets);
  }

  /**
   * The checks made immediately before each broadcast, from storage and the chain's latest
   * block: the market is trusted, the health factor is still below the trigger, and the
   * tenant still authorizes (watch, policy version, grant), booking the action's USD value
   * the first time. Any "no" stops the action.
   */
  private async preflight(action: ActionRow, request: TopUpRequest, runtime: Runtime, client: PublicClient): Promise<{ ok: true } | { ok: false; reason: TopUpStopCode; message: string }> {
    const trust = await this.trustOf(request, runtime);
    if (!trust.trusted) return { ok: false, reason: 'market_not_trusted', message: trust.message };
    const healthFactor = await healthFactorAt(this.context(runtime.config, request.watch.chainId), topUpProtocolOf(request.watch), request.watch.account, 'latest');
    const trigger = policyForPlanning(request.policy).triggerHealthFactor;
    if (healthFactor === null || healthFactor >= trigger) {
      return { ok: false, reason: 'above_trigger', message: `the health factor is ${showHealthFactor(healthFactor)} at the latest block, no longer below the trigger ${request.policy.triggerHealthFactor}; nothing more is sent` };
    }
    const authorization = await this.authorize(request, { actionId: action.id, usd: action.usd === null ? 0n : BigInt(action.usd) });
    return authorization.ok ? { ok: true } : { ok: false, reason: authorization.reason, message: authorization.message };
  }

  /** A refusal before anything is signed: told once per trigger and reason, retried after a backoff. */
  private refuse(trigger: Trigger, request: TopUpRequest, code: TopUpFailureCode, message: string, context?: { plan: SendPlan; state: FreshState; signer: Address }): void {
    const now = this.clock();
    let transaction: TransactionView | null = null;
    if (context) transaction = describeTransaction(buildSteps(topUpProtocolOf(request.watch), request, context.state, context.plan.amount, context.signer), request, context.signer);
    this.storage.transactionSync(() => {
      this.recordFailure(request.watch.id, code, message, now);
      this.notice(request, refusalEventInput(trigger, request, { code, message }, new Date(now), context, transaction));
    });
  }

  private eventInput(action: ActionRow, request: TopUpRequest, type: TopUpEventInput['type'], extra: Partial<TopUpEventInput> & { reason: TopUpEventInput['reason']; message: string }): TopUpEventInput {
    return actionEventInput(action, request, type, extra, { createdAt: new Date(), signer: loadSigner(this.env())?.address ?? null });
  }

  /** Records an event for the tenant (idempotent by id); handed off after the state is stored. */
  private notice(request: TopUpRequest, input: TopUpEventInput): void {
    this.outbox.add(request.tenantId, request.watch.id, buildTopUpEvent(input));
  }

  private hasNotice(eventId: string): boolean {
    return this.outbox.has(eventId);
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
    return inBackoff(failure?.at, now);
  }

  /** Same hand-off as the shard's: kept until the tenant confirms; the tenant ignores ids it has. */
  private async handOff(): Promise<void> {
    for (const release of this.outbox.releases()) {
      try {
        await tenantStub(this.env(), release.tenant_id).releaseTopUpSpend(release.action_id);
        this.outbox.released(release.action_id);
      } catch (error) {
        // Kept for the next pass; until then the tenant's budget counts it (the safe side).
        console.warn('topup: budget release not handed to the tenant yet', error instanceof Error ? error.name : 'unknown');
      }
    }
    for (const [tenantId, tenantRows] of this.outbox.undelivered()) {
      try {
        await tenantStub(this.env(), tenantId).ingestEvents(tenantRows.map((row) => ({ eventId: row.event_id, watchId: row.watch_id, body: row.body, silenced: false })));
        this.outbox.delivered(tenantRows);
      } catch (error) {
        // Kept for the next pass.
        console.warn('topup: events not handed to the tenant yet; retried next pass', error instanceof Error ? error.name : 'unknown');
      }
    }
  }

  private inFlightAction(): ActionRow | undefined {
    return this.sql.exec<ActionRow>("SELECT * FROM actions WHERE status = 'in_flight' ORDER BY created_at LIMIT 1").toArray()[0];
  }

  private context(config: AppConfig, chainId: number): ReadContext {
    const { client, chain } = this.client(config, chainId);
    return { client, chainId, multicall3: chain.multicall3, protocolContracts: config.chains.get(chainId)?.protocolContracts };
  }

  private runtimeConfig(): AppConfig {
    return parseConfig(this.env() as unknown as Record<string, unknown>);
  }

  private client(config: AppConfig, chainId: number): ChainClient {
    const chain = config.chains.get(chainId);
    if (!chain) throw new AppError('unknown_chain', unknownChainMessage(chainId), { status: 503 });
    if (!this.chainClient || this.chainClient.chain.chainId !== chainId || this.chainClient.chain.rpcUrls.join() !== chain.rpcUrls.join()) {
      this.chainClient = createChainClient(chain, { timeoutMs: config.rpcTimeoutMs, provenChains: ISOLATE_PROVEN_CHAINS });
    }
    return this.chainClient;
  }
}

/** The position a watch is on, whatever its id: caps and cooldown are kept per position and tenant. */
function positionKey(request: TopUpRequest): string {
  return `${request.tenantId}:${request.watch.chainId}:${request.watch.market.toLowerCase()}:${request.watch.account.toLowerCase()}`;
}

/** Whose held balance (./held-ledger) an action draws on and leaves money in; null when it has none. */
function heldOwnerOf(action: ActionRow, request: TopUpRequest): HeldOwner | null {
  return action.held_key ? { tenantId: action.tenant_id, chainId: request.watch.chainId, key: action.held_key } : null;
}

/** The message, with where the money of any mined preparing step is (Maker: a join before a frob that never came): said, never silent. */
function withStranded(action: ActionRow, message: string): string {
  const stranded = strandedNotes(parseSteps(action), action.step_index);
  return stranded.length > 0 ? `${message}. ${stranded.join(' ')}` : message;
}

/** Guarded ALTER TABLE for columns added after a table was first created. */
function addColumns(sql: SqlStorage, table: string, columns: Record<string, string>): void {
  const existing = new Set(sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray().map((column) => column.name));
  for (const [name, type] of Object.entries(columns)) if (!existing.has(name)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
}

/** The policy's asset as the protocol capability takes it. */
function assetOf(request: TopUpRequest): AssetFacts {
  return { asset: request.policy.asset, symbol: request.policy.symbol, decimals: request.policy.decimals };
}
