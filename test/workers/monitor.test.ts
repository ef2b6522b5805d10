import { beforeAll, describe, expect, it } from 'vitest';
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import worker from '../../src/index';
import type { Shard } from '../../src/durable/shard';
import { api, control, newTenant, testEnv } from './helpers';
import { aaveShard, ageMonitor, ANVIL_URL, deleteWatch, proxy, receivedAt, swapShardEnv, tick, watchedPosition, watchStatus, withShardEnv } from './monitor-helpers';

/*
 * "Silence must never mean fine": the shard reads through a misbehaving JSON-RPC proxy in
 * front of the real anvil (frozen heads, a reverting account, the wrong chain) and says so:
 * on the watch, in monitor.degraded / monitor.recovered events, in /health and the heartbeat.
 */

// Healthy positions (10 WETH against 5,000 USDC): no per-asset detail reads, no alerts.
beforeAll(async () => {
  await control('/price', { symbol: 'WETH', price: '2000' });
});

const rpc = (...urls: string[]) => ({ RPC_URLS: JSON.stringify({ '31337': urls }) });
const MINUTES = 60_000;

async function monitorEvents(path: string) {
  return (await receivedAt(path)).filter((event) => String(event.body.type).startsWith('monitor.'));
}

/** Runs the shard's alarm handler and answers how far ahead it armed the next one. */
async function alarmDelayMs(): Promise<number | null> {
  return runInDurableObject(await aaveShard(), async (instance: Shard, state) => {
    await instance.alarm();
    const alarm = await state.storage.getAlarm();
    return alarm === null ? null : alarm - Date.now();
  });
}

describe('frozen RPC node', () => {
  it('fails over from an endpoint whose head is an hour old: the watch shows the real head, dated by the block, with no error', async () => {
    const { key, watchId } = await watchedPosition('/mon-frozen');
    await control('/monitor/mine');
    await tick();
    const frozen = await control('/monitor/mine');
    const head = await control('/monitor/mine', { blocks: 11 });
    await withShardEnv(rpc(proxy(`frozen/${frozen.number}/3600`), ANVIL_URL), async () => {
      const summary = await tick();
      expect(summary).toMatchObject({ blockNumber: head.number, error: null });
    });
    const status = await watchStatus(key, watchId);
    expect(status.position.blockNumber).toBe(head.number);
    expect(status.position.observedAt).toBe(new Date(head.timestamp * 1000).toISOString());
    expect(status.lastError).toBeNull();
    expect(status.monitor).toEqual({ status: 'ok' });
    await deleteWatch(key, watchId);
  });

  it('with every endpoint frozen, still reads (alerts go on) but not fresh: degraded with reason stale, recovered once a fresh head is back', async () => {
    const { key, tenant, watchId } = await watchedPosition('/mon-all-frozen');
    await control('/monitor/mine');
    await tick();
    const frozen = await control('/monitor/mine');
    await withShardEnv(rpc(proxy(`frozen/${frozen.number}/3600`)), async () => {
      await ageMonitor(watchId, 5 * MINUTES + 1000);
      expect(await tick()).toMatchObject({ blockNumber: frozen.number, error: null });
    });
    const status = await watchStatus(key, watchId);
    expect(status.position.blockNumber).toBe(frozen.number);
    expect(status.position.observedAt).toBe(new Date((frozen.timestamp - 3600) * 1000).toISOString());
    expect(status.monitor).toMatchObject({ status: 'degraded', reason: 'stale', lastError: expect.stringContaining('stopped following the chain') });
    expect(status.lastError).toContain('stale_head: the newest block the RPC serves');
    await control('/monitor/mine');
    await tick();
    await tenant.deliverDue();
    expect((await monitorEvents('/mon-all-frozen')).map((event) => [event.body.type, event.body.monitor.reason])).toEqual([
      ['monitor.degraded', 'stale'],
      ['monitor.recovered', 'stale'],
    ]);
    await deleteWatch(key, watchId);
  });
});

