// End to end, from the outside: the worker runs under `wrangler dev` (workerd, real Durable Object
// alarms, persisted state) and is reached only through its HTTP API, as an integration would. A local
// anvil holds a real Aave v3 market whose WETH price the test moves; a real webhook receiver verifies
// every Standard Webhooks signature and records every request, duplicates included.
//
// Nothing here calls into the worker's code or storage: the test waits for the shard's own alarms
// (POLL_INTERVAL_SECONDS=2) by polling GET /v1/watches/:id until the level changes.
//
// Run: npx vitest run --config vitest.node.config.ts test/e2e

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { startDevStack, describeEvent, type DevStack } from '../../tools/dev-stack';
import type { ReceivedEvent } from '../helpers/webhook-receiver';

type AlertBody = {
  id: string;
  type: string;
  level: string;
  previousLevel: string;
  watch: { id: string; label: string; chainId: number; protocol: string; account: string };
  position: { healthFactor: string | null; liquidationPrices: Array<{ symbol: string }> };
  recommendation: { action: string; symbol: string; amount: string } | null;
};

type WatchRead = { level: string | null; position: { healthFactor: string | null } | null; lastPolledAt: string | null; lastError: string | null };

let stack: DevStack;
let key: string;
let market: Address;
let failed = false;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Requests that reached the receiver at `path` (any status, verified or not). */
function at(path: string): ReceivedEvent[] {
  return stack.receiver.events.filter((event) => event.path === path);
}

function delivered(path: string): ReceivedEvent[] {
  return at(path).filter((event) => event.status === 200);
}

function summary(events: ReceivedEvent[]): Array<[string, string, string]> {
  return events.map((event) => {
    const body = event.body as AlertBody;
    return [body.type, body.previousLevel, body.level];
  });
}

function diagnostics(): string {
  const events = stack.receiver.events.map((event) => `  ${event.path} ${describeEvent(event)}`).join('\n');
  return `receiver got:\n${events || '  (nothing)'}\nwrangler log (${stack.logFile}) tail:\n${stack.logTail(2_500)}`;
}

async function readWatch(watchId: string): Promise<WatchRead> {
  const response = await stack.api<WatchRead>('GET', `/v1/watches/${watchId}`, { token: key });
  expect(response.status).toBe(200);
  return response.body;
}

/** Polls GET /v1/watches/:id until `pred` holds: the shard's alarm has observed what the test did. */
async function waitForWatch(watchId: string, pred: (watch: WatchRead) => boolean, what: string, timeoutMs = 20_000): Promise<WatchRead> {
  const deadline = Date.now() + timeoutMs;
  let last: WatchRead | undefined;
  for (;;) {
    last = await readWatch(watchId);
    if (pred(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`watch ${watchId}: ${what} not seen within ${timeoutMs} ms; last read ${JSON.stringify({ level: last.level, hf: last.position?.healthFactor, lastPolledAt: last.lastPolledAt, lastError: last.lastError })}\n${diagnostics()}`);
    }
    await sleep(300);
  }
}

const atLevel = (level: string) => (watch: WatchRead) => watch.level === level;
const hfIs = (healthFactor: string) => (watch: WatchRead) => watch.position?.healthFactor === healthFactor;

async function waitForDelivered(path: string, count: number, timeoutMs: number): Promise<ReceivedEvent[]> {
  try {
    await stack.receiver.waitFor(() => delivered(path).length >= count, timeoutMs);
  } catch (error) {
    throw new Error(`${path}: expected ${count} delivered events: ${(error as Error).message}\n${diagnostics()}`);
  }
  return delivered(path);
}

/** A channel whose URL is the receiver at `path`; the receiver learns the signing secret shown once. */
async function createChannel(path: string): Promise<string> {
  const response = await stack.api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: stack.hookUrl(path), label: path } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  expect(response.body.secret).toMatch(/^whsec_/);
  stack.registerSecret(path, response.body.secret);
  return response.body.id as string;
}

async function createWatch(account: Address, label: string, channels: string[]): Promise<string> {
  const response = await stack.api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market, account, label, channels } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.id as string;
}

