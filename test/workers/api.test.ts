import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, api, control, newTenant, testEnv } from './helpers';

const ACCOUNT = '0x1111111111111111111111111111111111111111';

describe('auth', () => {
  it('refuses /v1 without a token, with a malformed one, and with an unknown key', async () => {
    expect((await api('GET', '/v1/watches')).status).toBe(401);
    expect((await api('GET', '/v1/watches', { token: 'nope' })).body.error.code).toBe('unauthorized');
    const forged = 'mwk_0123456789abcdef_' + 'A'.repeat(43);
    expect((await api('GET', '/v1/watches', { token: forged })).status).toBe(401);
  });

  it('issues tenant keys only to the admin token', async () => {
    expect((await api('POST', '/v1/keys', { body: {} })).status).toBe(401);
    const tenantKey = await newTenant();
    expect((await api('POST', '/v1/keys', { token: tenantKey, body: {} })).status).toBe(401);
    const issued = await api('POST', '/v1/keys', { token: ADMIN, body: { label: 'ops' } });
    expect(issued.status).toBe(201);
    expect(issued.body.key).toMatch(/^mwk_[0-9a-f]{16}_/);
    expect(issued.body.tenantId).toMatch(/^t_[0-9a-f]{16}$/);
    // A second key for the same tenant sees the same objects.
    const second = await api('POST', '/v1/keys', { token: ADMIN, body: { tenantId: issued.body.tenantId } });
    expect(second.status).toBe(201);
    const created = await api('POST', '/v1/channels', { token: issued.body.key, body: { type: 'webhook', url: 'https://hooks.example.com/a' } });
    expect((await api('GET', `/v1/channels/${created.body.id}`, { token: second.body.key })).status).toBe(200);
  });

  it('validates the key request', async () => {
    const response = await api('POST', '/v1/keys', { token: ADMIN, body: { tenantId: 'nope' } });
    expect(response.status).toBe(400);
    expect(response.body.error.issues[0].path).toBe('tenantId');
  });
});