describe('failing reads and monitor health events', () => {
  it("one reverting account: the error is on its watch only, another tenant's watch reads on; degraded once, then recovered", async () => {
    const a = await watchedPosition('/mon-revert-a');
    const b = await watchedPosition('/mon-revert-b');
    await control('/monitor/mine');
    await tick();
    const restore = await swapShardEnv(rpc(proxy(`revert-for/${a.account}`)));
    try {
      const head = await control('/monitor/mine');
      expect(await tick()).toMatchObject({ error: null, blockNumber: head.number });
      const statusA = await watchStatus(a.key, a.watchId);
      expect(statusA.lastError).toContain('getUserAccountData failed');
      expect(statusA.monitor).toEqual({ status: 'ok' });
      const statusB = await watchStatus(b.key, b.watchId);
      expect(statusB.lastError).toBeNull();
      expect(statusB.position.blockNumber).toBe(head.number);

      // Five minutes without a fresh read of A: degraded, once, even when the tick is repeated.
      await ageMonitor(a.watchId, 5 * MINUTES + 1000);
      await tick();
      await tick();
      await a.tenant.deliverDue();
      await b.tenant.deliverDue();
      const degraded = await monitorEvents('/mon-revert-a');
      expect(degraded).toHaveLength(1);
      expect(degraded[0]).toMatchObject({ verified: true, status: 200 });
      expect(degraded[0]!.id).toBe(degraded[0]!.body.id);
      expect(degraded[0]!.body).toMatchObject({
        type: 'monitor.degraded',
        watch: { id: a.watchId, chainId: 31337, protocol: 'aave-v3' },
        monitor: { chainId: 31337, reason: 'erroring', lastError: expect.stringContaining('getUserAccountData failed') },
      });
      expect(await monitorEvents('/mon-revert-b')).toHaveLength(0);
      expect((await watchStatus(a.key, a.watchId)).monitor).toEqual({ status: 'degraded', since: degraded[0]!.body.monitor.since, reason: 'erroring', lastError: expect.stringContaining('getUserAccountData failed') });
    } finally {
      await restore();
    }

    const head = await control('/monitor/mine');
    await tick();
    await a.tenant.deliverDue();
    const events = await monitorEvents('/mon-revert-a');
    expect(events.map((event) => event.body.type)).toEqual(['monitor.degraded', 'monitor.recovered']);
    expect(events[1]!.body.monitor).toMatchObject({ since: events[0]!.body.monitor.since, blockNumber: head.number, observedAt: new Date(head.timestamp * 1000).toISOString() });
    expect(new Set(events.map((event) => event.id)).size).toBe(2);
    const recovered = await watchStatus(a.key, a.watchId);
    expect(recovered.monitor).toEqual({ status: 'ok' });
    expect(recovered.lastError).toBeNull();
    await deleteWatch(a.key, a.watchId);
    await deleteWatch(b.key, b.watchId);
  });

  it('an endpoint on the wrong chain: the shard backs off (doubling), degrades with reason wrong_chain without leaking the URL, and polls normally after a success', async () => {
    const { key, tenant, watchId } = await watchedPosition('/mon-chain');
    await control('/monitor/mine');
    await tick();
    const restore = await swapShardEnv(rpc(proxy('chain/1')));
    try {
      const delays = [await alarmDelayMs(), await alarmDelayMs(), await alarmDelayMs()];
      // POLL_INTERVAL_SECONDS is 2 in the tests: 4 s, 8 s, 16 s.
      [4_000, 8_000, 16_000].forEach((expected, index) => {
        expect(delays[index]).toBeGreaterThan(expected - 1_000);
        expect(delays[index]).toBeLessThanOrEqual(expected);
      });
      expect((await watchStatus(key, watchId)).lastError).toContain('rpc_wrong_chain');
      await ageMonitor(watchId, 5 * MINUTES + 1000);
      await alarmDelayMs();
      await tenant.deliverDue();
      const [degraded] = await monitorEvents('/mon-chain');
      expect(degraded!.body.monitor).toMatchObject({ reason: 'wrong_chain', lastError: expect.stringContaining('serves chain 1, expected 31337') });
      expect(degraded!.body.monitor.lastError).not.toContain('/rpc/chain');
    } finally {
      await restore();
    }
    await control('/monitor/mine');
    const delay = await alarmDelayMs();
    expect(delay).toBeLessThanOrEqual(60_000);
    await tenant.deliverDue();
    expect((await monitorEvents('/mon-chain')).map((event) => event.body.type)).toEqual(['monitor.degraded', 'monitor.recovered']);
    await deleteWatch(key, watchId);
  });

  it('a silenced watch records its monitor events without delivering them', async () => {
    const { key, tenant, watchId } = await watchedPosition('/mon-silent');
    await control('/monitor/mine');
    await tick();
    const until = new Date(Date.now() + 24 * 60 * MINUTES).toISOString();
    expect((await api('POST', `/v1/watches/${watchId}/silence`, { token: key, body: { until } })).status).toBe(200);
    await withShardEnv(rpc(proxy('chain/1')), async () => {
      await ageMonitor(watchId, 5 * MINUTES + 1000);
      await tick();
    });
    await tenant.deliverDue();
    expect(await monitorEvents('/mon-silent')).toHaveLength(0);
    const history = await api('GET', `/v1/watches/${watchId}/alerts`, { token: key });
    expect(history.body.data).toEqual([expect.objectContaining({ type: 'monitor.degraded', silenced: true })]);
    await deleteWatch(key, watchId);
  });
});

