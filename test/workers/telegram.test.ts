import { tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';

import { ADMIN, api, control, newTenant, testEnv, pollShards, tenantIdOf } from './helpers';

/**
 * The Telegram bot and channel end to end inside workerd, against the local Bot API
 * stand-in (test/helpers/telegram-stand-in.ts): updates are built by the stand-in exactly
 * as Telegram sends them and POSTed to the worker's /telegram/webhook; replies and alerts
 * are asserted on what the stand-in accepted and recorded per chat.
 */

type TelegramEnv = typeof testEnv & { TEST_TELEGRAM_CONTROL_URL: string; TELEGRAM_WEBHOOK_SECRET: string; TELEGRAM_BOT_TOKEN: string };
const tgEnv = testEnv as TelegramEnv;

type Recorded = { message_id: number; text: string; raw: string; parse_mode: string | null; entities: Array<{ type: string; offset: number; length: number; url?: string }>; at: number };
type RequestLog = { method: string; chatId: string | null; ok: boolean; errorCode: number | null; description: string | null; at: number };

async function standIn(path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST'): Promise<any> {
  const response = await fetch(`${tgEnv.TEST_TELEGRAM_CONTROL_URL}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`stand-in ${path} failed: ${JSON.stringify(json)}`);
  return json;
}

let nextChat = 700_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
function newChatId(group = false): string {
  nextChat += 1;
  return group ? `-100${nextChat}` : String(nextChat);
}

/** Sends a message from a chat the way Telegram does: the stand-in builds the update, we POST it. */
async function post(chatId: string, text: string, options: { headers?: Record<string, string>; chatType?: string; title?: string } = {}): Promise<Response> {
  const built = await standIn('/updates', { chatId, text, ...(options.chatType ? { chatType: options.chatType } : {}), ...(options.title ? { title: options.title } : {}) });
  const headers = options.headers ?? built.headers;
  return (exports as unknown as { default: Fetcher }).default.fetch('https://marginwatch.test/telegram/webhook', { method: 'POST', headers, body: JSON.stringify(built.update) });
}

async function messages(chatId: string): Promise<Recorded[]> {
  return standIn(`/chats/${chatId}/messages`);
}

async function requests(chatId: string, method = 'sendMessage'): Promise<RequestLog[]> {
  return standIn(`/requests?method=${method}&chatId=${encodeURIComponent(chatId)}`);
}

/** Sends a command and returns the bot's one reply, as the chat shows it. */
async function say(chatId: string, text: string, options: { chatType?: string; title?: string } = {}): Promise<string> {
  const before = (await messages(chatId)).length;
  const response = await post(chatId, text, options);
  expect(response.status).toBe(200);
  const after = await messages(chatId);
  expect(after.length, `one reply to ${text}`).toBe(before + 1);
  return after[after.length - 1]!.text;
}

async function linkChat(key: string, chatId: string, label?: string): Promise<string> {
  const issued = await api('POST', '/v1/telegram/link', { token: key, ...(label ? { body: { label } } : {}) });
  expect(issued.status).toBe(201);
  expect(await say(chatId, `/start ${issued.body.code}`)).toMatch(/linked|Linked/);
  const channels = await api('GET', '/v1/channels', { token: key });
  const channel = channels.body.data.findLast((entry: { type: string; chatId?: string; disabledAt: string | null }) => entry.type === 'telegram' && entry.chatId === chatId && entry.disabledAt === null);
  expect(channel).toBeDefined();
  return channel.id as string;
}

async function waitFor<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function watchIdIn(text: string): string {
  const match = /w_[0-9a-f]{20}/.exec(text);
  if (!match) throw new Error(`no watch id in: ${text}`);
  return match[0];
}

/** A fresh WBTC-collateral position (this file moves the WBTC price; the alerting tests move WETH). */
async function openPosition(debtUsdc: string): Promise<string> {
  const { account } = await control('/open', { collateral: 'WBTC', collateralAmount: '1', debt: 'USDC', debtAmount: debtUsdc });
  return account as string;
}

beforeAll(async () => {
  // Registers the webhook the way `npm run telegram:setup` does.
  const setup = await api('POST', '/v1/admin/telegram/setup', { token: ADMIN, body: { url: 'https://marginwatch.test/telegram/webhook' } });
  expect(setup.status, JSON.stringify(setup.body)).toBe(200);
});

describe('telegram setup (admin)', () => {
  it('registered the webhook with the secret token and published the command menu', async () => {
    const state = await standIn('/state');
    expect(state.webhook).toEqual({ url: 'https://marginwatch.test/telegram/webhook', secretToken: tgEnv.TELEGRAM_WEBHOOK_SECRET, allowedUpdates: ['message'] });
    expect(state.commands.map((command: { command: string }) => command.command)).toEqual(['start', 'watch', 'list', 'status', 'mute', 'unwatch', 'help']);
    expect(state.commands.every((command: { description: string }) => command.description.length > 0)).toBe(true);
  });

  it('needs the admin token and a usable URL', async () => {
    expect((await api('POST', '/v1/admin/telegram/setup', { body: { url: 'https://x.example/telegram/webhook' } })).status).toBe(401);
    const key = await newTenant();
    expect((await api('POST', '/v1/admin/telegram/setup', { token: key, body: { url: 'https://x.example/telegram/webhook' } })).status).toBe(401);
    const bad = await api('POST', '/v1/admin/telegram/setup', { token: ADMIN, body: { url: 'not a url' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe('url');
    const missing = await api('POST', '/v1/admin/telegram/setup', { token: ADMIN, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error.issues[0].path).toBe('url');
    const ftp = await api('POST', '/v1/admin/telegram/setup', { token: ADMIN, body: { url: 'ftp://x.example/telegram/webhook' } });
    expect(ftp.status).toBe(400);
    expect(ftp.body.error.message).toContain('https');
  });

  it('reports what Telegram refused, without the token', async () => {
    await standIn('/script', { method: 'setWebhook', errorCode: 400, description: 'Bad Request: bad webhook: Failed to resolve host' });
    const refused = await api('POST', '/v1/admin/telegram/setup', { token: ADMIN, body: { url: 'https://nowhere.example/telegram/webhook' } });
    expect(refused.status).toBe(502);
    expect(refused.body.error.code).toBe('telegram_error');
    expect(refused.body.error.message).toContain('Failed to resolve host');
    expect(JSON.stringify(refused.body)).not.toContain(tgEnv.TELEGRAM_BOT_TOKEN);
    // The real registration is back in place for the other tests.
    expect((await api('POST', '/v1/admin/telegram/setup', { token: ADMIN, body: { url: 'https://marginwatch.test/telegram/webhook' } })).status).toBe(200);
  });
});

describe('webhook authentication', () => {
  it('answers 401 without or with a wrong secret token, and changes nothing', async () => {
    const key = await newTenant('auth');
    const issued = await api('POST', '/v1/telegram/link', { token: key });
    const chatId = newChatId();
    const withoutSecret = await post(chatId, `/start ${issued.body.code}`, { headers: { 'content-type': 'application/json' } });
    expect(withoutSecret.status).toBe(401);
    const wrongSecret = await post(chatId, `/start ${issued.body.code}`, { headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': `${tgEnv.TELEGRAM_WEBHOOK_SECRET}x` } });
    expect(wrongSecret.status).toBe(401);
    expect(((await wrongSecret.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    // Nothing happened: no reply, no channel, and the code is still unused.
    expect(await messages(chatId)).toEqual([]);
    expect((await api('GET', '/v1/channels', { token: key })).body.data).toEqual([]);
    expect(await say(chatId, `/start ${issued.body.code}`)).toContain('Linked');
  });

  it('refuses a body that is not an update, and other methods', async () => {
    const headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': tgEnv.TELEGRAM_WEBHOOK_SECRET };
    const fetcher = (exports as unknown as { default: Fetcher }).default;
    expect((await fetcher.fetch('https://marginwatch.test/telegram/webhook', { method: 'POST', headers, body: '{"update_id":' })).status).toBe(400);
    expect((await fetcher.fetch('https://marginwatch.test/telegram/webhook', { method: 'POST', headers, body: '{"message":{}}' })).status).toBe(400);
    const get = await fetcher.fetch('https://marginwatch.test/telegram/webhook');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toContain('POST');
    // An update the bot has nothing to do with (no message) is accepted and ignored.
    expect((await fetcher.fetch('https://marginwatch.test/telegram/webhook', { method: 'POST', headers, body: '{"update_id":1,"edited_message":{}}' })).status).toBe(200);
  });
});

describe('linking a chat', () => {
  it('issues single-use deep-link codes that expire', async () => {
    expect((await api('POST', '/v1/telegram/link')).status).toBe(401);
    const key = await newTenant('link');
    const issued = await api('POST', '/v1/telegram/link', { token: key, body: { label: 'my phone' } });
    expect(issued.status).toBe(201);
    // Tenant id, random part and tag: the code routes to its own tenant's object.
    expect(issued.body.code).toMatch(/^[0-9a-f]{16}[A-Za-z0-9_-]{32}$/);
    expect(issued.body.code.slice(0, 16)).toBe(tenantIdOf(key).slice(2));
    expect(issued.body.url).toBe(`https://t.me/marginwatch_test_bot?start=${issued.body.code}`);
    const ttl = Date.parse(issued.body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(59 * 60_000);
    expect(ttl).toBeLessThanOrEqual(60 * 60_000);
    const badBody = await api('POST', '/v1/telegram/link', { token: key, body: { label: 7 } });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.issues[0].path).toBe('label');

    const chatId = newChatId();
    expect(await say(chatId, `/start ${issued.body.code}`)).toContain('Linked');
    const channels = (await api('GET', '/v1/channels', { token: key })).body.data;
    expect(channels).toEqual([expect.objectContaining({ type: 'telegram', chatId, label: 'my phone', disabledAt: null })]);
    expect(channels[0].secret).toBeUndefined();

    // Single use: another chat cannot reuse it.
    expect(await say(newChatId(), `/start ${issued.body.code}`)).toContain('already used');
    expect(await say(newChatId(), '/start AAAAAAAAAAAAAAAAAAAAAAAA')).toContain('not valid');
    // Same tenant, a made-up random part: the tag does not match.
    expect(await say(newChatId(), `/start ${issued.body.code.slice(0, 16)}${'A'.repeat(32)}`)).toContain('not valid');
    expect(await say(newChatId(), '/start bad!code')).toContain('Usage: /start');

    // Expired: an hour later the code no longer links.
    const late = await api('POST', '/v1/telegram/link', { token: key });
    await runInDurableObject(tenantStub(testEnv, tenantIdOf(key)), async (_instance, state) => {
      state.storage.sql.exec('UPDATE telegram_link_codes SET expires_at = ? WHERE used_at IS NULL', Date.now() - 1);
    });
    expect(await say(newChatId(), `/start ${late.body.code}`)).toContain('expired');
  });

  it('tells an unlinked chat how to link, for every command that needs it', async () => {
    const chatId = newChatId();
    for (const command of ['/list', '/status', '/start', `/unwatch w_${'0'.repeat(20)}`, `/watch 31337 aave-v3 ${tgEnv.TEST_MARKET} 0x1111111111111111111111111111111111111111`]) {
      const reply = await say(chatId, command);
      expect(reply, command).toContain('not linked');
      expect(reply).toContain('/v1/telegram/link');
    }
  });

  it('a chat whose channel was deleted through the API is unlinked', async () => {
    const key = await newTenant('deleted');
    const chatId = newChatId();
    const channelId = await linkChat(key, chatId);
    expect((await api('DELETE', `/v1/channels/${channelId}`, { token: key })).status).toBe(204);
    expect(await say(chatId, '/list')).toContain('not linked');
  });
});

