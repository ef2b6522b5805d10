import { bucketStart, retentionCutoff, type HfPoint } from './hf-history';

/**
 * The shard's table of health-factor history (see hf-history.ts). Writes are cheap by design:
 * a poll writes a row only when it opens a new bucket or lowers the bucket's minimum, so a
 * watch polled every 12 s costs about one row write per bucket, not one per poll.
 */

/** Points pruned per call; the rest wait for the next tick. */
const PRUNE_BATCH = 500;

export function createHfHistoryTable(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS hf_history (watch_id TEXT NOT NULL, bucket INTEGER NOT NULL, hf REAL, PRIMARY KEY (watch_id, bucket))');
  sql.exec('CREATE INDEX IF NOT EXISTS hf_history_age ON hf_history (bucket)');
}

export function recordHfPoint(sql: SqlStorage, watchId: string, point: HfPoint, bucketMs: number): void {
  sql.exec(
    `INSERT INTO hf_history (watch_id, bucket, hf) VALUES (?, ?, ?)
     ON CONFLICT (watch_id, bucket) DO UPDATE SET hf = excluded.hf WHERE excluded.hf IS NOT NULL AND (hf IS NULL OR excluded.hf < hf)`,
    watchId, bucketStart(point.at, bucketMs), point.healthFactor,
  );
}

/** Drops points past the retention, a batch at a time. */
export function pruneHfHistory(sql: SqlStorage, now: number): void {
  sql.exec('DELETE FROM hf_history WHERE rowid IN (SELECT rowid FROM hf_history WHERE bucket < ? ORDER BY bucket LIMIT ?)', retentionCutoff(now), PRUNE_BATCH);
}

export function readHfHistory(sql: SqlStorage, watchId: string, sinceMs: number): HfPoint[] {
  return sql
    .exec<{ bucket: number; hf: number | null }>('SELECT bucket, hf FROM hf_history WHERE watch_id = ? AND bucket >= ? ORDER BY bucket', watchId, sinceMs)
    .toArray()
    .map((row) => ({ at: row.bucket, healthFactor: row.hf }));
}

export function dropHfHistory(sql: SqlStorage, watchId: string): void {
  sql.exec('DELETE FROM hf_history WHERE watch_id = ?', watchId);
}
