// The dashboard's pages and session handling through the worker's own fetch handler, as a
// browser would use them (cookies, form posts, Origin), against the real local Aave market.
import { shardStub, tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';
import { exports } from 'cloudflare:workers';
import { ADMIN, api, control, newTenant, pollShards, testEnv } from './helpers';

import { sessionHash } from '../../src/dashboard/session';
import { runInDurableObject } from 'cloudflare:test';

import { pruneHfHistory, readHfHistory, recordHfPoint } from '../../src/watches/hf-history-store';

const ORIGIN = 'http://marginwatch.test';
const CLIENT_IP = '198.51.100.77';

type PageResponse = { status: number; text: string; headers: Headers };

/** A browser-like request: the session cookie, and for posts a same-origin form body. */
async function page(method: 'GET' | 'POST', path: string, options: { cookie?: string; form?: Record<string, string>; origin?: string | null } = {}): Promise<PageResponse> {
  const headers: Record<string, string> = { 'cf-connecting-ip': CLIENT_IP };
  if (options.cookie) headers.cookie = options.cookie;
  let body: string | undefined;
  if (method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    if (options.origin !== null) headers.origin = options.origin ?? ORIGIN;
    body = new URLSearchParams(options.form ?? {}).toString();
  }
  const response = await (exports as unknown as { default: Fetcher }).default.fetch(`${ORIGIN}${path}`, { method, headers, body, redirect: 'manual' });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** Signs in with `key`; answers the cookie to send back (`__Host-mw_session=…`) and the raw Set-Cookie. */
async function signIn(key: string): Promise<{ cookie: string; setCookie: string }> {
  const response = await page('POST', '/dashboard/sign-in', { form: { apiKey: key } });
  expect(response.status, response.text).toBe(303);
  const setCookie = response.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, setCookie };
}

function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no form token on the page');
  return match[1]!;
}

let key: string;
const watchIds: Record<string, string> = {};

