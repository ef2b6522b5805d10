import { directoryStub, shardStub, tenantStub, topUpStub } from '../../src/durable/stubs';
import { describe, expect, it } from 'vitest';
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
import worker from '../../src/index';

import { MAX_SENDS_PER_RUN, PRUNE_BATCH, type Tenant } from '../../src/durable/tenant';
import { marketKeyOf } from '../../src/watches/sync';
import { type TopUp } from '../../src/durable/topup';
import { topUpObjectName } from '../../src/topup/signer';
import { signerAddressOf } from '../../src/config/topup-env';
import { api, control, newTenant, pollShards, tenantIdOf, testEnv, type ApiResponse } from './helpers';

const MARKET = () => testEnv.TEST_MARKET as `0x${string}`;
const DAY_MS = 86_400_000;

/** The worker's own fetch handler with some settings changed, as a deployment with other vars would run. */
async function apiWith(vars: Record<string, string>, method: string, path: string, key: string, body?: unknown): Promise<ApiResponse> {
  const ctx = createExecutionContext();
  const request = new Request(`http://marginwatch.test${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const response = await worker.fetch!(request as Request<unknown, IncomingRequestCfProperties>, { ...testEnv, ...vars } as Env, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

function randomAccount(): `0x${string}` {
  return privateKeyToAccount(generatePrivateKey()).address;
}

function watchBody(account = randomAccount(), channels: string[] = []) {
  return { chainId: 31337, protocol: 'aave-v3', market: MARKET(), account, channels };
}

async function webhookChannel(key: string, path: string): Promise<string> {
  const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
  expect(channel.status, JSON.stringify(channel.body)).toBe(201);
  await control('/receiver/secret', { path, secret: channel.body.secret });
  return channel.body.id as string;
}

async function receivedAt(path: string): Promise<Array<{ id: string; verified: boolean }>> {
  return ((await control('/receiver/events', {}, 'GET')) as Array<{ id: string; path: string; verified: boolean }>).filter((event) => event.path === path);
}

async function pagesOf(key: string, route: string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const response: ApiResponse = await api('GET', `${route}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { token: key });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    pages.push(response.body.data.map((item: { id: string }) => item.id));
    cursor = response.body.nextCursor;
  } while (cursor !== null && pages.length < 20);
  return pages;
}

/** Makes one method of a real Durable Object throw on its next call, the way a crash or an eviction mid-request would. */
async function failNextCall(stub: DurableObjectStub<Rpc.DurableObjectBranded>, method: string): Promise<void> {
  await runInDurableObject(stub, (instance) => {
    const prototype = Object.getPrototypeOf(instance) as Record<string, (...args: unknown[]) => unknown>;
    const original = prototype[method]!;
    prototype[method] = function failOnce() {
      prototype[method] = original;
      throw new Error(`injected failure in ${method}`);
    };
  });
}

function shardOfTestMarket(): string {
  return `${marketKeyOf({ chainId: 31337, protocol: 'aave-v3', market: MARKET(), protocolAddress: null })}#0`;
}

