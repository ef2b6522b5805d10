import type { DeliveryRecord, EventRecord, IncomingEvent } from '../watches/records';
import { isoOrNull } from '../lib/iso-time';
import { nextAttemptAt } from './backoff';
import type { SendOutcome } from './channel';

/**
 * The tenant's alert history and delivery outbox, in its SQLite: one `events` row per event
 * (silenced ones too, for the history) and one `outbox` row per (event, channel) to send. Rows of
 * one (channel, watch) group share a `group_key` and go out strictly in `seq` order. The Tenant
 * Durable Object runs the sends; this file is its storage.
 */

export type OutboxRow = {
  event_id: string;
  channel_id: string;
  group_key: string;
  seq: number;
  attempts: number;
  first_attempt_at: number | null;
  next_attempt_at: number;
  status: string;
  last_error: string | null;
  delivered_at: number | null;
};

export function createOutboxTables(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, watch_id TEXT,
    type TEXT NOT NULL, body TEXT NOT NULL, silenced INTEGER NOT NULL, created_at INTEGER NOT NULL)`);
  sql.exec(`CREATE TABLE IF NOT EXISTS outbox (event_id TEXT NOT NULL, channel_id TEXT NOT NULL, group_key TEXT NOT NULL, seq INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, first_attempt_at INTEGER, next_attempt_at INTEGER NOT NULL, status TEXT NOT NULL,
    last_error TEXT, delivered_at INTEGER, PRIMARY KEY (event_id, channel_id))`);
  sql.exec(`CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, group_key, seq)`);
  // History queries: a watch's events, deliveries by status, retention by age. (outbox(event_id) is its primary key's prefix.)
  sql.exec('CREATE INDEX IF NOT EXISTS events_watch ON events (watch_id, seq)');
  sql.exec('CREATE INDEX IF NOT EXISTS events_age ON events (created_at)');
  sql.exec('CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status, seq)');
  sql.exec('CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at)');
}

/**
 * Stores events, each with one pending outbox row per channel `channelsFor` names for it (none
 * for a silenced event). Idempotent by event id: an event stored before is skipped whole. Run
 * it inside a transaction. Returns how many events got outbox rows.
 */
export function insertEvents(sql: SqlStorage, events: readonly IncomingEvent[], now: number, channelsFor: (event: IncomingEvent) => string[]): number {
  let stored = 0;
  for (const event of events) {
    const inserted = sql.exec(
      'INSERT OR IGNORE INTO events (id, watch_id, type, body, silenced, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      event.eventId, event.watchId, (JSON.parse(event.body) as { type: string }).type, event.body, event.silenced ? 1 : 0, now,
    ).rowsWritten;
    if (inserted === 0 || event.silenced) continue;
    stored += 1;
    const seq = eventSeq(sql, event.eventId);
    for (const channelId of channelsFor(event)) {
      sql.exec(
        "INSERT OR IGNORE INTO outbox (event_id, channel_id, group_key, seq, next_attempt_at, status) VALUES (?, ?, ?, ?, ?, 'pending')",
        event.eventId, channelId, `${channelId}/${event.watchId ?? event.eventId}`, seq, now,
      );
    }
  }
  return stored;
}

/** A channel test: its event, alone in its group, with one outbox row first due at `dueAt`. Run it inside a transaction. */
export function insertChannelTest(sql: SqlStorage, test: { eventId: string; channelId: string; body: string; now: number; dueAt: number }): void {
  sql.exec('INSERT INTO events (id, watch_id, type, body, silenced, created_at) VALUES (?, NULL, ?, ?, 0, ?)', test.eventId, (JSON.parse(test.body) as { type: string }).type, test.body, test.now);
  sql.exec(
    "INSERT INTO outbox (event_id, channel_id, group_key, seq, next_attempt_at, status) VALUES (?, ?, ?, ?, ?, 'pending')",
    test.eventId, test.channelId, `${test.channelId}/${test.eventId}`, eventSeq(sql, test.eventId), test.dueAt,
  );
}

/** The channel's test still waiting for a retry, if any (a test is its own event, of type channel.test). */
export function pendingChannelTestOf(sql: SqlStorage, channelId: string): string | null {
  const row = sql
    .exec<{ event_id: string }>("SELECT o.event_id FROM outbox o JOIN events e ON e.id = o.event_id WHERE o.channel_id = ? AND o.status = 'pending' AND e.type = 'channel.test' LIMIT 1", channelId)
    .toArray()[0];
  return row?.event_id ?? null;
}

function eventSeq(sql: SqlStorage, eventId: string): number {
  return sql.exec<{ seq: number }>('SELECT seq FROM events WHERE id = ?', eventId).one().seq;
}

export function outboxRow(sql: SqlStorage, eventId: string, channelId: string): OutboxRow {
  return sql.exec<OutboxRow>('SELECT * FROM outbox WHERE event_id = ? AND channel_id = ?', eventId, channelId).one();
}

/** The event a row sends, or undefined when it was pruned. */
export function eventToSend(sql: SqlStorage, eventId: string): { body: string; created_at: number } | undefined {
  return sql.exec<{ body: string; created_at: number }>('SELECT body, created_at FROM events WHERE id = ?', eventId).toArray()[0];
}

/**
 * Due group heads, oldest first: only the oldest pending row of each (channel, watch) group may
 * go, so a receiver that is down holds back the later events of that watch instead of reordering them.
 */
export function dueGroupHeads(sql: SqlStorage, now: number, limit: number): OutboxRow[] {
  return sql
    .exec<OutboxRow>(
      `SELECT o.* FROM outbox o JOIN (SELECT group_key, MIN(seq) AS seq FROM outbox WHERE status = 'pending' GROUP BY group_key) h
       ON o.group_key = h.group_key AND o.seq = h.seq WHERE o.status = 'pending' AND o.next_attempt_at <= ? ORDER BY o.seq LIMIT ?`,
      now, limit,
    )
    .toArray();
}

/** Moves a row to no earlier than `at` without spending an attempt (a paced channel). */
export function deferDelivery(sql: SqlStorage, row: OutboxRow, at: number): void {
  sql.exec('UPDATE outbox SET next_attempt_at = MAX(next_attempt_at, ?) WHERE event_id = ? AND channel_id = ?', at, row.event_id, row.channel_id);
}

/** A row that can never be sent (its channel deleted or disabled, its event gone). */
export function markUndeliverable(sql: SqlStorage, row: OutboxRow, reason: string): void {
  sql.exec("UPDATE outbox SET status = 'dead', last_error = ? WHERE event_id = ? AND channel_id = ?", reason, row.event_id, row.channel_id);
}

/**
 * Books one attempt's outcome other than `gone` (see `dropPendingOfChannel`): delivered, dead
 * (a refusal, or retries exhausted) or the next attempt's time by the backoff. Returns whether
 * it was delivered.
 */
export function recordAttempt(sql: SqlStorage, row: OutboxRow, outcome: Exclude<SendOutcome, { kind: 'gone' }>, times: { firstAttemptAt: number; now: number }): boolean {
  const attempts = row.attempts + 1;
  const { firstAttemptAt, now } = times;
  if (outcome.kind === 'delivered') {
    sql.exec("UPDATE outbox SET status = 'delivered', attempts = ?, first_attempt_at = ?, delivered_at = ?, last_error = NULL WHERE event_id = ? AND channel_id = ?", attempts, firstAttemptAt, now, row.event_id, row.channel_id);
    return true;
  }
  const next = outcome.kind === 'failed' ? null : nextAttemptAt({ attempt: attempts, firstAttemptAt, now, retryAfterMs: outcome.retryAfterMs, random: Math.random });
  if (next === null || 'deadLetter' in next) {
    sql.exec("UPDATE outbox SET status = 'dead', attempts = ?, first_attempt_at = ?, last_error = ? WHERE event_id = ? AND channel_id = ?", attempts, firstAttemptAt, outcome.reason, row.event_id, row.channel_id);
  } else {
    sql.exec('UPDATE outbox SET attempts = ?, first_attempt_at = ?, next_attempt_at = ?, last_error = ? WHERE event_id = ? AND channel_id = ?', attempts, firstAttemptAt, next.at, outcome.reason, row.event_id, row.channel_id);
  }
  return false;
}

/** A channel the service says is gone: every pending row of it is dead, the attempted one counted. */
/** Every pending delivery of the channel becomes a dead letter; `attempted`, the one whose send found it gone, counts its attempt. */
export function dropPendingOfChannel(sql: SqlStorage, channelId: string, attempted: OutboxRow | undefined, reason: string): void {
  sql.exec(
    "UPDATE outbox SET status = 'dead', attempts = attempts + (CASE WHEN event_id = ? THEN 1 ELSE 0 END), last_error = ? WHERE channel_id = ? AND status = 'pending'",
    attempted?.event_id ?? '', reason, channelId,
  );
}

export function hasPendingDeliveries(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM outbox WHERE status = 'pending' LIMIT 1").toArray().length > 0;
}

export function nextDeliveryAt(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status = 'pending'").one().at;
}

export function pendingDeliveryAt(sql: SqlStorage, eventId: string): number | null {
  return sql.exec<{ at: number }>("SELECT next_attempt_at AS at FROM outbox WHERE event_id = ? AND status = 'pending'", eventId).toArray()[0]?.at ?? null;
}

export function oldestEventAt(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>('SELECT MIN(created_at) AS at FROM events').one().at;
}

/**
 * Drops up to `batch` events older than `cutoff` with their deliveries, never one with a delivery
 * still pending. Run it inside a transaction. Returns how many events it dropped.
 */
export function pruneEvents(sql: SqlStorage, cutoff: number, batch: number): number {
  const events = sql
    .exec<{ id: string }>(
      "SELECT id FROM events e WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.id AND o.status = 'pending') ORDER BY created_at LIMIT ?",
      cutoff, batch,
    )
    .toArray();
  for (const event of events) {
    sql.exec('DELETE FROM outbox WHERE event_id = ?', event.id);
    sql.exec('DELETE FROM events WHERE id = ?', event.id);
  }
  return events.length;
}

/** Events of one watch, newest first; `cursor` is the last seq of the previous page. */
export function listEvents(sql: SqlStorage, watchId: string, limit: number, cursor?: number): { data: EventRecord[]; nextCursor: string | null } {
  const rows = sql
    .exec<{ seq: number; id: string; watch_id: string | null; type: string; body: string; silenced: number; created_at: number }>(
      'SELECT * FROM events WHERE watch_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
      watchId, cursor ?? Number.MAX_SAFE_INTEGER, limit + 1,
    )
    .toArray();
  const page = rows.slice(0, limit);
  return {
    data: page.map((row) => ({
      id: row.id,
      watchId: row.watch_id,
      type: row.type,
      createdAt: new Date(row.created_at).toISOString(),
      silenced: row.silenced === 1,
      body: JSON.parse(row.body) as unknown,
      deliveries: deliveriesOf(sql, row.id),
    })),
    nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null,
  };
}

/** Where a page of deliveries ended: newest first by event, then by channel. */
export type DeliveryPageKey = { seq: number; channelId: string };

/** One page of deliveries in a status, newest event first, after `after` (the previous page's last). */
export function listDeliveries(sql: SqlStorage, status: 'pending' | 'delivered' | 'dead', limit: number, after: DeliveryPageKey | null = null): { data: DeliveryRecord[]; next: DeliveryPageKey | null } {
  const rows = sql
    .exec<OutboxRow>('SELECT * FROM outbox WHERE status = ? AND (seq, channel_id) < (?, ?) ORDER BY seq DESC, channel_id DESC LIMIT ?', status, after?.seq ?? Number.MAX_SAFE_INTEGER, after?.channelId ?? '', limit + 1)
    .toArray();
  const last = rows.length > limit ? rows[limit - 1]! : null;
  return { data: rows.slice(0, limit).map(deliveryRecord), next: last ? { seq: last.seq, channelId: last.channel_id } : null };
}

export function deliveriesOf(sql: SqlStorage, eventId: string): DeliveryRecord[] {
  return sql.exec<OutboxRow>('SELECT * FROM outbox WHERE event_id = ? ORDER BY channel_id', eventId).toArray().map(deliveryRecord);
}

function deliveryRecord(row: OutboxRow): DeliveryRecord {
  return {
    eventId: row.event_id,
    channelId: row.channel_id,
    status: row.status as DeliveryRecord['status'],
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.status === 'pending' ? isoOrNull(row.next_attempt_at) : null,
    deliveredAt: isoOrNull(row.delivered_at),
  };
}
