/**
 * How many confirmation mails a tenant may make the deployment send in a day, whatever it
 * does between them: the pending-confirmation cap alone did not bound it (create, delete,
 * create again mails a stranger each time), and every mail carries the tenant's own label
 * from the deployment's sender.
 */
export const CONFIRMATION_MAILS_PER_DAY = 20;
const WINDOW_MS = 24 * 60 * 60 * 1000;

export type ConfirmationMailSlot = { ok: true } | { ok: false; retryAt: number };

export function createConfirmationMailTable(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS confirmation_mails (sent_at INTEGER NOT NULL)');
}

/** Takes one mail of the last 24 h's budget, or says when the oldest one leaves the window. */
export function takeConfirmationMail(sql: SqlStorage, now: number): ConfirmationMailSlot {
  sql.exec('DELETE FROM confirmation_mails WHERE sent_at <= ?', now - WINDOW_MS);
  const window = sql.exec<{ count: number; oldest: number | null }>('SELECT COUNT(*) AS count, MIN(sent_at) AS oldest FROM confirmation_mails').one();
  if (window.count >= CONFIRMATION_MAILS_PER_DAY) return { ok: false, retryAt: window.oldest! + WINDOW_MS };
  sql.exec('INSERT INTO confirmation_mails (sent_at) VALUES (?)', now);
  return { ok: true };
}
