import { tenantStub } from '../../src/durable/stubs';
import { describe, expect, it } from 'vitest';
import { createExecutionContext, listDurableObjectIds, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';

import { getAddress } from 'viem';
import { createApp } from '../../src/api/app';
import { ADMIN, api, newTenant, testEnv, tenantIdOf } from './helpers';

const ACCOUNT = '0x1111111111111111111111111111111111111111';

function randomHex(length: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(length / 2)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function randomBase64Url(bytes: number): string {
  let binary = '';
  for (const byte of crypto.getRandomValues(new Uint8Array(bytes))) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function tenantObjectExists(tenantId: string): Promise<boolean> {
  const wanted = testEnv.TENANT.idFromName(tenantId);
  return (await listDurableObjectIds(testEnv.TENANT)).some((id) => id.equals(wanted));
}

describe('forged keys cost nothing', () => {
  it('a well-formed key this deployment did not issue gets 401 and no tenant object is created', async () => {
    const tenantId = `t_${randomHex(16)}`;
    const forged = `mwk_${tenantId.slice(2)}_${randomBase64Url(32)}`;
    for (const path of ['/v1/watches', '/v1/channels', '/v1/deliveries', '/v1/telegram/link', '/v1/topup/grant']) {
      const response = await api(path === '/v1/telegram/link' ? 'POST' : 'GET', path, { token: forged });
      expect(response.status, path).toBe(401);
      expect(response.body.error.code).toBe('unauthorized');
    }
    expect(await tenantObjectExists(tenantId)).toBe(false);
  });

  it('a genuine key with its tag bytes changed is refused before its tenant is asked', async () => {
    const key = await newTenant('tag-check');
    const tenantId = tenantIdOf(key);
    const flipped = key.slice(0, -2) + (key.slice(-2) === 'AA' ? 'AB' : 'AA');
    expect((await api('GET', '/v1/watches', { token: flipped })).status).toBe(401);
    // Another tenant id under the same random and tag: the tag binds the tenant id.
    const otherTenant = `t_${randomHex(16)}`;
    const moved = `mwk_${otherTenant.slice(2)}${key.slice(20)}`;
    expect((await api('GET', '/v1/watches', { token: moved })).status).toBe(401);
    expect(await tenantObjectExists(otherTenant)).toBe(false);
    expect((await api('GET', '/v1/watches', { token: key })).status).toBe(200);
    expect(await tenantObjectExists(tenantId)).toBe(true);
  });
});

describe('keys: list, revoke, rotate', () => {
  it('the admin lists a tenant\'s keys without secrets and revokes one by id', async () => {
    const first = await api('POST', '/v1/keys', { token: ADMIN, body: { label: 'first' } });
    expect(first.status).toBe(201);
    expect(first.body.id).toMatch(/^key_[0-9a-f]{16}_[0-9a-f]{16}$/);
    const tenantId = first.body.tenantId as string;
    const second = await api('POST', '/v1/keys', { token: ADMIN, body: { tenantId, label: 'second' } });
    const listed = await api('GET', `/v1/keys?tenantId=${tenantId}`, { token: ADMIN });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((key: { id: string; label: string }) => [key.id, key.label])).toEqual([
      [first.body.id, 'first'],
      [second.body.id, 'second'],
    ]);
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(first.body.key);
    expect(text).not.toContain(first.body.key.slice(21));
    expect(Object.keys(listed.body.data[0]).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'label']);

    expect((await api('DELETE', `/v1/keys/${first.body.id}`, { token: ADMIN })).status).toBe(204);
    expect((await api('GET', '/v1/watches', { token: first.body.key })).status).toBe(401);
    expect((await api('GET', '/v1/watches', { token: second.body.key })).status).toBe(200);
    expect((await api('DELETE', `/v1/keys/${first.body.id}`, { token: ADMIN })).status).toBe(404);
    expect((await api('DELETE', '/v1/keys/nope', { token: ADMIN })).status).toBe(404);
  });

  it('listing and revoking need the admin token; a tenant key is refused', async () => {
    const key = await newTenant('not-admin');
    const tenantId = tenantIdOf(key);
    expect((await api('GET', `/v1/keys?tenantId=${tenantId}`, { token: key })).status).toBe(401);
    const listed = await api('GET', `/v1/keys?tenantId=${tenantId}`, { token: ADMIN });
    expect((await api('DELETE', `/v1/keys/${listed.body.data[0].id}`, { token: key })).status).toBe(401);
    expect((await api('GET', '/v1/keys', { token: ADMIN })).body.error.issues[0].path).toBe('tenantId');
    expect((await api('GET', `/v1/keys?tenantId=t_${randomHex(16)}`, { token: ADMIN })).status).toBe(404);
  });

  it('a tenant rotates its own key: the new one works, the old one stops at once', async () => {
    const key = await newTenant('rotate');
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: 'https://hooks.example.com/rotate' } });
    const rotated = await api('POST', '/v1/keys/rotate', { token: key });
    expect(rotated.status).toBe(201);
    expect(rotated.body.tenantId).toBe(tenantIdOf(key));
    expect(rotated.body.key).not.toBe(key);
    expect(rotated.body.label).toBe('rotate');
    expect((await api('GET', '/v1/watches', { token: key })).status).toBe(401);
    expect((await api('GET', `/v1/channels/${channel.body.id}`, { token: rotated.body.key })).status).toBe(200);
    const listed = await api('GET', `/v1/keys?tenantId=${tenantIdOf(key)}`, { token: ADMIN });
    expect(listed.body.data.map((entry: { id: string }) => entry.id)).toEqual([rotated.body.id]);
  });

  it('a rotation with a grace period keeps the old key working until then', async () => {
    const key = await newTenant('grace');
    const rotated = await api('POST', '/v1/keys/rotate', { token: key, body: { graceSeconds: 600 } });
    expect(rotated.status).toBe(201);
    expect(Date.parse(rotated.body.previous.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    expect((await api('GET', '/v1/watches', { token: key })).status).toBe(200);
    expect((await api('GET', '/v1/watches', { token: rotated.body.key })).status).toBe(200);
    const listed = await api('GET', `/v1/keys?tenantId=${tenantIdOf(key)}`, { token: ADMIN });
    expect(listed.body.data.find((entry: { id: string }) => entry.id === rotated.body.previous.id).expiresAt).toBe(rotated.body.previous.expiresAt);
    // Once the grace ends, the old key stops working and is no longer listed.
    await runInDurableObject(tenantStub(testEnv, tenantIdOf(key)), async (_instance, state) => {
      state.storage.sql.exec('UPDATE api_keys SET expires_at = ? WHERE id = ?', Date.now() - 1, rotated.body.previous.id);
    });
    expect((await api('GET', '/v1/watches', { token: key })).status).toBe(401);
    const after = await api('GET', `/v1/keys?tenantId=${tenantIdOf(key)}`, { token: ADMIN });
    expect(after.body.data.map((entry: { id: string }) => entry.id)).toEqual([rotated.body.id]);
    const bad = await api('POST', '/v1/keys/rotate', { token: rotated.body.key, body: { graceSeconds: 86_401 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe('graceSeconds');
  });
});

describe('rotation cannot be used to keep a key alive', () => {
  it('a key in its grace period cannot rotate (409 key_rotated_out): a leaked key being rotated out mints no key that outlives it', async () => {
    const key = await newTenant('grace-leak');
    const rotated = await api('POST', '/v1/keys/rotate', { token: key, body: { graceSeconds: 3600 } });
    expect(rotated.status).toBe(201);
    const again = await api('POST', '/v1/keys/rotate', { token: key, body: { graceSeconds: 86_400 } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('key_rotated_out');
    expect(again.body.error.message).toContain(rotated.body.previous.expiresAt);
    const listed = await api('GET', `/v1/keys?tenantId=${tenantIdOf(key)}`, { token: ADMIN });
    // Still the two keys, the old one's end unchanged.
    expect(listed.body.data.map((entry: { id: string; expiresAt: string | null }) => [entry.id, entry.expiresAt])).toEqual([
      [rotated.body.previous.id, rotated.body.previous.expiresAt],
      [rotated.body.id, null],
    ]);
    expect((await api('GET', '/v1/watches', { token: key })).status).toBe(200);
  });

  it('at most 5 rotated keys work at once: a sixth rotation with a grace is 409 too_many_keys_in_grace, one with graceSeconds 0 still rotates', async () => {
    let key = await newTenant('grace-chain');
    for (let i = 0; i < 5; i++) {
      const rotated = await api('POST', '/v1/keys/rotate', { token: key, body: { graceSeconds: 600 } });
      expect(rotated.status, `rotation ${i + 1}`).toBe(201);
      key = rotated.body.key;
    }
    const sixth = await api('POST', '/v1/keys/rotate', { token: key, body: { graceSeconds: 600 } });
    expect(sixth.status).toBe(409);
    expect(sixth.body.error.code).toBe('too_many_keys_in_grace');
    expect((await api('GET', '/v1/watches', { token: key })).status).toBe(200);
    const immediate = await api('POST', '/v1/keys/rotate', { token: key, body: { graceSeconds: 0 } });
    expect(immediate.status).toBe(201);
    expect((await api('GET', '/v1/watches', { token: key })).status).toBe(401);
    const listed = await api('GET', `/v1/keys?tenantId=${tenantIdOf(key)}`, { token: ADMIN });
    expect(listed.body.data).toHaveLength(6);
  });
});

describe('rate limits', () => {
  it('requests without a valid key: 60 a minute per client IP, then 429 with retry-after', async () => {
    const clientIp = `203.0.113.${1 + Math.floor(Math.random() * 254)}`;
    // Windows are aligned to the clock: if one ends during the run the count starts over,
    // so send until the first 429 (at most two windows' worth) and count what came before.
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof api>> | undefined;
    while (!limited && statuses.length < 125) {
      const response = await api('GET', '/v1/watches', { token: 'nope', clientIp });
      if (response.status === 429) limited = response;
      else statuses.push(response.status);
    }
    expect(limited, 'a 429 within two windows').toBeDefined();
    expect(statuses.length).toBeGreaterThanOrEqual(60);
    expect(statuses.every((status) => status === 401)).toBe(true);
    expect(limited!.body.error.code).toBe('rate_limited');
    expect(typeof limited!.body.error.message).toBe('string');
    const retryAfter = Number(limited!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another client is not affected, nor is a valid key from the same address.
    expect((await api('GET', '/v1/watches', { token: 'nope', clientIp: '203.0.113.0' })).status).toBe(401);
    const key = await newTenant('same-ip');
    expect((await api('GET', '/v1/watches', { token: key, clientIp })).status).toBe(200);
  });

  it('the keys of one tenant share its budget: once one key has spent it, another key of the same tenant is refused too (429)', async () => {
    const first = await newTenant('shared-budget');
    const issued = await api('POST', '/v1/keys', { token: ADMIN, body: { tenantId: tenantIdOf(first), label: 'second' } });
    expect(issued.status).toBe(201);
    const keys = [first, issued.body.key as string];
    // Spend the budget with the first key alone until a 429 that leaves at least 3 s of its
    // window (a window ending during the run starts the count over: go on into the next).
    let limited: Awaited<ReturnType<typeof api>> | undefined;
    let sent = 0;
    while (!limited && sent < 5000) {
      const responses = await Promise.all(Array.from({ length: 50 }, () => api('GET', '/v1/markets?chainId=1', { token: first })));
      sent += responses.length;
      limited = responses.find((response) => response.status === 429 && Number(response.headers.get('retry-after')) >= 3);
    }
    expect(limited, 'a 429 with time left in its window').toBeDefined();
    for (const key of keys) {
      const refused = await api('GET', '/v1/markets?chainId=1', { token: key });
      expect(refused.status).toBe(429);
      expect(refused.body.error.message).toContain('this tenant');
    }
  });

  it('a tenant key gets at least 1,200 requests a minute, then 429 for that key only', async () => {
    const key = await newTenant('bulk');
    const other = await newTenant('bulk-neighbour');
    // As above: until the first 429, at most two windows' worth.
    let ok = 0;
    let limited = 0;
    while (limited === 0 && ok < 2500) {
      const responses = await Promise.all(Array.from({ length: 50 }, () => api('GET', '/v1/markets?chainId=1', { token: key })));
      ok += responses.filter((response) => response.status === 200).length;
      limited += responses.filter((response) => response.status === 429).length;
      expect(responses.every((response) => response.status === 200 || response.status === 429)).toBe(true);
    }
    expect(limited).toBeGreaterThan(0);
    expect(ok).toBeGreaterThanOrEqual(1200);
    expect((await api('GET', '/v1/markets', { token: other })).status).toBe(200);
  });

  it('Telegram webhook calls with a wrong secret are limited per IP; Telegram itself is not', async () => {
    const clientIp = `203.0.113.${1 + Math.floor(Math.random() * 254)}`;
    const { exports } = await import('cloudflare:workers');
    const fetcher = (exports as unknown as { default: Fetcher }).default;
    const post = (secret: string) =>
      fetcher.fetch('https://marginwatch.test/telegram/webhook', { method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': clientIp, 'x-telegram-bot-api-secret-token': secret }, body: '{"update_id":1}' });
    const statuses: number[] = [];
    while (!statuses.includes(429) && statuses.length < 125) statuses.push((await post('wrong-secret-wrong-secret')).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((status) => status === 401).length).toBeGreaterThanOrEqual(60);
    const secret = (testEnv as unknown as { TELEGRAM_WEBHOOK_SECRET: string }).TELEGRAM_WEBHOOK_SECRET;
    expect((await post(secret)).status).toBe(200);
  });
});

describe('a feature the deployment has not configured is a 4xx', () => {
  async function withoutTelegramAndEmail(method: string, path: string, token: string, body?: unknown) {
    const env: Record<string, unknown> = { ...testEnv };
    for (const name of ['TELEGRAM_BOT_TOKEN', 'TELEGRAM_WEBHOOK_SECRET', 'EMAIL_TRANSPORT', 'EMAIL_FROM', 'SMTP_HOST', 'SMTP_PORT', 'SMTP_USER', 'SMTP_PASSWORD', 'SMTP_SECURITY', 'SMTP_ALLOW_INSECURE_AUTH']) delete env[name];
    const ctx = createExecutionContext();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'cf-connecting-ip': '192.0.2.1' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await createApp().fetch(new Request(`http://marginwatch.test${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }), env as unknown as Env, ctx);
    await waitOnExecutionContext(ctx);
    return { status: response.status, body: (await response.json()) as any };
  }

  it('Telegram link, Telegram setup and Telegram/email channels answer 400 with the same code', async () => {
    const key = await newTenant('unconfigured');
    const link = await withoutTelegramAndEmail('POST', '/v1/telegram/link', key);
    expect(link.status).toBe(400);
    expect(link.body.error.code).toBe('telegram_not_configured');
    const setup = await withoutTelegramAndEmail('POST', '/v1/admin/telegram/setup', ADMIN, { url: 'https://marginwatch.example/telegram/webhook' });
    expect(setup.status).toBe(400);
    expect(setup.body.error.code).toBe('telegram_not_configured');
    const telegram = await withoutTelegramAndEmail('POST', '/v1/channels', key, { type: 'telegram', chatId: '12345' });
    expect(telegram.status).toBe(400);
    expect(telegram.body.error.code).toBe('telegram_not_configured');
    const email = await withoutTelegramAndEmail('POST', '/v1/channels', key, { type: 'email', to: 'ops@example.com' });
    expect(email.status).toBe(400);
    expect(email.body.error.code).toBe('email_not_configured');
  });
});

describe('input rules', () => {
  const watchBody = (account: string, extra: Record<string, unknown> = {}) => ({ chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, ...extra });

  it('addresses: a wrong EIP-55 checksum and the zero address are 400; all-lowercase and all-uppercase are accepted', async () => {
    const key = await newTenant('addresses');
    const checksummed = '0x52908400098527886E0F7030069857D2E4169EE7';
    const wrongCase = '0x52908400098527886e0F7030069857D2E4169EE7';
    const wrong = await api('POST', '/v1/watches', { token: key, body: watchBody(wrongCase) });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.issues[0].path).toBe('account');
    expect(wrong.body.error.issues[0].message).toContain('checksum');
    const zero = await api('POST', '/v1/watches', { token: key, body: watchBody('0x0000000000000000000000000000000000000000') });
    expect(zero.status).toBe(400);
    expect(zero.body.error.issues[0].message).toContain('zero address');
    const marketAddress = getAddress(testEnv.TEST_MARKET);
    const letter = marketAddress.slice(2).search(/[a-fA-F]/) + 2;
    const flip = (c: string) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase());
    const wrongMarket = marketAddress.slice(0, letter) + flip(marketAddress[letter]!) + marketAddress.slice(letter + 1);
    const market = await api('POST', '/v1/watches', { token: key, body: { ...watchBody(ACCOUNT), market: wrongMarket } });
    expect(market.status).toBe(400);
    expect(market.body.error.issues[0].path).toBe('market');
    for (const account of [checksummed, checksummed.toLowerCase(), `0x${checksummed.slice(2).toUpperCase()}`]) {
      const accepted = await api('POST', '/v1/watches', { token: key, body: watchBody(account) });
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
      expect(accepted.body.account).toBe(checksummed);
      await api('DELETE', `/v1/watches/${accepted.body.id}`, { token: key });
    }
  });

  it('silences reach at most 30 days ahead', async () => {
    const key = await newTenant('silence');
    const watch = await api('POST', '/v1/watches', { token: key, body: watchBody(ACCOUNT) });
    const far = await api('POST', `/v1/watches/${watch.body.id}/silence`, { token: key, body: { until: new Date(Date.now() + 31 * 86_400_000).toISOString() } });
    expect(far.status).toBe(400);
    expect(far.body.error.issues[0]).toEqual({ path: 'until', message: 'must be at most 30 days ahead' });
    const near = await api('POST', `/v1/watches/${watch.body.id}/silence`, { token: key, body: { until: new Date(Date.now() + 29 * 86_400_000).toISOString() } });
    expect(near.status).toBe(200);
  });

  it('content-type is parsed exactly: parameters are fine, JSON named elsewhere is 415', async () => {
    const key = await newTenant('content-type');
    const body = JSON.stringify({ type: 'webhook', url: 'https://hooks.example.com/ct' });
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="utf-8"']) {
      expect((await api('POST', '/v1/channels', { token: key, rawBody: body, contentType })).status, contentType).toBe(201);
    }
    for (const contentType of ['text/plain; charset=application/json', 'application/jsonp', 'application/json-patch+json', 'text/application/json', 'application/json;', 'multipart/form-data; boundary=application/json']) {
      const response = await api('POST', '/v1/channels', { token: key, rawBody: body, contentType });
      expect(response.status, contentType).toBe(415);
      expect(response.body.error.code).toBe('unsupported_media_type');
    }
  });

  it('bodies are counted in bytes while they stream in: over 64 KiB is 413 whatever content-length says', async () => {
    const key = await newTenant('body-size');
    // 40,000 three-byte characters: 40,000 UTF-16 units, 120,000 bytes.
    const wide = JSON.stringify({ type: 'webhook', url: 'https://hooks.example.com/x', label: '€'.repeat(40_000) });
    const response = await api('POST', '/v1/channels', { token: key, rawBody: wide });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('payload_too_large');

    // A streamed body with no content-length: stopped once past the limit.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10 * 1024 * 1024) return controller.close();
        sent += 16 * 1024;
        controller.enqueue(new TextEncoder().encode(' '.repeat(16 * 1024)));
      },
    });
    const { exports } = await import('cloudflare:workers');
    const streamed = await (exports as unknown as { default: Fetcher }).default.fetch('http://marginwatch.test/v1/channels', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'cf-connecting-ip': '192.0.2.7' },
      body: stream,
    });
    expect(streamed.status).toBe(413);
    expect(sent).toBeLessThan(10 * 1024 * 1024);
  });
});
