import { describe, expect, it } from 'vitest';
import { DAY_MS, SYNC_GRACE_MS, tenantWakeUpAt, type TenantWakeUpFacts } from '../../src/watches/tenant-wakeup';

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;
const idle: TenantWakeUpFacts = { nextDeliveryAt: null, unfinishedSync: false, oldestEventAt: null, backlog: false, retentionDays: 90, now: NOW };

describe('tenantWakeUpAt', () => {
  it.each<[string, Partial<TenantWakeUpFacts>, number | null]>([
    ['nothing to do and no history: no alarm', {}, null],
    ['a delivery due later: then', { nextDeliveryAt: NOW + 5_000 }, NOW + 5_000],
    ['a delivery already due: at once, but never sooner than 100 ms', { nextDeliveryAt: NOW - 5_000 }, NOW + 100],
    ['an unfinished create or delete: after the grace its request has', { unfinishedSync: true }, NOW + SYNC_GRACE_MS],
    ['a batch job with more to do: a second away', { backlog: true, oldestEventAt: NOW - 100 * DAY_MS }, NOW + 1000],
    ['history only: when the oldest event passes the retention', { oldestEventAt: NOW - 10 * DAY_MS }, NOW + 80 * DAY_MS],
    ['an old event held by a pending delivery: looked at again hourly, not in a loop', { oldestEventAt: NOW - 200 * DAY_MS }, NOW + HOUR],
    ['the earliest of all', { nextDeliveryAt: NOW + 40_000, unfinishedSync: true, oldestEventAt: NOW - 10 * DAY_MS }, NOW + SYNC_GRACE_MS],
  ])('%s', (_name, facts, expected) => {
    expect(tenantWakeUpAt({ ...idle, ...facts })).toBe(expected);
  });
});
