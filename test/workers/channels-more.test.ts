import { tenantStub } from '../../src/durable/stubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';

import { api, control, getJson, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';

/**
 * Discord, Slack, ntfy and PagerDuty channels end to end inside workerd: price moves on the
 * local chain, the shard's alert machine, the tenant's outbox, and each service's local
 * stand-in (test/helpers/*-stand-in.ts), which refuses any request the real service would
 * and records what it accepted. Discord, Slack and PagerDuty channels keep their real URLs;
 * CHANNEL_API_BASES (test-only, needs ALLOW_PRIVATE_WEBHOOK_URLS) sends them to the stand-ins.
 */

type ChannelsEnv = typeof testEnv & { TEST_DISCORD_URL: string; TEST_SLACK_URL: string; TEST_NTFY_URL: string; TEST_PAGERDUTY_URL: string };
const channelsEnv = testEnv as ChannelsEnv;

type Recorded = { method: string; path: string; headers: Record<string, string>; body: any; status: number; at: number };
type Incident = { dedupKey: string; status: string; severity: string; summaries: string[]; actions: string[] };

let serial = Math.floor(Math.random() * 1e6);
/** A fresh Discord webhook URL (its id, a snowflake, is the test's own). */
function discordUrl(host = 'discord.com'): string {
  serial += 1;
  return `https://${host}/api/webhooks/${String(100_000_000_000_000_000n + BigInt(serial))}/${'Tk'.repeat(34)}`;
}
function slackUrl(): string {
  serial += 1;
  return `https://hooks.slack.com/services/T0TEST${serial}/B0TEST${serial}/${'x'.repeat(24)}`;
}
function ntfyTopic(): string {
  serial += 1;
  return `mw-alerts-${serial}`;
}
function routingKey(): string {
  serial += 1;
  return `R${String(serial).padStart(31, '0')}`;
}

/** What a stand-in recorded for one channel: by its webhook path, ntfy topic or PagerDuty routing key. */
async function requestsTo(base: string, channelKey: string): Promise<Recorded[]> {
  return ((await getJson(`${base}/__control/requests`)) as Recorded[]).filter((request) => request.path === channelKey || request.body?.topic === channelKey || request.body?.routing_key === channelKey);
}

async function script(base: string, reply: { status: number; headers?: Record<string, string>; body?: string }): Promise<void> {
  await getJson(`${base}/__control/script`, reply);
}

/** The path of a service URL, as the stand-in sees the request. */
function pathOf(url: string): string {
  return new URL(url).pathname;
}

async function createChannel(key: string, body: Record<string, unknown>): Promise<{ id: string; body: any }> {
  const created = await api('POST', '/v1/channels', { token: key, body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { id: created.body.id as string, body: created.body };
}

type Tenant = ReturnType<typeof tenantStub>;

/** Time passes until nothing is pending: every retry and paced send is made due, then sent. */
async function settle(tenant: Tenant): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    await runInDurableObject(tenant, (_instance, state) => {
      state.storage.sql.exec("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'pending'");
    });
    await tenant.deliverDue();
    if ((await tenant.listDeliveries('pending', 50)).data.length === 0) return;
    if (Date.now() > deadline) throw new Error(`deliveries still pending: ${JSON.stringify((await tenant.listDeliveries('pending', 50)).data)}`);
    // Slack and Discord channels are paced (≈1/s per webhook): wait for the next allowed send.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function movePrice(price: string, polls = 2): Promise<void> {
  await control('/price', { symbol: 'WETH', price });
  for (let poll = 0; poll < polls; poll++) await pollShards();
}

beforeAll(async () => {
  await control('/price', { symbol: 'WETH', price: '2000' });
});

afterAll(async () => {
  await control('/price', { symbol: 'WETH', price: '2000' });
  await pollShards();
});

describe('alerts through Discord, Slack, ntfy and PagerDuty', () => {
  it('a watch going warning → margin_call → resolved reaches each service once per event, in order, in its own format', async () => {
    const key = await newTenant('four-services');
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    const discord = discordUrl();
    const slack = slackUrl();
    const topic = ntfyTopic();
    const ntfyToken = `tk_${'a1'.repeat(15)}`;
    await getJson(`${channelsEnv.TEST_NTFY_URL}/__control/protect`, { topic, token: ntfyToken });
    const pdKey = routingKey();
    const channels = [
      await createChannel(key, { type: 'discord', url: discord, label: 'discord ops' }),
      await createChannel(key, { type: 'slack', url: slack, label: 'slack ops' }),
      await createChannel(key, { type: 'ntfy', server: channelsEnv.TEST_NTFY_URL, topic, token: ntfyToken, label: 'phone' }),
      await createChannel(key, { type: 'pagerduty', routingKey: pdKey, label: 'on-call' }),
    ];
    const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '10000' });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: 'four services', channels: channels.map((channel) => channel.id) } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    const watchId = watch.body.id as string;
    await pollShards();

    // PagerDuty is down for the first attempt: the warning waits in the outbox, and the
    // margin call queues behind it instead of overtaking it.
    await script(channelsEnv.TEST_PAGERDUTY_URL, { status: 503, body: '{"status":"unavailable"}' });
    await movePrice('1750'); // HF 1.4437: warning
    await tenant.deliverDue();
    const [failedOnce] = (await tenant.listDeliveries('pending', 10)).data.filter((delivery) => delivery.channelId === channels[3]!.id);
    expect(failedOnce).toMatchObject({ attempts: 1 });
    expect(failedOnce!.lastError).toContain('PagerDuty answered HTTP 503');
    // The backoff's first delay is a random 0–5 s and the tenant's alarm retries on its own: hold
    // the retry back until settle() below, so the check that nothing overtakes it is not a race.
    await runInDurableObject(tenant, (_instance, state) => {
      state.storage.sql.exec("UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND channel_id = ?", Date.now() + 3_600_000, channels[3]!.id);
    });
    await movePrice('1450'); // HF 1.1962: margin call
    await tenant.deliverDue();
    expect((await requestsTo(channelsEnv.TEST_PAGERDUTY_URL, pdKey)).map((request) => request.status)).toEqual([503]);
    await settle(tenant);
    await movePrice('2000'); // HF 1.65: resolved
    await settle(tenant);

    const levels = ['WARNING', 'MARGIN CALL', 'RESOLVED'];

    const toDiscord = await requestsTo(channelsEnv.TEST_DISCORD_URL, pathOf(discord));
    expect(toDiscord.map((request) => request.status)).toEqual([204, 204, 204]);
    expect(toDiscord.map((request) => request.body.embeds[0].title)).toEqual(levels.map((level) => `${level} · four services`));
    for (const request of toDiscord) {
      expect(request.body.allowed_mentions).toEqual({ parse: [] });
      expect(request.body.embeds[0].fields[0].name).toBe('Health factor');
      expect(request.body.content).toContain(request.body.embeds[0].title);
    }
    expect(toDiscord[1]!.body.embeds[0].description).toMatch(/→ Supply [0-9.]+ WETH/);
    expect(new Set(toDiscord.map((request) => request.body.embeds[0].color)).size).toBe(3);

    const toSlack = await requestsTo(channelsEnv.TEST_SLACK_URL, pathOf(slack));
    expect(toSlack.map((request) => request.status)).toEqual([200, 200, 200]);
    expect(toSlack.map((request) => request.body.blocks[0].text.text)).toEqual(levels.map((level) => `${level} · four services`));
    expect(toSlack[0]!.body.text).toMatch(/^WARNING · four services — Health factor 1\.4\d{3}/);

    const toNtfy = await requestsTo(channelsEnv.TEST_NTFY_URL, topic);
    expect(toNtfy.map((request) => request.status)).toEqual([200, 200, 200]);
    expect(toNtfy.map((request) => request.body.title)).toEqual(levels.map((level) => `${level} · four services`));
    expect(toNtfy.map((request) => request.body.priority)).toEqual([3, 4, 3]);
    expect(toNtfy.map((request) => request.body.tags)).toEqual([['warning'], ['warning'], ['white_check_mark']]);
    expect(toNtfy.every((request) => request.headers.authorization === `Bearer ${ntfyToken}`)).toBe(true);
    expect(toNtfy[0]!.body.message).toMatch(/Health factor: 1\.4\d{3}/);

    const toPagerDuty = (await requestsTo(channelsEnv.TEST_PAGERDUTY_URL, pdKey)).filter((request) => request.status === 202);
    expect(toPagerDuty.map((request) => [request.path, request.body.event_action, request.body.dedup_key, request.body.payload?.severity ?? null])).toEqual([
      ['/v2/enqueue', 'trigger', watchId, 'warning'],
      ['/v2/enqueue', 'trigger', watchId, 'error'],
      ['/v2/enqueue', 'resolve', watchId, null],
    ]);
    expect(toPagerDuty[0]!.body.payload).toMatchObject({ source: `eip155:31337:${account}`, component: 'aave-v3', class: 'alert.triggered' });
    expect(toPagerDuty[0]!.body.payload.custom_details['Health factor']).toMatch(/^1\.4\d{3}$/);
    const incidents = ((await getJson(`${channelsEnv.TEST_PAGERDUTY_URL}/__control/incidents`)) as Incident[]).filter((incident) => incident.dedupKey === watchId);
    expect(incidents).toEqual([expect.objectContaining({ status: 'resolved', severity: 'error', actions: ['trigger', 'trigger', 'resolve'] })]);

    // The history agrees: every delivery of the three events is delivered, the retried one after 2 attempts.
    const history = await api('GET', `/v1/watches/${watchId}/alerts`, { token: key });
    expect(history.body.data.map((event: { type: string }) => event.type)).toEqual(['alert.resolved', 'alert.escalated', 'alert.triggered']);
    for (const event of history.body.data) expect(event.deliveries.map((delivery: { status: string }) => delivery.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    const warningToPagerDuty = history.body.data[2].deliveries.find((delivery: { channelId: string }) => delivery.channelId === channels[3]!.id);
    expect(warningToPagerDuty.attempts).toBe(2);
  });
});

describe('creating channels', () => {
  it('refuses hosts other than the service\'s own, and bad fields, with a 400 naming the field', async () => {
    const key = await newTenant('bad-input');
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ type: 'discord', url: discordUrl('evil.example') }, 'url', 'Discord webhook host'],
      [{ type: 'discord', url: discordUrl('discord.com.evil.example') }, 'url', 'Discord webhook host'],
      [{ type: 'discord', url: discordUrl().replace('https:', 'http:') }, 'url', 'Discord webhook URL'],
      [{ type: 'discord', url: `${discordUrl()}?wait=true` }, 'url', 'Discord webhook URL'],
      [{ type: 'discord', url: 'https://discord.com/channels/1/2' }, 'url', 'Discord webhook URL of the form'],
      [{ type: 'discord', url: `${testEnv.TEST_RECEIVER_URL}api/webhooks/1/2` }, 'url', 'Discord webhook'],
      [{ type: 'slack', url: slackUrl().replace('hooks.slack.com', 'hooks.slack.com.evil.example') }, 'url', 'hooks.slack.com'],
      [{ type: 'slack', url: 'https://hooks.slack.com/triggers/T1/B2/abc' }, 'url', 'incoming-webhook URL of the form'],
      [{ type: 'slack', url: 'https://user:pass@hooks.slack.com/services/T0000000/B0000000/xxxxxxxxxxxxxxxxxxxxxxxx' }, 'url', 'Slack'],
      [{ type: 'slack' }, 'url', 'string'],
      [{ type: 'ntfy', topic: 'two words' }, 'topic', 'ntfy topic'],
      [{ type: 'ntfy', server: 'ftp://ntfy.example', topic: 'ok' }, 'server', 'https'],
      [{ type: 'ntfy', server: 'https://ntfy.example/?x=1', topic: 'ok' }, 'server', 'without query'],
      [{ type: 'ntfy', topic: 'ok', token: 'password' }, 'token', 'access token'],
      [{ type: 'pagerduty', routingKey: 'short' }, 'routingKey', '32-character'],
      [{ type: 'pagerduty' }, 'routingKey', 'is required'],
      [{ type: 'pagerduty', routing_key: 'short' }, 'routing_key', '32-character'],
      [{ type: 'pagerduty', routingKey: routingKey(), routing_key: routingKey() }, 'routing_key', 'not both'],
      [{ type: 'pagerduty', routingKey: routingKey(), region: 'ap' }, 'region', '"us"'],
      [{ type: 'pagerduty', routingKey: routingKey(), url: 'https://x.example' }, '(body)', ''],
      [{ type: 'carrier-pigeon' }, 'type', 'pagerduty'],
    ];
    for (const [body, path, words] of cases) {
      const refused = await api('POST', '/v1/channels', { token: key, body });
      expect(refused.status, JSON.stringify(body)).toBe(400);
      const issue = (refused.body.error.issues as Array<{ path: string; message: string }>).find((entry) => entry.path === path);
      expect(issue, `${JSON.stringify(body)} → ${JSON.stringify(refused.body.error.issues)}`).toBeDefined();
      expect(issue!.message, JSON.stringify(body)).toContain(words);
    }
    expect((await api('GET', '/v1/channels', { token: key })).body.data).toEqual([]);
  });

  it('never returns a credential: Discord and Slack URLs are masked, the ntfy token and PagerDuty routing key are not shown', async () => {
    const key = await newTenant('secrets');
    const discord = discordUrl('canary.discordapp.com');
    const slack = slackUrl();
    const ntfyToken = `tk_${'z9'.repeat(15)}`;
    const pdKey = routingKey();
    const created = [
      await createChannel(key, { type: 'discord', url: discord }),
      await createChannel(key, { type: 'slack', url: slack }),
      await createChannel(key, { type: 'ntfy', server: `${channelsEnv.TEST_NTFY_URL}/`, topic: ntfyTopic(), token: ntfyToken }),
      await createChannel(key, { type: 'pagerduty', routingKey: pdKey, region: 'eu' }),
    ];
    const [discordId, slackSecretPart] = [discord.split('/').at(-2), slack.split('/').at(-1)];
    expect(created[0]!.body).toMatchObject({ type: 'discord', url: `https://canary.discordapp.com/api/webhooks/${discordId}/…` });
    expect(created[1]!.body.url).toMatch(/^https:\/\/hooks\.slack\.com\/services\/T0TEST\d+\/B0TEST\d+\/…$/);
    expect(created[2]!.body).toMatchObject({ type: 'ntfy', server: channelsEnv.TEST_NTFY_URL, tokenSet: true });
    expect(created[3]!.body).toMatchObject({ type: 'pagerduty', region: 'eu', routingKeyHint: `…${pdKey.slice(-4)}` });
    const shown = JSON.stringify([created.map((channel) => channel.body), (await api('GET', '/v1/channels', { token: key })).body, ...(await Promise.all(created.map((channel) => api('GET', `/v1/channels/${channel.id}`, { token: key })))).map((read) => read.body)]);
    for (const secret of [discord.split('/').at(-1)!, slackSecretPart!, ntfyToken, pdKey]) expect(shown).not.toContain(secret);
    expect(created.every((channel) => channel.body.secret === undefined)).toBe(true);
  });
});