describe('GET /health and the heartbeat', () => {
  async function cron(env: Record<string, unknown>) {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController(), env as unknown as Env, ctx);
    await waitOnExecutionContext(ctx);
  }
  const heartbeats = async () => ((await control('/monitor/heartbeats')) as { count: number }).count;
  const withHeartbeat = { ...testEnv, HEARTBEAT_URL: `${testEnv.TEST_CONTROL_URL}/monitor/heartbeat` };

  it('reports the age of the last good block per chain, ok:false when it is too old, and pings HEARTBEAT_URL only while healthy', async () => {
    const { key, watchId } = await watchedPosition('/mon-health');
    const head = await control('/monitor/mine');
    await tick();
    const healthy = await api('GET', '/health');
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({ ok: true, chains: [31337], chainHealth: [{ chainId: 31337, ok: true, lastGoodBlock: { number: head.number, timestamp: new Date(head.timestamp * 1000).toISOString() } }] });
    expect(healthy.body.chainHealth[0].ageSeconds).toBeLessThan(60);

    const before = await heartbeats();
    await cron(withHeartbeat);
    expect(await heartbeats()).toBe(before + 1);

    // The chain's newest good block is now ten minutes old, as if every shard had been blind since.
    await runInDurableObject(await aaveShard(), (_instance, state) => {
      state.storage.sql.exec(`UPDATE meta SET value = CAST(value AS INTEGER) - 600 WHERE key = 'last_good_block_time'`);
    });
    const degraded = await api('GET', '/health');
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({ ok: false, chainHealth: [{ chainId: 31337, ok: false }] });
    expect(degraded.body.chainHealth[0].ageSeconds).toBeGreaterThan(300);
    await cron(withHeartbeat);
    expect(await heartbeats()).toBe(before + 1);
    await deleteWatch(key, watchId);
  });
});