describe('routing errors', () => {
  it('404 for unknown routes, 405 with Allow for a wrong method', async () => {
    const key = await newTenant();
    const missing = await api('GET', '/v2/nothing', { token: key });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const wrong = await api('PUT', '/v1/watches', { token: key, body: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toContain('POST');
    expect(wrong.body.error.code).toBe('method_not_allowed');
  });

  it('refuses bodies that are not JSON', async () => {
    const key = await newTenant();
    const notJson = await api('POST', '/v1/channels', { token: key, rawBody: '{"type":' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_json');
    const wrongType = await api('POST', '/v1/channels', { token: key, rawBody: 'type=webhook', contentType: 'application/x-www-form-urlencoded' });
    expect(wrongType.status).toBe(415);
  });
});

describe('channels', () => {
  let key: string;
  beforeAll(async () => {
    key = await newTenant();
  });

  it('creates a webhook channel and shows its secret once', async () => {
    const created = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: 'https://hooks.example.com/x', label: 'ops' } });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^ch_[0-9a-f]{20}$/);
    expect(created.body.secret).toMatch(/^whsec_/);
    const listed = await api('GET', '/v1/channels', { token: key });
    expect(listed.body.data.map((c: { id: string }) => c.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);
    const one = await api('GET', `/v1/channels/${created.body.id}`, { token: key });
    expect(one.body).toMatchObject({ id: created.body.id, type: 'webhook', label: 'ops', disabledAt: null });
    expect(one.body.secret).toBeUndefined();
  });

  it.each([
    [{ type: 'sms', url: 'https://x.example' }, 'type'],
    [{ type: 'webhook' }, 'url'],
    [{ type: 'webhook', url: 'ftp://x.example/hook' }, 'url'],
    [{ type: 'webhook', url: 'not a url' }, 'url'],
    [{ type: 'webhook', url: 'https://x.example', label: 'x'.repeat(101) }, 'label'],
    [{ type: 'webhook', url: 'https://x.example', extra: 1 }, '(body)'],
  ])('refuses %j naming %s', async (body, path) => {
    const response = await api('POST', '/v1/channels', { token: key, body });
    expect(response.status).toBe(400);
    expect(response.body.error.issues.map((issue: { path: string }) => issue.path)).toContain(path);
    expect(response.body.error.message).toBeTruthy();
  });

  it('deletes, and 404s afterwards', async () => {
    const created = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: 'https://hooks.example.com/del' } });
    expect((await api('DELETE', `/v1/channels/${created.body.id}`, { token: key })).status).toBe(204);
    expect((await api('GET', `/v1/channels/${created.body.id}`, { token: key })).status).toBe(404);
    expect((await api('DELETE', `/v1/channels/${created.body.id}`, { token: key })).status).toBe(404);
  });

  it('sends a signed channel.test event to a real receiver', async () => {
    const created = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}channel-test` } });
    await control('/receiver/secret', { path: '/channel-test', secret: created.body.secret });
    const response = await api('POST', `/v1/channels/${created.body.id}/test`, { token: key });
    expect(response.status).toBe(202);
    expect(response.body.delivery.status).toBe('delivered');
    const events = (await control('/receiver/events', {}, 'GET')) as Array<{ id: string; verified: boolean; body: { type: string } }>;
    const received = events.filter((event) => event.id === response.body.event.id);
    expect(received).toHaveLength(1);
    expect(received[0]!.verified).toBe(true);
    expect(received[0]!.body.type).toBe('channel.test');
  });
});

describe('watches', () => {
  let key: string;
  let channelId: string;
  beforeAll(async () => {
    key = await newTenant();
    channelId = (await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: 'https://hooks.example.com/w' } })).body.id;
  });

  const valid = () => ({ chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account: ACCOUNT, label: 'main', channels: [channelId] });

  it('creates, reads, patches, silences, lists alerts and deletes a watch', async () => {
    const created = await api('POST', '/v1/watches', { token: key, body: valid() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ chainId: 31337, protocol: 'aave-v3', account: ACCOUNT, thresholds: { warning: 1.5, marginCall: 1.25, critical: 1.1 }, channels: [channelId] });
    expect(created.body.id).toMatch(/^w_/);
    expect(created.body.shard).toBeUndefined();
    const id = created.body.id as string;

    expect((await api('POST', '/v1/watches', { token: key, body: valid() })).status).toBe(409);

    const read = await api('GET', `/v1/watches/${id}`, { token: key });
    expect(read.status).toBe(200);
    expect(read.body).toHaveProperty('level');
    expect(read.body).toHaveProperty('position');

    const patched = await api('PATCH', `/v1/watches/${id}`, { token: key, body: { label: 'renamed', thresholds: { warning: 2, marginCall: 1.5, critical: 1.2 } } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ label: 'renamed', thresholds: { warning: 2, marginCall: 1.5, critical: 1.2 } });

    const until = new Date(Date.now() + 3_600_000).toISOString();
    const silenced = await api('POST', `/v1/watches/${id}/silence`, { token: key, body: { until } });
    expect(silenced.status).toBe(200);
    expect(silenced.body.silencedUntil).toBe(until);
    expect((await api('DELETE', `/v1/watches/${id}/silence`, { token: key })).body.silencedUntil).toBeNull();

    const alerts = await api('GET', `/v1/watches/${id}/alerts?limit=10`, { token: key });
    expect(alerts.status).toBe(200);
    expect(alerts.body).toEqual({ data: [], nextCursor: null });
    expect((await api('GET', `/v1/watches/${id}/alerts?limit=0`, { token: key })).status).toBe(400);

    const listed = await api('GET', '/v1/watches', { token: key });
    expect(listed.body.data.map((w: { id: string }) => w.id)).toContain(id);

    expect((await api('DELETE', `/v1/watches/${id}`, { token: key })).status).toBe(204);
    expect((await api('GET', `/v1/watches/${id}`, { token: key })).status).toBe(404);
  });

  it.each([
    [{ chainId: 999 }, 'chainId', 'unknown_chain'],
    [{ chainId: '31337' }, 'chainId', 'validation_failed'],
    [{ protocol: 'compound' }, 'protocol', 'validation_failed'],
    [{ market: '0x123' }, 'market', 'validation_failed'],
    [{ account: 'alice' }, 'account', 'validation_failed'],
    [{ account: undefined }, 'account', 'validation_failed'],
    [{ thresholds: { warning: 1.2, marginCall: 1.25, critical: 1.1 } }, 'thresholds.warning', 'validation_failed'],
    [{ thresholds: { warning: 1.5, marginCall: 1.1, critical: 1.1 } }, 'thresholds.marginCall', 'validation_failed'],
    [{ thresholds: { warning: 1.5, marginCall: 1.25, critical: 0.9 } }, 'thresholds.critical', 'validation_failed'],
    [{ thresholds: { warning: '1.5' } }, 'thresholds.warning', 'validation_failed'],
    [{ channels: ['ch_00000000000000000000'] }, 'channels.0', 'validation_failed'],
    [{ channels: 'ch_x' }, 'channels', 'validation_failed'],
    [{ market: '0x000000000000000000000000000000000000dEaD' }, 'market', 'invalid_market'],
    [{ label: 5 }, 'label', 'validation_failed'],
  ])('refuses %j at %s (%s)', async (override, path, code) => {
    const body = { ...valid(), account: '0x2222222222222222222222222222222222222222', ...override };
    const response = await api('POST', '/v1/watches', { token: key, body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.issues.map((issue: { path: string }) => issue.path)).toContain(path);
  });

  it('refuses bad patches and silences', async () => {
    const created = await api('POST', '/v1/watches', { token: key, body: { ...valid(), account: '0x3333333333333333333333333333333333333333' } });
    const id = created.body.id as string;
    expect((await api('PATCH', `/v1/watches/${id}`, { token: key, body: {} })).status).toBe(400);
    expect((await api('PATCH', `/v1/watches/${id}`, { token: key, body: { thresholds: { warning: 1 } } })).body.error.issues[0].path).toBe('thresholds.warning');
    expect((await api('POST', `/v1/watches/${id}/silence`, { token: key, body: { until: 'tomorrow' } })).body.error.issues[0].path).toBe('until');
    expect((await api('PATCH', '/v1/watches/w_nope', { token: key, body: { label: 'x' } })).status).toBe(404);
  });
});

describe('tenant isolation', () => {
  it("another tenant's channels, watches and alerts are 404", async () => {
    const alice = await newTenant('alice');
    const bob = await newTenant('bob');
    const channel = (await api('POST', '/v1/channels', { token: alice, body: { type: 'webhook', url: 'https://hooks.example.com/alice' } })).body.id;
    const watch = (await api('POST', '/v1/watches', { token: alice, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account: ACCOUNT, channels: [channel] } })).body.id;
    expect((await api('GET', `/v1/channels/${channel}`, { token: bob })).status).toBe(404);
    expect((await api('POST', `/v1/channels/${channel}/test`, { token: bob })).status).toBe(404);
    expect((await api('DELETE', `/v1/channels/${channel}`, { token: bob })).status).toBe(404);
    expect((await api('GET', `/v1/watches/${watch}`, { token: bob })).status).toBe(404);
    expect((await api('PATCH', `/v1/watches/${watch}`, { token: bob, body: { label: 'x' } })).status).toBe(404);
    expect((await api('DELETE', `/v1/watches/${watch}`, { token: bob })).status).toBe(404);
    expect((await api('GET', `/v1/watches/${watch}/alerts`, { token: bob })).status).toBe(404);
    // Bob cannot attach Alice's channel to his own watch either.
    const stolen = await api('POST', '/v1/watches', { token: bob, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account: ACCOUNT, channels: [channel] } });
    expect(stolen.status).toBe(400);
    expect((await api('GET', '/v1/watches', { token: bob })).body.data).toEqual([]);
    expect((await api('GET', '/v1/channels', { token: bob })).body.data).toEqual([]);
  });
});

describe('GET /v1/markets', () => {
  it('lists the built-in markets, filtered by chain, for a tenant key; a watch naming one resolves before the chain check', async () => {
    expect((await api('GET', '/v1/markets')).status).toBe(401);
    const key = await newTenant('markets');
    const all = await api('GET', '/v1/markets', { token: key });
    expect(all.status).toBe(200);
    expect(new Set(all.body.data.map((preset: { protocol: string }) => preset.protocol))).toEqual(new Set(['aave-v3', 'spark', 'compound-v3', 'morpho-blue', 'maker', 'liquity-v2', 'euler-v2', 'fluid']));
    expect(all.body.data.find((preset: { key: string }) => preset.key === 'liquity-v2:ethereum:reth')).toEqual({ key: 'liquity-v2:ethereum:reth', chainId: 1, protocol: 'liquity-v2', name: 'Liquity v2 rETH branch', market: '0xb2B2ABEb5C357a234363FF5D180912D319e3e19e', protocolAddress: null });
    const base = await api('GET', '/v1/markets?chainId=8453', { token: key });
    expect(base.body.data.length).toBeGreaterThan(0);
    expect(base.body.data.every((preset: { chainId: number }) => preset.chainId === 8453)).toBe(true);
    expect(base.body.data.find((preset: { key: string }) => preset.key === 'morpho-blue:base:weth-usdc-86')).toMatchObject({ loan: 'USDC', collateral: 'WETH', lltv: '0.86' });
    expect(base.body.data.filter((preset: { protocol: string }) => preset.protocol === 'euler-v2' || preset.protocol === 'fluid').map((preset: { key: string }) => preset.key)).toEqual(['euler-v2:base:usdc', 'euler-v2:base:weth', 'fluid:base:eth-usdc', 'fluid:base:wsteth-eth', 'fluid:base:wsteth-usdc']);
    const bad = await api('GET', '/v1/markets?chainId=ethereum', { token: key });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe('chainId');
    // Chain 1 is not configured here: the preset resolves, then the chain is refused by name.
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 1, protocol: 'compound-v3', market: 'compound-v3:ethereum:usdc', account: ACCOUNT } });
    expect(watch.body.error).toMatchObject({ code: 'unknown_chain' });
    const mismatch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'compound-v3', market: 'compound-v3:ethereum:usdc', account: ACCOUNT } });
    expect(mismatch.body.error.issues[0].path).toBe('market');
  });
});