describe('send test', () => {
  it('each service receives the test event, and the API reports it delivered', async () => {
    const key = await newTenant('send-test');
    const discord = discordUrl('ptb.discord.com');
    const slack = slackUrl();
    const topic = ntfyTopic();
    const pdKey = routingKey();
    const pdKeySnake = routingKey();
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ type: 'discord', url: discord, label: 'test discord' }, channelsEnv.TEST_DISCORD_URL, pathOf(discord)],
      [{ type: 'slack', url: slack, label: 'test slack' }, channelsEnv.TEST_SLACK_URL, pathOf(slack)],
      [{ type: 'ntfy', server: channelsEnv.TEST_NTFY_URL, topic, label: 'test ntfy' }, channelsEnv.TEST_NTFY_URL, topic],
      [{ type: 'pagerduty', routingKey: pdKey, label: 'test pagerduty' }, channelsEnv.TEST_PAGERDUTY_URL, pdKey],
      // PagerDuty's own field name works the same.
      [{ type: 'pagerduty', routing_key: pdKeySnake, label: 'test pagerduty routing_key' }, channelsEnv.TEST_PAGERDUTY_URL, pdKeySnake],
    ];
    for (const [body, base, pathPart] of cases) {
      const channel = await createChannel(key, body);
      const tested = await api('POST', `/v1/channels/${channel.id}/test`, { token: key });
      expect(tested.status).toBe(202);
      expect(tested.body.delivery, String(body.type)).toMatchObject({ status: 'delivered', attempts: 1 });
      const [received, ...more] = await requestsTo(base, pathPart);
      expect(more).toEqual([]);
      expect(JSON.stringify(received!.body), String(body.type)).toContain(`TEST · ${String(body.label)}`);
    }
    const [test] = await requestsTo(channelsEnv.TEST_PAGERDUTY_URL, pdKey);
    expect(test!.body).toMatchObject({ event_action: 'trigger', payload: { severity: 'info', class: 'channel.test' } });
    const ntfyTest = (await requestsTo(channelsEnv.TEST_NTFY_URL, topic))[0]!;
    expect(ntfyTest.headers.authorization).toBeUndefined();
    expect(ntfyTest.body.priority).toBe(3);
  });
});

