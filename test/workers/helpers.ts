import { env, exports } from 'cloudflare:workers';

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

/** Polls every shard once, as their alarms would. */
export async function pollShards(): Promise<void> {
  const { runDurableObjectAlarm } = await import('cloudflare:test');
  const { directoryStub } = await import('../../src/durable/directory');
  const { shardStub } = await import('../../src/durable/shard');
  for (const shard of await directoryStub(testEnv).listShards()) {
    const stub = shardStub(testEnv, shard.name);
    if (!(await runDurableObjectAlarm(stub))) await stub.tick();
  }
}
