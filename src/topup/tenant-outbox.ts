import type { TopUpEventBody } from './events';
import type { NoticeRow } from './records';
import type { Clock } from './request-queue';
import { NOTICE_RETENTION_MS } from './schedule';

/*
 * What the executor owes tenants, kept in its SQLite storage until each tenant confirms:
 * top-up events (idempotent by id, so a retried hand-off or a repeated decision adds
 * nothing) and budget reservations to give back (actions that provably moved nothing).
 * The hand-off itself is the executor's (it holds the tenant stubs).
 */

export class TenantOutbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly clock: Clock,
  ) {
    sql.exec('CREATE TABLE IF NOT EXISTS notices (event_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, watch_id TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL, handed_off INTEGER NOT NULL DEFAULT 0)');
    sql.exec('CREATE TABLE IF NOT EXISTS releases (action_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL)');
  }

  /** Records an event for a tenant; an id already recorded is ignored. */
  add(tenantId: string, watchId: string, body: TopUpEventBody): void {
    this.sql.exec('INSERT OR IGNORE INTO notices (event_id, tenant_id, watch_id, body, created_at) VALUES (?, ?, ?, ?, ?)', body.id, tenantId, watchId, JSON.stringify(body), this.clock());
  }

  has(eventId: string): boolean {
    return this.sql.exec('SELECT 1 FROM notices WHERE event_id = ?', eventId).toArray().length > 0;
  }

  /** Events not yet confirmed, oldest first, grouped by tenant. */
  undelivered(): Map<string, NoticeRow[]> {
    const byTenant = new Map<string, NoticeRow[]>();
    for (const row of this.sql.exec<NoticeRow>('SELECT event_id, tenant_id, watch_id, body FROM notices WHERE handed_off = 0 ORDER BY created_at, event_id').toArray()) {
      const rows = byTenant.get(row.tenant_id);
      if (rows) rows.push(row);
      else byTenant.set(row.tenant_id, [row]);
    }
    return byTenant;
  }

  delivered(rows: readonly NoticeRow[]): void {
    for (const row of rows) this.sql.exec('UPDATE notices SET handed_off = 1 WHERE event_id = ?', row.event_id);
  }

  undeliveredCount(): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM notices WHERE handed_off = 0').one().n;
  }

  /** Delivered events are kept a while (their ids stop repeats), then pruned. */
  prune(): void {
    this.sql.exec('DELETE FROM notices WHERE handed_off = 1 AND created_at < ?', this.clock() - NOTICE_RETENTION_MS);
  }

  /** A reservation of `actionId` to give back to its tenant's budget. */
  addRelease(actionId: string, tenantId: string): void {
    this.sql.exec('INSERT OR IGNORE INTO releases (action_id, tenant_id) VALUES (?, ?)', actionId, tenantId);
  }

  releases(): Array<{ action_id: string; tenant_id: string }> {
    return this.sql.exec<{ action_id: string; tenant_id: string }>('SELECT * FROM releases').toArray();
  }

  released(actionId: string): void {
    this.sql.exec('DELETE FROM releases WHERE action_id = ?', actionId);
  }
}
