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
}
