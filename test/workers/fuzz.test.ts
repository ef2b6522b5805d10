import { tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { exports } from 'cloudflare:workers';

import { ADMIN, api, control, newTenant, tenantIdOf, testEnv } from './helpers';

/**
 * Seeded property-based fuzzing of the whole HTTP surface: thousands of requests with
 * random methods, paths (with other tenants' ids), headers and bodies (huge, hostile,
 * wrongly typed, unicode), sent by tenant B, by nobody, or with forged keys. Properties:
 * never a 5xx; every 4xx has the error shape; B never sees an id of tenant A it did not
 * send itself; A's watches, channels, events, deliveries and keys are unchanged.
 * The seed is fixed; fast-check prints it (and the failing request) on failure.
 */

const SEED = 20_261_130;
const RUNS = 2_100;

type Tenant = { keys: string[]; tenantId: string; watchId: string; channelId: string; keyIds: string[] };

async function setUpTenant(label: string, receiverPath: string): Promise<Tenant> {
  const key = await newTenant(label);
  const tenantId = tenantIdOf(key);
  // More keys for the same tenant: the fuzzer's requests spread over them, within the per-key rate limit.
  const keys = [key];
  for (let index = 0; index < 2; index++) keys.push((await api('POST', '/v1/keys', { token: ADMIN, body: { tenantId, label: `${label}-${index}` } })).body.key);
  const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${receiverPath}`, label: `${label} hook` } });
  await control('/receiver/secret', { path: `/${receiverPath}`, secret: channel.body.secret });
  const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '1000' });
  const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: `${label} vault`, channels: [channel.body.id] } });
  expect(watch.status, JSON.stringify(watch.body)).toBe(201);
  // One event with a delivery, so A has history to protect.
  const tested = await api('POST', `/v1/channels/${channel.body.id}/test`, { token: key });
  expect(tested.body.delivery?.status, JSON.stringify(tested.body)).toBe('delivered');
  const listed = await api('GET', `/v1/keys?tenantId=${tenantId}`, { token: ADMIN });
  return { keys, tenantId, watchId: watch.body.id, channelId: channel.body.id, keyIds: listed.body.data.map((entry: { id: string }) => entry.id) };
}

/** Everything of a tenant the API could change, read from its object directly (no rate limit, no API in between). */
async function snapshot(tenant: Tenant): Promise<string> {
  const stub = tenantStub(testEnv, tenant.tenantId);
  const watches = await stub.listWatches();
  const events = await Promise.all(watches.map((watch) => stub.listEvents(watch.id, 200)));
  const deliveries = await Promise.all((['pending', 'delivered', 'dead'] as const).map(async (status) => (await stub.listDeliveries(status, 200)).data));
  return JSON.stringify({ watches, channels: (await stub.listChannelsPage(1000, null)).data, events, deliveries, keys: await stub.listKeys(), grant: await stub.topUpGrant() });
}

type FuzzRequest = { method: string; path: string; headers: Record<string, string>; body: string | undefined };

function arbitraries(a: Tenant, b: Tenant) {
  const hostile = fc.constantFrom(
    '__proto__', 'constructor', '../../etc/passwd', '%00', '\u0000', '\u202e', '🦄'.repeat(50), '${7*7}', '<script>', "' OR 1=1 --", 'NaN', '-0', '1e309',
    'ch_' + '0'.repeat(20), 'w_' + 'f'.repeat(20), 't_' + '0'.repeat(16), 'x'.repeat(3000), '%2e%2e%2f', 'null',
  );
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), hostile);
  const foreignId = fc.constantFrom(a.watchId, a.channelId, a.tenantId, ...a.keyIds);
  const ownId = fc.constantFrom(b.watchId, b.channelId, b.tenantId, ...b.keyIds);
  const id = fc.oneof({ weight: 3, arbitrary: foreignId }, { weight: 2, arbitrary: ownId }, { weight: 2, arbitrary: text.map((value) => encodeURIComponent(value)) });
  const path = fc.oneof(
    fc.constantFrom('/health', '/telegram/webhook', '/v1/keys', '/v1/keys/rotate', '/v1/channels', '/v1/watches', '/v1/deliveries', '/v1/markets', '/v1/topup/grant', '/v1/topup/signer', '/v1/telegram/link', '/v1/admin/telegram/setup', '/v1', '/', '/v2/x'),
    id.map((value) => `/v1/keys/${value}`),
    id.map((value) => `/v1/channels/${value}`),
    id.map((value) => `/v1/channels/${value}/test`),
    id.map((value) => `/v1/channels/${value}/confirm`),
    id.map((value) => `/v1/channels/${value}/confirm/resend`),
    id.map((value) => `/v1/watches/${value}`),
    id.map((value) => `/v1/watches/${value}/alerts`),
    id.map((value) => `/v1/watches/${value}/silence`),
    id.map((value) => `/v1/admin/tenants/${value}/topup`),
    fc.tuple(fc.constantFrom('/v1/watches/', '/v1/channels/', '/v1/'), text).map(([prefix, rest]) => prefix + encodeURIComponent(rest)),
  );
  const query = fc.oneof(
    { weight: 4, arbitrary: fc.constant('') },
    fc.constantFrom('?limit=0', '?limit=1000000', '?limit=-1', '?limit=abc', '?cursor=9999999999999999999999', '?status=dead', '?status=nope', '?chainId=1', '?chainId=x', `?tenantId=${a.tenantId}`, '?limit=1&limit=2'),
    fc.tuple(text, text).map(([key, value]) => `?${encodeURIComponent(key)}=${encodeURIComponent(value)}`),
  );
  const json = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({ type: fc.constantFrom('webhook', 'telegram', 'email', 'sms'), url: fc.oneof(text, fc.constant('https://hooks.example.com/a'), fc.constant('https://[64:ff9b::a00:1]/')), chatId: fc.oneof(text, fc.constant('123456789')), to: fc.oneof(text, fc.constant('x@example.com')), label: text }, { requiredKeys: ['type'] }),
    fc.record({ chainId: fc.oneof(fc.integer(), fc.constant(31337), text), protocol: fc.oneof(fc.constant('aave-v3'), text), market: fc.oneof(fc.constant(testEnv.TEST_MARKET), text), account: fc.oneof(fc.constant('0x1111111111111111111111111111111111111111'), text), channels: fc.array(fc.oneof(foreignId, ownId, text), { maxLength: 3 }), label: text }, { requiredKeys: [] }),
    fc.record({ label: text, channels: fc.array(fc.oneof(foreignId, ownId), { maxLength: 3 }), thresholds: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }),
    fc.record({ until: fc.oneof(fc.date({ noInvalidDate: true }).map((date) => date.toISOString()), text), code: text, tenantId: fc.oneof(foreignId, text), graceSeconds: fc.oneof(fc.integer(), text), enabled: fc.boolean(), maxUsdPerDay: text }, { requiredKeys: [] }),
  );
  const body = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: json.map((value) => JSON.stringify(value)) },
    { weight: 2, arbitrary: text },
    fc.constantFrom('{', '[]', 'null', '{"__proto__":{"admin":true}}', '\uFEFF{}', '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}'),
    fc.nat({ max: 3 }).map((n) => JSON.stringify({ label: '€'.repeat(22_000 + n * 10_000) })),
  );
  const forged = fc.oneof(
    fc.constant(`mwk_${a.tenantId.slice(2)}_${'A'.repeat(43)}`),
    fc.constant(`${a.keys[0]!.slice(0, -4)}AAAA`),
    fc.constant(ADMIN.slice(0, -1)),
    text,
  );
  const authorization = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...b.keys).map((key) => `Bearer ${key}`) },
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: forged.map((token) => `Bearer ${token}`) },
    { weight: 1, arbitrary: text },
  );
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    fc.constantFrom(undefined, 'application/json; charset=utf-8', 'text/plain; charset=application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json;;;', 'APPLICATION/JSON', 'x'.repeat(500)),
  );
  const request = fc
    .record({
      method: fc.oneof({ weight: 5, arbitrary: fc.constant('GET') }, { weight: 6, arbitrary: fc.constant('POST') }, { weight: 2, arbitrary: fc.constantFrom('PATCH', 'DELETE') }, { weight: 1, arbitrary: fc.constantFrom('PUT', 'OPTIONS', 'HEAD') }),
      path,
      query,
      authorization,
      contentType,
      body,
      clientIp: fc.ipV4(),
      extra: fc.constantFrom<Record<string, string>>({}, { 'x-forwarded-for': '127.0.0.1' }, { 'content-length': '1' }, { 'x-telegram-bot-api-secret-token': 'guess-guess-guess-guess' }, { accept: '*/*'.repeat(200) }),
    })
    .map(({ method, path: route, query: search, authorization: auth, contentType: type, body: payload, clientIp, extra }): FuzzRequest => {
      const headers: Record<string, string> = { 'cf-connecting-ip': clientIp, ...extra };
      // HTTP carries no control characters in header values (the client refuses them); non-ASCII becomes bytes the server sees as such.
      const headerValue = (value: string) => value.replace(/[^\x20-\x7e]/g, '?');
      // B rotating its own keys would only lock the fuzzer out: rotation is exercised in abuse.test.ts.
      if (auth !== undefined && !(route === '/v1/keys/rotate' && b.keys.some((key) => auth.includes(key)))) headers.authorization = headerValue(auth);
      if (type !== undefined) headers['content-type'] = type;
      const withBody = method !== 'GET' && method !== 'HEAD' && payload !== undefined;
      if (!withBody) delete headers['content-length'];
      return { method, path: route + search, headers, body: withBody ? payload : undefined };
    });
  return request;
}

describe(`seeded fuzz over every route (seed ${SEED})`, () => {
  let a: Tenant;
  let b: Tenant;
  beforeAll(async () => {
    await control('/price', { symbol: 'WETH', price: '2000' });
    a = await setUpTenant('fuzz-a', 'fuzz-a');
    b = await setUpTenant('fuzz-b', 'fuzz-b');
  });

  it(`${RUNS} random requests: no 5xx, errors have the error shape, tenant B neither sees nor changes tenant A`, async () => {
    const before = await snapshot(a);
    const aSecrets = [a.watchId, a.channelId, a.tenantId, ...a.keyIds, ...a.keys, ...a.keys.map((key) => key.slice(21))];
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(arbitraries(a, b), async (request) => {
        const response = await (exports as unknown as { default: Fetcher }).default.fetch(`http://marginwatch.test${request.path}`, { method: request.method, headers: request.headers, body: request.body });
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status, text.slice(0, 300)).toBeLessThan(500);
        if (response.status >= 400 && request.method !== 'HEAD') {
          const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
          expect(typeof parsed.error?.code, text.slice(0, 300)).toBe('string');
          expect(typeof parsed.error?.message, text.slice(0, 300)).toBe('string');
        }
        // An id of A's may come back only when B's own request carried it (e.g. "watch w_… not found").
        const sent = `${request.path} ${safeDecode(request.path)} ${request.body ?? ''} ${JSON.stringify(request.headers)}`;
        for (const secret of aSecrets) if (text.includes(secret)) expect(sent, `answer to ${request.method} ${request.path} contains ${secret}`).toContain(secret);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(await snapshot(a)).toBe(before);
    // The run reached the routes, not only the front door.
    const reached = [...statuses.entries()].filter(([status]) => status !== 401 && status !== 429).reduce((sum, [, count]) => sum + count, 0);
    expect(reached, JSON.stringify(Object.fromEntries(statuses))).toBeGreaterThan(RUNS / 3);
    console.log('fuzz statuses', JSON.stringify(Object.fromEntries(statuses)));
  }, 180_000);
});

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
