import { directoryStub } from './stubs';
import { DurableObject } from 'cloudflare:workers';
import { AppError } from '../lib/errors';
import { findAppError } from '../lib/find-app-error';
import { secretsEqual } from '../lib/crypto';
import { isoOrNull } from '../lib/iso-time';
import { createChannelSender } from '../notify/dispatch';
import { minSendIntervalMs, type ChannelTarget, type SendOutcome, type StoredChannel } from '../notify/channel';
import {
  createOutboxTables,
  deferDelivery,
  deliveriesOf,
  dropPendingOfChannel,
  dueGroupHeads,
  eventToSend,
  hasPendingDeliveries,
  insertChannelTest,
  insertEvents,
  listDeliveries,
  listEvents,
  markUndeliverable,
  nextDeliveryAt,
  oldestEventAt,
  outboxRow,
  pendingChannelTestOf,
  pendingDeliveryAt,
  pruneEvents,
  recordAttempt,
  type DeliveryPageKey,
  type OutboxRow,
} from '../notify/outbox-store';
import { RISK_OFF, type RiskSettings } from '../risk/watch-risk';
import type { StoredTopUpPolicy } from '../config/topup-policy';
import type { ApiKeyRecord, ChannelCreation, ChannelRecord, ChannelTestSend, DeliveryRecord, EventRecord, IncomingEvent, TelegramCodeCheck, TenantWatch, WatchPosition, WatchRecord, WatchRecording } from '../watches/records';
import type { StoredThresholds } from '../domain/thresholds';
import { parseUsd, summarizeBudget, type BudgetSpend, type TopUpGrant } from '../domain/topup-budget';
import { decideAuthorization, grantView, policyVersionOf, type TopUpAuthorization, type TopUpAuthorizationRequest, type TopUpGrantView } from '../topup/authorization';
import { DAY_WINDOW_MS } from '../domain/topup-plan';
import { parseConfig, type AppConfig } from '../config/env';
import type { Page, PageKey } from '../lib/page-cursor';
import { placeWatch, unplaceWatch } from '../watches/sync';

import { DAY_MS, SYNC_GRACE_MS, tenantWakeUpAt } from '../watches/tenant-wakeup';
import { createSessionTable, deleteSession, findSession, insertSession, type SessionRecord } from '../dashboard/session-store';
import { redactUrlsInText } from '../lib/redact-text';
import { createDailyBudgetTable, takeFromDailyBudget } from '../notify/daily-budget';
import { apiKeyIdOf, createApiKeyTable, deleteApiKey, hasApiKeys, insertApiKey, listApiKeys, rotateApiKey, type KeyRotation } from '../api/api-key-store';
import { claimLinkCode, createLinkCodeTable, insertLinkCode, linkCodeStatus } from '../telegram/link-code-store';

type ChannelRow = { id: string; type: string; target: string; secret: string | null; label: string; created_at: number; disabled_at: number | null; disabled_reason: string | null; last_sent_at: number | null; confirm_hash?: string | null; confirm_expires_at?: number | null };
type WatchRow = { id: string; chain_id: number; protocol: string; market: string; account: string; label: string; thresholds: string; channels: string; shard: string; silenced_until: number | null; created_at: number; top_up?: string | null; top_up_version?: number; protocol_address?: string | null; risk?: string | null; synced: number; deleting: number };
type NewChannel = { id: string; target: ChannelTarget; secret: string | null; label: string; confirmation?: { hash: string; expiresAt: number } };

const DELIVERY_CONCURRENCY = 10;
/**
 * Sends per delivery run (an alarm or a request). Workers allow 1,000 subrequests per
 * invocation; a burst of events drains over successive alarms instead of one endless run.
 */
export const MAX_SENDS_PER_RUN = 50;
/** Due rows looked at per round of a run; paced rows beyond it wait for a later run. */
const CANDIDATES_PER_ROUND = 100;
const ROUNDS_PER_RUN = 5;
/** Rows pruned per table per alarm; more waits for the next alarm, a second later. */
export const PRUNE_BATCH = 500;
/** Half-done creates and deletes finished per alarm. */
const RESYNC_BATCH = 20;
/** A channel test's row is the request's own for this long; after that, the alarm retries it. */
const CHANNEL_TEST_LEASE_MS = 60_000;

/**
 * One tenant: API-key hashes, channels, watches, alert history and the delivery outbox.
 * Events are stored (with one outbox row per channel) before any send; the alarm delivers
 * them oldest first, per (channel, watch) strictly in order, retrying with backoff.
 */