describe('paging', () => {
  it('GET /v1/channels pages with limit and cursor, in creation order, nextCursor null on the last page', async () => {
    const key = await newTenant('paging-channels');
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) ids.push(await webhookChannel(key, `/paging-${index}`));
    const pages = await pagesOf(key, '/v1/channels', 2);
    expect(pages).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
    const all = await api('GET', '/v1/channels', { token: key });
    expect(all.body.data.map((channel: { id: string }) => channel.id)).toEqual(ids);
    expect(all.body.nextCursor).toBeNull();
  });

  it('GET /v1/watches pages the same way and keeps its item shape', async () => {
    const key = await newTenant('paging-watches');
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      const created = await api('POST', '/v1/watches', { token: key, body: watchBody() });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      ids.push(created.body.id);
    }
    expect(await pagesOf(key, '/v1/watches', 3)).toEqual([ids.slice(0, 3), ids.slice(3)]);
    const first = await api('GET', '/v1/watches?limit=1', { token: key });
    expect(Object.keys(first.body)).toEqual(['data', 'nextCursor']);
    expect(first.body.data[0]).toMatchObject({ id: ids[0], chainId: 31337, protocol: 'aave-v3', channels: [] });
    expect(first.body.data[0]).not.toHaveProperty('shard');
  });

  it('GET /v1/deliveries pages newest event first: every delivery once across pages, nextCursor null on the last, a forged cursor 400', async () => {
    const key = await newTenant('paging-deliveries');
    const channels = [await webhookChannel(key, '/paging-a'), await webhookChannel(key, '/paging-b')];
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    await tenant.ingestEvents(Array.from({ length: 4 }, (_, index) => ({ eventId: `evt_page_${index}`, watchId: 'w_page', body: JSON.stringify({ type: 'alert.reminder' }), silenced: false, channelIds: channels })));
    await runInDurableObject(tenant, (_instance: Tenant, state) => void state.storage.sql.exec("UPDATE outbox SET status = 'dead'"));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ApiResponse = await api('GET', `/v1/deliveries?status=dead&limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: key });
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      seen.push(...page.body.data.map((delivery: { eventId: string; channelId: string }) => `${delivery.eventId}/${delivery.channelId}`));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    const [a, b] = [...channels].sort().reverse();
    expect(seen).toEqual([3, 2, 1, 0].flatMap((index) => [`evt_page_${index}/${a}`, `evt_page_${index}/${b}`]));
    expect(pages).toBe(3);
    for (const forged of ['1', 'abc', `99_${channels[0]}x`, '1'.repeat(16) + `_${channels[0]}`]) {
      const refused = await api('GET', `/v1/deliveries?status=dead&cursor=${forged}`, { token: key });
      expect(refused.status, forged).toBe(400);
      expect(refused.body.error.issues[0].path).toBe('cursor');
    }
  });

  it('GET /v1/watches shows each watch at a glance: level, health factor, block time and monitor state, null until first read', async () => {
    const key = await newTenant('glance');
    const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '10000' });
    const created = await api('POST', '/v1/watches', { token: key, body: watchBody(account) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await pollShards();
    const listed = await api('GET', '/v1/watches', { token: key });
    const [item] = listed.body.data;
    const single = await api('GET', `/v1/watches/${created.body.id}`, { token: key });
    expect(item).toMatchObject({ id: created.body.id, level: single.body.level, healthFactor: single.body.position.healthFactor, observedAt: single.body.position.observedAt, monitor: 'ok' });
    expect(Number(item.healthFactor)).toBeGreaterThan(1);
    expect(item).not.toHaveProperty('position');
  });

  it.each([
    ['limit=0', 'limit', 'must be at least 1'],
    ['limit=1001', 'limit', 'must be at most 1000'],
    ['limit=ten', 'limit', 'must be an integer'],
    ['cursor=%21%21', 'cursor', 'must be a nextCursor returned by the previous page'],
    ['cursor=bm90LWpzb24', 'cursor', 'must be a nextCursor returned by the previous page'],
  ])('a bad %s is a 400 naming the field', async (query, field, message) => {
    const key = await newTenant('paging-bad');
    for (const route of ['/v1/watches', '/v1/channels']) {
      const response = await api('GET', `${route}?${query}`, { token: key });
      expect(response.status).toBe(400);
      expect(response.body.error.issues[0]).toMatchObject({ path: field });
      expect(response.body.error.message).toContain(message);
    }
  });
});

describe('quotas', () => {
  it('the watch past MAX_WATCHES_PER_TENANT is a 409 quota_exceeded naming the limit, before any RPC request (its node is down); a delete makes room again', async () => {
    const key = await newTenant('quota-watches');
    const vars = { MAX_WATCHES_PER_TENANT: '2' };
    const first = await apiWith(vars, 'POST', '/v1/watches', key, watchBody());
    expect(first.status).toBe(201);
    expect((await apiWith(vars, 'POST', '/v1/watches', key, watchBody())).status).toBe(201);
    // A market not seen before, on a node where nothing listens (port 9): checking it would
    // fail (502), so the 409 shows no request was made.
    const refused = await apiWith({ ...vars, RPC_URLS: JSON.stringify({ '31337': 'http://127.0.0.1:9' }) }, 'POST', '/v1/watches', key, { ...watchBody(), market: randomAccount() });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('quota_exceeded');
    expect(refused.body.error.message).toContain('limit of 2 watches (MAX_WATCHES_PER_TENANT)');
    expect((await apiWith(vars, 'DELETE', `/v1/watches/${first.body.id}`, key)).status).toBe(204);
    expect((await apiWith(vars, 'POST', '/v1/watches', key, watchBody())).status).toBe(201);
  });

  it('the channel past MAX_CHANNELS_PER_TENANT is a 409 quota_exceeded naming the limit; a delete makes room again', async () => {
    const key = await newTenant('quota-channels');
    const vars = { MAX_CHANNELS_PER_TENANT: '1' };
    const body = { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}quota` };
    const first = await apiWith(vars, 'POST', '/v1/channels', key, body);
    expect(first.status).toBe(201);
    const refused = await apiWith(vars, 'POST', '/v1/channels', key, body);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'quota_exceeded' });
    expect(refused.body.error.message).toContain('limit of 1 channels (MAX_CHANNELS_PER_TENANT)');
    expect((await apiWith(vars, 'DELETE', `/v1/channels/${first.body.id}`, key)).status).toBe(204);
    expect((await apiWith(vars, 'POST', '/v1/channels', key, body)).status).toBe(201);
  });
});

