/**
 * Retry timing for webhook deliveries. Pure: randomness and the clock are parameters.
 *
 * Policy: exponential backoff with full jitter (delay drawn uniformly from
 * [0, min(cap, base * factor^(attempt-1)))), a receiver's Retry-After is honoured as a
 * lower bound, and a delivery is dead-lettered only after it has been retried for at
 * least `maxAgeMs` (26 h by default), so a receiver that is down for a whole day still
 * gets its events once it is back.
 */

export const SECOND_MS = 1_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export type BackoffOptions = {
  /** Upper bound of the first retry's delay. Default 5 s. */
  baseMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Largest delay ever returned. Default 1 h. */
  capMs?: number;
};

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 5 * SECOND_MS, factor: 2, capMs: HOUR_MS };

/** Deliveries are given up only after they have been retried for this long (≥ 24 h). */
export const DEFAULT_MAX_AGE_MS = 26 * HOUR_MS;

/** Retry-After values are clamped to this; a receiver cannot park a delivery for longer. */
export const MAX_RETRY_AFTER_MS = DAY_MS;

/**
 * Delay before the next attempt, after `attempt` attempts have failed (1 = the first
 * attempt failed). Full jitter: uniform in [0, min(cap, base * factor^(attempt-1))].
 * `random` returns a number in [0, 1), like Math.random.
 */
export function retryDelayMs(attempt: number, random: () => number, opts: BackoffOptions = {}): number {
  const { baseMs, factor, capMs } = { ...DEFAULT_BACKOFF, ...opts };
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  const grown = baseMs * factor ** (n - 1); // may be Infinity (huge attempt) or NaN (0 * Infinity)
  const ceiling = Number.isNaN(grown) ? 0 : Math.max(0, Math.min(capMs, grown));
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0;
  return Math.min(ceiling, Math.floor(unit * ceiling));
}

/**
 * A Retry-After header as a delay in ms from `nowMs`, clamped to [0, 24 h]; undefined when
 * absent or unparseable. Accepts delay-seconds ("120") and HTTP-dates in the three forms
 * of RFC 9110 (IMF-fixdate, RFC 850, asctime).
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return clampRetryAfter(Number(text) * SECOND_MS);
  const at = parseHttpDate(text);
  return at === undefined ? undefined : clampRetryAfter(at - nowMs);
}

function clampRetryAfter(ms: number): number {
  if (!Number.isFinite(ms)) return MAX_RETRY_AFTER_MS; // absurdly many seconds
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Epoch ms of an HTTP-date, or undefined. Strict: Date.parse alone accepts far too much ("7" is a year). */
export function parseHttpDate(text: string): number | undefined {
  const time = String.raw`(\d{2}):(\d{2}):(\d{2})`;
  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
  const imf = new RegExp(String.raw`^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) ${time} GMT$`).exec(text);
  if (imf !== null) return fromParts(imf[3], imf[2], imf[1], imf[4], imf[5], imf[6]);
  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit years are read as 19xx/20xx, nearest to now-ish)
  const rfc850 = new RegExp(String.raw`^[A-Za-z]{6,9}, (\d{2})-([A-Za-z]{3})-(\d{2}) ${time} GMT$`).exec(text);
  if (rfc850 !== null) {
    const yy = Number(rfc850[3]);
    const year = String(yy >= 70 ? 1900 + yy : 2000 + yy);
    return fromParts(year, rfc850[2], rfc850[1], rfc850[4], rfc850[5], rfc850[6]);
  }
  // asctime: Sun Nov  6 08:49:37 1994
  const asc = new RegExp(String.raw`^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) ${time} (\d{4})$`).exec(text);
  if (asc !== null) return fromParts(asc[6], asc[1], asc[2]?.trim(), asc[3], asc[4], asc[5]);
  return undefined;
}

function fromParts(
  year: string | undefined,
  month: string | undefined,
  day: string | undefined,
  hour: string | undefined,
  minute: string | undefined,
  second: string | undefined,
): number | undefined {
  const m = MONTHS.indexOf((month ?? '').toLowerCase());
  const [y, d, h, mi, s] = [year, day, hour, minute, second].map(Number) as [number, number, number, number, number];
  if (m < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = Date.UTC(y, m, d, h, mi, Math.min(s, 59));
  // Reject dates that rolled over (31 Feb).
  if (new Date(ms).getUTCDate() !== d) return undefined;
  return ms;
}

export type NextAttemptInput = {
  /** Attempts made so far, including the one that just failed (≥ 1). */
  attempt: number;
  /** Epoch ms of the first attempt of this delivery. */
  firstAttemptAt: number;
  /** Epoch ms now (when the failed attempt finished). */
  now: number;
  /** Receiver's Retry-After as a delay from `now`, if it sent one. */
  retryAfterMs?: number | undefined;
  random: () => number;
  /** Dead-letter once the delivery has been retried this long. Default 26 h. */
  maxAgeMs?: number;
  backoff?: BackoffOptions;
};

export type NextAttempt = { at: number } | { deadLetter: true };

/**
 * When to try a failed delivery again, or that it should be dead-lettered. Dead letter
 * happens only once `now - firstAttemptAt >= maxAgeMs`; before that there is always a
 * next attempt, never earlier than the receiver's Retry-After.
 */
export function nextAttemptAt(input: NextAttemptInput): NextAttempt {
  const maxAgeMs = input.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  if (input.now - input.firstAttemptAt >= maxAgeMs) return { deadLetter: true };
  const backoff = retryDelayMs(input.attempt, input.random, input.backoff);
  const retryAfter =
    input.retryAfterMs !== undefined && Number.isFinite(input.retryAfterMs) ? clampRetryAfter(input.retryAfterMs) : 0;
  return { at: input.now + Math.max(backoff, retryAfter) };
}
