import type { ApiKeyRecord } from '../watches/records';

/**
 * The tenant's table of API keys: SHA-256 hashes of tagged random keys (never the keys), each
 * with a public id (list, revoke) and an optional end (a rotation's grace).
 */

export function createApiKeyTable(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS api_keys (hash TEXT PRIMARY KEY, label TEXT NOT NULL, created_at INTEGER NOT NULL)');
  // Keys got a public id and an optional end later; rows from before get an id from their hash.
  const columns = new Set(sql.exec<{ name: string }>('PRAGMA table_info(api_keys)').toArray().map((column) => column.name));
  if (!columns.has('id')) sql.exec('ALTER TABLE api_keys ADD COLUMN id TEXT');
  if (!columns.has('expires_at')) sql.exec('ALTER TABLE api_keys ADD COLUMN expires_at INTEGER');
  sql.exec("UPDATE api_keys SET id = 'key_' || substr(hash, 1, 20) WHERE id IS NULL");
  sql.exec('CREATE UNIQUE INDEX IF NOT EXISTS api_keys_id ON api_keys (id)');
}

export function insertApiKey(sql: SqlStorage, key: { id: string; hash: string; label: string }, now: number): ApiKeyRecord {
  sql.exec('INSERT INTO api_keys (id, hash, label, created_at) VALUES (?, ?, ?, ?)', key.id, key.hash, key.label, now);
  return { id: key.id, label: key.label, createdAt: new Date(now).toISOString(), expiresAt: null };
}

export function hasApiKeys(sql: SqlStorage): boolean {
  return sql.exec('SELECT 1 FROM api_keys LIMIT 1').toArray().length > 0;
}

/**
 * The key's id when its hash is stored and not past a rotation's grace. Looked up by the
 * SHA-256 of a tagged random key: timing reveals nothing an attacker could use.
 */
export function apiKeyIdOf(sql: SqlStorage, hash: string, now: number): string | null {
  const row = sql.exec<{ id: string; expires_at: number | null }>('SELECT id, expires_at FROM api_keys WHERE hash = ?', hash).toArray()[0];
  if (!row || (row.expires_at !== null && row.expires_at <= now)) return null;
  return row.id;
}

/** Keys that still work (a rotated key until its grace ends). */
export function listApiKeys(sql: SqlStorage, now: number): ApiKeyRecord[] {
  return sql
    .exec<{ id: string; label: string; created_at: number; expires_at: number | null }>('SELECT id, label, created_at, expires_at FROM api_keys WHERE expires_at IS NULL OR expires_at > ? ORDER BY created_at, id', now)
    .toArray()
    .map((row) => ({ id: row.id, label: row.label, createdAt: new Date(row.created_at).toISOString(), expiresAt: row.expires_at === null ? null : new Date(row.expires_at).toISOString() }));
}

export function deleteApiKey(sql: SqlStorage, id: string): boolean {
  return sql.exec('DELETE FROM api_keys WHERE id = ?', id).rowsWritten > 0;
}

/**
 * At most this many rotated keys work at once (each rotation with a grace adds one): a chain
 * of rotations cannot leave a tenant with thousands of live keys.
 */
export const MAX_KEYS_IN_GRACE = 5;

export type KeyRotation =
  | { outcome: 'rotated'; key: ApiKeyRecord; previous: { id: string; expiresAt: string } }
  /** The calling key is gone (revoked between the auth check and here). */
  | { outcome: 'unknown_key' }
  /** The calling key was itself rotated out: it works until its grace ends, but cannot mint a key that outlives it. */
  | { outcome: 'rotated_out'; expiresAt: string }
  | { outcome: 'too_many_keys_in_grace'; nextEndsAt: string };

/**
 * Adds the new key and ends the old one (now, or after `graceMs`); the new key keeps the old
 * label. The caller runs it in one transaction.
 */
export function rotateApiKey(sql: SqlStorage, oldId: string, next: { id: string; hash: string }, graceMs: number, now: number): KeyRotation {
  const old = sql.exec<{ label: string; expires_at: number | null }>('SELECT label, expires_at FROM api_keys WHERE id = ?', oldId).toArray()[0];
  if (!old || (old.expires_at !== null && old.expires_at <= now)) return { outcome: 'unknown_key' };
  // Whoever holds a key in its grace (a leaked key being rotated out, say) must not get a
  // key that never ends from it.
  if (old.expires_at !== null) return { outcome: 'rotated_out', expiresAt: new Date(old.expires_at).toISOString() };
  // Housekeeping: keys whose grace ended can never authenticate again.
  sql.exec('DELETE FROM api_keys WHERE expires_at IS NOT NULL AND expires_at <= ?', now);
  if (graceMs === 0) sql.exec('DELETE FROM api_keys WHERE id = ?', oldId);
  else {
    const inGrace = sql.exec<{ count: number; next_end: number | null }>('SELECT COUNT(*) AS count, MIN(expires_at) AS next_end FROM api_keys WHERE expires_at IS NOT NULL').one();
    if (inGrace.count >= MAX_KEYS_IN_GRACE) return { outcome: 'too_many_keys_in_grace', nextEndsAt: new Date(inGrace.next_end!).toISOString() };
    sql.exec('UPDATE api_keys SET expires_at = ? WHERE id = ?', now + graceMs, oldId);
  }
  const key = insertApiKey(sql, { id: next.id, hash: next.hash, label: old.label }, now);
  return { outcome: 'rotated', key, previous: { id: oldId, expiresAt: new Date(now + graceMs).toISOString() } };
}
