import { DurableObject } from 'cloudflare:workers';
import type { StoredTopUpPolicy } from '../config/topup-policy';
import { TopUpExecutor } from '../topup/executor';
import type { ProcessSummary } from '../topup/records';
import type { TopUpRequest } from '../topup/request';
import type { Clock } from '../topup/request-queue';
import type { TopUpWatchState } from '../topup/watch-state';
import type { HeldShare } from '../topup/held-ledger';
import { createRetentionIndexes, DRY_RUN_RETENTION_MS, pruneActions } from '../topup/retention';
import { parseConfig } from '../config/env';

/** Finished actions pruned per alarm or heartbeat; the rest waits for the next. */
const PRUNE_BATCH = 500;
const DAY_MS = 86_400_000;

/**
 * The executor for one (chain, signer) as a Durable Object: the single writer of that key's
 * nonces. Shards hand it requests (stored, then an alarm); its alarm runs one pass of the
 * executor at a time. The decisions, the transactions and the records are the executor's
 * parts (src/topup/executor.ts and what it uses); this object serializes them, gives them
 * its storage and wakes them.
 */
export class TopUp extends DurableObject<Env> {
  /** Every time the executor reads; tests may replace it to move time. */
  private readonly clock: Clock = () => Date.now();
  private executor!: TopUpExecutor;
  private processing: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      // The settings are read at every use, so a changed env reaches a running object.
      this.executor = new TopUpExecutor(ctx.storage, () => this.env, () => this.clock());
      createRetentionIndexes(ctx.storage.sql);
    });
  }

  /** Stores the requests (latest per watch wins) and wakes the alarm. Never does chain I/O. */
  async requestTopUp(requests: TopUpRequest[]): Promise<number> {
    this.executor.addRequests(requests);
    if (requests.length > 0) {
      const now = this.clock();
      const alarm = await this.ctx.storage.getAlarm();
      if (alarm === null || alarm > now) await this.ctx.storage.setAlarm(now);
    }
    return requests.length;
  }

  /** A policy removed or replaced: its pending request must not act on the old one. */
  async dropRequest(watchId: string): Promise<void> {
    this.executor.dropRequest(watchId);
  }

  /** The owner revoked the tenant's grant: none of its waiting requests is acted on. */
  async dropTenantRequests(tenantId: string): Promise<number> {
    return this.executor.dropTenantRequests(tenantId);
  }

  override async alarm(): Promise<void> {
    const summary = await this.processNow();
    this.pruneHistory();
    const next = this.executor.nextWakeUp(summary);
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  /**
   * Cron watchdog: an executor with work waiting always has an alarm; each call also prunes
   * one batch of history, so an idle executor's history is bounded too.
   */
  async ensureAlarm(): Promise<boolean> {
    this.pruneHistory();
    const pending = this.executor.hasPendingWork();
    if (pending && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(this.clock());
    return pending;
  }

  /** One batch of finished actions older than RETENTION_DAYS; returns whether a full batch went. */
  private pruneHistory(): boolean {
    let retentionDays: number;
    try {
      retentionDays = parseConfig(this.env as unknown as Record<string, unknown>).retentionDays;
    } catch {
      // A bad setting stops passes too and is named by /health; nothing is pruned meanwhile.
      console.warn('topup: configuration invalid; history not pruned');
      return false;
    }
    const now = this.clock();
    return pruneActions(this.ctx.storage.sql, now - retentionDays * DAY_MS, PRUNE_BATCH, now - DRY_RUN_RETENTION_MS) === PRUNE_BATCH;
  }

  /**
   * One pass: resume what is in flight, then handle waiting requests. Serialized: the alarm,
   * a test or an operator calling this at once queue up instead of interleaving at awaits.
   */
  async processNow(): Promise<ProcessSummary> {
    const run = this.processing.then(() => this.executor.processOnce());
    this.processing = run.catch(() => undefined);
    return run;
  }

  async watchState(watchId: string, policy: StoredTopUpPolicy | null, chainId: number): Promise<TopUpWatchState> {
    return this.executor.watchState(watchId, policy, chainId);
  }

  async heldShares(): Promise<HeldShare[]> {
    return this.executor.heldShares();
  }
}

/** The executor of one (chain, signer); `name` from topUpObjectName (src/topup/signer.ts). */