export class Tenant extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      createApiKeyTable(this.sql);
      createSessionTable(this.sql);
      createDailyBudgetTable(this.sql);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS channels (id TEXT PRIMARY KEY, type TEXT NOT NULL, target TEXT NOT NULL, secret TEXT,
        label TEXT NOT NULL, created_at INTEGER NOT NULL, disabled_at INTEGER, disabled_reason TEXT, last_sent_at INTEGER)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS watches (id TEXT PRIMARY KEY, chain_id INTEGER NOT NULL, protocol TEXT NOT NULL, market TEXT NOT NULL,
        account TEXT NOT NULL, label TEXT NOT NULL, thresholds TEXT NOT NULL, channels TEXT NOT NULL, shard TEXT NOT NULL,
        silenced_until INTEGER, created_at INTEGER NOT NULL)`);
      // Email consent: a channel with a confirmation hash is pending and receives nothing (see src/notify/email-confirmation.ts).
      const channelColumns = new Set(this.sql.exec<{ name: string }>('PRAGMA table_info(channels)').toArray().map((column) => column.name));
      if (!channelColumns.has('confirm_hash')) this.sql.exec('ALTER TABLE channels ADD COLUMN confirm_hash TEXT');
      if (!channelColumns.has('confirm_expires_at')) this.sql.exec('ALTER TABLE channels ADD COLUMN confirm_expires_at INTEGER');
      createLinkCodeTable(this.sql);
      // Added with auto-top-up; guarded so tenants created before keep their rows.
      const columns = new Set(this.sql.exec<{ name: string }>('PRAGMA table_info(watches)').toArray().map((column) => column.name));
      if (!columns.has('top_up')) this.sql.exec('ALTER TABLE watches ADD COLUMN top_up TEXT');
      // Counts every store of a policy (removals too), so versions never repeat on a watch.
      if (!columns.has('top_up_version')) this.sql.exec('ALTER TABLE watches ADD COLUMN top_up_version INTEGER NOT NULL DEFAULT 0');
      if (!columns.has('protocol_address')) this.sql.exec('ALTER TABLE watches ADD COLUMN protocol_address TEXT');
      // Added with retry-safe create and delete: rows from before were fully placed.
      if (!columns.has('synced')) this.sql.exec('ALTER TABLE watches ADD COLUMN synced INTEGER NOT NULL DEFAULT 1');
      if (!columns.has('deleting')) this.sql.exec('ALTER TABLE watches ADD COLUMN deleting INTEGER NOT NULL DEFAULT 0');
      // Risk-based margin calls: null is off.
      if (!columns.has('risk')) this.sql.exec('ALTER TABLE watches ADD COLUMN risk TEXT');
      this.createPositionIndex();
      this.sql.exec('CREATE INDEX IF NOT EXISTS watches_page ON watches (created_at, id)');
      this.sql.exec('CREATE INDEX IF NOT EXISTS watches_unsynced ON watches (synced, deleting)');
      this.sql.exec('CREATE INDEX IF NOT EXISTS channels_page ON channels (created_at, id)');
      createOutboxTables(this.sql);
      // Row counts kept with every insert and delete, so a quota check reads one row, not the table.
      this.sql.exec('CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)');
      // Counted once, when the counters are new (a tenant from before them); never again at start-up.
      if (this.sql.exec('SELECT 1 FROM counters LIMIT 1').toArray().length === 0) {
        this.sql.exec("INSERT INTO counters (name, value) SELECT 'watches', COUNT(*) FROM watches");
        this.sql.exec("INSERT INTO counters (name, value) SELECT 'channels', COUNT(*) FROM channels");
      }
      this.sql.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      // The owner's grant for live top-ups (one row) and every reservation made against it.
      this.sql.exec(`CREATE TABLE IF NOT EXISTS topup_grant (id INTEGER PRIMARY KEY CHECK (id = 1), enabled INTEGER NOT NULL, max_usd TEXT NOT NULL, updated_at INTEGER NOT NULL)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS topup_spends (action_id TEXT PRIMARY KEY, watch_id TEXT NOT NULL, usd TEXT NOT NULL, at INTEGER NOT NULL, released INTEGER NOT NULL DEFAULT 0)`);
      this.sql.exec(`CREATE INDEX IF NOT EXISTS topup_spends_at ON topup_spends (at)`);
    });
  }

  /** One watch per position: the create path looks a position up here instead of scanning. */
  private createPositionIndex(): void {
    try {
      this.sql.exec("CREATE UNIQUE INDEX IF NOT EXISTS watches_position ON watches (chain_id, protocol, market, IFNULL(protocol_address, ''), account)");
    } catch (error) {
      // Two watches of one position from before the index (a race the old scan allowed): look up without uniqueness.
      console.error('tenant: duplicate watches of one position; the position index is not unique', error instanceof Error ? error.name : 'unknown');
      this.sql.exec("CREATE INDEX IF NOT EXISTS watches_position_lookup ON watches (chain_id, protocol, market, IFNULL(protocol_address, ''), account)");
    }
  }

  private counter(name: 'watches' | 'channels'): number {
    return this.sql.exec<{ value: number }>('SELECT value FROM counters WHERE name = ?', name).toArray()[0]?.value ?? 0;
  }

  private addToCounter(name: 'watches' | 'channels', delta: number): void {
    this.sql.exec('UPDATE counters SET value = MAX(0, value + ?) WHERE name = ?', delta, name);
  }

  private meta(key: string): string | undefined {
    return this.sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]?.value;
  }

  private setMeta(key: string, value: string | null): void {
    if (value === null) this.sql.exec('DELETE FROM meta WHERE key = ?', key);
    else this.sql.exec('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, value);
  }

  /** This object's tenant id: the name it was addressed by, or as recorded by the first watch. */
  private tenantId(): string | undefined {
    return this.ctx.id.name ?? this.meta('tenant_id');
  }

  private config(): AppConfig {
    return parseConfig(this.env as unknown as Record<string, unknown>);
  }

  // ── API keys (src/api/api-key-store.ts) ──────────────────────────────────

  async addKey(key: { id: string; hash: string; label: string }): Promise<ApiKeyRecord> {
    return insertApiKey(this.sql, key, Date.now());
  }

  /** Whether any API key was issued to this tenant: an owner's grant to a tenant that does not exist is refused. */
  async hasKeys(): Promise<boolean> {
    return hasApiKeys(this.sql);
  }

  async verifyKey(hash: string): Promise<string | null> {
    return apiKeyIdOf(this.sql, hash, Date.now());
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return listApiKeys(this.sql, Date.now());
  }

  async revokeKey(id: string): Promise<boolean> {
    return deleteApiKey(this.sql, id);
  }

  async rotateKey(oldId: string, next: { id: string; hash: string }, graceMs: number): Promise<KeyRotation> {
    return this.ctx.storage.transactionSync(() => rotateApiKey(this.sql, oldId, next, graceMs, Date.now()));
  }

  // ── Dashboard sessions (src/dashboard/session-store.ts) ───────────────────

  async createSession(session: { hash: string; keyId: string; expiresAt: number }, maxSessions: number): Promise<void> {
    insertSession(this.sql, session, Date.now(), maxSessions);
  }

  async findSession(hash: string): Promise<SessionRecord | null> {
    return findSession(this.sql, hash, Date.now());
  }

  async revokeSession(hash: string): Promise<boolean> {
    return deleteSession(this.sql, hash);
  }

  // ── Telegram link codes (src/telegram/link-code-store.ts) ──────────────

  async addTelegramLinkCode(code: { hash: string; label: string; expiresAt: number }, now: number, maxPending: number): Promise<boolean> {
    return insertLinkCode(this.sql, code, now, maxPending);
  }

  async checkTelegramLinkCode(hash: string, now: number): Promise<TelegramCodeCheck> {
    return linkCodeStatus(this.sql, hash, now);
  }

  async claimTelegramLinkCode(hash: string, now: number): Promise<TelegramCodeCheck> {
    return this.ctx.storage.transactionSync(() => claimLinkCode(this.sql, hash, now));
  }

  // ── Channels ──────────────────────────────────────────────────────────────

  /**
   * Creates the channel unless the tenant already has `maxChannels` (MAX_CHANNELS_PER_TENANT).
   * With `confirmation`, an email channel waits for its code and receives nothing until confirmed.
   */
  async createChannelWithinQuota(channel: NewChannel, maxChannels: number): Promise<ChannelCreation> {
    if (this.counter('channels') >= maxChannels) return { ok: false, reason: 'quota', limit: maxChannels };
    this.insertChannel(channel);
    return { ok: true, channel: (await this.getChannel(channel.id))! };
  }

  /**
   * An email channel waiting for its code: as createChannelWithinQuota, and its mail is taken
   * from the tenant's daily confirmation budget in the same step.
   */
  async createEmailChannelWithinQuota(channel: NewChannel, maxChannels: number): Promise<ChannelCreation | { ok: false; reason: 'mail_budget'; retryAt: number }> {
    if (this.counter('channels') >= maxChannels) return { ok: false, reason: 'quota', limit: maxChannels };
    const slot = takeFromDailyBudget(this.sql, 'confirmation_mail', Date.now());
    if (!slot.ok) return { ok: false, reason: 'mail_budget', retryAt: slot.retryAt };
    return this.createChannelWithinQuota(channel, maxChannels);
  }

  private insertChannel(channel: NewChannel): void {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        'INSERT INTO channels (id, type, target, secret, label, created_at, confirm_hash, confirm_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        channel.id, channel.target.type, JSON.stringify(channel.target), channel.secret, channel.label, Date.now(), channel.confirmation?.hash ?? null, channel.confirmation?.expiresAt ?? null,
      );
      this.addToCounter('channels', 1);
    });
  }

  /** One page of channels in creation order, after `after` (the previous page's last key). */
  async listChannelsPage(limit: number, after: PageKey | null): Promise<Page<ChannelRecord>> {
    const rows = this.sql
      .exec<ChannelRow>('SELECT * FROM channels WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?', after?.createdAt ?? -1, after?.id ?? '', limit + 1)
      .toArray();
    return pageOf(rows, limit, channelRecord);
  }

  /** Email channels still waiting for their address to confirm (unexpired codes). */
  async pendingConfirmations(now: number): Promise<number> {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM channels WHERE confirm_hash IS NOT NULL AND confirm_expires_at > ?', now).one().n;
  }

  /**
   * A new code for a pending channel (resend), unless the last one was issued less than
   * `minIntervalMs` ago (codes live `ttlMs`, so their issue time is their expiry minus it).
   */
  async renewChannelConfirmation(id: string, confirmation: { hash: string; expiresAt: number }, now: number, limits: { ttlMs: number; minIntervalMs: number }): Promise<{ status: 'renewed' | 'not_pending' } | { status: 'too_soon'; waitMs: number } | { status: 'mail_budget'; retryAt: number }> {
    const row = this.sql.exec<{ confirm_hash: string | null; confirm_expires_at: number | null }>('SELECT confirm_hash, confirm_expires_at FROM channels WHERE id = ?', id).toArray()[0];
    if (!row?.confirm_hash) return { status: 'not_pending' };
    const issuedAgo = now - ((row.confirm_expires_at ?? 0) - limits.ttlMs);
    if (issuedAgo < limits.minIntervalMs) return { status: 'too_soon', waitMs: limits.minIntervalMs - issuedAgo };
    const slot = takeFromDailyBudget(this.sql, 'confirmation_mail', now);
    if (!slot.ok) return { status: 'mail_budget', retryAt: slot.retryAt };
    this.sql.exec('UPDATE channels SET confirm_hash = ?, confirm_expires_at = ? WHERE id = ?', confirmation.hash, confirmation.expiresAt, id);
    return { status: 'renewed' };
  }

  async confirmChannel(id: string, hash: string, now: number): Promise<'confirmed' | 'not_found' | 'not_pending' | 'wrong_code' | 'expired'> {
    const row = this.sql.exec<ChannelRow>('SELECT * FROM channels WHERE id = ?', id).toArray()[0];
    if (!row) return 'not_found';
    if (!row.confirm_hash) return 'not_pending';
    if ((row.confirm_expires_at ?? 0) <= now) return 'expired';
    if (!(await secretsEqual(row.confirm_hash, hash))) return 'wrong_code';
    this.sql.exec('UPDATE channels SET confirm_hash = NULL, confirm_expires_at = NULL WHERE id = ?', id);
    return 'confirmed';
  }

  /** The newest channel of this tenant that reaches the Telegram chat, working or not. */
  async telegramChannelOf(chatId: string): Promise<ChannelRecord | null> {
    const row = this.sql.exec<ChannelRow>("SELECT * FROM channels WHERE type = 'telegram' AND json_extract(target, '$.chatId') = ? ORDER BY created_at DESC, id DESC LIMIT 1", chatId).toArray()[0];
    return row ? channelRecord(row) : null;
  }

  async getChannel(id: string): Promise<ChannelRecord | null> {
    const row = this.sql.exec<ChannelRow>('SELECT * FROM channels WHERE id = ?', id).toArray()[0];
    return row ? channelRecord(row) : null;
  }

  async existingChannels(ids: string[]): Promise<string[]> {
    return ids.filter((id) => this.sql.exec('SELECT 1 FROM channels WHERE id = ?', id).toArray().length > 0);
  }

  /** Deleting a channel detaches it from watches and drops its undelivered events. */
  async deleteChannel(id: string): Promise<boolean> {
    const existed = this.sql.exec('SELECT 1 FROM channels WHERE id = ?', id).toArray().length > 0;
    if (!existed) return false;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec('DELETE FROM channels WHERE id = ?', id);
      this.addToCounter('channels', -1);
      this.sql.exec("UPDATE outbox SET status = 'dead', last_error = 'channel deleted', next_attempt_at = 0 WHERE channel_id = ? AND status = 'pending'", id);
      for (const row of this.sql.exec<WatchRow>('SELECT id, channels FROM watches WHERE instr(channels, ?) > 0', JSON.stringify(id)).toArray()) {
        const channels = (JSON.parse(row.channels) as string[]).filter((channelId) => channelId !== id);
        this.sql.exec('UPDATE watches SET channels = ? WHERE id = ?', JSON.stringify(channels), row.id);
      }
    });
    return true;
  }

  // ── Watches ───────────────────────────────────────────────────────────────

  /**
   * Records a new watch, not yet placed in a shard (`synced` false until markWatchSynced).
   * Refused when the tenant has `maxWatches`, or when the position is already watched (the
   * existing record comes back, so a retried create can finish it instead of failing).
   */
  async recordWatch(tenantId: string, watch: Omit<WatchRecord, 'createdAt' | 'silencedUntil' | 'topUp' | 'shard' | 'risk'> & { topUp?: StoredTopUpPolicy | null; risk?: RiskSettings | null }, maxWatches: number): Promise<WatchRecording> {
    const existing = this.watchAt(watch);
    if (existing) return { ok: false, reason: 'exists', watch: existing };
    if (this.counter('watches') >= maxWatches) return { ok: false, reason: 'quota', limit: maxWatches };
    const topUp = watch.topUp ? { ...watch.topUp, version: 1 } : null;
    this.ctx.storage.transactionSync(() => {
      if (this.meta('tenant_id') === undefined) this.setMeta('tenant_id', tenantId);
      this.sql.exec(
        "INSERT INTO watches (id, chain_id, protocol, market, account, label, thresholds, channels, shard, created_at, top_up, top_up_version, protocol_address, risk, synced, deleting) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, 1, ?, ?, 0, 0)",
        watch.id, watch.chainId, watch.protocol, watch.market, watch.account, watch.label, JSON.stringify(watch.thresholds), JSON.stringify(watch.channels), Date.now(), topUp ? JSON.stringify(topUp) : null, watch.protocolAddress, watch.risk ? JSON.stringify(watch.risk) : null,
      );
      this.addToCounter('watches', 1);
    });
    // Unsynced until the request finishes: if it never does, the alarm places the watch.
    await this.alarmNoLaterThan(Date.now() + SYNC_GRACE_MS);
    return { ok: true, watch: this.watchRow(watch.id)! };
  }

  /** The watch of a position, by the unique position index (one row read). */
  /** How many watches the tenant holds (MAX_WATCHES_PER_TENANT counts them). */
  async watchCount(): Promise<number> {
    return this.counter('watches');
  }

  async findWatchAt(position: WatchPosition): Promise<TenantWatch | null> {
    return this.watchAt(position);
  }

  private watchAt(position: WatchPosition): TenantWatch | null {
    const row = this.sql
      .exec<WatchRow>(
        "SELECT * FROM watches WHERE chain_id = ? AND protocol = ? AND market = ? AND IFNULL(protocol_address, '') = ? AND account = ? LIMIT 1",
        position.chainId, position.protocol, position.market, position.protocolAddress ?? '', position.account,
      )
      .toArray()[0];
    return row ? tenantWatch(row) : null;
  }

  private watchRow(id: string): TenantWatch | null {
    const row = this.sql.exec<WatchRow>('SELECT * FROM watches WHERE id = ?', id).toArray()[0];
    return row ? tenantWatch(row) : null;
  }

  /** The shard polls the watch now: record where. */
  async markWatchSynced(id: string, shard: string): Promise<void> {
    this.sql.exec('UPDATE watches SET shard = ?, synced = 1 WHERE id = ? AND deleting = 0', shard, id);
  }

  async listWatches(): Promise<WatchRecord[]> {
    return this.sql.exec<WatchRow>('SELECT * FROM watches WHERE deleting = 0 ORDER BY created_at, id').toArray().map(watchRecord);
  }

  /** One page of watches in creation order, after `after` (the previous page's last key). */
  async listWatchesPage(limit: number, after: PageKey | null): Promise<Page<WatchRecord>> {
    const rows = this.sql
      .exec<WatchRow>('SELECT * FROM watches WHERE (created_at, id) > (?, ?) AND deleting = 0 ORDER BY created_at, id LIMIT ?', after?.createdAt ?? -1, after?.id ?? '', limit + 1)
      .toArray();
    return pageOf(rows, limit, watchRecord);
  }

  async getWatch(id: string): Promise<WatchRecord | null> {
    const row = this.sql.exec<WatchRow>('SELECT * FROM watches WHERE id = ? AND deleting = 0', id).toArray()[0];
    return row ? watchRecord(row) : null;
  }

  async updateWatch(id: string, patch: { label?: string; thresholds?: StoredThresholds; channels?: string[]; silencedUntil?: number | null; topUp?: StoredTopUpPolicy | null; risk?: RiskSettings | null }): Promise<WatchRecord | null> {
    const current = this.sql.exec<WatchRow>('SELECT * FROM watches WHERE id = ? AND deleting = 0', id).toArray()[0];
    if (!current) return null;
    this.sql.exec(
      'UPDATE watches SET label = ?, thresholds = ?, channels = ?, silenced_until = ? WHERE id = ?',
      patch.label ?? current.label,
      patch.thresholds ? JSON.stringify(patch.thresholds) : current.thresholds,
      patch.channels ? JSON.stringify(patch.channels) : current.channels,
      patch.silencedUntil === undefined ? current.silenced_until : patch.silencedUntil,
      id,
    );
    if (patch.topUp !== undefined) {
      // Every store is a new version, so an action planned under the previous one stops.
      const version = Math.max(current.top_up_version ?? 0, policyVersionOf(current.top_up ? (JSON.parse(current.top_up) as StoredTopUpPolicy) : null)) + 1;
      this.sql.exec('UPDATE watches SET top_up = ?, top_up_version = ? WHERE id = ?', patch.topUp ? JSON.stringify({ ...patch.topUp, version }) : null, version, id);
    }
    if (patch.risk !== undefined) this.sql.exec('UPDATE watches SET risk = ? WHERE id = ?', patch.risk ? JSON.stringify(patch.risk) : null, id);
    return this.getWatch(id);
  }

  /**
   * First step of a delete: the watch disappears from the API at once, and the record stays
   * (as `deleting`) until its shard and directory slot are released, so a retried DELETE or
   * the alarm can finish the job. Returns the watch, also when a delete already began.
   */
  async beginDeleteWatch(id: string): Promise<TenantWatch | null> {
    this.sql.exec('UPDATE watches SET deleting = 1 WHERE id = ?', id);
    const watch = this.watchRow(id);
    if (watch) await this.alarmNoLaterThan(Date.now() + SYNC_GRACE_MS);
    return watch;
  }

  /** Last step of a delete, after the shard and the directory let go of the watch. */
  async finishDeleteWatch(id: string): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      if (this.sql.exec('DELETE FROM watches WHERE id = ? AND deleting = 1', id).rowsWritten > 0) this.addToCounter('watches', -1);
    });
  }

  // ── Live top-up grant ─────────────────────────────────────────────────────

  /** The owner's grant: `{enabled:false}` revokes and keeps the amount. The caller checked that a first grant names an amount. */
  async setTopUpGrant(input: { enabled: boolean; maxUsdPerDay?: string }): Promise<TopUpGrantView> {
    const current = this.grant();
    const maxUsd = input.maxUsdPerDay !== undefined ? parseUsd(input.maxUsdPerDay) : (current?.maxUsdPerDay ?? 0n);
    this.sql.exec(
      'INSERT INTO topup_grant (id, enabled, max_usd, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET enabled = excluded.enabled, max_usd = excluded.max_usd, updated_at = excluded.updated_at',
      input.enabled ? 1 : 0, maxUsd.toString(), Date.now(),
    );
    return this.topUpGrant();
  }

  async topUpGrant(): Promise<TopUpGrantView> {
    const now = Date.now();
    const grant = this.grant();
    return grantView(grant, summarizeBudget(grant, this.spends(now), now));
  }

  /** See src/topup/authorization.ts: checked from this object's storage, and the reservation recorded in the same step. */
  async authorizeTopUp(request: TopUpAuthorizationRequest): Promise<TopUpAuthorization> {
    const now = Date.now();
    const row = this.sql.exec<WatchRow>('SELECT * FROM watches WHERE id = ? AND deleting = 0', request.watchId).toArray()[0];
    const watchPolicy = row === undefined ? undefined : row.top_up ? (JSON.parse(row.top_up) as StoredTopUpPolicy) : null;
    const grant = this.grant();
    const alreadyReserved = request.actionId !== undefined && this.sql.exec('SELECT 1 FROM topup_spends WHERE action_id = ? AND released = 0', request.actionId).toArray().length > 0;
    const decision = decideAuthorization(request, { watchPolicy, grant, budget: summarizeBudget(grant, this.spends(now), now), alreadyReserved });
    if (decision.ok && request.actionId !== undefined && request.reserveUsd !== undefined && !alreadyReserved) {
      this.sql.exec(
        'INSERT INTO topup_spends (action_id, watch_id, usd, at, released) VALUES (?, ?, ?, ?, 0) ON CONFLICT(action_id) DO UPDATE SET usd = excluded.usd, at = excluded.at, released = 0',
        request.actionId, request.watchId, request.reserveUsd, now,
      );
    }
    return decision;
  }

  /** The action moved nothing (its money transaction was never sent, or reverted): its reservation no longer counts. */
  async releaseTopUpSpend(actionId: string): Promise<void> {
    this.sql.exec('UPDATE topup_spends SET released = 1 WHERE action_id = ?', actionId);
  }

  private grant(): (TopUpGrant & { updatedAt: number }) | null {
    const row = this.sql.exec<{ enabled: number; max_usd: string; updated_at: number }>('SELECT * FROM topup_grant WHERE id = 1').toArray()[0];
    return row ? { enabled: row.enabled === 1, maxUsdPerDay: BigInt(row.max_usd), updatedAt: row.updated_at } : null;
  }

  private spends(now: number): BudgetSpend[] {
    return this.sql
      .exec<{ usd: string; at: number; released: number }>('SELECT usd, at, released FROM topup_spends WHERE at > ?', now - DAY_WINDOW_MS)
      .toArray()
      .map((row) => ({ usd: BigInt(row.usd), at: row.at, released: row.released === 1 }));
  }

  // ── Events and delivery ───────────────────────────────────────────────────

  /**
   * Stores events and their outbox rows in one transaction. Idempotent by event id, so a
   * shard that retries a hand-off after a crash never creates a second delivery.
   */
  async ingestEvents(events: IncomingEvent[]): Promise<number> {
    const now = Date.now();
    // Only channels that exist, are enabled and confirmed get a delivery.
    const sendsTo = (channelId: string) => {
      const channel = this.channelRow(channelId);
      return channel !== undefined && channel.disabled_at === null && !channel.confirm_hash;
    };
    const stored = this.ctx.storage.transactionSync(() =>
      insertEvents(this.sql, events, now, (event) => (event.channelIds ?? this.watchChannels(event.watchId)).filter(sendsTo)),
    );
    if (stored > 0) {
      await this.ctx.storage.setAlarm(now);
      await this.registerArmed(true);
    }
    return stored;
  }

  private channelRow(id: string): ChannelRow | undefined {
    return this.sql.exec<ChannelRow>('SELECT * FROM channels WHERE id = ?', id).toArray()[0];
  }

  private watchChannels(watchId: string | null): string[] {
    if (!watchId) return [];
    const row = this.sql.exec<{ channels: string }>('SELECT channels FROM watches WHERE id = ?', watchId).toArray()[0];
    return row ? (JSON.parse(row.channels) as string[]) : [];
  }

  /**
   * Each alarm does a bounded amount of each job: at most MAX_SENDS_PER_RUN sends, one
   * batch of re-syncs of watches whose create or delete never finished, one batch of
   * retention pruning. Then it re-arms for whatever is left (see tenantWakeUpAt).
   */
  override async alarm(): Promise<void> {
    let config: AppConfig;
    try {
      config = this.config();
    } catch (error) {
      // A bad setting is named by /health and every API call; deliveries wait for the fix.
      console.error('tenant: configuration invalid; alarm retried in a minute', findAppError(error)?.code ?? 'unknown');
      await this.ctx.storage.setAlarm(Date.now() + 60_000);
      return;
    }
    await this.deliverDue();
    const syncBacklog = await this.resyncWatches(config);
    const pruneBacklog = this.pruneHistory(config.retentionDays, Date.now());
    const next = this.nextAlarmAt(config.retentionDays, syncBacklog || pruneBacklog);
    if (next !== null) await this.ctx.storage.setAlarm(next);
    await this.registerArmed(this.hasArmedWork());
  }

  /** Moves the alarm earlier when needed, never later: other work may be due before. */
  private async alarmNoLaterThan(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /** Cron watchdog: a tenant with work waiting always has an alarm due soon enough. */
  async ensureAlarm(): Promise<boolean> {
    const armed = this.hasArmedWork();
    if (armed) {
      const alarm = await this.ctx.storage.getAlarm();
      const due = this.nextAlarmAt(this.config().retentionDays, false) ?? Date.now();
      if (alarm === null || alarm > due + 60_000) await this.ctx.storage.setAlarm(due);
    }
    await this.registerArmed(armed);
    return armed;
  }

  /** Work the alarm must come back for: pending deliveries, or watches not yet placed or released. */
  private hasArmedWork(): boolean {
    return hasPendingDeliveries(this.sql) || this.hasUnfinishedSync();
  }

  /** The next wake-up (see tenantWakeUpAt), from this object's storage. */
  private nextAlarmAt(retentionDays: number, backlog: boolean): number | null {
    return tenantWakeUpAt({
      nextDeliveryAt: nextDeliveryAt(this.sql),
      unfinishedSync: this.hasUnfinishedSync(),
      oldestEventAt: oldestEventAt(this.sql),
      backlog,
      retentionDays,
      now: Date.now(),
    });
  }

  private hasUnfinishedSync(): boolean {
    return this.sql.exec('SELECT 1 FROM watches WHERE synced = 0 OR deleting = 1 LIMIT 1').toArray().length > 0;
  }

  /**
   * Tells the directory whether this tenant has work waiting, so the cron watchdog can
   * re-arm its alarm without visiting every tenant. Only a change is sent.
   */
  private async registerArmed(armed: boolean): Promise<void> {
    const registered = this.meta('armed') === '1';
    if (armed === registered) return;
    const tenantId = this.tenantId();
    if (!tenantId) return;
    try {
      if (armed) await directoryStub(this.env).markArmed('tenant', tenantId);
      else await directoryStub(this.env).clearArmed('tenant', tenantId);
      this.setMeta('armed', armed ? '1' : null);
    } catch (error) {
      console.warn('tenant: the directory did not take the armed flag; retried at the next alarm', error instanceof Error ? error.name : 'unknown');
      return;
    }
    // Work that arrived while the directory was clearing the flag saw it still set and did not
    // set it again: set it now, or the cron's watchdog would not look at this tenant.
    if (!armed && this.hasArmedWork()) await this.registerArmed(true);
  }

  /**
   * Finishes creates and deletes whose request stopped half-way (creates older than
   * SYNC_GRACE_MS, so a request still at work is left alone; every step of a delete is
   * idempotent). Returns whether more remain than one batch.
   */
  private async resyncWatches(config: AppConfig): Promise<boolean> {
    const tenantId = this.tenantId();
    const rows = this.sql
      .exec<WatchRow>('SELECT * FROM watches WHERE (synced = 0 AND created_at < ?) OR deleting = 1 ORDER BY created_at LIMIT ?', Date.now() - SYNC_GRACE_MS, RESYNC_BATCH + 1)
      .toArray();
    if (rows.length === 0 || !tenantId) return false;
    for (const row of rows.slice(0, RESYNC_BATCH)) {
      const watch = tenantWatch(row);
      try {
        if (watch.deleting) {
          await unplaceWatch(this.env, watch);
          await this.finishDeleteWatch(watch.id);
        } else {
          await this.markWatchSynced(watch.id, await placeWatch(this.env, config.shardSize, tenantId, watch));
        }
      } catch (error) {
        console.warn(`tenant: re-sync of watch ${watch.id} failed; retried at the next alarm`, error instanceof Error ? error.name : 'unknown');
      }
    }
    return rows.length > RESYNC_BATCH;
  }

  /**
   * Drops events (with their deliveries) older than the retention, never one with a
   * delivery still pending, and expired top-up reservations; PRUNE_BATCH rows at a time.
   * Returns whether a full batch was pruned (more may remain).
   */
  private pruneHistory(retentionDays: number, now: number): boolean {
    const cutoff = now - retentionDays * DAY_MS;
    const events = this.ctx.storage.transactionSync(() => pruneEvents(this.sql, cutoff, PRUNE_BATCH));
    // Reservations count for a rolling day only.
    const spends = this.sql.exec('DELETE FROM topup_spends WHERE action_id IN (SELECT action_id FROM topup_spends WHERE at < ? LIMIT ?)', Math.min(cutoff, now - DAY_WINDOW_MS), PRUNE_BATCH).rowsWritten;
    return events === PRUNE_BATCH || spends === PRUNE_BATCH;
  }

  /**
   * Sends what is due. Only the oldest pending row of each (channel, watch) group is eligible,
   * so a receiver that is down holds the later events of that watch back instead of
   * reordering them.
   */
  async deliverDue(): Promise<number> {
    // Runs are serialized: the alarm and an API-triggered run interleave at every await,
    // and two runs reading the same pending row would send it twice.
    const run = this.deliveryChain.then(() => this.deliverDueNow());
    this.deliveryChain = run.catch(() => 0);
    return run;
  }

  private deliveryChain: Promise<unknown> = Promise.resolve();

  /**
   * One run: rounds of due group heads until MAX_SENDS_PER_RUN attempts were made or nothing
   * is due; a delivery unblocks the next event of its group for the next round. What is left
   * is the next alarm's.
   */
  private async deliverDueNow(): Promise<number> {
    let attempts = 0;
    let delivered = 0;
    for (let round = 0; round < ROUNDS_PER_RUN && attempts < MAX_SENDS_PER_RUN; round++) {
      const now = Date.now();
      const candidates = dueGroupHeads(this.sql, now, CANDIDATES_PER_ROUND);
      const heads = this.pace(candidates, now).slice(0, MAX_SENDS_PER_RUN - attempts);
      if (heads.length === 0 && candidates.length < CANDIDATES_PER_ROUND) break;
      for (let start = 0; start < heads.length; start += DELIVERY_CONCURRENCY) {
        const batch = heads.slice(start, start + DELIVERY_CONCURRENCY);
        const results = await Promise.all(batch.map((row) => this.attempt(row)));
        attempts += batch.length;
        delivered += results.filter(Boolean).length;
      }
    }
    return delivered;
  }

  /**
   * A channel test is sent by the request itself, never queued behind the outbox: its row
   * is leased to this call (the alarm leaves it alone for CHANNEL_TEST_LEASE_MS) and
   * retried by the alarm like any delivery if this attempt fails. A channel with a minimum
   * spacing (Telegram) that sent too recently gets it at the next allowed time instead.
   */
  /**
   * Sends a channel.test now (or at the channel's pacing). While an earlier test of the channel
   * is still being retried, no new one is made: each test is retried for a day, so one call a
   * second would make the deployment a relay hitting a receiver that is down thousands of times.
   */
  async sendChannelTest(channelId: string, eventId: string, body: string): Promise<ChannelTestSend> {
    const now = Date.now();
    const channel = this.channelRow(channelId);
    if (!channel) return { outcome: 'not_found' };
    const pendingTest = pendingChannelTestOf(this.sql, channelId);
    if (pendingTest !== null) return { outcome: 'test_pending', delivery: deliveriesOf(this.sql, pendingTest)[0]! };
    const slot = takeFromDailyBudget(this.sql, 'channel_test', now);
    if (!slot.ok) return { outcome: 'budget_spent', retryAt: slot.retryAt };
    const allowedAt = (channel.last_sent_at ?? 0) + minSendIntervalMs(JSON.parse(channel.target) as ChannelTarget);
    const sendNow = allowedAt <= now;
    const dueAt = sendNow ? now + CHANNEL_TEST_LEASE_MS : allowedAt;
    this.ctx.storage.transactionSync(() => insertChannelTest(this.sql, { eventId, channelId, body, now, dueAt }));
    // Armed before the send: if the object is evicted mid-send, the alarm (or the cron, told
    // there is work) retries the test at its lease's end instead of leaving it pending for good.
    await this.alarmNoLaterThan(dueAt);
    await this.registerArmed(true);
    if (sendNow) await this.attempt(outboxRow(this.sql, eventId, channelId));
    const pendingAt = pendingDeliveryAt(this.sql, eventId);
    if (pendingAt !== null) {
      await this.alarmNoLaterThan(pendingAt);
      await this.registerArmed(true);
    }
    return { outcome: 'sent', delivery: deliveriesOf(this.sql, eventId)[0]! };
  }

  /**
   * Channels with a minimum spacing (Telegram: ~1 message/s per chat) get at most one send
   * per run; their other due rows move to the next allowed time without using an attempt.
   */
  private pace(candidates: OutboxRow[], now: number): OutboxRow[] {
    const chosen: OutboxRow[] = [];
    const pacedChannels = new Set<string>();
    for (const row of candidates) {
      const channel = this.channelRow(row.channel_id);
      const interval = channel ? minSendIntervalMs(JSON.parse(channel.target) as ChannelTarget) : 0;
      if (interval === 0 || !channel) {
        chosen.push(row);
        continue;
      }
      const allowedAt = (channel.last_sent_at ?? 0) + interval;
      if (pacedChannels.has(row.channel_id) || allowedAt > now) {
        deferDelivery(this.sql, row, Math.max(allowedAt, now + interval));
        continue;
      }
      pacedChannels.add(row.channel_id);
      chosen.push(row);
    }
    return chosen;
  }

  /** One send of one outbox row, its outcome booked; a channel the service says is gone is disabled. */
  private async attempt(row: OutboxRow): Promise<boolean> {
    const channel = this.channelRow(row.channel_id);
    const event = eventToSend(this.sql, row.event_id);
    if (!channel || !event || channel.disabled_at !== null) {
      markUndeliverable(this.sql, row, channel ? `channel disabled: ${channel.disabled_reason}` : 'channel deleted');
      return false;
    }
    const startedAt = Date.now();
    const firstAttemptAt = row.first_attempt_at ?? startedAt;
    this.sql.exec('UPDATE channels SET last_sent_at = ? WHERE id = ?', startedAt, channel.id);
    const stored: StoredChannel = { id: channel.id, label: channel.label, target: JSON.parse(channel.target) as ChannelTarget, secret: channel.secret };
    let outcome: SendOutcome;
    try {
      outcome = await createChannelSender(this.env)(stored, { id: row.event_id, body: event.body, createdAt: new Date(event.created_at) });
    } catch (error) {
      // Senders answer failures as outcomes: a throw is a bug or a misconfiguration. Retried like a
      // failure, never lost, and logged; its text redacted (a Discord or Slack URL is a credential).
      const reason = error instanceof Error ? `${error.name}: ${redactUrlsInText(error.message.slice(0, 160))}` : 'send failed';
      console.error('tenant: a channel sender threw; the delivery is retried', channel.id, reason);
      outcome = { kind: 'retry', reason };
    }
    const now = Date.now();
    if (outcome.kind === 'gone') {
      this.disableChannelNow(channel.id, outcome.reason, now, row);
      return false;
    }
    return recordAttempt(this.sql, row, outcome, { firstAttemptAt, now });
  }

  /**
   * Stops a channel for good, with the reason its listing shows (e.g. its Telegram chat linked
   * itself to another account); its undelivered events become dead letters. False when unknown.
   */
  async disableChannel(id: string, reason: string): Promise<boolean> {
    if (!this.channelRow(id)) return false;
    this.disableChannelNow(id, reason, Date.now());
    return true;
  }

  private disableChannelNow(id: string, reason: string, now: number, sending?: OutboxRow): void {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec('UPDATE channels SET disabled_at = ?, disabled_reason = ? WHERE id = ?', now, reason, id);
      dropPendingOfChannel(this.sql, id, sending, `channel disabled: ${reason}`);
    });
  }

  async listEvents(watchId: string, limit: number, cursor?: number): Promise<{ data: EventRecord[]; nextCursor: string | null }> {
    return listEvents(this.sql, watchId, limit, cursor);
  }

  async listDeliveries(status: 'pending' | 'delivered' | 'dead', limit: number, after: DeliveryPageKey | null = null): Promise<{ data: DeliveryRecord[]; next: DeliveryPageKey | null }> {
    return listDeliveries(this.sql, status, limit, after);
  }

  async deliveriesOfEvent(eventId: string): Promise<DeliveryRecord[]> {
    return deliveriesOf(this.sql, eventId);
  }

  /** Test hook for fault tests: throws the way an eviction mid-request would. */
  async assertExists(kind: 'channel' | 'watch', id: string): Promise<void> {
    const table = kind === 'channel' ? 'channels' : 'watches';
    if (this.sql.exec(`SELECT 1 FROM ${table} WHERE id = ?`, id).toArray().length === 0) throw new AppError('not_found', `${kind} ${id} not found`, { status: 404 });
  }
}

function channelRecord(row: ChannelRow): ChannelRecord {
  const { type, ...target } = JSON.parse(row.target) as ChannelTarget;
  return { id: row.id, type, ...target, label: row.label, status: row.confirm_hash ? 'pending_confirmation' : 'active', createdAt: isoOrNull(row.created_at)!, disabledAt: isoOrNull(row.disabled_at), disabledReason: row.disabled_reason };
}

function pageOf<Row extends { created_at: number; id: string }, T>(rows: Row[], limit: number, toRecord: (row: Row) => T): Page<T> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { data: page.map(toRecord), next: rows.length > limit && last ? { createdAt: last.created_at, id: last.id } : null };
}

function tenantWatch(row: WatchRow): TenantWatch {
  return { ...watchRecord(row), synced: row.synced === 1, deleting: row.deleting === 1 };
}

function watchRecord(row: WatchRow): WatchRecord {
  return {
    id: row.id,
    chainId: row.chain_id,
    protocol: row.protocol,
    market: row.market as `0x${string}`,
    protocolAddress: (row.protocol_address ?? null) as `0x${string}` | null,
    account: row.account as `0x${string}`,
    label: row.label,
    thresholds: JSON.parse(row.thresholds) as StoredThresholds,
    channels: JSON.parse(row.channels) as string[],
    shard: row.shard,
    silencedUntil: isoOrNull(row.silenced_until),
    topUp: row.top_up ? (JSON.parse(row.top_up) as StoredTopUpPolicy) : null,
    risk: row.risk ? (JSON.parse(row.risk) as RiskSettings) : RISK_OFF,
    createdAt: isoOrNull(row.created_at)!,
  };
}
