import { describe, expect, it } from 'vitest';
import { FAILURE_BACKOFF_MS, inBackoff, liftsByItself, nextWakeUp } from '../../src/topup/schedule';
import { ABANDON_AFTER_MS, REPLACE_AFTER_MS, TX_TIMEOUT_MS, abandonDue, receiptWaitMs, replacementDue, timeoutNoticeDue } from '../../src/topup/pending-tx';
import type { Attempt } from '../../src/topup/records';

describe('nextWakeUp', () => {
  const idle: Parameters<typeof nextWakeUp>[0] = { inFlight: false, error: null, pendingRequests: 0, undeliveredNotices: 0, pollMs: 12_000, now: 1_000 };
  it.each<[string, Partial<typeof idle>, number | null]>([
    ['nothing to do', {}, null],
    ['requests wait', { pendingRequests: 2 }, 2_000],
    ['a transaction in flight', { inFlight: true, pendingRequests: 2 }, 13_000],
    ['the pass failed', { error: 'rpc_unavailable: x' }, 13_000],
    ['notices not handed off', { undeliveredNotices: 1 }, 13_000],
  ])('%s', (_name, overrides, expected) => {
    expect(nextWakeUp({ ...idle, ...overrides })).toBe(expected);
  });
});

describe('backoff and skips', () => {
  it('holds a watch back for the backoff after a refusal', () => {
    expect(inBackoff(undefined, 0)).toBe(false);
    expect(inBackoff(1_000, 1_000 + FAILURE_BACKOFF_MS - 1)).toBe(true);
    expect(inBackoff(1_000, 1_000 + FAILURE_BACKOFF_MS)).toBe(false);
  });

  it('only cooldown and the day cap lift by themselves', () => {
    expect(liftsByItself('cooldown')).toBe(true);
    expect(liftsByItself('day_cap_reached')).toBe(true);
    expect(liftsByItself('no_balance')).toBe(false);
    expect(liftsByItself('collateral_not_enabled')).toBe(false);
  });
});

describe('pending transaction timing', () => {
  const attempt = (signedAt: number): Attempt => ({ hash: '0x01', raw: '0x02', fees: { type: 'legacy', gasPrice: '1' }, signedAt, broadcastAt: null, broadcastError: null });
  const attempts = [attempt(0), attempt(50_000)];

  it('replaces after the latest attempt is old enough', () => {
    expect(replacementDue(attempts, 50_000 + REPLACE_AFTER_MS)).toBe(false);
    expect(replacementDue(attempts, 50_000 + REPLACE_AFTER_MS + 1)).toBe(true);
  });

  it('gives up counting from the first attempt', () => {
    expect(abandonDue(attempts, ABANDON_AFTER_MS)).toBe(false);
    expect(abandonDue(attempts, ABANDON_AFTER_MS + 1)).toBe(true);
  });

  it('reports a timeout once', () => {
    expect(timeoutNoticeDue({ timeout_notified: 0 }, attempts, TX_TIMEOUT_MS + 1)).toBe(true);
    expect(timeoutNoticeDue({ timeout_notified: 1 }, attempts, TX_TIMEOUT_MS + 1)).toBe(false);
    expect(timeoutNoticeDue({ timeout_notified: 0 }, attempts, TX_TIMEOUT_MS)).toBe(false);
  });

  it('waits about one block for a receipt, at most 15 s', () => {
    expect(receiptWaitMs(12)).toBe(12_000);
    expect(receiptWaitMs(1)).toBe(1_000);
    expect(receiptWaitMs(60)).toBe(15_000);
  });
});
