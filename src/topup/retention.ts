/*
 * Retention of the executor's history: finished actions (and their transactions) older than
 * RETENTION_DAYS go, a bounded batch at a time. An action in flight is never touched, and
 * the caps and cooldown only ever look back a day, far inside any retention.
 */

export function createRetentionIndexes(sql: SqlStorage): void {
  sql.exec('CREATE INDEX IF NOT EXISTS actions_age ON actions (created_at)');
  sql.exec('CREATE INDEX IF NOT EXISTS txs_action ON txs (action_id)');
}

/** Deletes up to `batch` finished actions created before `cutoff`, with their transactions; returns how many. */
export function pruneActions(sql: SqlStorage, cutoff: number, batch: number): number {
  const ids = sql
    .exec<{ id: string }>("SELECT id FROM actions WHERE created_at < ? AND status != 'in_flight' ORDER BY created_at LIMIT ?", cutoff, batch)
    .toArray()
    .map((row) => row.id);
  for (const id of ids) {
    sql.exec('DELETE FROM txs WHERE action_id = ?', id);
    sql.exec('DELETE FROM actions WHERE id = ?', id);
  }
  return ids.length;
}