describe('a new watch is observed at once', () => {
  it('a watch created while the alarm is mid-tick is read by the next alarm at once, not a poll interval (60 s) later', async () => {
    const first = await watchedPosition('/mon-first');
    await tick();
    const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '5000' });
    const shard = await aaveShard();
    const restore = await swapShardEnv(rpc(proxy('slow/3000/midtick')));
    let createdId: string;
    try {
      // The real alarm event, fired by the runtime (never two at once), with nothing from the test driving it.
      await runInDurableObject(shard, (_instance, state) => state.storage.setAlarm(Date.now()));
      for (let waited = 0; !((await control('/topup/rpc-counts', { label: 'midtick' })).eth_call >= 1); waited += 50) {
        if (waited > 20_000) throw new Error('the alarm never reached its multicall');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // The tick has read its rows and waits on its (slow) multicall: now the watch is created.
      const created = await api('POST', '/v1/watches', { token: first.key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: 'added mid-tick' } });
      expect(created.status).toBe(201);
      createdId = created.body.id;
    } finally {
      await restore();
    }
    for (let waited = 0; (await watchStatus(first.key, createdId!)).position === null; waited += 100) {
      if (waited > 15_000) throw new Error('the watch added mid-tick was not read by the next alarm');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await deleteWatch(first.key, createdId!);
    await deleteWatch(first.key, first.watchId);
  });
});

describe('requests per polling round', () => {
  it('N watches cost ⌈N / READ_BATCH_SIZE⌉ RPC requests a round, the first pinning the block, plus one for the breakdown of accounts near a line and one when a price bar opens: within 2 × ⌈N / B⌉ + 2', async () => {
    const key = await newTenant('/mon-count');
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '5000' });
      const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: `count ${index}` } });
      expect(watch.status).toBe(201);
      ids.push(watch.body.id);
    }
    await control('/monitor/mine');
    const shard = await aaveShard();
    const requestsOfOneRound = async (pauseBeforeCountedMs = 0) => {
      // No alarm tick in between (accounts near a line are polled every 2 s here): only the round counted runs.
      await runInDurableObject(shard, (_instance, state) => state.storage.deleteAlarm());
      try {
        await tick(); // a client made for new settings proves its chain id once: not part of a round
        await new Promise((resolve) => setTimeout(resolve, pauseBeforeCountedMs));
        const requests = () => runInDurableObject(shard, (instance: Shard) => (instance as unknown as { chainClient: { stats: { requests: number } } }).chainClient.stats.requests);
        const before = await requests();
        await tick();
        return (await requests()) - before;
      } finally {
        await runInDurableObject(shard, (_instance, state) => state.storage.setAlarm(Date.now()));
      }
    };
    // The market's prices are read once per price bar (RISK_PRICE_BAR_SECONDS): an hour-wide bar keeps them out of the rounds counted.
    const hourBars = { RISK_PRICE_BAR_SECONDS: '3600' };
    await withShardEnv({ ...hourBars, READ_BATCH_SIZE: '2' }, async () => {
      const spent = await requestsOfOneRound();
      expect(spent).toBe(3);
      expect(spent).toBeLessThanOrEqual(2 * Math.ceil(5 / 2) + 2);
    });
    await withShardEnv(hourBars, async () => {
      // Every account in one batch: one request a round.
      expect(await requestsOfOneRound()).toBe(1);
    });
    // A round that opens a new price bar reads the market's prices too: one more request.
    await withShardEnv({ RISK_PRICE_BAR_SECONDS: '1' }, async () => {
      expect(await requestsOfOneRound(1_100)).toBe(2);
    });
    // An account near its warning line (HF ≈ 1.52) also gets its per-asset breakdown: one more request, market facts included.
    const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '10850' });
    const nearLine = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: 'near the line' } });
    ids.push(nearLine.body.id);
    await withShardEnv(hourBars, async () => {
      expect(await requestsOfOneRound()).toBe(2);
    });
    expect((await watchStatus(key, nearLine.body.id)).position.liquidationPrices).toEqual([expect.objectContaining({ symbol: 'WETH' })]);
    for (const id of ids) await deleteWatch(key, id);
  });
});
