import { DurableObject } from 'cloudflare:workers';

type ShardRow = { name: string; market_key: string; watches: number };

/**
 * The deployment-wide index (a single instance): which shards exist and how full they are.
 * It places new watches into shards of one (chain, protocol, market) and gives cron the
 * list of shards to wake.
 */
export class Directory extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec('CREATE TABLE IF NOT EXISTS shards (name TEXT PRIMARY KEY, market_key TEXT NOT NULL, watches INTEGER NOT NULL)');
      this.sql.exec('CREATE INDEX IF NOT EXISTS shards_market ON shards (market_key, watches)');
      // Which shard each watch was given: makes assign and release idempotent by watch id.
      this.sql.exec('CREATE TABLE IF NOT EXISTS placements (watch_id TEXT PRIMARY KEY, shard TEXT NOT NULL)');
      // Objects with work waiting (a tenant's outbox or unsynced watches): the cron watchdog re-arms their alarms.
      this.sql.exec('CREATE TABLE IF NOT EXISTS armed (kind TEXT NOT NULL, name TEXT NOT NULL, checked_at INTEGER NOT NULL, PRIMARY KEY (kind, name))');
      this.sql.exec('CREATE INDEX IF NOT EXISTS armed_checked ON armed (kind, checked_at)');
      // Telegram: which tenant channel a chat is (link codes live in their tenant's object).
      this.sql.exec('CREATE TABLE IF NOT EXISTS telegram_chats (chat_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, channel_id TEXT NOT NULL, linked_at INTEGER NOT NULL)');
    });
  }

  /**
   * Returns the least-full shard of the market with room, creating one when all are full.
   * Idempotent by watch id: a retried assignment returns the first answer and counts once.
   */
  async assignShard(marketKey: string, shardSize: number, watchId: string): Promise<string> {
    return this.ctx.storage.transactionSync(() => {
      const placed = this.sql.exec<{ shard: string }>('SELECT shard FROM placements WHERE watch_id = ?', watchId).toArray()[0];
      if (placed) return placed.shard;
      const open = this.sql.exec<ShardRow>('SELECT * FROM shards WHERE market_key = ? AND watches < ? ORDER BY watches LIMIT 1', marketKey, shardSize).toArray()[0];
      let name: string;
      if (open) {
        name = open.name;
        this.sql.exec('UPDATE shards SET watches = watches + 1 WHERE name = ?', name);
      } else {
        const count = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM shards WHERE market_key = ?', marketKey).one().n;
        name = `${marketKey}#${count}`;
        this.sql.exec('INSERT INTO shards (name, market_key, watches) VALUES (?, ?, 1)', name, marketKey);
      }
      this.sql.exec('INSERT INTO placements (watch_id, shard) VALUES (?, ?)', watchId, name);
      return name;
    });
  }

  /**
   * Frees the watch's slot, once: a retried release finds no placement and changes nothing.
   * (Watches placed before placements were recorded have none, and keep their slot counted.)
   */
  async releaseShard(name: string, watchId: string): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      const released = this.sql.exec('DELETE FROM placements WHERE watch_id = ? AND shard = ?', watchId, name).rowsWritten;
      if (released > 0) this.sql.exec('UPDATE shards SET watches = MAX(0, watches - 1) WHERE name = ?', name);
    });
  }

  /** The shard a watch was placed in, or null. */
  async placementOf(watchId: string): Promise<string | null> {
    return this.sql.exec<{ shard: string }>('SELECT shard FROM placements WHERE watch_id = ?', watchId).toArray()[0]?.shard ?? null;
  }

  /** How many watches the directory counts in a shard (0 for an unknown shard). */
  async shardCount(name: string): Promise<number> {
    return this.sql.exec<{ watches: number }>('SELECT watches FROM shards WHERE name = ?', name).toArray()[0]?.watches ?? 0;
  }

  // ── Armed objects (for the cron watchdog) ─────────────────────────────────

  async markArmed(kind: 'tenant', name: string): Promise<void> {
    this.sql.exec('INSERT OR IGNORE INTO armed (kind, name, checked_at) VALUES (?, ?, 0)', kind, name);
  }

  async clearArmed(kind: 'tenant', name: string): Promise<void> {
    this.sql.exec('DELETE FROM armed WHERE kind = ? AND name = ?', kind, name);
  }

  /** The `limit` objects checked longest ago, marked as checked now: beyond `limit`, later minutes take the rest in turn. */
  async takeArmedToCheck(kind: 'tenant', limit: number): Promise<string[]> {
    const now = Date.now();
    return this.ctx.storage.transactionSync(() => {
      const names = this.sql.exec<{ name: string }>('SELECT name FROM armed WHERE kind = ? ORDER BY checked_at LIMIT ?', kind, limit).toArray().map((row) => row.name);
      for (const name of names) this.sql.exec('UPDATE armed SET checked_at = ? WHERE kind = ? AND name = ?', now, kind, name);
      return names;
    });
  }

  async listShards(): Promise<Array<{ name: string; watches: number }>> {
    return this.sql.exec<ShardRow>('SELECT * FROM shards WHERE watches > 0 ORDER BY name').toArray().map((row) => ({ name: row.name, watches: row.watches }));
  }

  // ── Telegram chat links ───────────────────────────────────────────────────
  // Which tenant channel a chat is. Kept in named partitions of this class by chat-id hash
  // (src/telegram/chat-links.ts), so no single instance serves every update. The table also
  // exists in the original single instance, where chats linked before partitioning live
  // until their first message moves them.

  async telegramChat(chatId: string): Promise<{ tenantId: string; channelId: string } | null> {
    const row = this.sql.exec<{ tenant_id: string; channel_id: string }>('SELECT tenant_id, channel_id FROM telegram_chats WHERE chat_id = ?', chatId).toArray()[0];
    return row ? { tenantId: row.tenant_id, channelId: row.channel_id } : null;
  }

  /** Maps a chat to a tenant's channel; a newer link replaces an older one. */
  async linkTelegramChat(chatId: string, tenantId: string, channelId: string, now: number): Promise<void> {
    this.sql.exec(
      'INSERT INTO telegram_chats (chat_id, tenant_id, channel_id, linked_at) VALUES (?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET tenant_id = excluded.tenant_id, channel_id = excluded.channel_id, linked_at = excluded.linked_at',
      chatId, tenantId, channelId, now,
    );
  }

  /** Forgets a chat's link, only if it still points at that channel (a newer link wins). */
  async unlinkTelegramChat(chatId: string, channelId: string): Promise<void> {
    this.sql.exec('DELETE FROM telegram_chats WHERE chat_id = ? AND channel_id = ?', chatId, channelId);
  }
}
