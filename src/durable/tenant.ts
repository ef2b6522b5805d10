import { DurableObject } from 'cloudflare:workers';
import { AppError } from '../lib/errors';
import { secretsEqual } from '../lib/crypto';
import { nextAttemptAt } from '../notify/backoff';
import { createChannelSender } from '../notify/dispatch';
import { minSendIntervalMs, type ChannelTarget, type StoredChannel } from '../notify/channel';
import type { StoredTopUpPolicy } from '../config/topup-policy';
import type { ApiKeyRecord, ChannelRecord, TelegramCodeCheck, DeliveryRecord, EventRecord, IncomingEvent, WatchRecord } from '../watches/records';
import type { StoredThresholds } from '../domain/thresholds';
import { parseUsd, summarizeBudget, type BudgetSpend, type TopUpGrant } from '../domain/topup-budget';
import { decideAuthorization, grantView, policyVersionOf, type TopUpAuthorization, type TopUpAuthorizationRequest, type TopUpGrantView } from '../topup/authorization';
import { DAY_WINDOW_MS } from '../domain/topup-plan';

type ChannelRow = { id: string; type: string; target: string; secret: string | null; label: string; created_at: number; disabled_at: number | null; disabled_reason: string | null; last_sent_at: number | null; confirm_hash?: string | null; confirm_expires_at?: number | null };
type WatchRow = { id: string; chain_id: number; protocol: string; market: string; account: string; label: string; thresholds: string; channels: string; shard: string; silenced_until: number | null; created_at: number; top_up?: string | null; top_up_version?: number; protocol_address?: string | null };
type OutboxRow = { event_id: string; channel_id: string; group_key: string; seq: number; attempts: number; first_attempt_at: number | null; next_attempt_at: number; status: string; last_error: string | null; delivered_at: number | null };

