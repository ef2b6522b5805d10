import { tenantStub } from '../../src/durable/stubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import committed from '../../docs/openapi.json';
import { createApp } from '../../src/api/app';
import { buildOpenApiDocument, openApiPath } from '../../src/api/openapi/document';
import { OPERATIONS } from '../../src/api/openapi/operations';
import { DOCS_VIEWER_FILES } from '../../src/api/docs-page';

import { createContract, type RecordedResponse } from '../helpers/openapi-contract';
import { arbitraryOf } from '../helpers/schema-arbitrary';
import { ADMIN, api, confirmationCodeFor, control, getJson, grantTopUps, newTenant, pollShards, tenantIdOf, testEnv, type ApiResponse } from './helpers';
import { SIGNER, loadMarket, tick } from './topup-helpers';
import { ageMonitor, proxy, receivedAt, swapShardEnv, tick as tickAaveShard, watchedPosition } from './monitor-helpers';

/*
 * The contract between the OpenAPI document and the running worker: the document served is the
 * committed one; the app has exactly the documented routes; every route's real answers (successes
 * and errors) validate against the document; requests generated from the document's own schemas
 * never get a 5xx. The reference page and its viewer come from the Worker's static assets.
 */

type Json = Record<string, any>;
type TelegramEnv = { TEST_TELEGRAM_CONTROL_URL: string; TELEGRAM_WEBHOOK_SECRET: string };

const document = committed as unknown as Json;
const contract = createContract(document);
const recorded: RecordedResponse[] = [];
const SEED = 20_261_201;

async function fetchWorker(path: string, init: RequestInit = {}): Promise<Response> {
  return (exports as unknown as { default: Fetcher }).default.fetch(`http://marginwatch.test${path}`, init);
}

function record(method: string, path: string, response: ApiResponse): RecordedResponse {
  const entry = { method, path: path.split('?')[0]!, status: response.status, contentType: response.headers.get('content-type'), body: response.body };
  recorded.push(entry);
  return entry;
}

/** A request through the worker whose answer must conform to the document. */
async function checked(method: string, path: string, options: Parameters<typeof api>[2] = {}): Promise<ApiResponse> {
  const response = await api(method, path, options);
  expect(contract.problems(record(method, path, response))).toEqual([]);
  return response;
}

async function checkedTelegramUpdate(update: unknown, secret: string | undefined): Promise<ApiResponse> {
  const response = await fetchWorker('/telegram/webhook', { method: 'POST', headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) }, body: JSON.stringify(update) });
  const text = await response.text();
  const answer = { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  expect(contract.problems(record('POST', '/telegram/webhook', answer))).toEqual([]);
  return answer;
}

