import type { TelegramCodeCheck } from '../watches/records';

/** The tenant's table of Telegram link codes (hashes only; see link.ts), looked up by primary key. */

export function createLinkCodeTable(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS telegram_link_codes (code_hash TEXT PRIMARY KEY, label TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER)');
  sql.exec('CREATE INDEX IF NOT EXISTS telegram_link_codes_pending ON telegram_link_codes (used_at, expires_at)');
}

/** Stores a code unless the tenant already has `maxPending` unused, unexpired ones. */
export function insertLinkCode(sql: SqlStorage, code: { hash: string; label: string; expiresAt: number }, now: number, maxPending: number): boolean {
  // Housekeeping: codes a day past expiry can only ever answer "expired"; drop them.
  sql.exec('DELETE FROM telegram_link_codes WHERE expires_at < ?', now - 86_400_000);
  const pending = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM telegram_link_codes WHERE used_at IS NULL AND expires_at > ?', now).one().n;
  if (pending >= maxPending) return false;
  sql.exec('INSERT INTO telegram_link_codes (code_hash, label, expires_at) VALUES (?, ?, ?)', code.hash, code.label, code.expiresAt);
  return true;
}

export function linkCodeStatus(sql: SqlStorage, hash: string, now: number): TelegramCodeCheck {
  const row = sql.exec<{ label: string; expires_at: number; used_at: number | null }>('SELECT label, expires_at, used_at FROM telegram_link_codes WHERE code_hash = ?', hash).toArray()[0];
  if (!row) return { status: 'unknown' };
  if (row.used_at !== null) return { status: 'used' };
  if (row.expires_at <= now) return { status: 'expired' };
  return { status: 'valid', label: row.label };
}

/** Uses a code when it is valid; the caller runs it in one transaction, so of two chats racing for it exactly one gets `valid`. */
export function claimLinkCode(sql: SqlStorage, hash: string, now: number): TelegramCodeCheck {
  const check = linkCodeStatus(sql, hash, now);
  if (check.status === 'valid') sql.exec('UPDATE telegram_link_codes SET used_at = ? WHERE code_hash = ?', now, hash);
  return check;
}
