/*
 * Retention of the executor's history: finished actions (and their transactions) older than
 * RETENTION_DAYS go, a bounded batch at a time. An action in flight is never touched, and
 * the caps and cooldown only ever look back a day, far inside any retention.
 */

export function createRetentionIndexes(sql: SqlStorage): void {
  sql.exec('CREATE INDEX IF NOT EXISTS actions_age ON actions (created_at)');
  sql.exec('CREATE INDEX IF NOT EXISTS actions_watch_age ON actions (watch_id, created_at)');
  sql.exec('CREATE INDEX IF NOT EXISTS txs_action ON txs (action_id)');
}

/**
 * Dry runs move nothing and may repeat every minute for as long as a position stays under its
 * trigger, in an object every tenant of the chain shares: they are kept a day (the caps and the
 * cooldown look back no further), each watch's newest action always (its slot and block).
 */
export const DRY_RUN_RETENTION_MS = 24 * 60 * 60 * 1000;

/** At most this many dry runs per position in a day (one each half hour on average): with the day's retention, a bound on rows per watch. */
export const MAX_DRY_RUNS_PER_DAY = 48;

/**
 * Deletes up to `batch` finished actions created before `cutoff`, and dry runs before
 * `dryRunCutoff` but each watch's newest, with their transactions; returns how many.
 */
export function pruneActions(sql: SqlStorage, cutoff: number, batch: number, dryRunCutoff = cutoff): number {
  const ids = sql
    .exec<{ id: string }>(
      `SELECT id FROM actions a WHERE status != 'in_flight' AND (created_at < ? OR (dry_run = 1 AND created_at < ?
         AND EXISTS (SELECT 1 FROM actions newer WHERE newer.watch_id = a.watch_id AND newer.created_at > a.created_at)))
       ORDER BY created_at LIMIT ?`,
      cutoff, dryRunCutoff, batch,
    )
    .toArray()
    .map((row) => row.id);
  for (const id of ids) {
    sql.exec('DELETE FROM txs WHERE action_id = ?', id);
    sql.exec('DELETE FROM actions WHERE id = ?', id);
  }
  return ids.length;
}