describe('GET /openapi.json and GET /docs', () => {
  it('serves the committed document, which is the one the code builds', async () => {
    const served = await fetchWorker('/openapi.json');
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toContain('application/json');
    expect(await served.json()).toEqual(committed);
    expect(buildOpenApiDocument()).toEqual(committed);
  });

  it('documents exactly the routes the app has', () => {
    // The dashboard's HTML pages are for people, not part of the API the document describes.
    const routes = new Set(createApp().routes.filter((route) => route.method !== 'ALL' && !route.path.startsWith('/dashboard')).map((route) => `${route.method.toLowerCase()} ${route.path}`));
    const documented = new Set(OPERATIONS.map((operation) => `${operation.method} ${operation.path}`));
    expect([...routes].filter((route) => !documented.has(route)), 'routes missing from src/api/openapi/operations.ts').toEqual([]);
    expect([...documented].filter((route) => !routes.has(route)), 'documented routes the app does not have').toEqual([]);
  });

  it('/docs is a page whose viewer, stylesheet and start-up script are static assets of this origin, under a policy that forbids other origins', async () => {
    const page = await fetchWorker('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await page.text();
    const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(references.filter((reference) => !reference.startsWith('/'))).toEqual([]);
    expect(references).toEqual(expect.arrayContaining([...DOCS_VIEWER_FILES]));
    // In production and `wrangler dev` the asset router answers these before the Worker runs; the test reads them through the binding.
    for (const file of DOCS_VIEWER_FILES) {
      const asset = await testEnv.ASSETS.fetch(`http://marginwatch.test${file}`);
      expect(asset.status, `${file} (run \`npm run assets\` if it is missing)`).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(file.endsWith('.css') ? /text\/css/ : /javascript/);
      const text = await asset.text();
      expect(text.length).toBeGreaterThan(file.endsWith('init.js') ? 50 : 100_000);
      if (file.endsWith('init.js')) expect(text).toContain("url: '/openapi.json'");
    }
  });
});

describe('every route answers as the document says', () => {
  let key: string;
  let tenantId: string;
  let webhookId: string;
  let watchId: string;

  beforeAll(async () => {
    await control('/price', { symbol: 'WETH', price: '2000' });
  });
  afterAll(async () => {
    await control('/price', { symbol: 'WETH', price: '2000' });
  });

  it('service: /health', async () => {
    await checked('GET', '/health');
  });

  it('API keys: issue, list, rotate, revoke, and their errors', async () => {
    const issued = await checked('POST', '/v1/keys', { token: ADMIN, body: { label: 'openapi' } });
    key = issued.body.key;
    tenantId = tenantIdOf(key);
    await checked('POST', '/v1/keys', { body: { label: 'x' } });
    await checked('POST', '/v1/keys', { token: ADMIN, body: { label: 'x', extra: true } });
    await checked('POST', '/v1/keys', { token: ADMIN, rawBody: 'label=x', contentType: 'application/x-www-form-urlencoded' });
    await checked('POST', '/v1/keys', { token: ADMIN, rawBody: '{' });
    await checked('POST', '/v1/keys', { token: ADMIN, body: { label: 'x'.repeat(70_000) } });
    await checked('GET', `/v1/keys?tenantId=${tenantId}`, { token: ADMIN });
    await checked('GET', '/v1/keys?tenantId=t_0000000000000000', { token: ADMIN });
    await checked('GET', '/v1/keys', { token: ADMIN });
    const second = await checked('POST', '/v1/keys', { token: ADMIN, body: { tenantId, label: 'to rotate' } });
    const rotated = await checked('POST', '/v1/keys/rotate', { token: second.body.key, body: { graceSeconds: 60 } });
    await checked('POST', '/v1/keys/rotate', { token: second.body.key, body: { graceSeconds: -1 } });
    await checked('DELETE', `/v1/keys/${rotated.body.id}`, { token: ADMIN });
    await checked('DELETE', `/v1/keys/${rotated.body.id}`, { token: ADMIN });
    await checked('DELETE', `/v1/keys/${rotated.body.id}`, { token: key });
  });

  it('markets', async () => {
    await checked('GET', '/v1/markets', { token: key });
    await checked('GET', '/v1/markets?chainId=1', { token: key });
    await checked('GET', '/v1/markets?chainId=x', { token: key });
    await checked('GET', '/v1/markets');
  });

  it('channels: webhook, email with its confirmation, test send, list, delete', async () => {
    const webhook = await checked('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}openapi`, label: 'contract' } });
    webhookId = webhook.body.id;
    await control('/receiver/secret', { path: '/openapi', secret: webhook.body.secret });
    await checked('POST', '/v1/channels', { token: key, body: { type: 'sms', to: '1' } });
    await checked('POST', '/v1/channels', { token: key, body: { type: 'telegram', chatId: '424242' } });
    await checked('POST', `/v1/channels/${webhookId}/test`, { token: key });
    await checked('GET', '/v1/channels', { token: key });
    await checked('GET', '/v1/channels?limit=1', { token: key });
    await checked('GET', '/v1/channels?cursor=nope', { token: key });
    await checked('GET', `/v1/channels/${webhookId}`, { token: key });
    await checked('GET', '/v1/channels/ch_00000000000000000000', { token: key });
    await checked('GET', '/v1/channels', { token: 'mwk_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });

    const to = 'openapi-contract@example.com';
    const email = await checked('POST', '/v1/channels', { token: key, body: { type: 'email', to, label: 'inbox' } });
    const emailId = email.body.id as string;
    expect(email.body.confirmation.sent).toBe(true);
    await checked('POST', `/v1/channels/${emailId}/test`, { token: key });
    // A second code within the minute is refused (429 with retry-after); a minute later it is sent.
    const tooSoon = await checked('POST', `/v1/channels/${emailId}/confirm/resend`, { token: key });
    expect(tooSoon.status).toBe(429);
    await runInDurableObject(tenantStub(testEnv, tenantId), (instance) => {
      (instance as unknown as { ctx: DurableObjectState }).ctx.storage.sql.exec('UPDATE channels SET confirm_expires_at = confirm_expires_at - 61000 WHERE id = ?', emailId);
    });
    expect((await checked('POST', `/v1/channels/${emailId}/confirm/resend`, { token: key })).status).toBe(202);
    await checked('POST', `/v1/channels/${emailId}/confirm`, { token: key, body: { code: 'WRONG-CODE0' } });
    await checked('POST', `/v1/channels/${emailId}/confirm`, { token: key, body: {} });
    expect((await checked('POST', `/v1/channels/${emailId}/confirm`, { token: key, body: { code: await confirmationCodeFor(emailId, to) } })).status).toBe(200);
    await checked('POST', `/v1/channels/${emailId}/confirm`, { token: key, body: { code: 'ABCDE-FGHJK' } });
    await checked('POST', `/v1/channels/${emailId}/confirm/resend`, { token: key });
    await checked('POST', '/v1/channels/ch_00000000000000000000/confirm', { token: key, body: { code: 'ABCDE-FGHJK' } });
    await checked('DELETE', `/v1/channels/${emailId}`, { token: key });
    await checked('DELETE', `/v1/channels/${emailId}`, { token: key });
  });

  it('watches: create with a dry-run top-up policy, read after a poll and after an alert, patch, silence, list, alerts, delete', async () => {
    const market = (await control('/topup/market', {}, 'GET')) as { reserves: Record<string, { asset: string }> };
    // 10 WETH at $2000 against 10,000 USDC: health factor 1.65.
    const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '10000' });
    const body = {
      chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: 'contract', channels: [webhookId],
      topUp: { mode: 'supply', asset: market.reserves.WETH!.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '2' },
    };
    const created = await checked('POST', '/v1/watches', { token: key, body });
    watchId = created.body.id;
    await checked('POST', '/v1/watches', { token: key, body });
    await checked('POST', '/v1/watches', { token: key, body: { ...body, account: '0x1234' } });
    await checked('POST', '/v1/watches', { token: key, body: { ...body, chainId: 999 } });
    await pollShards();
    const read = await checked('GET', `/v1/watches/${watchId}`, { token: key });
    expect(read.body.position?.healthFactor).toBeTruthy();
    expect(read.body.topUpState).not.toBeNull();

    await control('/price', { symbol: 'WETH', price: '1300' }); // health factor 1.07: critical at once
    await pollShards();
    await tenantStub(testEnv, tenantId).deliverDue();
    const alerts = await checked('GET', `/v1/watches/${watchId}/alerts`, { token: key });
    expect(alerts.body.data.length).toBeGreaterThan(0);
    await checked('GET', `/v1/watches/${watchId}/alerts?limit=1&cursor=abc`, { token: key });
    await checked('GET', '/v1/watches/w_00000000000000000000/alerts', { token: key });
    await checked('GET', `/v1/watches/${watchId}`, { token: key });
    await checked('GET', '/v1/watches', { token: key });
    await checked('GET', '/v1/watches?limit=0', { token: key });
    await checked('GET', '/v1/deliveries?status=delivered', { token: key });
    await checked('GET', '/v1/deliveries?status=nope', { token: key });
    await checked('GET', '/v1/deliveries');

    await checked('PATCH', `/v1/watches/${watchId}`, { token: key, body: { label: 'renamed', thresholds: { warning: 1.6, marginCall: 1.3, critical: 1.15 } } });
    await checked('PATCH', `/v1/watches/${watchId}`, { token: key, body: {} });
    await checked('PATCH', `/v1/watches/${watchId}`, { token: key, body: { thresholds: { warning: 1.1, marginCall: 1.3 } } });
    await checked('PATCH', '/v1/watches/w_00000000000000000000', { token: key, body: { label: 'x' } });
    await checked('POST', `/v1/watches/${watchId}/silence`, { token: key, body: { until: new Date(Date.now() + 3_600_000).toISOString() } });
    await checked('POST', `/v1/watches/${watchId}/silence`, { token: key, body: { until: 'tomorrow' } });
    await checked('DELETE', `/v1/watches/${watchId}/silence`, { token: key });
    await checked('DELETE', `/v1/watches/${watchId}/silence`);
    await checked('DELETE', `/v1/watches/${watchId}`, { token: key });
    await checked('DELETE', `/v1/watches/${watchId}`, { token: key });
    await checked('GET', `/v1/watches/${watchId}`, { token: key });
  });

  it('auto-top-up: the tenant\'s grant, the owner\'s grant and wallet', async () => {
    await checked('GET', '/v1/topup/grant', { token: key });
    await checked('GET', '/v1/topup/grant');
    await checked('GET', '/v1/topup/signer', { token: ADMIN });
    await checked('GET', '/v1/topup/signer', { token: key });
    await checked('PUT', `/v1/admin/tenants/${tenantId}/topup`, { token: ADMIN, body: { enabled: true, maxUsdPerDay: '250.50' } });
    await checked('PUT', `/v1/admin/tenants/${tenantId}/topup`, { token: ADMIN, body: { enabled: 'yes' } });
    await checked('GET', `/v1/admin/tenants/${tenantId}/topup`, { token: ADMIN });
    await checked('GET', '/v1/admin/tenants/nope/topup', { token: ADMIN });
    await checked('GET', '/v1/admin/tenants/t_0000000000000000/topup', { token: ADMIN });
    await checked('GET', `/v1/admin/tenants/${tenantId}/topup`, { token: key });
  });

  it('Telegram: setup, link code, the webhook', async () => {
    const telegram = testEnv as unknown as TelegramEnv;
    // The registration test/workers/telegram.test.ts makes too, so the stand-in is left as it expects.
    await checked('POST', '/v1/admin/telegram/setup', { token: ADMIN, body: { url: 'https://marginwatch.test/telegram/webhook' } });
    await checked('POST', '/v1/admin/telegram/setup', { token: ADMIN, body: { url: 'not a url' } });
    await checked('POST', '/v1/admin/telegram/setup', { token: key, body: { url: 'https://marginwatch.test/telegram/webhook' } });
    const link = await checked('POST', '/v1/telegram/link', { token: key, body: { label: 'phone' } });
    await checked('POST', '/v1/telegram/link', { token: key, body: { label: 7 } });
    const built = (await getJson(`${telegram.TEST_TELEGRAM_CONTROL_URL}/updates`, { chatId: '7700000001', text: `/start ${link.body.code}` })) as { update: unknown };
    await checkedTelegramUpdate(built.update, telegram.TELEGRAM_WEBHOOK_SECRET);
    await checkedTelegramUpdate({ message: {} }, telegram.TELEGRAM_WEBHOOK_SECRET);
    await checkedTelegramUpdate({ update_id: 1 }, undefined);
    const channels = await checked('GET', '/v1/channels', { token: key });
    expect(channels.body.data.some((channel: { type: string; chatId?: string }) => channel.type === 'telegram' && channel.chatId === '7700000001')).toBe(true);
  });

  it('the reference itself, and an error the router answers (405) in the error shape', async () => {
    await checked('GET', '/openapi.json');
    await checked('GET', '/docs');
    const refused = await api('PUT', '/v1/watches', { token: key, body: {} });
    expect(refused.status).toBe(405);
    expect(contract.schema('Error').validate(refused.body).valid).toBe(true);
  });

  it('every documented operation was seen answering a success, and every one that takes credentials an error', () => {
    const seen = (test: (entry: RecordedResponse) => boolean) => new Set(recorded.filter(test).map((entry) => { const found = contract.find(entry.method, entry.path)!; return `${found.method} ${found.template}`; }));
    const successes = seen((entry) => entry.status < 300);
    const errors = seen((entry) => entry.status >= 400);
    const all = contract.operations.map((operation) => `${operation.method} ${operation.template}`);
    expect(all.filter((operation) => !successes.has(operation))).toEqual([]);
    const guarded = contract.operations.filter((operation) => operation.operation.security).map((operation) => `${operation.method} ${operation.template}`);
    expect(guarded.filter((operation) => !errors.has(operation))).toEqual([]);
  });
});

describe('webhook bodies a real receiver got conform to the document\'s webhooks', () => {
  const PATH = '/openapi-webhooks';
  type Received = { id: string; verified: boolean; path: string; status: number | null; body: Json };
  const received = async (): Promise<Received[]> => ((await control('/receiver/events', {}, 'GET')) as Received[]).filter((event) => event.path === PATH && event.status === 200);

  beforeAll(async () => {
    // WBTC collateral: the WETH moves of the other tests here do not touch this position.
    await control('/price', { symbol: 'WBTC', price: '60000' });
  });
  afterAll(async () => {
    await control('/price', { symbol: 'WBTC', price: '60000' });
  });

  it('alert.triggered, alert.escalated, alert.resolved, a dry-run topup.skipped and channel.test, each signed and valid against its webhook\'s schema', async () => {
    const market = await loadMarket();
    // The executor holds WBTC, so the dry run shows the transaction it would send (not `no_balance`).
    await control('/topup/mint', { symbol: 'WBTC', to: SIGNER, amount: '10' });
    const key = await newTenant('openapi-webhooks');
    await grantTopUps(key, '1000000');
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${PATH.slice(1)}`, label: 'webhook bodies' } });
    await control('/receiver/secret', { path: PATH, secret: channel.body.secret });
    // 1 WBTC at $60,000 (liquidation threshold 78%) against 30,000 USDC: health factor 1.56.
    const { account } = await control('/open', { collateral: 'WBTC', collateralAmount: '1', debt: 'USDC', debtAmount: '30000' });
    const watch = await api('POST', '/v1/watches', {
      token: key,
      body: {
        chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: 'webhook bodies', channels: [channel.body.id],
        thresholds: { warning: 1.5, marginCall: 1.25, critical: 1.1 },
        topUp: { mode: 'supply', asset: market.reserves.WBTC.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '2', dryRun: true },
      },
    });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    await tick();

    await control('/price', { symbol: 'WBTC', price: '55000' }); // health factor 1.43: warning after two reads
    await tick();
    await tick();
    await tenant.deliverDue();
    await control('/price', { symbol: 'WBTC', price: '45000' }); // 1.17: margin call, and below the top-up trigger (1.2)
    await tick();
    await tick();
    await tick();
    await tenant.deliverDue();
    await control('/price', { symbol: 'WBTC', price: '60000' }); // 1.56: resolved
    await tick();
    await tick();
    await tick();
    await tenant.deliverDue();
    expect((await api('POST', `/v1/channels/${channel.body.id}/test`, { token: key })).status).toBe(202);

    const bodies = await received();
    const types = bodies.map((event) => event.body.type as string);
    expect(types).toEqual(expect.arrayContaining(['alert.triggered', 'alert.escalated', 'alert.resolved', 'topup.skipped', 'channel.test']));
    expect(bodies.find((event) => event.body.type === 'topup.skipped')!.body.topUp).toMatchObject({ dryRun: true, reason: 'dry_run', transaction: { function: 'supply' } });
    expect(bodies.find((event) => event.body.type === 'alert.escalated')!.body).toMatchObject({ level: 'margin_call', recommendation: { action: expect.any(String) } });
    for (const event of bodies) {
      expect(event.verified, `${event.body.type} signature`).toBe(true);
      expect(contract.webhookProblems(event.body), JSON.stringify(event.body)).toEqual([]);
    }
  });

  it('monitor.degraded and monitor.recovered (the account\'s reads revert for five minutes, then work again), signed and valid against their webhook\'s schema', async () => {
    const watched = await watchedPosition('/openapi-monitor');
    await control('/monitor/mine');
    await tickAaveShard();
    const restore = await swapShardEnv({ RPC_URLS: JSON.stringify({ '31337': [proxy(`revert-for/${watched.account}`)] }) });
    try {
      await control('/monitor/mine');
      await tickAaveShard();
      await ageMonitor(watched.watchId, 5 * 60_000 + 1000);
      await tickAaveShard();
      await watched.tenant.deliverDue();
    } finally {
      await restore();
    }
    await control('/monitor/mine');
    await tickAaveShard();
    await watched.tenant.deliverDue();

    const events = (await receivedAt('/openapi-monitor')).filter((event) => event.status === 200);
    expect(events.map((event) => event.body.type)).toEqual(['monitor.degraded', 'monitor.recovered']);
    for (const event of events) {
      expect(event.verified).toBe(true);
      expect(contract.webhookProblems(event.body), JSON.stringify(event.body)).toEqual([]);
    }
  });

  it('a body that breaks its webhook\'s schema is named, and a type no webhook takes is refused', () => {
    const body = { id: 'evt_1', type: 'channel.test', createdAt: new Date().toISOString(), channel: { id: 'ch_1', label: 'x' }, message: 'hi' };
    expect(contract.webhookProblems(body)).toEqual([]);
    expect(contract.webhookProblems({ ...body, extra: 1 }).length).toBeGreaterThan(0);
    expect(contract.webhookProblems({ ...body, type: 'alert.unknown' })).toEqual(['webhook alert.unknown: no entry of the document\'s webhooks takes this type']);
  });
});

describe(`requests generated from the document's schemas (seed ${SEED})`, () => {
  const SAMPLES_PER_OPERATION = 12;
  let key: string;
  const real: Record<string, string[]> = { id: [], tenantId: [] };

  beforeAll(async () => {
    key = await newTenant('openapi-generated');
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: 'https://hooks.example.com/generated' } });
    const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '5', debt: 'USDC', debtAmount: '1000' });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account } });
    real.id = [channel.body.id, watch.body.id];
    real.tenantId = [tenantIdOf(key)];
  });

  afterAll(async () => {
    // Generated setups register odd webhook URLs with the Telegram stand-in; put the real one back.
    await api('POST', '/v1/admin/telegram/setup', { token: ADMIN, body: { url: 'https://marginwatch.test/telegram/webhook' } });
  });

  const generated = contract.operations.filter((operation) => operation.operation.requestBody || operation.operation.parameters);
  it.each(generated.map((operation) => [`${operation.method.toUpperCase()} ${operation.template}`, operation] as const))('%s: no 5xx, and the answer conforms', async (_name, operation) => {
    const components = document.components.schemas as Record<string, Json>;
    const parameters = (operation.operation.parameters ?? []) as Json[];
    const parameter = (where: string): fc.Arbitrary<Json> => {
      const entries = parameters.filter((entry) => entry.in === where);
      const members: Record<string, fc.Arbitrary<unknown>> = {};
      for (const entry of entries) {
        const fromSchema = arbitraryOf(entry.schema, components);
        // Path ids: half the time one that exists, so routes get past their 404.
        members[entry.name] = where === 'path' && real[entry.name]?.length ? fc.oneof(fromSchema, fc.constantFrom(...real[entry.name]!)) : fromSchema;
      }
      const requiredKeys: string[] = entries.filter((entry) => entry.required).map((entry) => entry.name);
      return fc.record(members, { requiredKeys }) as fc.Arbitrary<Json>;
    };
    const bodySchema = operation.operation.requestBody?.content['application/json'].schema as Json | undefined;
    const body = bodySchema ? fc.option(arbitraryOf(bodySchema, components), { nil: undefined, freq: operation.operation.requestBody.required ? 100 : 4 }) : fc.constant(undefined);
    const samples = fc.sample(fc.record({ path: parameter('path'), query: parameter('query'), body }), { numRuns: SAMPLES_PER_OPERATION, seed: SEED });
    const security = (operation.operation.security?.[0] ? Object.keys(operation.operation.security[0])[0] : undefined) as string | undefined;
    const telegram = testEnv as unknown as TelegramEnv;
    for (const sample of samples) {
      const path = operation.template.replace(/\{([^}]+)\}/g, (_match, name: string) => encodeURIComponent(String((sample.path as Json)[name])));
      const query = new URLSearchParams(Object.entries(sample.query as Json).map(([name, value]) => [name, String(value)])).toString();
      const url = query ? `${path}?${query}` : path;
      let response: ApiResponse;
      if (security === 'telegramSecret') {
        response = await checkedTelegramUpdate(sample.body, telegram.TELEGRAM_WEBHOOK_SECRET);
      } else {
        // Rotation retires the key it is called with: each generated rotation gets a key of its own.
        const token = security === 'adminToken' ? ADMIN : operation.template === '/v1/keys/rotate' ? (await api('POST', '/v1/keys', { token: ADMIN, body: { tenantId: tenantIdOf(key) } })).body.key : key;
        response = await api(operation.method.toUpperCase(), url, { token, ...(sample.body === undefined ? {} : { body: sample.body }) });
        expect(contract.problems(record(operation.method.toUpperCase(), url, response)), JSON.stringify(sample)).toEqual([]);
      }
      expect(response.status, `${operation.method.toUpperCase()} ${url} ${JSON.stringify(sample.body)} → ${JSON.stringify(response.body)}`).toBeLessThan(500);
    }
  });
});