const DELIVERY_CONCURRENCY = 10;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

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
      this.sql.exec(`CREATE TABLE IF NOT EXISTS api_keys (hash TEXT PRIMARY KEY, label TEXT NOT NULL, created_at INTEGER NOT NULL)`);
      this.migrateApiKeys();
      this.sql.exec(`CREATE TABLE IF NOT EXISTS channels (id TEXT PRIMARY KEY, type TEXT NOT NULL, target TEXT NOT NULL, secret TEXT,
        label TEXT NOT NULL, created_at INTEGER NOT NULL, disabled_at INTEGER, disabled_reason TEXT, last_sent_at INTEGER)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS watches (id TEXT PRIMARY KEY, chain_id INTEGER NOT NULL, protocol TEXT NOT NULL, market TEXT NOT NULL,
        account TEXT NOT NULL, label TEXT NOT NULL, thresholds TEXT NOT NULL, channels TEXT NOT NULL, shard TEXT NOT NULL,
        silenced_until INTEGER, created_at INTEGER NOT NULL)`);
      // Email consent: a channel with a confirmation hash is pending and receives nothing (see src/notify/email-confirmation.ts).
      const channelColumns = new Set(this.sql.exec<{ name: string }>('PRAGMA table_info(channels)').toArray().map((column) => column.name));
      if (!channelColumns.has('confirm_hash')) this.sql.exec('ALTER TABLE channels ADD COLUMN confirm_hash TEXT');
      if (!channelColumns.has('confirm_expires_at')) this.sql.exec('ALTER TABLE channels ADD COLUMN confirm_expires_at INTEGER');
      // Telegram link codes of this tenant (hashes), looked up by primary key; see src/telegram/link.ts.
      this.sql.exec('CREATE TABLE IF NOT EXISTS telegram_link_codes (code_hash TEXT PRIMARY KEY, label TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER)');
      this.sql.exec('CREATE INDEX IF NOT EXISTS telegram_link_codes_pending ON telegram_link_codes (used_at, expires_at)');
      // Added with auto-top-up; guarded so tenants created before keep their rows.
      const columns = new Set(this.sql.exec<{ name: string }>('PRAGMA table_info(watches)').toArray().map((column) => column.name));
      if (!columns.has('top_up')) this.sql.exec('ALTER TABLE watches ADD COLUMN top_up TEXT');
      // Counts every store of a policy (removals too), so versions never repeat on a watch.
      if (!columns.has('top_up_version')) this.sql.exec('ALTER TABLE watches ADD COLUMN top_up_version INTEGER NOT NULL DEFAULT 0');
      if (!columns.has('protocol_address')) this.sql.exec('ALTER TABLE watches ADD COLUMN protocol_address TEXT');
      this.sql.exec(`CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, watch_id TEXT,
        type TEXT NOT NULL, body TEXT NOT NULL, silenced INTEGER NOT NULL, created_at INTEGER NOT NULL)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS outbox (event_id TEXT NOT NULL, channel_id TEXT NOT NULL, group_key TEXT NOT NULL, seq INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, first_attempt_at INTEGER, next_attempt_at INTEGER NOT NULL, status TEXT NOT NULL,
        last_error TEXT, delivered_at INTEGER, PRIMARY KEY (event_id, channel_id))`);
      this.sql.exec(`CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, group_key, seq)`);
      // The owner's grant for live top-ups (one row) and every reservation made against it.
      this.sql.exec(`CREATE TABLE IF NOT EXISTS topup_grant (id INTEGER PRIMARY KEY CHECK (id = 1), enabled INTEGER NOT NULL, max_usd TEXT NOT NULL, updated_at INTEGER NOT NULL)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS topup_spends (action_id TEXT PRIMARY KEY, watch_id TEXT NOT NULL, usd TEXT NOT NULL, at INTEGER NOT NULL, released INTEGER NOT NULL DEFAULT 0)`);
      this.sql.exec(`CREATE INDEX IF NOT EXISTS topup_spends_at ON topup_spends (at)`);
    });
  }

  // ── API keys ──────────────────────────────────────────────────────────────

  /** Keys got a public id (list, revoke) and an optional end (rotation grace); rows from before get an id from their hash. */
  private migrateApiKeys(): void {
    const columns = new Set(this.sql.exec<{ name: string }>('PRAGMA table_info(api_keys)').toArray().map((column) => column.name));
    if (!columns.has('id')) this.sql.exec('ALTER TABLE api_keys ADD COLUMN id TEXT');
    if (!columns.has('expires_at')) this.sql.exec('ALTER TABLE api_keys ADD COLUMN expires_at INTEGER');
    this.sql.exec("UPDATE api_keys SET id = 'key_' || substr(hash, 1, 20) WHERE id IS NULL");
    this.sql.exec('CREATE UNIQUE INDEX IF NOT EXISTS api_keys_id ON api_keys (id)');
  }

  async addKey(key: { id: string; hash: string; label: string }): Promise<ApiKeyRecord> {
    const now = Date.now();
    this.sql.exec('INSERT INTO api_keys (id, hash, label, created_at) VALUES (?, ?, ?, ?)', key.id, key.hash, key.label, now);
    return { id: key.id, label: key.label, createdAt: iso(now)!, expiresAt: null };
  }

  /** Whether any API key was issued to this tenant: an owner's grant to a tenant that does not exist is refused. */
  async hasKeys(): Promise<boolean> {
    return this.sql.exec('SELECT 1 FROM api_keys LIMIT 1').toArray().length > 0;
  }

  /**
   * The key's id when its hash is stored and not past a rotation's grace. Looked up by the
   * SHA-256 of a tagged random key: timing reveals nothing an attacker could use.
   */
  async verifyKey(hash: string): Promise<string | null> {
    const row = this.sql.exec<{ id: string; expires_at: number | null }>('SELECT id, expires_at FROM api_keys WHERE hash = ?', hash).toArray()[0];
    if (!row || (row.expires_at !== null && row.expires_at <= Date.now())) return null;
    return row.id;
  }

  /** Keys that still work (a rotated key until its grace ends). */
  async listKeys(): Promise<ApiKeyRecord[]> {
    return this.sql
      .exec<{ id: string; label: string; created_at: number; expires_at: number | null }>('SELECT id, label, created_at, expires_at FROM api_keys WHERE expires_at IS NULL OR expires_at > ? ORDER BY created_at, id', Date.now())
      .toArray()
      .map((row) => ({ id: row.id, label: row.label, createdAt: iso(row.created_at)!, expiresAt: iso(row.expires_at) }));
  }

  async revokeKey(id: string): Promise<boolean> {
    return this.sql.exec('DELETE FROM api_keys WHERE id = ?', id).rowsWritten > 0;
  }

  /** Adds the new key and ends the old one (now, or after `graceMs`) in one step; the new key keeps the old label. */
  async rotateKey(oldId: string, next: { id: string; hash: string }, graceMs: number): Promise<{ key: ApiKeyRecord; previous: { id: string; expiresAt: string } } | null> {
    return this.ctx.storage.transactionSync(() => {
      const old = this.sql.exec<{ label: string }>('SELECT label FROM api_keys WHERE id = ?', oldId).toArray()[0];
      if (!old) return null;
      const now = Date.now();
      // Housekeeping: keys whose grace ended can never authenticate again.
      this.sql.exec('DELETE FROM api_keys WHERE expires_at IS NOT NULL AND expires_at <= ?', now);
      if (graceMs === 0) this.sql.exec('DELETE FROM api_keys WHERE id = ?', oldId);
      else this.sql.exec('UPDATE api_keys SET expires_at = ? WHERE id = ?', now + graceMs, oldId);
      this.sql.exec('INSERT INTO api_keys (id, hash, label, created_at) VALUES (?, ?, ?, ?)', next.id, next.hash, old.label, now);
      return { key: { id: next.id, label: old.label, createdAt: iso(now)!, expiresAt: null }, previous: { id: oldId, expiresAt: iso(now + graceMs)! } };
    });
  }

  // ── Telegram link codes ───────────────────────────────────────────────────

  /** Stores a code unless the tenant already has `maxPending` unused, unexpired ones. */
  async addTelegramLinkCode(code: { hash: string; label: string; expiresAt: number }, now: number, maxPending: number): Promise<boolean> {
    // Housekeeping: codes a day past expiry can only ever answer "expired"; drop them.
    this.sql.exec('DELETE FROM telegram_link_codes WHERE expires_at < ?', now - 86_400_000);
    const pending = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM telegram_link_codes WHERE used_at IS NULL AND expires_at > ?', now).one().n;
    if (pending >= maxPending) return false;
    this.sql.exec('INSERT INTO telegram_link_codes (code_hash, label, expires_at) VALUES (?, ?, ?)', code.hash, code.label, code.expiresAt);
    return true;
  }

  async checkTelegramLinkCode(hash: string, now: number): Promise<TelegramCodeCheck> {
    return this.linkCodeStatus(hash, now);
  }

  /** Uses a code: of two chats racing for it, exactly one gets `valid`. */
  async claimTelegramLinkCode(hash: string, now: number): Promise<TelegramCodeCheck> {
    return this.ctx.storage.transactionSync(() => {
      const check = this.linkCodeStatus(hash, now);
      if (check.status === 'valid') this.sql.exec('UPDATE telegram_link_codes SET used_at = ? WHERE code_hash = ?', now, hash);
      return check;
    });
  }

  private linkCodeStatus(hash: string, now: number): TelegramCodeCheck {
    const row = this.sql.exec<{ label: string; expires_at: number; used_at: number | null }>('SELECT label, expires_at, used_at FROM telegram_link_codes WHERE code_hash = ?', hash).toArray()[0];
    if (!row) return { status: 'unknown' };
    if (row.used_at !== null) return { status: 'used' };
    if (row.expires_at <= now) return { status: 'expired' };
    return { status: 'valid', label: row.label };
  }

  // ── Channels ──────────────────────────────────────────────────────────────

  /** `confirmation`: the channel waits for its code (email) and receives nothing until confirmed. */
  async createChannel(channel: { id: string; target: ChannelTarget; secret: string | null; label: string; confirmation?: { hash: string; expiresAt: number } }): Promise<ChannelRecord> {
    const now = Date.now();
    this.sql.exec(
      'INSERT INTO channels (id, type, target, secret, label, created_at, confirm_hash, confirm_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      channel.id, channel.target.type, JSON.stringify(channel.target), channel.secret, channel.label, now, channel.confirmation?.hash ?? null, channel.confirmation?.expiresAt ?? null,
    );
    return this.getChannel(channel.id) as Promise<ChannelRecord>;
  }

  /** Email channels still waiting for their address to confirm (unexpired codes). */
  async pendingConfirmations(now: number): Promise<number> {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM channels WHERE confirm_hash IS NOT NULL AND confirm_expires_at > ?', now).one().n;
  }

  /**
   * A new code for a pending channel (resend), unless the last one was issued less than
   * `minIntervalMs` ago (codes live `ttlMs`, so their issue time is their expiry minus it).
   */
  async renewChannelConfirmation(id: string, confirmation: { hash: string; expiresAt: number }, now: number, limits: { ttlMs: number; minIntervalMs: number }): Promise<{ status: 'renewed' | 'not_pending' } | { status: 'too_soon'; waitMs: number }> {
    const row = this.sql.exec<{ confirm_hash: string | null; confirm_expires_at: number | null }>('SELECT confirm_hash, confirm_expires_at FROM channels WHERE id = ?', id).toArray()[0];
    if (!row?.confirm_hash) return { status: 'not_pending' };
    const issuedAgo = now - ((row.confirm_expires_at ?? 0) - limits.ttlMs);
    if (issuedAgo < limits.minIntervalMs) return { status: 'too_soon', waitMs: limits.minIntervalMs - issuedAgo };
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

  async listChannels(): Promise<ChannelRecord[]> {
    return this.sql.exec<ChannelRow>('SELECT * FROM channels ORDER BY created_at, id').toArray().map(channelRecord);
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
      this.sql.exec("UPDATE outbox SET status = 'dead', last_error = 'channel deleted', next_attempt_at = 0 WHERE channel_id = ? AND status = 'pending'", id);
      for (const row of this.sql.exec<WatchRow>('SELECT * FROM watches').toArray()) {
        const channels = (JSON.parse(row.channels) as string[]).filter((channelId) => channelId !== id);
        this.sql.exec('UPDATE watches SET channels = ? WHERE id = ?', JSON.stringify(channels), row.id);
      }
    });
    return true;
  }

  // ── Watches ───────────────────────────────────────────────────────────────

  async createWatch(watch: Omit<WatchRecord, 'createdAt' | 'silencedUntil' | 'topUp'> & { topUp?: StoredTopUpPolicy | null }): Promise<WatchRecord> {
    const topUp = watch.topUp ? { ...watch.topUp, version: 1 } : null;
    this.sql.exec(
      'INSERT INTO watches (id, chain_id, protocol, market, account, label, thresholds, channels, shard, created_at, top_up, top_up_version, protocol_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)',
      watch.id, watch.chainId, watch.protocol, watch.market, watch.account, watch.label, JSON.stringify(watch.thresholds), JSON.stringify(watch.channels), watch.shard, Date.now(), topUp ? JSON.stringify(topUp) : null, watch.protocolAddress,
    );
    return (await this.getWatch(watch.id))!;
  }

  async listWatches(): Promise<WatchRecord[]> {
    return this.sql.exec<WatchRow>('SELECT * FROM watches ORDER BY created_at, id').toArray().map(watchRecord);
  }

  async getWatch(id: string): Promise<WatchRecord | null> {
    const row = this.sql.exec<WatchRow>('SELECT * FROM watches WHERE id = ?', id).toArray()[0];
    return row ? watchRecord(row) : null;
  }

  async updateWatch(id: string, patch: { label?: string; thresholds?: StoredThresholds; channels?: string[]; silencedUntil?: number | null; topUp?: StoredTopUpPolicy | null }): Promise<WatchRecord | null> {
    const current = this.sql.exec<WatchRow>('SELECT * FROM watches WHERE id = ?', id).toArray()[0];
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
    return this.getWatch(id);
  }

  async deleteWatch(id: string): Promise<WatchRecord | null> {
    const watch = await this.getWatch(id);
    if (!watch) return null;
    this.sql.exec('DELETE FROM watches WHERE id = ?', id);
    return watch;
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
    const row = this.sql.exec<WatchRow>('SELECT * FROM watches WHERE id = ?', request.watchId).toArray()[0];
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
    let stored = 0;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      for (const event of events) {
        const inserted = this.sql.exec(
          'INSERT OR IGNORE INTO events (id, watch_id, type, body, silenced, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          event.eventId, event.watchId, (JSON.parse(event.body) as { type: string }).type, event.body, event.silenced ? 1 : 0, now,
        ).rowsWritten;
        if (inserted === 0 || event.silenced) continue;
        stored += 1;
        const seq = this.sql.exec<{ seq: number }>('SELECT seq FROM events WHERE id = ?', event.eventId).one().seq;
        const channelIds = event.channelIds ?? this.watchChannels(event.watchId);
        for (const channelId of channelIds) {
          const channel = this.sql.exec<ChannelRow>('SELECT * FROM channels WHERE id = ?', channelId).toArray()[0];
          if (!channel || channel.disabled_at !== null || channel.confirm_hash) continue;
          this.sql.exec(
            "INSERT OR IGNORE INTO outbox (event_id, channel_id, group_key, seq, next_attempt_at, status) VALUES (?, ?, ?, ?, ?, 'pending')",
            event.eventId, channelId, `${channelId}/${event.watchId ?? event.eventId}`, seq, now,
          );
        }
      }
    });
    if (stored > 0) await this.ctx.storage.setAlarm(now);
    return stored;
  }

  private watchChannels(watchId: string | null): string[] {
    if (!watchId) return [];
    const row = this.sql.exec<{ channels: string }>('SELECT channels FROM watches WHERE id = ?', watchId).toArray()[0];
    return row ? (JSON.parse(row.channels) as string[]) : [];
  }

  override async alarm(): Promise<void> {
    await this.deliverDue();
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status = 'pending'").one().at;
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now() + 100));
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

  private async deliverDueNow(): Promise<number> {
    const now = Date.now();
    const candidates = this.sql
      .exec<OutboxRow>(
        `SELECT o.* FROM outbox o JOIN (SELECT group_key, MIN(seq) AS seq FROM outbox WHERE status = 'pending' GROUP BY group_key) h
         ON o.group_key = h.group_key AND o.seq = h.seq WHERE o.status = 'pending' AND o.next_attempt_at <= ? ORDER BY o.seq`,
        now,
      )
      .toArray();
    const heads = this.pace(candidates, now);
    let delivered = 0;
    for (let start = 0; start < heads.length; start += DELIVERY_CONCURRENCY) {
      const batch = heads.slice(start, start + DELIVERY_CONCURRENCY);
      const results = await Promise.all(batch.map((row) => this.attempt(row)));
      delivered += results.filter(Boolean).length;
    }
    // A delivery unblocks the next event of its group: send it in this same run.
    if (delivered > 0) delivered += await this.deliverDueNow();
    return delivered;
  }

  /**
   * Channels with a minimum spacing (Telegram: ~1 message/s per chat) get at most one send
   * per run; their other due rows move to the next allowed time without using an attempt.
   */
  private pace(candidates: OutboxRow[], now: number): OutboxRow[] {
    const chosen: OutboxRow[] = [];
    const pacedChannels = new Set<string>();
    for (const row of candidates) {
      const channel = this.sql.exec<ChannelRow>('SELECT * FROM channels WHERE id = ?', row.channel_id).toArray()[0];
      const interval = channel ? minSendIntervalMs(JSON.parse(channel.target) as ChannelTarget) : 0;
      if (interval === 0 || !channel) {
        chosen.push(row);
        continue;
      }
      const allowedAt = (channel.last_sent_at ?? 0) + interval;
      if (pacedChannels.has(row.channel_id) || allowedAt > now) {
        this.sql.exec('UPDATE outbox SET next_attempt_at = MAX(next_attempt_at, ?) WHERE event_id = ? AND channel_id = ?', Math.max(allowedAt, now + interval), row.event_id, row.channel_id);
        continue;
      }
      pacedChannels.add(row.channel_id);
      chosen.push(row);
    }
    return chosen;
  }

  private async attempt(row: OutboxRow): Promise<boolean> {
    const channel = this.sql.exec<ChannelRow>('SELECT * FROM channels WHERE id = ?', row.channel_id).toArray()[0];
    const event = this.sql.exec<{ body: string; created_at: number }>('SELECT body, created_at FROM events WHERE id = ?', row.event_id).toArray()[0];
    if (!channel || !event || channel.disabled_at !== null) {
      this.sql.exec("UPDATE outbox SET status = 'dead', last_error = ? WHERE event_id = ? AND channel_id = ?", channel ? `channel disabled: ${channel.disabled_reason}` : 'channel deleted', row.event_id, row.channel_id);
      return false;
    }
    const startedAt = Date.now();
    const firstAttemptAt = row.first_attempt_at ?? startedAt;
    this.sql.exec('UPDATE channels SET last_sent_at = ? WHERE id = ?', startedAt, channel.id);
    const stored: StoredChannel = { id: channel.id, label: channel.label, target: JSON.parse(channel.target) as ChannelTarget, secret: channel.secret };
    let outcome: Awaited<ReturnType<ReturnType<typeof createChannelSender>>>;
    try {
      outcome = await createChannelSender(this.env)(stored, { id: row.event_id, body: event.body, createdAt: new Date(event.created_at) });
    } catch (error) {
      // A sender bug or misconfiguration is retried like a failure, never lost.
      outcome = { kind: 'retry', reason: error instanceof Error ? `${error.name}: ${error.message.slice(0, 160)}` : 'send failed' };
    }
    const now = Date.now();
    const attempts = row.attempts + 1;
    if (outcome.kind === 'delivered') {
      this.sql.exec("UPDATE outbox SET status = 'delivered', attempts = ?, first_attempt_at = ?, delivered_at = ?, last_error = NULL WHERE event_id = ? AND channel_id = ?", attempts, firstAttemptAt, now, row.event_id, row.channel_id);
      return true;
    }
    if (outcome.kind === 'failed') {
      this.sql.exec("UPDATE outbox SET status = 'dead', attempts = ?, first_attempt_at = ?, last_error = ? WHERE event_id = ? AND channel_id = ?", attempts, firstAttemptAt, outcome.reason, row.event_id, row.channel_id);
      return false;
    }
    if (outcome.kind === 'gone') {
      const reason = outcome.reason;
      this.ctx.storage.transactionSync(() => {
        this.sql.exec('UPDATE channels SET disabled_at = ?, disabled_reason = ? WHERE id = ?', now, reason, channel.id);
        this.sql.exec("UPDATE outbox SET status = 'dead', attempts = attempts + (CASE WHEN event_id = ? THEN 1 ELSE 0 END), last_error = ? WHERE channel_id = ? AND status = 'pending'", row.event_id, `channel disabled: ${reason}`, channel.id);
      });
      return false;
    }
    const next = nextAttemptAt({ attempt: attempts, firstAttemptAt, now, retryAfterMs: outcome.retryAfterMs, random: Math.random });
    if ('deadLetter' in next) {
      this.sql.exec("UPDATE outbox SET status = 'dead', attempts = ?, first_attempt_at = ?, last_error = ? WHERE event_id = ? AND channel_id = ?", attempts, firstAttemptAt, outcome.reason, row.event_id, row.channel_id);
    } else {
      this.sql.exec('UPDATE outbox SET attempts = ?, first_attempt_at = ?, next_attempt_at = ?, last_error = ? WHERE event_id = ? AND channel_id = ?', attempts, firstAttemptAt, next.at, outcome.reason, row.event_id, row.channel_id);
    }
    return false;
  }

  /** Events of one watch, newest first; `cursor` is the last seq of the previous page. */
  async listEvents(watchId: string, limit: number, cursor?: number): Promise<{ data: EventRecord[]; nextCursor: string | null }> {
    const rows = this.sql
      .exec<{ seq: number; id: string; watch_id: string | null; type: string; body: string; silenced: number; created_at: number }>(
        'SELECT * FROM events WHERE watch_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
        watchId, cursor ?? Number.MAX_SAFE_INTEGER, limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    return {
      data: page.map((row) => ({
        id: row.id,
        watchId: row.watch_id,
        type: row.type,
        createdAt: new Date(row.created_at).toISOString(),
        silenced: row.silenced === 1,
        body: JSON.parse(row.body) as unknown,
        deliveries: this.deliveriesOf(row.id),
      })),
      nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null,
    };
  }

  async listDeliveries(status: 'pending' | 'delivered' | 'dead', limit: number): Promise<DeliveryRecord[]> {
    return this.sql.exec<OutboxRow>('SELECT * FROM outbox WHERE status = ? ORDER BY seq DESC LIMIT ?', status, limit).toArray().map(deliveryRecord);
  }

  async deliveriesOfEvent(eventId: string): Promise<DeliveryRecord[]> {
    return this.deliveriesOf(eventId);
  }

  private deliveriesOf(eventId: string): DeliveryRecord[] {
    return this.sql.exec<OutboxRow>('SELECT * FROM outbox WHERE event_id = ? ORDER BY channel_id', eventId).toArray().map(deliveryRecord);
  }

  /** Test hook for fault tests: throws the way an eviction mid-request would. */
  async assertExists(kind: 'channel' | 'watch', id: string): Promise<void> {
    const table = kind === 'channel' ? 'channels' : 'watches';
    if (this.sql.exec(`SELECT 1 FROM ${table} WHERE id = ?`, id).toArray().length === 0) throw new AppError('not_found', `${kind} ${id} not found`, { status: 404 });
  }
}

function channelRecord(row: ChannelRow): ChannelRecord {
  const { type, ...target } = JSON.parse(row.target) as ChannelTarget;
  return { id: row.id, type, ...target, label: row.label, status: row.confirm_hash ? 'pending_confirmation' : 'active', createdAt: iso(row.created_at)!, disabledAt: iso(row.disabled_at), disabledReason: row.disabled_reason };
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
    silencedUntil: iso(row.silenced_until),
    topUp: row.top_up ? (JSON.parse(row.top_up) as StoredTopUpPolicy) : null,
    createdAt: iso(row.created_at)!,
  };
}

function deliveryRecord(row: OutboxRow): DeliveryRecord {
  return {
    eventId: row.event_id,
    channelId: row.channel_id,
    status: row.status as DeliveryRecord['status'],
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    deliveredAt: iso(row.delivered_at),
  };
}

/** A tenant's object, by tenant id. (Typed here: the generated Env types namespaces loosely.) */
export function tenantStub(env: Env, tenantId: string): DurableObjectStub<Tenant> {
  const namespace = env.TENANT as unknown as DurableObjectNamespace<Tenant>;
  return namespace.get(namespace.idFromName(tenantId));
}