describe('dashboard', () => {
  beforeAll(async () => {
    await control('/price', { symbol: 'WETH', price: '2000' });
    key = await newTenant('dashboard');
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}dashboard`, label: 'ops hook' } });
    await control('/receiver/secret', { path: '/dashboard', secret: channel.body.secret });
    // HF 2.20, 1.35 and 1.65 at $2000, created in that order: the list must reorder them.
    for (const [label, debt] of [['safe', '7500'], ['risky', '12200'], ['medium', '10000']] as const) {
      const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: debt });
      const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label, channels: [channel.body.id] } });
      expect(watch.status).toBe(201);
      watchIds[label] = watch.body.id;
    }
    await pollShards();
  });

  it('sends a visitor without a session to the sign-in page', async () => {
    const response = await page('GET', '/dashboard');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/dashboard/sign-in');
    const signInPage = await page('GET', '/dashboard/sign-in');
    expect(signInPage.status).toBe(200);
    expect(signInPage.text).toContain('<input id="apiKey" name="apiKey" type="password"');
  });

  it('refuses a wrong key with 401 on the form, without echoing it', async () => {
    const wrong = `${key.slice(0, -4)}AAAA`;
    const response = await page('POST', '/dashboard/sign-in', { form: { apiKey: wrong } });
    expect(response.status).toBe(401);
    expect(response.text).toContain('API key: not valid');
    expect(response.text).not.toContain(wrong);
    expect(response.headers.get('set-cookie')).toBeNull();
    const empty = await page('POST', '/dashboard/sign-in', { form: { apiKey: '  ' } });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('API key: paste an API key');
  });

  it('refuses a sign-in form posted from another origin (403)', async () => {
    const response = await page('POST', '/dashboard/sign-in', { form: { apiKey: key }, origin: 'https://evil.example' });
    expect(response.status).toBe(403);
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('exchanges the key for a __Host- session cookie (HttpOnly, Secure, SameSite=Strict) that holds no key', async () => {
    const response = await page('POST', '/dashboard/sign-in', { form: { apiKey: key } });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/dashboard');
    const setCookie = response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^__Host-mw_session=mws_[0-9a-f]{16}_[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    expect(setCookie).not.toContain(key);
    expect(setCookie).not.toContain(key.slice(21));
    expect(setCookie).not.toMatch(/Domain=/i);
  });

  it('lists the watches lowest health factor first, with level, distance to liquidation and last observed', async () => {
    const { cookie } = await signIn(key);
    const response = await page('GET', '/dashboard', { cookie });
    expect(response.status).toBe(200);
    const order = [...response.text.matchAll(/data-watch-id="([^"]+)"/g)].map((match) => match[1]);
    expect(order).toEqual([watchIds.risky, watchIds.medium, watchIds.safe]);
    expect(response.text).toContain('Warning</span>');
    expect(response.text).toMatch(/1\.3\d{3}<\/td><td class="num">2\d\.\d\d %<\/td>/);
    expect(response.text).toContain('<time datetime="');
    // The risky watch, under its warning line, is read with its breakdown: its 24 h liquidation risk is known and shown.
    expect(response.text).toContain('24 h risk');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('shows a watch with its health-factor history recorded by the shard, and its thresholds as chart lines', async () => {
    const { cookie } = await signIn(key);
    const response = await page('GET', `/dashboard/watches/${watchIds.medium}`, { cookie });
    expect(response.status).toBe(200);
    const attribute = /data-chart="([^"]+)"/.exec(response.text)![1]!.replaceAll('&quot;', '"');
    const chart = JSON.parse(attribute) as { times: number[]; healthFactors: number[]; lines: Record<string, number> };
    expect(chart.times.length).toBeGreaterThanOrEqual(1);
    expect(chart.healthFactors.at(-1)).toBeGreaterThan(1.64);
    expect(chart.healthFactors.at(-1)).toBeLessThanOrEqual(1.65);
    expect(chart.lines).toEqual({ warning: 1.5, marginCall: 1.25, critical: 1.1, liquidation: 1 });
    expect(response.text).toContain('src="/dashboard/vendor/uPlot.iife.min.js"');
    expect(response.text).toContain('No auto-top-up policy');
    const missing = await page('GET', '/dashboard/watches/w_doesnotexist', { cookie });
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('watch w_doesnotexist not found');
  });

  it('shows each position of an owner watch with its own level', async () => {
    const market = (await control('/euler/market')) as { vault: string };
    await control('/euler/price', { symbol: 'WETH', price: '2000' });
    // Sub-account 3 HF 1.4525 at $1,750 (warning after two reads), sub-account 7 HF 1.8156 (ok).
    const { owner } = await control('/euler/open', { positions: [{ index: 3, collateralWeth: '1', borrowUsds: '1000' }, { index: 7, collateralWeth: '1', borrowUsds: '800' }] });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'euler-v2', market: market.vault, account: owner, label: 'owner' } });
    expect(watch.status).toBe(201);
    await control('/euler/price', { symbol: 'WETH', price: '1750' });
    await pollShards();
    await pollShards();
    await control('/euler/price', { symbol: 'WETH', price: '2000' });
    const { cookie } = await signIn(key);
    const response = await page('GET', `/dashboard/watches/${watch.body.id}`, { cookie });
    expect(response.status).toBe(200);
    const items = [...response.text.matchAll(/<li>(.*?)<\/li>/gs)].map((match) => match[1]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim());
    // Interest accrues between reads: the health factors to 3 decimals.
    const rows = items.filter((item) => item.includes('health factor')).map((item) => /^(\w+) (\d+) · health factor ([\d.]+) · debt (\S+)$/.exec(item)!.slice(1));
    expect(rows.map(([level, id, hf, debt]) => [level, id, Number(hf).toFixed(3), debt])).toEqual([['Warning', '3', '1.452', '$1,000.00'], ['OK', '7', '1.816', '$800.00']]);
    await api('DELETE', `/v1/watches/${watch.body.id}`, { token: key });
  });

  it('silences and un-silences through forms that carry the session form token; without it, 403 and nothing changes', async () => {
    const { cookie } = await signIn(key);
    const watchPage = await page('GET', `/dashboard/watches/${watchIds.risky}`, { cookie });
    const csrf = csrfOf(watchPage.text);

    const forged = await page('POST', `/dashboard/watches/${watchIds.risky}/silence`, { cookie, form: { for: '1h' } });
    expect(forged.status).toBe(403);
    const wrongToken = await page('POST', `/dashboard/watches/${watchIds.risky}/silence`, { cookie, form: { for: '1h', _csrf: `${csrf.slice(0, -2)}xx` } });
    expect(wrongToken.status).toBe(403);
    const crossSite = await page('POST', `/dashboard/watches/${watchIds.risky}/silence`, { cookie, form: { for: '1h', _csrf: csrf }, origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect((await api('GET', `/v1/watches/${watchIds.risky}`, { token: key })).body.silencedUntil).toBeNull();

    const badChoice = await page('POST', `/dashboard/watches/${watchIds.risky}/silence`, { cookie, form: { for: '99y', _csrf: csrf } });
    expect(badChoice.status).toBe(400);
    expect(badChoice.text).toContain('for: must be one of 1h, 4h, 24h, 7d');

    const before = Date.now();
    const silenced = await page('POST', `/dashboard/watches/${watchIds.risky}/silence`, { cookie, form: { for: '4h', _csrf: csrf } });
    expect(silenced.status).toBe(303);
    expect(silenced.headers.get('location')).toBe(`/dashboard/watches/${watchIds.risky}?done=silenced`);
    const until = Date.parse((await api('GET', `/v1/watches/${watchIds.risky}`, { token: key })).body.silencedUntil);
    expect(until).toBeGreaterThanOrEqual(before + 4 * 3_600_000);
    expect(until).toBeLessThan(Date.now() + 4 * 3_600_000 + 1000);
    expect((await page('GET', `/dashboard/watches/${watchIds.risky}?done=silenced`, { cookie })).text).toContain('id="silenced-until"');

    const unsilenced = await page('POST', `/dashboard/watches/${watchIds.risky}/unsilence`, { cookie, form: { _csrf: csrf } });
    expect(unsilenced.status).toBe(303);
    expect((await api('GET', `/v1/watches/${watchIds.risky}`, { token: key })).body.silencedUntil).toBeNull();
  });

  it('sends a channel test from the channels page and reports its delivery', async () => {
    const { cookie } = await signIn(key);
    const channelsPage = await page('GET', '/dashboard/channels', { cookie });
    expect(channelsPage.text).toContain('ops hook');
    const channelId = /data-channel-id="([^"]+)"/.exec(channelsPage.text)![1]!;
    const sent = await page('POST', `/dashboard/channels/${channelId}/test`, { cookie, form: { _csrf: csrfOf(channelsPage.text) } });
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe(`/dashboard/channels?tested=${channelId}&status=delivered`);
    const received = ((await control('/receiver/events', {}, 'GET')) as Array<{ path: string; verified: boolean; body: { type: string } }>).filter((event) => event.path === '/dashboard');
    expect(received.map((event) => [event.body.type, event.verified])).toContainEqual(['channel.test', true]);
    expect((await page('GET', sent.headers.get('location')!, { cookie })).text).toContain('Test to ops hook: delivered.');
    expect((await page('GET', '/dashboard/dead-letters', { cookie })).text).toContain('No dead letters');
  });

  it('ends the session at sign-out: the same cookie is refused afterwards', async () => {
    const { cookie } = await signIn(key);
    const home = await page('GET', '/dashboard', { cookie });
    const signedOut = await page('POST', '/dashboard/sign-out', { cookie, form: { _csrf: csrfOf(home.text) } });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toBe('/dashboard/sign-in');
    expect(signedOut.headers.get('set-cookie')).toMatch(/^__Host-mw_session=; Max-Age=0; Path=\/; HttpOnly; Secure; SameSite=Strict/);
    const tenant = tenantStub(testEnv, `t_${key.slice(4, 20)}`);
    expect(await tenant.findSession(await sessionHash(cookie.split('=')[1]!))).toBeNull();
    const replay = await page('GET', '/dashboard', { cookie });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe('/dashboard/sign-in');
  });

  it('ends every session of an API key when the key is revoked', async () => {
    const second = await api('POST', '/v1/keys', { token: ADMIN, body: { tenantId: `t_${key.slice(4, 20)}`, label: 'second' } });
    expect(second.status).toBe(201);
    const { cookie } = await signIn(second.body.key);
    expect((await page('GET', '/dashboard', { cookie })).status).toBe(200);
    expect((await api('DELETE', `/v1/keys/${second.body.id}`, { token: ADMIN })).status).toBe(204);
    const after = await page('GET', '/dashboard', { cookie });
    expect(after.status).toBe(303);
  });

  it('refuses a session cookie whose tag is forged, and a form post without a session gets 401', async () => {
    const forged = `__Host-mw_session=mws_${key.slice(4, 20)}_${'A'.repeat(43)}`;
    expect((await page('GET', '/dashboard', { cookie: forged })).status).toBe(303);
    const post = await page('POST', `/dashboard/watches/${watchIds.risky}/silence`, { cookie: forged, form: { for: '1h', _csrf: 'x' } });
    expect(post.status).toBe(401);
    expect(post.text).toContain('your session has ended; sign in again');
  });

  it('keeps one history point per bucket per watch, the lowest seen, and prunes points past 30 days', async () => {
    await runInDurableObject(shardStub(testEnv, 'hf-history-test'), async (_instance, state) => {
      const sql = state.storage.sql;
      const day = 86_400_000;
      const now = 100 * day;
      const bucket = 300_000;
      recordHfPoint(sql, 'w_a', { at: now - 31 * day, healthFactor: 1.9 }, bucket);
      recordHfPoint(sql, 'w_a', { at: now, healthFactor: 1.5 }, bucket);
      recordHfPoint(sql, 'w_a', { at: now + 1000, healthFactor: 1.6 }, bucket);
      recordHfPoint(sql, 'w_a', { at: now + 2000, healthFactor: 1.4 }, bucket);
      recordHfPoint(sql, 'w_a', { at: now + 3000, healthFactor: null }, bucket);
      recordHfPoint(sql, 'w_a', { at: now + bucket, healthFactor: null }, bucket);
      recordHfPoint(sql, 'w_b', { at: now, healthFactor: 1.2 }, bucket);
      pruneHfHistory(sql, now);
      expect(readHfHistory(sql, 'w_a', 0)).toEqual([
        { at: now, healthFactor: 1.4 },
        { at: now + bucket, healthFactor: null },
      ]);
      expect(readHfHistory(sql, 'w_a', now + 1)).toEqual([{ at: now + bucket, healthFactor: null }]);
      expect(readHfHistory(sql, 'w_b', 0)).toEqual([{ at: now, healthFactor: 1.2 }]);
    });
  });

  it('refuses a sign-in form over 16 KiB (413, also streamed without content-length) or of another type than urlencoded (415) before reading it', async () => {
    const post = (body: BodyInit, contentType: string) =>
      (exports as unknown as { default: Fetcher }).default.fetch(`${ORIGIN}/dashboard/sign-in`, { method: 'POST', redirect: 'manual', headers: { 'cf-connecting-ip': CLIENT_IP, origin: ORIGIN, 'content-type': contentType }, body });
    const urlencoded = 'application/x-www-form-urlencoded';
    const large = await post(`apiKey=${key}&junk=${'x'.repeat(1024 * 1024)}`, urlencoded);
    expect(large.status).toBe(413);
    expect(await large.text()).toContain('at most 16384 bytes');
    const chunk = new TextEncoder().encode('x'.repeat(4096));
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent === 1) controller.enqueue(new TextEncoder().encode(`apiKey=${key}&junk=`));
        else if (sent > 1000) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const streamed = await post(endless, urlencoded);
    expect(streamed.status).toBe(413);
    expect(sent).toBeLessThan(1000);
    const multipart = new FormData();
    multipart.set('apiKey', key);
    const refused = await post(new Response(multipart).body!, 'multipart/form-data; boundary=x');
    expect(refused.status).toBe(415);
    expect(await refused.text()).not.toContain(key);
    const accepted = await post(new URLSearchParams({ apiKey: key }).toString(), `${urlencoded}; charset=UTF-8`);
    expect(accepted.status).toBe(303);
  });

  it('answers malformed and hostile requests with a 4xx page, never a 5xx', async () => {
    const { cookie } = await signIn(key);
    const csrf = csrfOf((await page('GET', '/dashboard', { cookie })).text);
    const send = (path: string, init: { method?: string; contentType?: string; body?: string; withCookie?: boolean }) =>
      (exports as unknown as { default: Fetcher }).default.fetch(`${ORIGIN}${path}`, {
        method: init.method ?? 'POST',
        redirect: 'manual',
        headers: { 'cf-connecting-ip': CLIENT_IP, origin: ORIGIN, ...(init.contentType ? { 'content-type': init.contentType } : {}), ...(init.withCookie ? { cookie } : {}) },
        body: init.body,
      });
    const cases: Array<[string, Parameters<typeof send>[1]]> = [
      ['/dashboard/sign-in', { contentType: 'multipart/form-data; boundary=x', body: 'not multipart at all' }],
      ['/dashboard/sign-in', { contentType: 'application/x-www-form-urlencoded', body: `apiKey=${'%'.repeat(50)}` }],
      ['/dashboard/sign-in', { contentType: 'application/x-www-form-urlencoded', body: `apiKey=${'k'.repeat(100_000)}` }],
      ['/dashboard/sign-in', { contentType: 'application/json', body: JSON.stringify({ apiKey: key }) }],
      ['/dashboard/sign-in', { contentType: 'application/x-www-form-urlencoded', body: 'apiKey=a&apiKey=b' }],
      [`/dashboard/watches/${watchIds.risky}/silence`, { contentType: 'multipart/form-data; boundary=x', body: '--x\r\nbroken', withCookie: true }],
      [`/dashboard/watches/${watchIds.risky}/silence`, { contentType: 'application/x-www-form-urlencoded', body: `_csrf=${csrf}&for=constructor`, withCookie: true }],
      [`/dashboard/watches/${watchIds.risky}/silence`, { contentType: 'application/x-www-form-urlencoded', body: `_csrf=${csrf}&_csrf=${csrf}&for=1h`, withCookie: true }],
      ['/dashboard/watches/%E0%A4%A/silence', { contentType: 'application/x-www-form-urlencoded', body: `_csrf=${csrf}&for=1h`, withCookie: true }],
      ['/dashboard/channels/nope/test', { contentType: 'application/x-www-form-urlencoded', body: `_csrf=${csrf}`, withCookie: true }],
      ['/dashboard/watches/%E0%A4%A', { method: 'GET', withCookie: true }],
      [`/dashboard/watches/${watchIds.risky}?range=constructor&done=__proto__`, { method: 'GET', withCookie: true }],
      ['/dashboard/channels?tested=__proto__&status=toString', { method: 'GET', withCookie: true }],
    ];
    for (const [path, init] of cases) {
      const response = await send(path, init);
      const text = await response.text();
      expect(response.status, `${init.method ?? 'POST'} ${path} (${init.contentType ?? 'no body'}): ${text.slice(0, 200)}`).toBeLessThan(500);
      expect(text).not.toContain(key);
    }
  });
});