describe('what each service\'s answer does to a channel', () => {
  async function sendTest(key: string, body: Record<string, unknown>) {
    const channel = await createChannel(key, body);
    const tested = await api('POST', `/v1/channels/${channel.id}/test`, { token: key });
    const read = await api('GET', `/v1/channels/${channel.id}`, { token: key });
    return { delivery: tested.body.delivery, channel: read.body };
  }

  it('Discord 404 Unknown Webhook and Slack no_service / channel_not_found disable the channel with the service\'s reason', async () => {
    const key = await newTenant('gone');
    await script(channelsEnv.TEST_DISCORD_URL, { status: 404, headers: { 'content-type': 'application/json' }, body: '{"message": "Unknown Webhook", "code": 10015}' });
    const discord = await sendTest(key, { type: 'discord', url: discordUrl() });
    expect(discord.delivery).toMatchObject({ status: 'dead', attempts: 1 });
    expect(discord.channel.disabledReason).toContain('Discord answered HTTP 404');
    expect(discord.channel.disabledReason).toContain('Unknown Webhook');

    for (const [status, code] of [[404, 'no_service'], [404, 'channel_not_found'], [410, 'channel_is_archived']] as const) {
      await script(channelsEnv.TEST_SLACK_URL, { status, headers: { 'content-type': 'text/html' }, body: code });
      const slack = await sendTest(key, { type: 'slack', url: slackUrl() });
      expect(slack.delivery, code).toMatchObject({ status: 'dead' });
      expect(slack.channel.disabledReason, code).toContain(`Slack answered HTTP ${status}: ${code}`);
    }
    // A disabled channel refuses further tests and receives no alerts.
    const disabled = (await api('GET', '/v1/channels', { token: key })).body.data[0];
    expect((await api('POST', `/v1/channels/${disabled.id}/test`, { token: key })).status).toBe(409);
  });

  it('ntfy answers a wrong access token with 401: the channel is disabled; no token on a protected topic is 403', async () => {
    const key = await newTenant('ntfy-auth');
    const topic = ntfyTopic();
    await getJson(`${channelsEnv.TEST_NTFY_URL}/__control/protect`, { topic, token: `tk_${'r'.repeat(29)}` });
    const wrong = await sendTest(key, { type: 'ntfy', server: channelsEnv.TEST_NTFY_URL, topic, token: `tk_${'w'.repeat(29)}` });
    expect(wrong.delivery).toMatchObject({ status: 'dead' });
    expect(wrong.channel.disabledReason).toContain('ntfy answered HTTP 401');
    const none = await sendTest(key, { type: 'ntfy', server: channelsEnv.TEST_NTFY_URL, topic });
    expect(none.channel.disabledReason).toContain('ntfy answered HTTP 403');
    expect(JSON.stringify([wrong, none])).not.toContain('w'.repeat(29));
  });

  it('PagerDuty 400 invalid event is a dead letter with PagerDuty\'s reason; the channel stays on', async () => {
    const key = await newTenant('pd-invalid');
    await script(channelsEnv.TEST_PAGERDUTY_URL, { status: 400, headers: { 'content-type': 'application/json' }, body: '{"status":"invalid event","message":"Event object is invalid","errors":["Length of \'routing_key\' is incorrect"]}' });
    const result = await sendTest(key, { type: 'pagerduty', routingKey: routingKey() });
    expect(result.delivery).toMatchObject({ status: 'dead', attempts: 1 });
    expect(result.delivery.lastError).toContain('PagerDuty answered HTTP 400');
    expect(result.delivery.lastError).toContain('Event object is invalid');
    expect(result.channel.disabledAt).toBeNull();
    const dead = await api('GET', '/v1/deliveries?status=dead', { token: key });
    expect(dead.body.data[0]).toMatchObject({ channelId: result.channel.id, status: 'dead' });
  });

  it('429 with Retry-After (Discord, Slack): retried, not before the time the service asked for', async () => {
    const key = await newTenant('rate-limited');
    for (const [type, base, url] of [['discord', channelsEnv.TEST_DISCORD_URL, discordUrl()], ['slack', channelsEnv.TEST_SLACK_URL, slackUrl()]] as const) {
      await script(base, { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '30' }, body: '{"message": "You are being rate limited.", "retry_after": 30, "global": false}' });
      const before = Date.now();
      const result = await sendTest(key, { type, url });
      expect(result.delivery, type).toMatchObject({ status: 'pending', attempts: 1 });
      expect(Date.parse(result.delivery.nextAttemptAt), type).toBeGreaterThanOrEqual(before + 30_000);
      expect(result.channel.disabledAt).toBeNull();
    }
    // When the time comes, the retry goes through.
    await settle(tenantStub(testEnv, tenantIdOf(key)));
    const delivered = await api('GET', '/v1/deliveries?status=delivered', { token: key });
    expect(delivered.body.data).toHaveLength(2);
  });
});
