import { env, exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';

export const ADMIN = 'test-admin-token-0123456789abcdefghijklmnop';

type TestEnv = Env & { TEST_MARKET: string; TEST_RECEIVER_URL: string; TEST_CONTROL_URL: string };
export const testEnv = env as unknown as TestEnv;

export type ApiResponse = { status: number; body: any; headers: Headers };

/**
 * The client address requests of this test file come from (Cloudflare sets cf-connecting-ip):
 * one per file, so each file is its own client for the per-IP rate limit, as separate
 * users would be. Tests of that limit pass their own `clientIp`.
 */
const FILE_CLIENT_IP = `198.51.100.${1 + Math.floor(Math.random() * 254)}`;

/** Calls the worker's own fetch handler, the way an HTTP client would. */
export async function api(method: string, path: string, options: { token?: string; body?: unknown; rawBody?: string; contentType?: string; clientIp?: string } = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { 'cf-connecting-ip': options.clientIp ?? FILE_CLIENT_IP };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await (exports as unknown as { default: Fetcher }).default.fetch(`http://marginwatch.test${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // keep text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

export async function newTenant(label = 'test'): Promise<string> {
  const response = await api('POST', '/v1/keys', { token: ADMIN, body: { label } });
  if (response.status !== 201) throw new Error(`could not create a tenant: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.key as string;
}

/** The owner grants a tenant live top-ups worth `maxUsdPerDay` per rolling 24 h. */
export async function grantTopUps(key: string, maxUsdPerDay: string): Promise<void> {
  const response = await api('PUT', `/v1/admin/tenants/${tenantIdOf(key)}/topup`, { token: ADMIN, body: { enabled: true, maxUsdPerDay } });
  if (response.status !== 200) throw new Error(`could not grant top-ups: ${response.status} ${JSON.stringify(response.body)}`);
}

/** Asks the Node-side control server (global setup) to act on the chain or the receiver. */
export async function control(path: string, body: unknown = {}, method = 'POST'): Promise<any> {
  const response = await fetch(`${testEnv.TEST_CONTROL_URL}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: method === 'GET' ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`control ${path} failed: ${JSON.stringify(json)}`);
  return json;
}

/** The tenant id inside a tenant API key (`mwk_<16 hex>_…` belongs to `t_<16 hex>`). */
export function tenantIdOf(key: string): string {
  return `t_${key.slice(4, 20)}`;
}

/**
 * Polls every shard once, as their alarms would, at a new block: the local chain only makes
 * blocks for transactions, and the alert machine counts each block once toward confirmation.
 */
export async function pollShards(): Promise<void> {
  await control('/mine');
  const { runDurableObjectAlarm } = await import('cloudflare:test');
  const { directoryStub, shardStub } = await import('../../src/durable/stubs');
  for (const shard of await directoryStub(testEnv).listShards()) {
    const stub = shardStub(testEnv, shard.name);
    if (!(await runDurableObjectAlarm(stub))) await stub.tick();
  }
}

/**
 * Creates an email channel and confirms it the way its address's owner would: reads the
 * confirmation mail the worker sent to the SMTP test server and posts its code.
 */
export async function confirmedEmailChannel(key: string, to: string, label = 'inbox'): Promise<string> {
  const created = await api('POST', '/v1/channels', { token: key, body: { type: 'email', to, label } });
  if (created.status !== 201) throw new Error(`could not create an email channel: ${created.status} ${JSON.stringify(created.body)}`);
  const channelId = created.body.id as string;
  const confirmed = await api('POST', `/v1/channels/${channelId}/confirm`, { token: key, body: { code: await confirmationCodeFor(channelId, to) } });
  if (confirmed.status !== 200) throw new Error(`could not confirm ${channelId}: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
  return channelId;
}

/** The code of the latest confirmation mail for a channel, as the SMTP test server received it. */
export async function confirmationCodeFor(channelId: string, to: string): Promise<string> {
  const controlUrl = (testEnv as unknown as { TEST_SMTP_CONTROL_URL: string }).TEST_SMTP_CONTROL_URL;
  const messages = (await (await fetch(`${controlUrl}/messages?to=${encodeURIComponent(to)}`)).json()) as Array<{ headers: Record<string, string> }>;
  const mail = messages.filter((message) => message.headers['x-marginwatch-confirmation'] === channelId).at(-1);
  const code = mail && /Confirmation code: ([A-Z0-9]{5}-[A-Z0-9]{5})/.exec(mail.headers.subject ?? '')?.[1];
  if (!code) throw new Error(`no confirmation mail for ${channelId} at ${to}`);
  return code;
}

/** A message the worker sent to confirm an address, not an alert. */
export function isConfirmationMail(message: { headers: Record<string, string> }): boolean {
  return message.headers['x-marginwatch-confirmation'] !== undefined;
}

/**
 * Links a Telegram chat to a tenant the way a user does (a link code, then /start <code>
 * sent from the chat through the stand-in and the worker's webhook); returns its channel id.
 */
export async function linkTelegramChat(key: string, chatId: string, options: { chatType?: string; title?: string } = {}): Promise<string> {
  const controlUrl = (testEnv as unknown as { TEST_TELEGRAM_CONTROL_URL: string }).TEST_TELEGRAM_CONTROL_URL;
  const issued = await api('POST', '/v1/telegram/link', { token: key });
  if (issued.status !== 201) throw new Error(`could not issue a link code: ${issued.status} ${JSON.stringify(issued.body)}`);
  const built = (await (await fetch(`${controlUrl}/updates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chatId, text: `/start ${issued.body.code}`, ...options }) })).json()) as { update: unknown };
  const delivered = await postTelegramUpdate(built.update);
  if (delivered.status !== 200) throw new Error(`the webhook refused /start: ${delivered.status}`);
  const channels = await api('GET', '/v1/channels', { token: key });
  const channel = (channels.body.data as Array<{ id: string; type: string; chatId?: string; disabledAt: string | null }>).filter((entry) => entry.type === 'telegram' && entry.chatId === chatId && entry.disabledAt === null).at(-1);
  if (!channel) throw new Error(`chat ${chatId} did not link`);
  return channel.id;
}

/** POSTs an update (built by the stand-in) to the worker's webhook with the deployment's secret token, as Telegram does. */
export function postTelegramUpdate(update: unknown): Promise<Response> {
  const secret = (testEnv as unknown as { TELEGRAM_WEBHOOK_SECRET: string }).TELEGRAM_WEBHOOK_SECRET;
  return (exports as unknown as { default: Fetcher }).default.fetch('https://marginwatch.test/telegram/webhook', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
    body: JSON.stringify(update),
  });
}

/** GET (or POST `body` to) a JSON URL of a test server on loopback; throws on a non-2xx answer. */
export async function getJson(url: string, body?: unknown): Promise<any> {
  const response = await fetch(url, body === undefined ? undefined : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await response.json();
  if (!response.ok) throw new Error(`${url} failed: ${JSON.stringify(json)}`);
  return json;
}

/**
 * The running instance of a Durable Object sees `overrides` on top of its env until restored
 * (or until it is evicted: a new instance reads the real env).
 */
export async function swapObjectEnv<O extends Rpc.DurableObjectBranded>(stub: DurableObjectStub<O>, overrides: Record<string, string>): Promise<() => Promise<void>> {
  let original: unknown;
  await runInDurableObject(stub, (instance: O) => {
    const target = instance as unknown as { env: Record<string, unknown> };
    original = target.env;
    target.env = { ...target.env, ...overrides };
  });
  return () =>
    runInDurableObject(stub, (instance: O) => {
      (instance as unknown as { env: unknown }).env = original;
    });
}

/** Runs `fn` while the object's running instance sees `overrides` (see swapObjectEnv). */
export async function withObjectEnv<O extends Rpc.DurableObjectBranded, T>(stub: DurableObjectStub<O>, overrides: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const restore = await swapObjectEnv(stub, overrides);
  try {
    return await fn();
  } finally {
    await restore();
  }
}
