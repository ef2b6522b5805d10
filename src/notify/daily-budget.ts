/**
 * What a tenant may make the deployment send in any 24 hours, whatever it does between the
 * requests (deleting and re-creating a channel included): each send writes history the
 * tenant's object keeps for RETENTION_DAYS, and some reach people who never asked.
 */
export const DAILY_BUDGETS = {
  /** Confirmation mails carry the tenant's own label from the deployment's sender to a stranger. */
  confirmation_mail: 20,
  /** Each channel test is an event with its delivery, kept like any alert's. */
  channel_test: 200,
} as const;

export type DailyBudgetKind = keyof typeof DAILY_BUDGETS;

const WINDOW_MS = 24 * 60 * 60 * 1000;

export type BudgetSlot = { ok: true } | { ok: false; limit: number; retryAt: number };

export function createDailyBudgetTable(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS daily_budget (kind TEXT NOT NULL, at INTEGER NOT NULL)');
  sql.exec('CREATE INDEX IF NOT EXISTS daily_budget_kind_at ON daily_budget (kind, at)');
}

/** Takes one from the last 24 h's budget of `kind`, or says when the oldest use leaves the window. */
export function takeFromDailyBudget(sql: SqlStorage, kind: DailyBudgetKind, now: number): BudgetSlot {
  sql.exec('DELETE FROM daily_budget WHERE kind = ? AND at <= ?', kind, now - WINDOW_MS);
  const window = sql.exec<{ count: number; oldest: number | null }>('SELECT COUNT(*) AS count, MIN(at) AS oldest FROM daily_budget WHERE kind = ?', kind).one();
  const limit = DAILY_BUDGETS[kind];
  if (window.count >= limit) return { ok: false, limit, retryAt: window.oldest! + WINDOW_MS };
  sql.exec('INSERT INTO daily_budget (kind, at) VALUES (?, ?)', kind, now);
  return { ok: true };
}