describe('O(1) storage reads', () => {
  it('the duplicate check of a create, a watch\'s events and deliveries by status are index lookups, never a table scan', async () => {
    const key = await newTenant('plans');
    await api('POST', '/v1/watches', { token: key, body: watchBody() });
    const plans = await runInDurableObject(tenantStub(testEnv, tenantIdOf(key)), (_instance: Tenant, state) => {
      const plan = (query: string, ...args: unknown[]) =>
        state.storage.sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`, ...args).toArray().map((row) => row.detail).join(' | ');
      return {
        position: plan("SELECT * FROM watches WHERE chain_id = ? AND protocol = ? AND market = ? AND IFNULL(protocol_address, '') = ? AND account = ? LIMIT 1", 1, 'aave-v3', '0x', '', '0x'),
        events: plan('SELECT * FROM events WHERE watch_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?', 'w', 1, 1),
        deliveries: plan('SELECT * FROM outbox WHERE status = ? ORDER BY seq DESC LIMIT ?', 'dead', 1),
      };
    });
    expect(plans.position).toContain('USING INDEX watches_position');
    expect(plans.events).toContain('USING INDEX events_watch');
    expect(plans.deliveries).toContain('USING INDEX outbox_status');
    for (const plan of Object.values(plans)) expect(plan).not.toMatch(/^SCAN \w+$/);
  });
});

describe('retry-safe create and delete across tenant, directory and shard', () => {
  it('a create whose shard call failed is finished by the same create sent again: same watch, 201, polled, counted once', async () => {
    const key = await newTenant('retry-create');
    const account = randomAccount();
    const directory = directoryStub(testEnv);
    // Place one watch first so the market's shard exists; then count from there.
    expect((await api('POST', '/v1/watches', { token: key, body: watchBody() })).status).toBe(201);
    const before = await directory.shardCount(shardOfTestMarket());

    await failNextCall(shardStub(testEnv, shardOfTestMarket()) as DurableObjectStub<Rpc.DurableObjectBranded>, 'upsertWatch');
    const failed = await api('POST', '/v1/watches', { token: key, body: watchBody(account) });
    expect(failed.status).toBe(500);
    const listed = (await api('GET', '/v1/watches', { token: key })).body.data as Array<{ id: string; account: string }>;
    const half = listed.find((watch) => watch.account === account)!;
    expect(half).toBeDefined();

    const retried = await api('POST', '/v1/watches', { token: key, body: watchBody(account) });
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect(retried.body.id).toBe(half.id);
    expect(await directory.shardCount(shardOfTestMarket())).toBe(before + 1);
    expect(await shardStub(testEnv, shardOfTestMarket()).watchStatus(half.id)).not.toBeNull();
    // Now it is whole: the same create again is the usual 409.
    const again = await api('POST', '/v1/watches', { token: key, body: watchBody(account) });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('watch_exists');
  });

  it('a create nobody retries is finished by the tenant\'s alarm', async () => {
    const key = await newTenant('retry-alarm');
    const account = randomAccount();
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    expect((await api('POST', '/v1/watches', { token: key, body: watchBody() })).status).toBe(201);
    const before = await directoryStub(testEnv).shardCount(shardOfTestMarket());
    await failNextCall(directoryStub(testEnv) as DurableObjectStub<Rpc.DurableObjectBranded>, 'assignShard');
    expect((await api('POST', '/v1/watches', { token: key, body: watchBody(account) })).status).toBe(500);
    const half = await tenant.findWatchAt({ chainId: 31337, protocol: 'aave-v3', market: MARKET(), protocolAddress: null, account });
    expect(half).toMatchObject({ synced: false, shard: '' });

    // The alarm leaves a create alone while its request may still be at work: age the record past that.
    await runInDurableObject(tenant, (_instance: Tenant, state) => {
      state.storage.sql.exec('UPDATE watches SET created_at = created_at - 60000 WHERE id = ?', half!.id);
    });
    expect(await runDurableObjectAlarm(tenant)).toBe(true);
    const whole = await tenant.findWatchAt({ chainId: 31337, protocol: 'aave-v3', market: MARKET(), protocolAddress: null, account });
    expect(whole).toMatchObject({ synced: true, shard: shardOfTestMarket() });
    expect(await directoryStub(testEnv).shardCount(shardOfTestMarket())).toBe(before + 1);
    expect(await shardStub(testEnv, shardOfTestMarket()).watchStatus(half!.id)).not.toBeNull();
  });

  it('a delete whose directory call failed is finished by DELETE sent again (204), releasing the slot exactly once', async () => {
    const key = await newTenant('retry-delete');
    const created = await api('POST', '/v1/watches', { token: key, body: watchBody() });
    const directory = directoryStub(testEnv);
    const before = await directory.shardCount(shardOfTestMarket());

    await failNextCall(directory as DurableObjectStub<Rpc.DurableObjectBranded>, 'releaseShard');
    expect((await api('DELETE', `/v1/watches/${created.body.id}`, { token: key })).status).toBe(500);
    // Gone from the API at once, and no longer polled.
    expect((await api('GET', `/v1/watches/${created.body.id}`, { token: key })).status).toBe(404);
    expect(await shardStub(testEnv, shardOfTestMarket()).watchStatus(created.body.id)).toBeNull();
    expect(await directory.shardCount(shardOfTestMarket())).toBe(before);

    expect((await api('DELETE', `/v1/watches/${created.body.id}`, { token: key })).status).toBe(204);
    expect(await directory.shardCount(shardOfTestMarket())).toBe(before - 1);
    expect((await api('DELETE', `/v1/watches/${created.body.id}`, { token: key })).status).toBe(404);
    expect(await directory.shardCount(shardOfTestMarket())).toBe(before - 1);
    // The position is free again.
    expect((await api('POST', '/v1/watches', { token: key, body: watchBody(created.body.account) })).status).toBe(201);
  });

  it('the directory assigns and releases idempotently by watch id', async () => {
    const directory = directoryStub(testEnv);
    const first = await directory.assignShard('31337:test:idempotent', 250, 'w_idem');
    expect(await directory.assignShard('31337:test:idempotent', 250, 'w_idem')).toBe(first);
    expect(await directory.shardCount(first)).toBe(1);
    await directory.releaseShard(first, 'w_idem');
    await directory.releaseShard(first, 'w_idem');
    expect(await directory.shardCount(first)).toBe(0);
  });
});

describe('delivery outbox under a burst', () => {
  it('10,000 events at once drain over successive alarms of at most MAX_SENDS_PER_RUN sends each; a channel test is not held behind them', async () => {
    const key = await newTenant('burst');
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    const channelId = await webhookChannel(key, '/burst');
    const events = Array.from({ length: 10_000 }, (_, index) => ({
      eventId: `evt_burst_${index.toString().padStart(5, '0')}`,
      watchId: `w_burst_${index % 100}`,
      body: JSON.stringify({ type: 'alert.reminder', id: `evt_burst_${index}` }),
      silenced: false,
      channelIds: [channelId],
    }));
    expect(await tenant.ingestEvents(events)).toBe(10_000);
    const pendingCount = () =>
      runInDurableObject(tenant, (_instance: Tenant, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'").one().n);

    // One run sends MAX_SENDS_PER_RUN and stops; its alarm re-arms to go on at once.
    expect(await runDurableObjectAlarm(tenant)).toBe(true);
    expect(await pendingCount()).toBeGreaterThanOrEqual(10_000 - 2 * MAX_SENDS_PER_RUN);
    const alarm = await runInDurableObject(tenant, (_instance: Tenant, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(Date.now() + 1000);

    // A channel test is sent by its own request, not after the backlog: nothing else goes out with it.
    const backlog = await pendingCount();
    const tested = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(tested.status).toBe(202);
    expect(tested.body.delivery).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(await pendingCount()).toBeGreaterThanOrEqual(backlog - 2 * MAX_SENDS_PER_RUN);

    // The rest drains run by run (the object's own alarms run in between too), none over the bound.
    // A send that fails on the way (a connection reset on a loaded machine) waits for its retry:
    // time passes for it, as it would between alarms.
    const retryNow = () => runInDurableObject(tenant, (_instance: Tenant, state) => void state.storage.sql.exec("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'pending'"));
    const runSizes: number[] = [];
    const deadline = Date.now() + 150_000;
    while ((await pendingCount()) > 0 && Date.now() < deadline) {
      const sent = await tenant.deliverDue();
      runSizes.push(sent);
      if (sent === 0) await retryNow();
    }
    const left = await runInDurableObject(tenant, (_instance: Tenant, state) => state.storage.sql.exec("SELECT event_id, group_key, seq, attempts, next_attempt_at, last_error FROM outbox WHERE status = 'pending' LIMIT 5").toArray());
    expect(left, `left pending: ${JSON.stringify(left)}`).toEqual([]);
    expect(Math.max(...runSizes)).toBeLessThanOrEqual(MAX_SENDS_PER_RUN);
    const received = await receivedAt('/burst');
    // Each event arrives; one whose answer was lost may arrive twice, with the same id (at least once).
    expect(new Set(received.map((event) => event.id)).size).toBe(10_001);
    expect(received.every((event) => event.verified)).toBe(true);
  }, 180_000); // 10,000 signed deliveries to a real receiver: ~40 s alone, more on a loaded machine
});

describe('retention', () => {
  it('an alarm prunes at most PRUNE_BATCH events older than RETENTION_DAYS with their deliveries, never a pending one, and comes back for the rest', async () => {
    const key = await newTenant('retention');
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    const channelId = await webhookChannel(key, '/retention');
    const old = PRUNE_BATCH + 100;
    const events = Array.from({ length: old + 3 }, (_, index) => ({ eventId: `evt_ret_${index}`, watchId: 'w_ret', body: JSON.stringify({ type: 'alert.reminder' }), silenced: false, channelIds: [channelId] }));
    await tenant.ingestEvents(events);
    // Delivered long ago: all but the last three are 91 days old; one old delivery is still pending (a receiver down for long).
    await runInDurableObject(tenant, (_instance: Tenant, state) => {
      const sql = state.storage.sql;
      sql.exec("UPDATE outbox SET status = 'delivered', delivered_at = ?", Date.now());
      sql.exec('UPDATE events SET created_at = ? WHERE seq <= (SELECT MIN(seq) FROM events) + ?', Date.now() - 91 * DAY_MS, old - 1);
      sql.exec("UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE event_id = 'evt_ret_0'", Date.now() + DAY_MS);
    });
    const counts = () =>
      runInDurableObject(tenant, (_instance: Tenant, state) => ({
        events: state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM events').one().n,
        outbox: state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n,
      }));

    await runDurableObjectAlarm(tenant);
    expect(await counts()).toEqual({ events: old + 3 - PRUNE_BATCH, outbox: old + 3 - PRUNE_BATCH });
    const alarm = await runInDurableObject(tenant, (_instance: Tenant, state) => state.storage.getAlarm());
    expect(alarm!).toBeLessThanOrEqual(Date.now() + 1000);

    await runDurableObjectAlarm(tenant);
    // Left: the pending old one and the three recent ones.
    expect(await counts()).toEqual({ events: 4, outbox: 4 });
    const history = await api('GET', '/v1/deliveries?status=pending', { token: key });
    expect(history.body.data.map((delivery: { eventId: string }) => delivery.eventId)).toEqual(['evt_ret_0']);
  });
});

describe('cron watchdog', () => {
  it('events arriving while the tenant clears its armed flag at the directory leave it flagged, so the watchdog still looks at it', async () => {
    const key = await newTenant('armed-race');
    const tenantId = tenantIdOf(key);
    const tenant = tenantStub(testEnv, tenantId);
    const channelId = await webhookChannel(key, '/armed-race');
    await control('/receiver/respond', { status: 503, path: '/armed-race' });
    const event = (id: string) => ({ eventId: id, watchId: 'w_race', body: JSON.stringify({ id, type: 'alert.reminder' }), silenced: false, channelIds: [channelId] });
    await tenant.ingestEvents([event(`evt_race_a_${tenantId}`)]);
    const armed = () => runInDurableObject(directoryStub(testEnv), (_instance, state) => state.storage.sql.exec('SELECT 1 FROM armed WHERE kind = ? AND name = ?', 'tenant', tenantId).toArray().length === 1);
    expect(await armed()).toBe(true);
    // The work is gone (dead-lettered): the watchdog's check clears the flag, and while it asks
    // the directory to, a new event arrives.
    await runInDurableObject(tenant, (_instance: Tenant, state) => void state.storage.sql.exec("UPDATE outbox SET status = 'dead'"));
    await Promise.all([tenant.ensureAlarm(), tenant.ingestEvents([event(`evt_race_b_${tenantId}`)])]);
    expect((await tenant.listDeliveries('pending', 10)).data).toHaveLength(1);
    expect(await armed()).toBe(true);
  });

  it('re-arms the alarm of a tenant with pending deliveries whose alarm was lost, found through the directory', async () => {
    const key = await newTenant('watchdog');
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    const channelId = await webhookChannel(key, '/watchdog');
    await control('/receiver/respond', { status: 503, path: '/watchdog' });
    await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    await runInDurableObject(tenant, async (_instance: Tenant, state) => {
      await state.storage.deleteAlarm();
    });
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: new Date(), cron: '* * * * *' }), testEnv as Env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await runInDurableObject(tenant, (_instance: Tenant, state) => state.storage.getAlarm())).not.toBeNull();
  });
});

describe('channel tests are not a relay', () => {
  it('while a test to a failing receiver is being retried, another test of that channel is 409 channel_test_pending and makes no delivery; once it is delivered, a new test goes', async () => {
    const key = await newTenant('test-relay');
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    const path = `/relay-${Math.random().toString(36).slice(2, 8)}`;
    const channelId = await webhookChannel(key, path);
    await control('/receiver/respond', { status: 503, path });
    const first = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(first.status).toBe(202);
    expect(first.body.delivery).toMatchObject({ status: 'pending', attempts: 1 });
    const outboxRows = () => runInDurableObject(tenant, (_instance: Tenant, state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE channel_id = ?', channelId).one().n);
    for (let i = 0; i < 5; i++) {
      const again = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('channel_test_pending');
      expect(again.body.error.message).toContain(first.body.event.id);
    }
    expect(await outboxRows()).toBe(1);
    await control('/receiver/respond', { status: 200, path });
    await runInDurableObject(tenant, (_instance: Tenant, state) => void state.storage.sql.exec('UPDATE outbox SET next_attempt_at = 0 WHERE channel_id = ?', channelId));
    await tenant.deliverDue();
    expect((await tenant.deliveriesOfEvent(first.body.event.id))[0]!.status).toBe('delivered');
    const next = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(next.status).toBe(202);
    expect(next.body.delivery.status).toBe('delivered');
  });
});

describe('channel tests per tenant per day', () => {
  it('a tenant sends at most 200 channel tests in 24 h: the next is 429 channel_test_limit with retry-after and writes no event', async () => {
    const key = await newTenant('test-budget');
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    const channelId = await webhookChannel(key, '/test-budget');
    // 199 tests earlier today, spread over the last hours (as a loop of test calls would leave them).
    const now = Date.now();
    await runInDurableObject(tenant, (_instance: Tenant, state) => {
      for (let i = 0; i < 199; i++) state.storage.sql.exec("INSERT INTO daily_budget (kind, at) VALUES ('channel_test', ?)", now - 3_600_000 - i * 1000);
    });
    const last = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(last.status).toBe(202);
    const events = () => runInDurableObject(tenant, (_instance: Tenant, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE type = 'channel.test'").one().n);
    const before = await events();
    const refused = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('channel_test_limit');
    const retryAfter = Number(refused.headers.get('retry-after'));
    // The oldest of the 200 leaves the window about 22.9 h from now.
    expect(retryAfter).toBeGreaterThan(80_000);
    expect(retryAfter).toBeLessThanOrEqual(82_800);
    expect(await events()).toBe(before);
  });
});

describe('top-up executor: retention and watchdog', () => {
  it('the cron\'s check of an executor prunes finished actions older than RETENTION_DAYS with their transactions, and dry runs older than a day but each watch\'s newest; keeps recent ones', async () => {
    const executor = topUpStub(testEnv, topUpObjectName(31337, signerAddressOf((testEnv as unknown as { TOPUP_PRIVATE_KEY: `0x${string}` }).TOPUP_PRIVATE_KEY)));
    await runInDurableObject(executor, (_instance: TopUp, state) => {
      const insert = (id: string, status: string, createdAt: number, dryRun = { watchId: 'w_old', slot: 1 }) => {
        state.storage.sql.exec(
          `INSERT INTO actions (id, watch_id, tenant_id, episode, slot, dry_run, status, asset, amount, amount_needed, reaches_target, capped_by, steps, step_index, request, created_at, finished_at)
           VALUES (?, ?, 't_old', 1, ?, ?, ?, '0x', '1', '1', 1, 'none', '[]', 0, '{}', ?, ?)`,
          id, dryRun.watchId, dryRun.slot, status === 'dry_run' ? 1 : 0, status, createdAt, createdAt,
        );
        state.storage.sql.exec("INSERT INTO txs (nonce, action_id, step_index, kind, gas, status, attempts, created_at) VALUES (0, ?, 0, 'supply', '1', 'mined', '[]', ?)", id, createdAt);
      };
      insert('a_old_confirmed', 'confirmed', Date.now() - 91 * DAY_MS);
      insert('a_old_failed', 'failed', Date.now() - 91 * DAY_MS);
      insert('a_recent', 'confirmed', Date.now() - 89 * DAY_MS);
      // A position under its trigger for days: a dry run each cooldown.
      insert('d_1', 'dry_run', Date.now() - 3 * DAY_MS, { watchId: 'w_dry', slot: 1 });
      insert('d_2', 'dry_run', Date.now() - 2 * DAY_MS, { watchId: 'w_dry', slot: 2 });
      insert('d_3', 'dry_run', Date.now() - DAY_MS - 60_000, { watchId: 'w_dry', slot: 3 });
      insert('e_1', 'dry_run', Date.now() - 2 * DAY_MS, { watchId: 'w_dry_recent', slot: 1 });
      insert('e_2', 'dry_run', Date.now() - 3_600_000, { watchId: 'w_dry_recent', slot: 2 });
    });
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: new Date(), cron: '* * * * *' }), testEnv as Env, ctx);
    await waitOnExecutionContext(ctx);
    const left = await runInDurableObject(executor, (_instance: TopUp, state) => ({
      actions: state.storage.sql.exec<{ id: string }>('SELECT id FROM actions ORDER BY id').toArray().map((row) => row.id),
      txs: state.storage.sql.exec<{ action_id: string }>('SELECT action_id FROM txs ORDER BY action_id').toArray().map((row) => row.action_id),
    }));
    // d_3 stays as w_dry's newest (its slot numbers the next), e_2 as a dry run of the last day.
    expect(left).toEqual({ actions: ['a_recent', 'd_3', 'e_2'], txs: ['a_recent', 'd_3', 'e_2'] });
  });

  it('dropping a watch\'s request (the watch deleted, or its policy replaced) drops its failure backoff too: deleted watches leave no row behind', async () => {
    const executor = topUpStub(testEnv, topUpObjectName(31337, signerAddressOf((testEnv as unknown as { TOPUP_PRIVATE_KEY: `0x${string}` }).TOPUP_PRIVATE_KEY)));
    const failures = () => runInDurableObject(executor, (_instance: TopUp, state) => state.storage.sql.exec<{ watch_id: string }>("SELECT watch_id FROM failures WHERE watch_id LIKE 'w_churn_%' ORDER BY watch_id").toArray().map((row) => row.watch_id));
    await runInDurableObject(executor, (_instance: TopUp, state) => {
      for (const id of ['w_churn_1', 'w_churn_2']) state.storage.sql.exec("INSERT INTO failures (watch_id, code, message, at) VALUES (?, 'no_balance', 'the wallet holds none', ?)", id, Date.now());
    });
    await executor.dropRequest('w_churn_1');
    expect(await failures()).toEqual(['w_churn_2']);
  });

  it('the cron re-arms the alarm of an executor with work waiting (a notice not yet handed to its tenant)', async () => {
    const executor = topUpStub(testEnv, topUpObjectName(31337, signerAddressOf((testEnv as unknown as { TOPUP_PRIVATE_KEY: `0x${string}` }).TOPUP_PRIVATE_KEY)));
    const key = await newTenant('executor-watchdog');
    await runInDurableObject(executor, async (_instance: TopUp, state) => {
      state.storage.sql.exec(
        "INSERT INTO notices (event_id, tenant_id, watch_id, body, created_at) VALUES ('evt_watchdog', ?, 'w_watchdog', ?, ?)",
        tenantIdOf(key), JSON.stringify({ id: 'evt_watchdog', type: 'topup.skipped' }), Date.now(),
      );
      await state.storage.deleteAlarm();
    });
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: new Date(), cron: '* * * * *' }), testEnv as Env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await runInDurableObject(executor, (_instance: TopUp, state) => state.storage.getAlarm())).not.toBeNull();
    // The woken pass hands the notice over.
    await runDurableObjectAlarm(executor);
    const handedOff = await runInDurableObject(executor, (_instance: TopUp, state) => state.storage.sql.exec<{ handed_off: number }>("SELECT handed_off FROM notices WHERE event_id = 'evt_watchdog'").one().handed_off);
    expect(handedOff).toBe(1);
  });
});

describe('observations at one block', () => {
  it('adding a watch to a shard (an extra poll at the same block) does not confirm another watch\'s pending warning; the next block does', async () => {
    await control('/price', { symbol: 'WETH', price: '2000' });
    const key = await newTenant('same-block');
    // 10 WETH at $2,000 (LT 82.5%) against 12,000 USDC: HF 1.375, a warning once a second block confirms it.
    const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '12000' });
    const pending = await api('POST', '/v1/watches', { token: key, body: watchBody(account) });
    expect(pending.status).toBe(201);
    const shard = shardStub(testEnv, shardOfTestMarket());
    await shard.tick();
    expect((await api('GET', `/v1/watches/${pending.body.id}`, { token: key })).body.level).toBe('ok');

    expect((await api('POST', '/v1/watches', { token: key, body: watchBody() })).status).toBe(201);
    await shard.tick();
    expect((await api('GET', `/v1/watches/${pending.body.id}`, { token: key })).body.level).toBe('ok');

    await control('/mine');
    await shard.tick();
    expect((await api('GET', `/v1/watches/${pending.body.id}`, { token: key })).body.level).toBe('warning');
  });
});
