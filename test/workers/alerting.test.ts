import { directoryStub, shardStub, tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import worker from '../../src/index';

import { api, control, newTenant, testEnv, pollShards, tenantIdOf } from './helpers';

type Received = { id: string; verified: boolean; path: string; status: number | null; body: { type: string; level: string; previousLevel: string; id: string; recommendation: any; position: any; watch: any } };

async function receivedAt(path: string): Promise<Received[]> {
  const events = (await control('/receiver/events', {}, 'GET')) as Received[];
  return events.filter((event) => event.path === path);
}

async function setup(path: string, debtUsdc: string) {
  const key = await newTenant(path);
  const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
  await control('/receiver/secret', { path, secret: channel.body.secret });
  const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: debtUsdc });
  const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: `demo ${path}`, channels: [channel.body.id] } });
  expect(watch.status).toBe(201);
  return { key, tenant: tenantStub(testEnv, await tenantIdOf(key)), channelId: channel.body.id as string, watchId: watch.body.id as string, account: account as string };
}

describe('alerting loop: chain → shard → alert machine → outbox → signed webhook', () => {
  beforeAll(async () => {
    await control('/price', { symbol: 'WETH', price: '2000' });
  });

  it('delivers warning → margin_call → critical → resolved, signed, once each, in order', async () => {
    const { key, tenant, watchId } = await setup('/flow', '10000');
    // 10 WETH at $2000 (LT 82.5%) against 10,000 USDC: HF 1.65.
    await pollShards();
    let read = await api('GET', `/v1/watches/${watchId}`, { token: key });
    expect(read.body.level).toBe('ok');
    expectHealthFactorNear(read.body.position.healthFactor, '1.6500');
    expect(read.body.position.collateral.usd).toBe('20000');

    await control('/price', { symbol: 'WETH', price: '1750' }); // HF 1.4437: warning after 2 observations
    await pollShards();
    await tenant.deliverDue();
    expect(await receivedAt('/flow')).toHaveLength(0);
    await pollShards();
    await tenant.deliverDue();
    expect((await receivedAt('/flow')).map((e) => e.body.type)).toEqual(['alert.triggered']);

    await control('/price', { symbol: 'WETH', price: '1450' }); // HF 1.1962: margin call
    await pollShards();
    await pollShards();
    await control('/price', { symbol: 'WETH', price: '1300' }); // HF 1.0725: critical, at once
    await pollShards();
    await tenant.deliverDue();
    read = await api('GET', `/v1/watches/${watchId}`, { token: key });
    expect(read.body.level).toBe('critical');
    expect(read.body.position.liquidationPrices[0]).toMatchObject({ symbol: 'WETH' });

    await control('/price', { symbol: 'WETH', price: '2000' });
    await pollShards();
    await tenant.deliverDue();

    const events = await receivedAt('/flow');
    expect(events.map((e) => [e.body.type, e.body.previousLevel, e.body.level])).toEqual([
      ['alert.triggered', 'ok', 'warning'],
      ['alert.escalated', 'warning', 'margin_call'],
      ['alert.escalated', 'margin_call', 'critical'],
      ['alert.resolved', 'critical', 'ok'],
    ]);
    expect(events.every((e) => e.verified && e.status === 200)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(4);
    expect(events.every((e) => e.id === e.body.id)).toBe(true);

    const critical = events[2]!.body;
    expectHealthFactorNear(critical.position.healthFactor, '1.0725');
    expect(critical.watch).toMatchObject({ id: watchId, chainId: 31337, protocol: 'aave-v3' });
    expect(critical.recommendation).toMatchObject({ action: 'supply', symbol: 'WETH' });
    expect(Number(critical.recommendation.amount)).toBeGreaterThan(0);
    expect(events[3]!.body.recommendation).toBeNull();

    // The history shows the same events, newest first, each delivered.
    const history = await api('GET', `/v1/watches/${watchId}/alerts?limit=2`, { token: key });
    expect(history.body.data.map((e: { type: string }) => e.type)).toEqual(['alert.resolved', 'alert.escalated']);
    expect(history.body.data[0].deliveries[0].status).toBe('delivered');
    const next = await api('GET', `/v1/watches/${watchId}/alerts?limit=2&cursor=${history.body.nextCursor}`, { token: key });
    expect(next.body.data.map((e: { type: string }) => e.type)).toEqual(['alert.escalated', 'alert.triggered']);
    expect(next.body.nextCursor).toBeNull();
  });

  it('keeps events while the receiver is down and delivers each once, in order, after a restart', async () => {
    const { tenant, watchId } = await setup('/outage', '10000');
    await pollShards();
    await control('/receiver/down');
    try {
      await control('/price', { symbol: 'WETH', price: '1300' }); // critical at once
      await pollShards();
      await tenant.deliverDue();
      await control('/price', { symbol: 'WETH', price: '2000' }); // resolved
      await pollShards();
      await tenant.deliverDue();
      const { data: pending } = await tenant.listDeliveries('pending', 10);
      expect(pending.length).toBeGreaterThanOrEqual(2);
      expect(pending.some((d) => d.attempts >= 1 && d.lastError)).toBe(true);
    } finally {
      await control('/receiver/up');
    }
    // A restart of the tenant object between attempts loses nothing.
    await runInDurableObject(tenant, async (_instance, state) => {
      // Time passes: every pending retry is now due.
      state.storage.sql.exec("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'pending'");
    });
    await tenant.deliverDue();
    const events = await receivedAt('/outage');
    const delivered = events.filter((e) => e.status === 200);
    expect(delivered.map((e) => e.body.type)).toEqual(['alert.triggered', 'alert.resolved']);
    expect(new Set(delivered.map((e) => e.id)).size).toBe(2);
    expect(delivered.every((e) => e.verified && e.body.watch.id === watchId)).toBe(true);
    expect((await tenant.listDeliveries('pending', 10)).data).toEqual([]);
  });

  it('honours retry-after and disables a channel that answers 410', async () => {
    const { tenant, channelId, key } = await setup('/gone', '10000');
    await pollShards();
    await control('/receiver/respond', { status: 429, headers: { 'retry-after': '120' }, path: '/gone' });
    await control('/price', { symbol: 'WETH', price: '1300' });
    await pollShards();
    const before = Date.now();
    await tenant.deliverDue();
    const [pending] = (await tenant.listDeliveries('pending', 10)).data;
    expect(pending!.lastError).toContain('429');
    expect(Date.parse(pending!.nextAttemptAt!)).toBeGreaterThanOrEqual(before + 120_000);

    await runInDurableObject(tenant, async (_instance, state) => {
      state.storage.sql.exec("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'pending'");
    });
    await control('/receiver/respond', { status: 410, path: '/gone' });
    await tenant.deliverDue();
    const channel = await api('GET', `/v1/channels/${channelId}`, { token: key });
    expect(channel.body.disabledReason).toContain('410');
    const dead = await api('GET', '/v1/deliveries?status=dead', { token: key });
    expect(dead.body.data[0]).toMatchObject({ channelId, status: 'dead' });
    expect((await api('GET', '/v1/deliveries?status=nope', { token: key })).status).toBe(400);
    await control('/price', { symbol: 'WETH', price: '2000' });
    await pollShards();
  });

  it('a silenced watch records events without sending them', async () => {
    const { key, tenant, watchId } = await setup('/silenced', '10000');
    await pollShards();
    await api('POST', `/v1/watches/${watchId}/silence`, { token: key, body: { until: new Date(Date.now() + 3_600_000).toISOString() } });
    await control('/price', { symbol: 'WETH', price: '1300' });
    await pollShards();
    await tenant.deliverDue();
    expect(await receivedAt('/silenced')).toHaveLength(0);
    const history = await api('GET', `/v1/watches/${watchId}/alerts`, { token: key });
    expect(history.body.data[0]).toMatchObject({ type: 'alert.triggered', silenced: true, deliveries: [] });
    await control('/price', { symbol: 'WETH', price: '2000' });
    await pollShards();
  });

  it('the cron heartbeat re-arms a shard whose alarm was lost', async () => {
    await setup('/cron', '5000');
    const [shard] = await directoryStub(testEnv).listShards();
    const stub = shardStub(testEnv, shard!.name);
    await runInDurableObject(stub, async (_instance, state) => {
      await state.storage.deleteAlarm();
    });
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeNull();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: '* * * * *' }), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).not.toBeNull();
  });
});

/** Debt accrues interest every second: the HF shown may be a hair below the hand-computed one. */
function expectHealthFactorNear(actual: string | null | undefined, computed: string) {
  expect(actual).toMatch(/^\d+\.\d{4}$/);
  expect(Number(actual)).toBeLessThanOrEqual(Number(computed));
  expect(Number(actual)).toBeGreaterThan(Number(computed) - 0.0005);
}

describe('Spark', () => {
  it('a spark watch reads through the Aave v3 adapter (SparkLend is an Aave v3 fork), with the same position shape', async () => {
    const key = await newTenant('spark');
    // 10 WETH at $2,000 (LT 82.5%) against 10,000 USDC: HF 1.65.
    const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '10000' });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'spark', market: testEnv.TEST_MARKET, account } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    await pollShards();
    const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    expect(read.body).toMatchObject({ protocol: 'spark', level: 'ok' });
    expectHealthFactorNear(read.body.position.healthFactor, '1.6500');
    expect(read.body.position.collateral.usd).toBe('20000');
  });
});
