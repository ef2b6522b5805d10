import { describe, expect, it } from 'vitest';
import { initialMonitorState, monitorStep, reasonOfErrorCode, redactErrorText } from '../../src/monitor/health';
import { judgeHead, measuredBlockSeconds, staleAfterSeconds } from '../../src/monitor/head';
import { MAX_POLL_BACKOFF_MS, pollBackoffMs } from '../../src/monitor/backoff';
import { summarizeChains } from '../../src/monitor/chain-health';

const MINUTE = 60_000;
const options = (now: number) => ({ watchId: 'w_1', now, degradedAfterMs: 5 * MINUTE });

describe('monitor health: degraded and recovered, once per episode', () => {
  it('stays quiet while the last fresh observation is within MONITOR_DEGRADED_AFTER_SECONDS', () => {
    const start = initialMonitorState(0);
    const step = monitorStep(start, { fresh: false, reason: 'erroring', error: 'boom' }, options(5 * MINUTE));
    expect(step.effect).toBeNull();
    expect(step.state).toEqual(start);
  });

  it('degrades once past the bound, keeps the episode start as `since`, and does not repeat', () => {
    const start = { lastFreshAt: 1_000, degraded: null };
    const first = monitorStep(start, { fresh: false, reason: 'stale', error: null }, options(1_000 + 5 * MINUTE + 1));
    expect(first.effect).toMatchObject({ type: 'monitor.degraded', since: 1_000, reason: 'stale', eventId: `evt_w_1_mon_${(1_000).toString(36)}_degraded` });
    const second = monitorStep(first.state, { fresh: false, reason: 'erroring', error: 'rpc down' }, options(1_000 + 9 * MINUTE));
    expect(second.effect).toBeNull();
    expect(second.state.degraded).toEqual({ since: 1_000, reason: 'erroring', lastError: 'rpc down' });
  });

  it('a retried tick of the same episode names the same event id', () => {
    const start = { lastFreshAt: 7_000, degraded: null };
    const a = monitorStep(start, { fresh: false, reason: 'erroring', error: 'x' }, options(7_000 + 6 * MINUTE));
    const b = monitorStep(start, { fresh: false, reason: 'erroring', error: 'x' }, options(7_000 + 8 * MINUTE));
    expect(a.effect!.eventId).toBe(b.effect!.eventId);
  });

  it('recovers on the next fresh observation, with an id of its own, and starts a new episode clock', () => {
    const degraded = { lastFreshAt: 1_000, degraded: { since: 1_000, reason: 'wrong_chain' as const, lastError: null } };
    const step = monitorStep(degraded, { fresh: true }, options(20 * MINUTE));
    expect(step.effect).toMatchObject({ type: 'monitor.recovered', since: 1_000, reason: 'wrong_chain', eventId: `evt_w_1_mon_${(1_000).toString(36)}_recovered` });
    expect(step.state).toEqual({ lastFreshAt: 20 * MINUTE, degraded: null });
    expect(monitorStep(step.state, { fresh: true }, options(21 * MINUTE)).effect).toBeNull();
  });

  it('error text loses URL paths and query strings (RPC keys) and is bounded', () => {
    expect(redactErrorText('every RPC endpoint failed: https://eth.example.com/v2/SECRETKEY?x=1 said no')).toBe('every RPC endpoint failed: https://eth.example.com/… said no');
    expect(redactErrorText('y'.repeat(1000))!.length).toBe(300);
  });

  it('maps a failed tick to its reason by error code', () => {
    expect(reasonOfErrorCode('rpc_wrong_chain')).toBe('wrong_chain');
    expect(reasonOfErrorCode('stale_block')).toBe('stale');
    expect(reasonOfErrorCode('rpc_unavailable')).toBe('erroring');
    expect(reasonOfErrorCode(undefined)).toBe('erroring');
  });
});

describe('stale head bound', () => {
  it('is max(60 s, 5 block times), from the measured pace or the chain default', () => {
    expect(staleAfterSeconds(1, undefined)).toBe(60);
    expect(staleAfterSeconds(42161, undefined)).toBe(60);
    expect(staleAfterSeconds(1, 30)).toBe(150);
    expect(staleAfterSeconds(999_999, undefined)).toBe(60);
  });

  it('measures block time only when the chain advanced', () => {
    expect(measuredBlockSeconds({ number: 100n, timestamp: 1_000n }, { number: 110n, timestamp: 1_120n })).toBe(12);
    expect(measuredBlockSeconds({ number: 100n, timestamp: 1_000n }, { number: 100n, timestamp: 1_000n })).toBeUndefined();
    expect(measuredBlockSeconds(undefined, { number: 1n, timestamp: 1n })).toBeUndefined();
  });

  it('calls a head stale when older than the bound by the clock, or behind a block already seen', () => {
    const nowMs = 10_000_000;
    expect(judgeHead({ number: 70n, timestamp: BigInt(nowMs / 1000 - 60) }, { nowMs, staleAfterSeconds: 60 })).toEqual({ fresh: true });
    expect(judgeHead({ number: 59n, timestamp: BigInt(nowMs / 1000 - 61) }, { nowMs, staleAfterSeconds: 60 })).toMatchObject({ fresh: false, behind: false });
    expect(judgeHead({ number: 59n, timestamp: BigInt(nowMs / 1000) }, { nowMs, staleAfterSeconds: 60, minBlockNumber: 70n })).toMatchObject({ fresh: false, behind: true });
  });
});

describe('poll backoff', () => {
  it('doubles the poll interval per failed tick up to 5 minutes, and is the interval again after a success', () => {
    expect([0, 1, 2, 3].map((failures) => pollBackoffMs(2_000, failures))).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(pollBackoffMs(2_000, 12)).toBe(MAX_POLL_BACKOFF_MS);
    expect(pollBackoffMs(2_000, 1_000)).toBe(MAX_POLL_BACKOFF_MS);
  });
});

describe('chain health summary', () => {
  const nowMs = 1_000_000_000;
  const shard = (chainId: number, timestamp: number | null, degradedWatches = 0) => ({ chainId, watches: 3, degradedWatches, lastGoodBlock: timestamp === null ? null : { number: '7', timestamp } });

  it('takes the newest good block per chain and is not ok past MONITOR_DEGRADED_AFTER_SECONDS', () => {
    const chains = summarizeChains([1, 10], [shard(1, nowMs / 1000 - 400), shard(1, nowMs / 1000 - 30), shard(10, nowMs / 1000 - 301)], { nowMs, degradedAfterSeconds: 300 });
    expect(chains).toMatchObject([
      { chainId: 1, ok: true, ageSeconds: 30, shardsAsked: 2 },
      { chainId: 10, ok: false, ageSeconds: 301 },
    ]);
  });

  it('a chain without a good block yet is ok until one of its watches is degraded', () => {
    expect(summarizeChains([1], [], { nowMs, degradedAfterSeconds: 300 })).toMatchObject([{ chainId: 1, ok: true, ageSeconds: null, lastGoodBlock: null }]);
    expect(summarizeChains([1], [shard(1, null, 2)], { nowMs, degradedAfterSeconds: 300 })).toMatchObject([{ chainId: 1, ok: false, degradedWatches: 2 }]);
  });
});
