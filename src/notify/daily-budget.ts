import { AppError } from '../lib/errors';

/**
 * What a tenant may make the deployment send in any 24 hours, whatever it does between the
 * requests (deleting and re-creating a channel included): each send writes history the
 * tenant's object keeps for RETENTION_DAYS, and some reach people who never asked.
 */
export const DAILY_BUDGETS = {
  /** Confirmation mails carry the tenant's own label from the deployment's sender to a stranger. */
  confirmation_mail: { limit: 20, code: 'confirmation_mail_limit', what: 'confirmation emails' },
  /** Each channel test is an event with its delivery, kept like any alert's. */
  channel_test: { limit: 200, code: 'channel_test_limit', what: 'channel tests' },
} as const;

export type DailyBudgetKind = keyof typeof DAILY_BUDGETS;

const WINDOW_MS = 24 * 60 * 60 * 1000;

export type BudgetSlot = { ok: true } | { ok: false; retryAt: number };

export function createDailyBudgetTable(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS daily_budget (kind TEXT NOT NULL, at INTEGER NOT NULL)');
  sql.exec('CREATE INDEX IF NOT EXISTS daily_budget_kind_at ON daily_budget (kind, at)');
}

/** Takes one from the last 24 h's budget of `kind`, or says when the oldest use leaves the window. */
export function takeFromDailyBudget(sql: SqlStorage, kind: DailyBudgetKind, now: number): BudgetSlot {
  sql.exec('DELETE FROM daily_budget WHERE kind = ? AND at <= ?', kind, now - WINDOW_MS);
  const window = sql.exec<{ count: number; oldest: number | null }>('SELECT COUNT(*) AS count, MIN(at) AS oldest FROM daily_budget WHERE kind = ?', kind).one();
  if (window.count >= DAILY_BUDGETS[kind].limit) return { ok: false, retryAt: window.oldest! + WINDOW_MS };
  sql.exec('INSERT INTO daily_budget (kind, at) VALUES (?, ?)', kind, now);
  return { ok: true };
}

/** The 429 a request past its budget gets, with when the next one can go as `retry-after`. */
export function dailyBudgetSpent(kind: DailyBudgetKind, retryAt: number, now = Date.now()): AppError {
  const { limit, code, what } = DAILY_BUDGETS[kind];
  return new AppError(code, `this tenant has had ${limit} ${what} sent in the last 24 h; the next can be sent at ${new Date(retryAt).toISOString()}`, { status: 429, retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now) / 1000)) });
}
