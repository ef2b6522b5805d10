import { fairOrder } from './fair-order';
import type { RequestRow } from './records';
import { parseRequest, type TopUpRequest } from './request';
import { REQUEST_TTL_MS } from './schedule';

/*
 * The executor's waiting requests, in its SQLite storage: the latest per watch wins, stale
 * ones expire, and they are served in turns by tenant. Shards add; the API's deletions,
 * policy changes and the owner's revocations take away. No chain I/O.
 */

export type Clock = () => number;

export class RequestQueue {
  constructor(
    private readonly sql: SqlStorage,
    private readonly clock: Clock,
  ) {
    sql.exec('CREATE TABLE IF NOT EXISTS requests (watch_id TEXT PRIMARY KEY, body TEXT NOT NULL, received_at INTEGER NOT NULL)');
    // Added with the owner's grants; guarded so executors created before keep their rows.
    const columns = new Set(sql.exec<{ name: string }>('PRAGMA table_info(requests)').toArray().map((column) => column.name));
    if (!columns.has('tenant_id')) sql.exec("ALTER TABLE requests ADD COLUMN tenant_id TEXT NOT NULL DEFAULT ''");
  }

  /** Stores the requests; a newer one for a watch replaces the waiting one. */
  add(requests: readonly TopUpRequest[]): void {
    const now = this.clock();
    for (const request of requests) {
      this.sql.exec(
        'INSERT INTO requests (watch_id, tenant_id, body, received_at) VALUES (?, ?, ?, ?) ON CONFLICT(watch_id) DO UPDATE SET tenant_id = excluded.tenant_id, body = excluded.body, received_at = excluded.received_at',
        request.watch.id, request.tenantId, JSON.stringify(request), now,
      );
    }
  }

  dropWatch(watchId: string): void {
    this.sql.exec('DELETE FROM requests WHERE watch_id = ?', watchId);
  }

  dropTenant(tenantId: string): number {
    return this.sql.exec('DELETE FROM requests WHERE tenant_id = ?', tenantId).rowsWritten;
  }

  /** The waiting requests, expired ones dropped first (the shard repeats a request every tick while its trigger holds), in turns by tenant. */
  waiting(): Array<{ row: RequestRow; request: TopUpRequest }> {
    this.sql.exec('DELETE FROM requests WHERE received_at < ?', this.clock() - REQUEST_TTL_MS);
    return fairOrder(this.sql.exec<RequestRow>('SELECT * FROM requests ORDER BY received_at').toArray()).map((row) => ({ row, request: parseRequest(row.body) }));
  }

  /** Done with this one; a newer request for the watch that arrived meanwhile stays for the next pass. */
  done(row: RequestRow): void {
    this.sql.exec('DELETE FROM requests WHERE watch_id = ? AND received_at = ?', row.watch_id, row.received_at);
  }

  size(): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM requests').one().n;
  }
}