/** A 10 WETH / 10,000 USDC position (HF 1.65 at $2000) watched through a channel to `path`, polled once. */
async function watchedPosition(path: string): Promise<{ watchId: string; channelId: string }> {
  const channelId = await createChannel(path);
  const account = await stack.openPosition('10', '10000');
  const watchId = await createWatch(account, path.slice(1), [channelId]);
  const first = await waitForWatch(watchId, (watch) => watch.position !== null, 'a first poll');
  expect(first.level).toBe('ok');
  expectHealthFactorNear(first.position!.healthFactor, '1.6500');
  return { watchId, channelId };
}

/** Every delivered webhook-id at `path` exactly once, equal to the body's id, signature verified. */
function expectExactlyOnce(events: ReceivedEvent[]): void {
  const ids = events.map((event) => event.id);
  expect(new Set(ids).size, `duplicate webhook-ids: ${ids.join(', ')}`).toBe(ids.length);
  for (const event of events) {
    expect(event.verified, `signature of ${event.id}`).toBe(true);
    expect(event.id).toBe((event.body as AlertBody).id);
    expect(event.headers['webhook-signature']).toMatch(/^v1,/);
  }
}

async function pendingDeliveries(): Promise<Array<{ eventId: string; attempts: number; lastError: string | null }>> {
  const response = await stack.api('GET', '/v1/deliveries?status=pending', { token: key });
  expect(response.status).toBe(200);
  return response.body.data;
}

/** Waits until the outbox has tried (and failed) to deliver an event of `watchId` at least once. */
async function waitForFailedAttempt(watchId: string, events: number, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = (await pendingDeliveries()).filter((delivery) => delivery.eventId.startsWith(`evt_${watchId}_`));
    const tried = pending.find((delivery) => delivery.attempts >= 1 && delivery.lastError);
    if (tried && pending.length === events) return { pending, tried };
    if (Date.now() > deadline) throw new Error(`no failed delivery attempt for ${watchId} within ${timeoutMs} ms; pending ${JSON.stringify(pending)}\n${diagnostics()}`);
    await sleep(300);
  }
}