describe('bot commands', () => {
  let key: string;
  let chatId: string;
  let channelId: string;
  beforeAll(async () => {
    await control('/price', { symbol: 'WBTC', price: '60000' });
    key = await newTenant('bot');
    chatId = newChatId();
    channelId = await linkChat(key, chatId);
  });

  it('/help lists every command', async () => {
    const help = await say(chatId, '/help');
    for (const command of ['/start', '/watch', '/list', '/status', '/mute', '/unwatch', '/help']) expect(help).toContain(command);
    expect(await say(chatId, 'hello there')).toContain('/help');
  });

  it('/watch, /list, /status, /mute, /unwatch on a freshly opened position', async () => {
    // 1 WBTC at $60,000 (LT 78%) against 30,500 USDC: HF 1.5344, near the warning line.
    const account = await openPosition('30500');
    const created = await say(chatId, `/watch 31337 aave-v3 ${tgEnv.TEST_MARKET} ${account} cold wallet`);
    expect(created).toContain('Watching "cold wallet"');
    const watchId = watchIdIn(created);
    const read = await api('GET', `/v1/watches/${watchId}`, { token: key });
    expect(read.body).toMatchObject({ chainId: 31337, protocol: 'aave-v3', account, label: 'cold wallet', channels: [channelId] });

    // (The shard's alarm may have read it already: "HF …" or "not polled yet".)
    expect(await say(chatId, '/list')).toMatch(new RegExp(`${watchId} "cold wallet" — (not polled yet|HF 1\\.534\\d)`));
    await pollShards();
    const list = await say(chatId, '/list');
    expect(list).toContain('Watching 1 position:');
    // Interest accrues every second: the last digit may already be a hair lower.
    expect(list).toMatch(new RegExp(`${watchId} "cold wallet" — HF 1\\.534\\d`));

    const status = await say(chatId, `/status ${watchId}`);
    expect(status).toContain('cold wallet — OK');
    expect(status).toContain('Health factor: 1.5344');
    expect(status).toContain('Collateral: $60,000.00');
    expect(status).toContain('Debt: $30,500.00');
    expect(status).toContain('Liquidation price:');
    expect(status).toMatch(/Distance to liquidation: 34\.8\d%/);
    expect(status).toContain(account);
    // A unique start of the id works too, and /status alone shows the chat's only watch.
    expect(await say(chatId, `/status ${watchId.slice(2, 8)}`)).toContain('Health factor: 1.5344');
    expect(await say(chatId, '/status')).toContain('Health factor: 1.5344');

    const before = Date.now();
    expect(await say(chatId, `/mute ${watchId} 2h`)).toContain(`Muted ${watchId} until`);
    const muted = await api('GET', `/v1/watches/${watchId}`, { token: key });
    const until = Date.parse(muted.body.silencedUntil);
    expect(until).toBeGreaterThanOrEqual(before + 2 * 3_600_000 - 1000);
    expect(until).toBeLessThanOrEqual(Date.now() + 2 * 3_600_000 + 1000);
    expect(await say(chatId, '/list')).toContain('muted until');
    expect(await say(chatId, `/mute ${watchId} off`)).toContain('on again');
    expect((await api('GET', `/v1/watches/${watchId}`, { token: key })).body.silencedUntil).toBeNull();

    // Watching the same account again only confirms it.
    expect(await say(chatId, `/watch 31337 aave-v3 ${tgEnv.TEST_MARKET} ${account}`)).toContain('already watched');

    expect(await say(chatId, `/unwatch ${watchId}`)).toContain(`Stopped watching "cold wallet" ${watchId}`);
    expect((await api('GET', `/v1/watches/${watchId}`, { token: key })).status).toBe(404);
    expect(await say(chatId, '/list')).toContain('watches no positions');
    expect(await say(chatId, `/status ${watchId}`)).toContain(`No watch ${watchId}`);
  });

  it('answers bad arguments with the usage line, never silence', async () => {
    // A chat of its own: the stand-in's flood control allows bursts of 20 per chat.
    const chatId = newChatId();
    await linkChat(key, chatId);
    const account = '0x1111111111111111111111111111111111111111';
    const cases: Array<[string, string]> = [
      ['/watch', 'Usage: /watch <chain id> <protocol> <market> <account address or position id> [label]'],
      [`/watch one aave-v3 ${tgEnv.TEST_MARKET} ${account}`, 'Chain must be a chain id'],
      [`/watch 31337 compound ${tgEnv.TEST_MARKET} ${account}`, 'Protocol must be one of: aave-v3'],
      [`/watch 31337 aave-v3 0x1234 ${account}`, 'Market must be the 0x… address'],
      [`/watch 31337 aave-v3 ${tgEnv.TEST_MARKET} vitalik.eth`, 'Account must be a 0x-prefixed 20-byte hex address'],
      ['/mute', 'Usage: /mute <watch id>'],
      ['/mute w_0123456789abcdef0123 forever', 'is not a duration'],
      ['/mute w_0123456789abcdef0123 90d', 'at most 30 days'],
      ['/status not-an-id', 'is not a watch id'],
      ['/unwatch', 'Usage: /unwatch <watch id>'],
      ['/list everything', 'Usage: /list'],
      ['/frobnicate', "I don't know /frobnicate"],
    ];
    for (const [text, expected] of cases) expect(await say(chatId, text), text).toContain(expected);
    // Refused by the service, in its own words.
    expect(await say(chatId, `/watch 999 aave-v3 ${tgEnv.TEST_MARKET} ${account}`)).toContain('chain 999 is not configured');
    expect(await say(chatId, `/watch 31337 aave-v3 ${account} ${account}`)).toContain('does not answer as an Aave v3 Pool');
    expect(await say(chatId, `/unwatch w_${'a'.repeat(20)}`)).toContain('No watch');
  });

  it('a reply refused with 429 is sent again after retry_after', async () => {
    await standIn(`/chats/${chatId}`, { burst: 1, perSecond: 1 });
    try {
      await post(chatId, '/help');
      const started = Date.now();
      expect(await say(chatId, '/list')).toContain('watches no positions');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      const log = (await requests(chatId)).slice(-3);
      expect(log.map((entry) => [entry.ok, entry.errorCode])).toEqual([
        [true, null],
        [false, 429],
        [true, null],
      ]);
      expect(log[2]!.at - log[1]!.at).toBeGreaterThanOrEqual(1000);
    } finally {
      await standIn(`/chats/${chatId}`, { burst: 20, perSecond: 1 });
    }
  });

  it('in a group: answers /cmd@thisbot, ignores other bots and chatter', async () => {
    const groupId = newChatId(true);
    const issued = await api('POST', '/v1/telegram/link', { token: key });
    expect(await say(groupId, `/start@marginwatch_test_bot ${issued.body.code}`, { chatType: 'supergroup', title: 'desk' })).toContain('Linked');
    expect(await say(groupId, '/list@marginwatch_test_bot', { chatType: 'supergroup' })).toContain('watches no positions');
    for (const text of ['/list@some_other_bot', 'good morning']) {
      expect((await post(groupId, text, { chatType: 'supergroup' })).status).toBe(200);
    }
    expect((await messages(groupId)).length).toBe(2);
    const channels = (await api('GET', '/v1/channels', { token: key })).body.data;
    expect(channels.find((channel: { chatId?: string }) => channel.chatId === groupId)).toMatchObject({ type: 'telegram', label: 'desk' });
  });
});

