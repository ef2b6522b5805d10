/**
 * The tenant's table of dashboard sessions (hashes only; see session.ts). A session lives
 * until its expiry, its sign-out, or the API key it was opened with stops working (revoked,
 * or rotated past its grace): the lookup joins the tenant's api_keys table.
 */

export type SessionRecord = { keyId: string; expiresAt: number };

export function createSessionTable(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS dashboard_sessions (hash TEXT PRIMARY KEY, key_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)');
  sql.exec('CREATE INDEX IF NOT EXISTS dashboard_sessions_age ON dashboard_sessions (created_at)');
}

/** Stores a session; expired ones are dropped, and the oldest beyond `maxSessions` end. */
export function insertSession(sql: SqlStorage, session: { hash: string; keyId: string; expiresAt: number }, now: number, maxSessions: number): void {
  sql.exec('DELETE FROM dashboard_sessions WHERE expires_at <= ?', now);
  sql.exec(
    'DELETE FROM dashboard_sessions WHERE hash IN (SELECT hash FROM dashboard_sessions ORDER BY created_at DESC, hash LIMIT -1 OFFSET ?)',
    maxSessions - 1,
  );
  sql.exec('INSERT INTO dashboard_sessions (hash, key_id, created_at, expires_at) VALUES (?, ?, ?, ?)', session.hash, session.keyId, now, session.expiresAt);
}

export function findSession(sql: SqlStorage, hash: string, now: number): SessionRecord | null {
  const row = sql
    .exec<{ key_id: string; expires_at: number }>(
      `SELECT s.key_id, s.expires_at FROM dashboard_sessions s JOIN api_keys k ON k.id = s.key_id
       WHERE s.hash = ? AND s.expires_at > ? AND (k.expires_at IS NULL OR k.expires_at > ?)`,
      hash, now, now,
    )
    .toArray()[0];
  return row ? { keyId: row.key_id, expiresAt: row.expires_at } : null;
}

export function deleteSession(sql: SqlStorage, hash: string): boolean {
  return sql.exec('DELETE FROM dashboard_sessions WHERE hash = ?', hash).rowsWritten > 0;
}