describe('alerting end to end through wrangler dev', () => {
  beforeAll(async () => {
    stack = await startDevStack({ pollIntervalSeconds: 2 });
    market = stack.chain.market.pool;
    await stack.setWethPrice(2000);
    const created = await stack.api('POST', '/v1/keys', { token: stack.adminToken, body: { label: 'e2e' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    key = created.body.key;
    expect((await stack.api('POST', '/v1/keys', { token: 'not-the-admin-token-at-all', body: {} })).status).toBe(401);

    // A shard polls every POLL_INTERVAL_SECONDS only while one of its positions is at risk or
    // within 5% of its warning threshold; otherwise once a minute. This pacer (1 WBTC against
    // 30,390 USDC: HF 1.54, no WETH, so untouched by the test's price moves) keeps the market's
    // shard on the fast schedule, so a healthy position's first deterioration is seen within ~2 s.
    // It has no channels and never leaves `ok`, so it sends nothing.
    const pacer = await stack.openPosition('1', '30390', { collateral: 'WBTC', debt: 'USDC' });
    const pacerId = await createWatch(pacer, 'pacer', []);
    const read = await waitForWatch(pacerId, (watch) => watch.position !== null, 'the pacer polled');
    expect(read.level).toBe('ok');
    // Interest accrues per block, so the last digit may already have moved.
    expect(Number(read.position!.healthFactor)).toBeGreaterThan(1.5);
    expect(Number(read.position!.healthFactor)).toBeLessThan(1.575);
  }, 120_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    if (!stack) return;
    const keep = failed || process.env.MARGINWATCH_KEEP_LOGS === '1';
    if (keep) console.error(`${failed ? 'e2e failed; ' : ''}wrangler log kept at ${stack.logFile}`);
    await stack.stop({ keepFiles: keep });
  });

  it('delivers warning → margin_call → critical → resolved: signed, in order, each webhook-id once', async () => {
    const { watchId } = await watchedPosition('/flow');

    // The first poll that sees a new health factor shows the level it leads to at once: a
    // warning or a margin call waits for a second poll to confirm it, critical does not.
    // (Reads every 300 ms cannot miss a state that lasts a 2 s poll interval.)
    await stack.setWethPrice(1750); // HF 1.4437: warning, once two consecutive polls agree
    const seen1750 = await waitForWatch(watchId, hfIs('1.4437'), 'HF 1.4437 at $1750');
    expect(seen1750.level).toBe('ok');
    await waitForWatch(watchId, atLevel('warning'), 'warning at $1750');
    await waitForDelivered('/flow', 1, 15_000);

    await stack.setWethPrice(1450); // HF 1.1962: margin call, two polls
    const seen1450 = await waitForWatch(watchId, hfIs('1.1962'), 'HF 1.1962 at $1450');
    expect(seen1450.level).toBe('warning');
    await waitForWatch(watchId, atLevel('margin_call'), 'margin_call at $1450');

    await stack.setWethPrice(1300); // HF 1.0725: critical at once
    const seen1300 = await waitForWatch(watchId, hfIs('1.0725'), 'HF 1.0725 at $1300');
    expect(seen1300.level).toBe('critical');

    await stack.setWethPrice(2000); // HF 1.65: resolved
    await waitForWatch(watchId, atLevel('ok'), 'ok again at $2000');

    const events = await waitForDelivered('/flow', 4, 20_000);
    expect(summary(events)).toEqual([
      ['alert.triggered', 'ok', 'warning'],
      ['alert.escalated', 'warning', 'margin_call'],
      ['alert.escalated', 'margin_call', 'critical'],
      ['alert.resolved', 'critical', 'ok'],
    ]);
    expectExactlyOnce(at('/flow'));
    const bodies = events.map((event) => event.body as AlertBody);
    expect(bodies.every((body) => body.watch.id === watchId && body.watch.chainId === 31337 && body.watch.protocol === 'aave-v3')).toBe(true);
    expectHealthFactorNear(bodies[2]!.position.healthFactor, '1.0725');
    expect(bodies[2]!.recommendation).toMatchObject({ action: 'supply', symbol: 'WETH' });
    expect(Number(bodies[2]!.recommendation!.amount)).toBeGreaterThan(0);
    expect(bodies[3]!.recommendation).toBeNull();

    // The history agrees, every event delivered; and nothing more arrives later.
    const history = await stack.api('GET', `/v1/watches/${watchId}/alerts`, { token: key });
    expect(history.status).toBe(200);
    expect(history.body.data.map((event: { id: string }) => event.id)).toEqual(events.map((event) => event.id).reverse());
    expect(history.body.data.every((event: { deliveries: Array<{ status: string }> }) => event.deliveries[0]?.status === 'delivered')).toBe(true);
    await sleep(3_000);
    expect(at('/flow')).toHaveLength(4);

    // Later scenarios move the same WETH price: this watch must not send more.
    expect((await stack.api('DELETE', `/v1/watches/${watchId}`, { token: key })).status).toBe(204);
  }, 90_000);

  it('keeps events while the receiver is down and delivers each once, in order, when it is back', async () => {
    const { watchId } = await watchedPosition('/outage');
    await stack.receiver.down();
    try {
      await stack.setWethPrice(1300); // critical at once
      await waitForWatch(watchId, atLevel('critical'), 'critical at $1300');
      await stack.setWethPrice(2000); // resolved
      await waitForWatch(watchId, atLevel('ok'), 'ok again at $2000');
      const { tried } = await waitForFailedAttempt(watchId, 2);
      expect(tried.lastError).toMatch(/connection refused|network error/);
      expect(at('/outage')).toHaveLength(0);
    } finally {
      await stack.receiver.up();
    }
    // Retries back off with full jitter (≤ 5 s, ≤ 10 s, ≤ 20 s, …): allow a minute.
    const events = await waitForDelivered('/outage', 2, 60_000);
    expect(summary(events)).toEqual([
      ['alert.triggered', 'ok', 'critical'],
      ['alert.resolved', 'critical', 'ok'],
    ]);
    await sleep(2_000);
    expectExactlyOnce(at('/outage'));
    expect(at('/outage')).toHaveLength(2);
    expect((await pendingDeliveries()).filter((delivery) => delivery.eventId.startsWith(`evt_${watchId}_`))).toEqual([]);
    // The history records the failed attempts before the one that got through.
    const history = await stack.api('GET', `/v1/watches/${watchId}/alerts`, { token: key });
    const critical = history.body.data.find((event: { type: string }) => event.type === 'alert.triggered');
    expect(critical.deliveries[0]).toMatchObject({ status: 'delivered' });
    expect(critical.deliveries[0].attempts).toBeGreaterThanOrEqual(2);
    expect((await stack.api('DELETE', `/v1/watches/${watchId}`, { token: key })).status).toBe(204);
  }, 120_000);

  it('loses and repeats nothing when wrangler is killed with an undelivered event and restarted', async () => {
    const { watchId } = await watchedPosition('/restart');
    await stack.receiver.down();
    await stack.setWethPrice(1300); // critical at once: stored, delivery failing
    await waitForWatch(watchId, atLevel('critical'), 'critical at $1300');
    await waitForFailedAttempt(watchId, 1);

    await stack.stopWorker('SIGKILL'); // a crash: no graceful shutdown of workerd
    const restartedAt = Date.now();
    await stack.startWorker(); // same port, same persisted state
    await stack.receiver.up();
    expect(at('/restart')).toHaveLength(0);
    // Not a single API call here: the tenant's persisted alarm alone must resume the delivery.
    const [first] = await waitForDelivered('/restart', 1, 60_000);
    expect(summary([first!])).toEqual([['alert.triggered', 'ok', 'critical']]);
    expect(first!.receivedAt).toBeGreaterThan(restartedAt);

    // The shard's alarm resumed too: a new price is seen and resolves the alert.
    await stack.setWethPrice(2000);
    await waitForWatch(watchId, atLevel('ok'), 'ok again at $2000 after the restart');
    const events = await waitForDelivered('/restart', 2, 30_000);
    expect(summary(events)).toEqual([
      ['alert.triggered', 'ok', 'critical'],
      ['alert.resolved', 'critical', 'ok'],
    ]);
    await sleep(2_000);
    expectExactlyOnce(at('/restart'));
    expect(at('/restart')).toHaveLength(2);
    const history = await stack.api('GET', `/v1/watches/${watchId}/alerts`, { token: key });
    expect(history.body.data.map((event: { id: string }) => event.id)).toEqual(events.map((event) => event.id).reverse());
    const beforeCrash = history.body.data.find((event: { type: string }) => event.type === 'alert.triggered');
    expect(beforeCrash.deliveries[0]).toMatchObject({ status: 'delivered' });
    expect(beforeCrash.deliveries[0].attempts).toBeGreaterThanOrEqual(2);

    // Across the run so far: every request verified, every delivered webhook-id exactly once.
    const all = stack.receiver.events;
    expect(all.every((event) => event.verified)).toBe(true);
    expectExactlyOnce(all.filter((event) => event.status === 200));
    expect((await stack.api('DELETE', `/v1/watches/${watchId}`, { token: key })).status).toBe(204);
  }, 120_000);

  it('reads the per-asset breakdown (liquidation price, top-up advice) of the at-risk account, whatever healthier watches share its shard', async () => {
    // Shards hold many watches, most of them healthy. This one is created before the at-risk
    // watch, so it sits between the pacer and it in the shard: HF 16.5 at $2000, never near a threshold.
    const bystander = await stack.openPosition('10', '1000');
    const bystanderId = await createWatch(bystander, 'bystander', []);
    await waitForWatch(bystanderId, (watch) => watch.position !== null, 'the bystander polled');
    const { watchId } = await watchedPosition('/detail');

    await stack.setWethPrice(1300); // HF 1.0725: critical at once
    const read = await waitForWatch(watchId, atLevel('critical'), 'critical at $1300');
    const [event] = await waitForDelivered('/detail', 1, 15_000);
    const body = event!.body as AlertBody;
    expect(summary([event!])).toEqual([['alert.triggered', 'ok', 'critical']]);
    // The breakdown is read for accounts near or past a threshold: this one, not the bystander.
    expect(body.recommendation, 'the critical alert of the at-risk account recommends a top-up').toMatchObject({ action: 'supply', symbol: 'WETH' });
    expect(body.position.liquidationPrices.map((entry) => entry.symbol)).toEqual(['WETH']);
    expect((read.position as { liquidationPrices?: unknown[] }).liquidationPrices).toHaveLength(1);
    const calm = await readWatch(bystanderId);
    expect(calm.level).toBe('ok');

    await stack.setWethPrice(2000);
    await waitForWatch(watchId, atLevel('ok'), 'ok again at $2000');
    await waitForDelivered('/detail', 2, 20_000);
    expectExactlyOnce(at('/detail'));
  }, 90_000);
});

/** Debt accrues interest every second: the HF shown may be a hair below the hand-computed one. */
function expectHealthFactorNear(actual: string | null | undefined, computed: string) {
  expect(actual).toMatch(/^\d+\.\d{4}$/);
  expect(Number(actual)).toBeLessThanOrEqual(Number(computed));
  expect(Number(actual)).toBeGreaterThan(Number(computed) - 0.0005);
}