describe('alerts to a chat', () => {
  it('a price move delivers the alert as valid MarkdownV2 with the health factor', async () => {
    await control('/price', { symbol: 'WBTC', price: '60000' });
    const key = await newTenant('alerts');
    const chatId = newChatId();
    await linkChat(key, chatId);
    const account = await openPosition('30000');
    // A label full of MarkdownV2's reserved characters and backslashes.
    const label = 'vault_1 *x* [a](b) ~y~ >q #h +p -m =e |s| {c}. !\\ \\_ end\\';
    const created = await say(chatId, `/watch 31337 aave-v3 ${tgEnv.TEST_MARKET} ${account} ${label}`);
    const watchId = watchIdIn(created);
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    await pollShards();
    const before = (await messages(chatId)).length;

    try {
      await control('/price', { symbol: 'WBTC', price: '40000' }); // HF 1.04: critical at once
      await pollShards();
      await tenant.deliverDue();
      const received = await waitFor('the alert', () => messages(chatId), (list) => list.length > before);
      const alert = received[before]!;
      const read = await api('GET', `/v1/watches/${watchId}`, { token: key });
      expect(read.body.level).toBe('critical');
      const hf = read.body.position.healthFactor as string;
      expect(Number(hf)).toBeLessThanOrEqual(1.04);
      expect(Number(hf)).toBeGreaterThan(1.0395);

      // Accepted by the stand-in's MarkdownV2 parser; the phone shows the label verbatim.
      expect(alert.parse_mode).toBe('MarkdownV2');
      expect(alert.text.split('\n')[0]).toBe(`CRITICAL · ${label}`);
      expect(alert.text).toContain(`Health factor ${hf}`);
      expect(alert.text).toContain(`Health factor: ${hf}`);
      expect(alert.text).toContain('Collateral: $40,000.00');
      expect(alert.text).toContain('Debt: $30,000.00');
      expect(alert.text).toMatch(/→ Supply [0-9.]+ WBTC/);
      expect(alert.raw.length).toBeLessThanOrEqual(4096);
      expect(alert.entities.some((entity) => entity.type === 'bold' && alert.text.slice(entity.offset, entity.offset + entity.length) === hf)).toBe(true);
      const sends = await requests(chatId);
      expect(sends.filter((entry) => !entry.ok)).toEqual([]);
      const history = await api('GET', `/v1/watches/${watchId}/alerts?limit=1`, { token: key });
      expect(history.body.data[0].deliveries[0]).toMatchObject({ status: 'delivered', attempts: 1 });
    } finally {
      await control('/price', { symbol: 'WBTC', price: '60000' });
      await pollShards();
    }
  });

  it('a channel created through the API (chatId of a chat linked to the tenant, no secret) receives test events', async () => {
    const key = await newTenant('api-channel');
    const chatId = newChatId(true);
    await standIn(`/chats/${chatId}`, { type: 'supergroup', title: 'ops' });
    await linkChat(key, chatId);
    const before = (await messages(chatId)).length;
    const created = await api('POST', '/v1/channels', { token: key, body: { type: 'telegram', chatId, label: 'ops room' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'telegram', chatId, label: 'ops room', disabledAt: null });
    expect(created.body.secret).toBeUndefined();
    const tested = await api('POST', `/v1/channels/${created.body.id}/test`, { token: key });
    expect(tested.body.delivery).toMatchObject({ status: 'delivered' });
    const [message] = (await messages(chatId)).slice(before);
    expect(message!.text).toContain('TEST · ops room');

    for (const [body, path] of [
      [{ type: 'telegram', chatId: '12a' }, 'chatId'],
      [{ type: 'telegram', chatId: 12345 }, 'chatId'],
      [{ type: 'telegram' }, 'chatId'],
      [{ type: 'telegram', chatId: '1', secret: 'x' }, '(body)'],
      [{ type: 'pigeon', chatId: '1' }, 'type'],
    ] as const) {
      const refused = await api('POST', '/v1/channels', { token: key, body });
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.error.issues.map((issue: { path: string }) => issue.path), JSON.stringify(body)).toContain(path);
    }
  });

  it('429: retry_after is honoured, the next attempt is not earlier', async () => {
    const key = await newTenant('flood');
    const chatId = newChatId();
    const channelId = await linkChat(key, chatId);
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    await standIn('/script', { method: 'sendMessage', chatId, errorCode: 429, description: 'Too Many Requests: retry after 30', retryAfter: 30 });
    const before = Date.now();
    const tested = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(tested.body.delivery).toMatchObject({ status: 'pending', attempts: 1 });
    expect(tested.body.delivery.lastError).toContain('429');
    expect(Date.parse(tested.body.delivery.nextAttemptAt)).toBeGreaterThanOrEqual(before + 30_000);

    // Due runs before then do not call Telegram again.
    const attempts = (await requests(chatId)).length;
    await tenant.deliverDue();
    await tenant.deliverDue();
    expect((await requests(chatId)).length).toBe(attempts);

    // Once the time has passed (moved forward here), it is delivered.
    await runInDurableObject(tenant, async (_instance, state) => {
      state.storage.sql.exec("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'pending'");
    });
    // (The tenant also spaces messages to one chat by 1.1 s, counted from the 429 attempt.)
    const [delivered] = await waitFor(
      'the retried delivery',
      async () => {
        await tenant.deliverDue();
        return tenant.deliveriesOfEvent(tested.body.event.id);
      },
      (list) => list[0]?.status === 'delivered',
    );
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 2 });
    expect((await messages(chatId)).at(-1)!.text).toContain('TEST');
  });

  it('messages to one chat are paced: the stand-in\'s 1/s limit is never hit', async () => {
    const key = await newTenant('paced');
    const chatId = newChatId();
    const channelId = await linkChat(key, chatId);
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    // From now on the chat allows one message per second, no burst.
    await standIn(`/chats/${chatId}`, { burst: 1, perSecond: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const first = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    const second = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(first.body.delivery.status).toBe('delivered');
    expect(second.body.delivery).toMatchObject({ status: 'pending', attempts: 0 });
    await waitFor(
      'the paced delivery',
      async () => {
        await tenant.deliverDue();
        return tenant.deliveriesOfEvent(second.body.event.id);
      },
      (list) => list[0]?.status === 'delivered',
    );
    expect((await requests(chatId)).filter((entry) => entry.errorCode === 429)).toEqual([]);
  });

  it('403 (bot blocked) disables the channel with the reason', async () => {
    const key = await newTenant('blocked');
    const chatId = newChatId();
    const channelId = await linkChat(key, chatId);
    await standIn(`/chats/${chatId}`, { blocked: true });
    const tested = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(tested.body.delivery).toMatchObject({ status: 'dead' });
    expect(tested.body.delivery.lastError).toContain('bot was blocked by the user');
    const channel = await api('GET', `/v1/channels/${channelId}`, { token: key });
    expect(channel.body.disabledAt).not.toBeNull();
    expect(channel.body.disabledReason).toBe('Telegram answered 403: Forbidden: bot was blocked by the user');
    expect((await api('GET', '/v1/deliveries?status=dead', { token: key })).body.data[0]).toMatchObject({ channelId, status: 'dead' });

    // Unblocked and linked again: a new channel, and the chat's watches follow it.
    await standIn(`/chats/${chatId}`, { blocked: false });
    const account = '0x2222222222222222222222222222222222222222';
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: tgEnv.TEST_MARKET, account, channels: [channelId] } });
    expect(watch.status).toBe(201);
    const relinked = await linkChat(key, chatId);
    expect(relinked).not.toBe(channelId);
    expect((await api('GET', `/v1/watches/${watch.body.id}`, { token: key })).body.channels).toEqual([relinked]);
  });
});
