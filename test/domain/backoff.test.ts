import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  DEFAULT_MAX_AGE_MS,
  HOUR_MS,
  nextAttemptAt,
  parseHttpDate,
  parseRetryAfter,
  retryDelayMs,
} from '../../src/notify/backoff';

const almostOne = () => 0.999_999_999;
const zero = () => 0;
const half = () => 0.5;

describe('retryDelayMs', () => {
  // [attempt, random, expected ms]
  it.each([
    [1, almostOne, 4_999],
    [1, half, 2_500],
    [1, zero, 0],
    [2, half, 5_000],
    [3, half, 10_000],
    [4, almostOne, 39_999],
    [10, almostOne, 2_559_999], // 5 s * 2^9 = 2560 s, under the cap
    [11, almostOne, HOUR_MS - 1], // 5120 s would exceed the 1 h cap
    [11, half, HOUR_MS / 2],
    [1_000, almostOne, HOUR_MS - 1],
    [0, half, 2_500], // nonsense attempts count as the first
    [-3, half, 2_500],
    [Number.NaN, half, 2_500],
  ])('attempt %s -> %s', (attempt, random, expected) => {
    expect(retryDelayMs(attempt, random)).toBe(expected);
  });

  it('honours custom base, factor and cap', () => {
    expect(retryDelayMs(3, almostOne, { baseMs: 100, factor: 3, capMs: 10_000 })).toBe(899);
    expect(retryDelayMs(9, almostOne, { baseMs: 100, factor: 3, capMs: 10_000 })).toBe(9_999);
    expect(retryDelayMs(5_000, almostOne, { baseMs: 0 })).toBe(0);
  });

  it('stays within [0, cap] even when random misbehaves', () => {
    expect(retryDelayMs(30, () => 1.5)).toBe(HOUR_MS);
    expect(retryDelayMs(30, () => -1)).toBe(0);
    expect(retryDelayMs(30, () => Number.NaN)).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);

  it.each<[string | null, number | undefined]>([
    [null, undefined],
    ['', undefined],
    ['   ', undefined],
    ['7', 7_000],
    [' 120 ', 120_000],
    ['0', 0],
    ['86400', DAY_MS],
    ['999999999', DAY_MS], // clamped to 24 h
    ['1e400', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['2025', 2_025_000], // delay-seconds, not a year
    ['Jan 2025', undefined], // Date.parse accepts this; HTTP-date does not
    ['2025-01-01T12:00:30Z', undefined], // ISO 8601 is not an HTTP-date
    ['Wed, 01 Jan 2025 12:00:30 GMT', 30_000],
    ['Wed, 01 Jan 2025 11:00:00 GMT', 0], // in the past: retry now
    ['Fri, 03 Jan 2025 12:00:00 GMT', DAY_MS], // more than a day away: clamped
    ['Wednesday, 01-Jan-25 12:01:00 GMT', 60_000], // RFC 850
    ['Wed Jan  1 12:00:05 2025', 5_000], // asctime
    ['Wed, 31 Feb 2025 12:00:00 GMT', undefined],
    ['Wed, 01 Foo 2025 12:00:00 GMT', undefined],
  ])('%j -> %s', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it('parses the RFC 9110 example date', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
  });
});

describe('nextAttemptAt', () => {
  const t0 = Date.UTC(2025, 0, 1);

  it('schedules the first retry within 5 s', () => {
    expect(nextAttemptAt({ attempt: 1, firstAttemptAt: t0, now: t0, random: half })).toEqual({ at: t0 + 2_500 });
  });

  it('never schedules earlier than Retry-After', () => {
    expect(nextAttemptAt({ attempt: 1, firstAttemptAt: t0, now: t0, random: almostOne, retryAfterMs: 7_000 })).toEqual({
      at: t0 + 7_000,
    });
    // Backoff longer than Retry-After wins.
    expect(
      nextAttemptAt({ attempt: 12, firstAttemptAt: t0, now: t0 + HOUR_MS, random: half, retryAfterMs: 7_000 }),
    ).toEqual({ at: t0 + HOUR_MS + HOUR_MS / 2 });
    // Retry-After beyond a day is clamped to a day.
    expect(
      nextAttemptAt({ attempt: 1, firstAttemptAt: t0, now: t0, random: zero, retryAfterMs: 10 * DAY_MS }),
    ).toEqual({ at: t0 + DAY_MS });
  });

  it('keeps retrying for a receiver that is down for a whole day', () => {
    expect(DEFAULT_MAX_AGE_MS).toBeGreaterThanOrEqual(DAY_MS);
    const at = nextAttemptAt({ attempt: 60, firstAttemptAt: t0, now: t0 + DAY_MS, random: half });
    expect(at).toEqual({ at: t0 + DAY_MS + HOUR_MS / 2 });
  });

  it('dead-letters once the delivery has been retried for maxAgeMs', () => {
    expect(nextAttemptAt({ attempt: 70, firstAttemptAt: t0, now: t0 + DEFAULT_MAX_AGE_MS, random: half })).toEqual({
      deadLetter: true,
    });
    expect(nextAttemptAt({ attempt: 70, firstAttemptAt: t0, now: t0 + DEFAULT_MAX_AGE_MS - 1, random: half })).toHaveProperty('at');
    expect(nextAttemptAt({ attempt: 2, firstAttemptAt: t0, now: t0 + 10_000, random: half, maxAgeMs: 10_000 })).toEqual({
      deadLetter: true,
    });
  });

  it('simulated outage of 25 h: the delivery survives until the receiver is back', () => {
    // Always fail until the receiver comes back; count attempts and check none dead-letters early.
    let random = 0x2545f491;
    const rng = () => {
      random = (Math.imul(random, 1_103_515_245) + 12_345) >>> 0;
      return random / 2 ** 32;
    };
    const backAt = t0 + 25 * HOUR_MS;
    let now = t0;
    let attempt = 1;
    for (;;) {
      const next = nextAttemptAt({ attempt, firstAttemptAt: t0, now, random: rng });
      expect('at' in next).toBe(true);
      if (!('at' in next)) break;
      now = next.at;
      attempt += 1;
      if (now >= backAt) break; // this attempt succeeds
    }
    expect(now - t0).toBeGreaterThanOrEqual(25 * HOUR_MS);
    expect(now - backAt).toBeLessThanOrEqual(HOUR_MS);
  });
});

describe('backoff properties', () => {
  const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

  it('delays are within [0, cap] for any attempt and options', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 10_000 }),
        randomArb,
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 0, max: 2 * DAY_MS }),
        (attempt, r, baseMs, factor, capMs) => {
          const delay = retryDelayMs(attempt, () => r, { baseMs, factor, capMs });
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(capMs);
          const def = retryDelayMs(attempt, () => r);
          expect(def).toBeGreaterThanOrEqual(0);
          expect(def).toBeLessThanOrEqual(HOUR_MS);
        },
      ),
    );
  });

  it('never dead-letters before maxAgeMs, and never schedules before Retry-After', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 3 * DAY_MS }),
        fc.option(fc.integer({ min: 0, max: 2 * DAY_MS }), { nil: undefined }),
        randomArb,
        fc.option(fc.integer({ min: 1, max: 3 * DAY_MS }), { nil: undefined }),
        (attempt, elapsed, retryAfterMs, r, maxAgeMs) => {
          const firstAttemptAt = Date.UTC(2025, 0, 1);
          const now = firstAttemptAt + elapsed;
          const input = { attempt, firstAttemptAt, now, retryAfterMs, random: () => r };
          const next = nextAttemptAt(maxAgeMs === undefined ? input : { ...input, maxAgeMs });
          const limit = maxAgeMs ?? DEFAULT_MAX_AGE_MS;
          if ('deadLetter' in next) {
            expect(elapsed).toBeGreaterThanOrEqual(limit);
          } else {
            expect(elapsed).toBeLessThan(limit);
            expect(next.at).toBeGreaterThanOrEqual(now + Math.min(retryAfterMs ?? 0, DAY_MS));
            expect(next.at).toBeLessThanOrEqual(now + Math.max(HOUR_MS, Math.min(retryAfterMs ?? 0, DAY_MS)));
          }
        },
      ),
    );
  });
});
