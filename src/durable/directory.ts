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
      // Telegram: which tenant channel a chat is (link codes live in their tenant's object).
      this.sql.exec('CREATE TABLE IF NOT EXISTS telegram_chats (chat_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, channel_id TEXT NOT NULL, linked_at INTEGER NOT NULL)');
    });
  }

  /** Returns the least-full shard of the market with room, creating one when all are full. */
  async assignShard(marketKey: string, shardSize: number): Promise<string> {
    const open = this.sql.exec<ShardRow>('SELECT * FROM shards WHERE market_key = ? AND watches < ? ORDER BY watches LIMIT 1', marketKey, shardSize).toArray()[0];
    if (open) {
      this.sql.exec('UPDATE shards SET watches = watches + 1 WHERE name = ?', open.name);
      return open.name;
    }
    const count = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM shards WHERE market_key = ?', marketKey).one().n;
    const name = `${marketKey}#${count}`;
    this.sql.exec('INSERT INTO shards (name, market_key, watches) VALUES (?, ?, 1)', name, marketKey);
    return name;
  }

  async releaseShard(name: string): Promise<void> {
    this.sql.exec('UPDATE shards SET watches = MAX(0, watches - 1) WHERE name = ?', name);
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

/** The deployment-wide directory (one instance). */
export function directoryStub(env: Env): DurableObjectStub<Directory> {
  const namespace = env.DIRECTORY as unknown as DurableObjectNamespace<Directory>;
  return namespace.get(namespace.idFromName('directory'));
}
