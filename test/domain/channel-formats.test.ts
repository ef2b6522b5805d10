import { describe, expect, it } from 'vitest';
import type { StoredTopUpPolicy } from '../../src/config/topup-policy';
import { parseConfig } from '../../src/config/env';
import { renderDiscordMessage, DISCORD_LIMITS } from '../../src/notify/discord-format';
import { classifyDiscordAnswer } from '../../src/notify/discord-sender';
import { eventMetaOf } from '../../src/notify/event-meta';
import type { MonitorEventBody } from '../../src/notify/event-body';
import type { HttpAnswer } from '../../src/notify/http-send';
import { renderNtfyMessage, NTFY_MESSAGE_MAX_BYTES } from '../../src/notify/ntfy-format';
import { classifyNtfyAnswer } from '../../src/notify/ntfy-sender';
import { renderPagerDutyRequest } from '../../src/notify/pagerduty-format';
import { classifyPagerDutyAnswer } from '../../src/notify/pagerduty-sender';
import { messageFor } from '../../src/notify/render';
import { endpointFor, parseDiscordWebhookUrl, parseNtfyServer, parseSlackWebhookUrl } from '../../src/notify/service-urls';
import { renderSlackMessage } from '../../src/notify/slack-format';
import { classifySlackAnswer } from '../../src/notify/slack-sender';
import { buildTopUpEvent } from '../../src/topup/events';
import { handleDiscord } from '../helpers/discord-stand-in';
import { ntfyHandler } from '../helpers/ntfy-stand-in';
import { pagerDutyHandler } from '../helpers/pagerduty-stand-in';
import { handleSlack } from '../helpers/slack-stand-in';
import { alertEventFixture } from '../helpers/fixtures';

/**
 * Discord, Slack, ntfy and PagerDuty renderings and answer rules (pure). Each rendering is
 * also handed to that service's stand-in rules (test/helpers/*-stand-in.ts), so "within the
 * limits" means "accepted by the same checks the workerd tests run against".
 */

const DISCORD_PATH = `/api/webhooks/123456789012345678/${'t'.repeat(68)}`;
const SLACK_PATH = '/services/T0000000/B0000000/xxxxxxxxxxxxxxxxxxxxxxxx';
const json = { 'content-type': 'application/json' };

const absurdLabel = `@everyone <!channel> ${'🚨'.repeat(40)} ${'x'.repeat(60)}`;
const monitorEvent = (type: MonitorEventBody['type']): MonitorEventBody => ({
  id: `evt_monitor_${type}`,
  type,
  createdAt: '2026-11-25T03:12:09.120Z',
  watch: alertEventFixture('vault').watch,
  monitor: { chainId: 1, since: '2026-11-25T03:00:00.000Z', reason: 'stale', lastError: null },
});
const policy: StoredTopUpPolicy = {
  enabled: true, mode: 'supply', asset: '0x0000000000000000000000000000000000000b7c', symbol: 'WBTC', decimals: 8,
  triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '2', cooldownSeconds: 600, dryRun: false,
};
const topUpEvent = buildTopUpEvent({
  type: 'topup.executed', trigger: { watchId: 'w_0123456789abcdef0123', episode: 3, slot: 1 }, watch: alertEventFixture('vault').watch, policy, createdAt: new Date('2026-11-25T03:12:09Z'),
  amount: 28_205_129n, amountNeeded: 28_205_129n, reachesTarget: true, healthFactorBefore: 1_170_000_000_000_000_000n, healthFactorAfter: 1_500_000_100_000_000_000n,
  blockNumber: 19_000_123n, txHash: `0x${'ab'.repeat(32)}`, reason: null, message: 'supplied',
});
const testEvent = { id: 'evt_test', type: 'channel.test', createdAt: '2026-11-25T03:12:09.120Z', channel: { id: 'ch_0', label: 'ops' }, message: 'marginwatch test event: this channel receives alerts.' };
const bodies: unknown[] = [alertEventFixture('vault'), alertEventFixture(absurdLabel, { level: 'ok', type: 'alert.resolved', previousLevel: 'critical', recommendation: null }), monitorEvent('monitor.degraded'), monitorEvent('monitor.recovered'), topUpEvent, testEvent];

const answer = (status: number, text = '', retryAfterMs?: number): HttpAnswer => ({ kind: 'answer', status, text, retryAfterMs });

describe('service URLs', () => {
  it.each([
    ['https://discord.com/api/webhooks/123456789012345678/' + 'a'.repeat(68), true],
    ['https://canary.discordapp.com/api/v10/webhooks/123456789012345678/' + 'a'.repeat(68), true],
    ['https://discord.com.evil.example/api/webhooks/123456789012345678/' + 'a'.repeat(68), false],
    ['https://discord.com:8443/api/webhooks/123456789012345678/' + 'a'.repeat(68), false],
    ['https://discord.com/api/webhooks/123/' + 'a'.repeat(68), false],
    ['http://discord.com/api/webhooks/123456789012345678/' + 'a'.repeat(68), false],
  ])('Discord %s → %s', (url, ok) => {
    expect(parseDiscordWebhookUrl(url).ok).toBe(ok);
  });

  it('masks the secret part of Discord and Slack URLs, and keeps only the path on a stand-in base', () => {
    const discord = parseDiscordWebhookUrl(`https://ptb.discord.com${DISCORD_PATH}`);
    expect(discord).toEqual({ ok: true, url: `https://ptb.discord.com${DISCORD_PATH}`, masked: 'https://ptb.discord.com/api/webhooks/123456789012345678/…' });
    expect(parseSlackWebhookUrl(`https://hooks.slack.com${SLACK_PATH}`)).toMatchObject({ ok: true, masked: 'https://hooks.slack.com/services/T0000000/B0000000/…' });
    expect(parseSlackWebhookUrl(`https://hooks.slack.com.evil.example${SLACK_PATH}`).ok).toBe(false);
    expect(endpointFor(`https://hooks.slack.com${SLACK_PATH}`, 'http://127.0.0.1:9/')).toBe(`http://127.0.0.1:9${SLACK_PATH}`);
    expect(endpointFor(`https://hooks.slack.com${SLACK_PATH}`, undefined)).toBe(`https://hooks.slack.com${SLACK_PATH}`);
  });

  it('CHANNEL_API_BASES (stand-ins) is honoured only with ALLOW_PRIVATE_WEBHOOK_URLS=true; production has none', () => {
    const env = { RPC_URLS: '{"1":"https://rpc.example"}', ADMIN_TOKEN: 'x'.repeat(32), CHANNEL_API_BASES: '{"slack":"http://127.0.0.1:9"}' };
    expect(() => parseConfig(env)).toThrow(/CHANNEL_API_BASES: is for tests and local development only/);
    expect(parseConfig({ ...env, ALLOW_PRIVATE_WEBHOOK_URLS: 'true' }).channelApiBases).toEqual({ slack: 'http://127.0.0.1:9' });
    expect(parseConfig({ ...env, CHANNEL_API_BASES: undefined }).channelApiBases).toEqual({});
    expect(() => parseConfig({ ...env, ALLOW_PRIVATE_WEBHOOK_URLS: 'true', CHANNEL_API_BASES: '{"teams":"http://127.0.0.1:9"}' })).toThrow(/CHANNEL_API_BASES/);
  });

  it('an ntfy server follows the webhook rules for private addresses', () => {
    expect(parseNtfyServer('https://ntfy.example/base/', { allowPrivate: false })).toMatchObject({ ok: true, url: 'https://ntfy.example/base' });
    expect(parseNtfyServer('http://127.0.0.1:8080', { allowPrivate: false }).ok).toBe(false);
    expect(parseNtfyServer('http://127.0.0.1:8080', { allowPrivate: true })).toMatchObject({ ok: true, url: 'http://127.0.0.1:8080' });
  });
});

describe('renderings are accepted by each service\'s rules', () => {
  it.each(bodies.map((body) => [(body as { type: string }).type, body]))('%s', (_type, body) => {
    const model = messageFor(body);
    const meta = eventMetaOf(body);
    const request = (path: string, value: unknown) => ({ method: 'POST', path, headers: json, rawBody: JSON.stringify(value) });
    expect(handleDiscord(request(DISCORD_PATH, renderDiscordMessage(model, meta)))).toHaveProperty('accepted');
    expect(handleSlack(request(SLACK_PATH, renderSlackMessage(model)))).toHaveProperty('accepted');
    expect(ntfyHandler(new Map())(request('/', renderNtfyMessage(model, meta, 'topic')))).toHaveProperty('accepted');
    const pagerDuty = renderPagerDutyRequest(model, meta, 'k'.repeat(32));
    expect(pagerDutyHandler(new Map())(request(pagerDuty.path, pagerDuty.body))).toHaveProperty('accepted');
  });

  it('Discord: a model past every limit is cut to them, the health factor kept, no mention parsed', () => {
    const model = messageFor(alertEventFixture(absurdLabel));
    const huge = { ...model, title: 'T'.repeat(400), headline: 'H'.repeat(5000), facts: [...model.facts, ...Array.from({ length: 40 }, (_, index) => ({ label: `L${index}`.repeat(100), value: 'v'.repeat(2000) }))] };
    const message = renderDiscordMessage(huge, eventMetaOf(alertEventFixture('v')));
    const [embed] = message.embeds;
    expect(Array.from(embed.title)).toHaveLength(DISCORD_LIMITS.title);
    expect(embed.fields[0]).toEqual({ name: 'Health factor', value: '1.0725', inline: true });
    expect(embed.fields.length).toBeLessThanOrEqual(DISCORD_LIMITS.fields);
    expect(message.allowed_mentions).toEqual({ parse: [] });
    expect(handleDiscord({ method: 'POST', path: DISCORD_PATH, headers: json, rawBody: JSON.stringify(message) })).toHaveProperty('accepted');
  });

  it('Slack: user text is escaped, so a label cannot mention a channel or forge a link', () => {
    const message = renderSlackMessage(messageFor(alertEventFixture('<!channel> <https://evil.example|click> & co')));
    const mrkdwn = JSON.stringify([message.text, message.blocks.slice(1)]);
    expect(mrkdwn).not.toContain('<!channel>');
    expect(mrkdwn).not.toContain('<https://evil.example');
    // plain_text is shown as written, never parsed.
    expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'CRITICAL · <!channel> <https://evil.example|click> & co', emoji: true } });
    expect(message.text).toContain('&lt;!channel&gt;');
  });

  it('ntfy: priority follows the alert level, and a message stays under 4096 bytes', () => {
    const priorityOf = (level: 'ok' | 'warning' | 'margin_call' | 'critical' | 'liquidatable') => renderNtfyMessage(messageFor(alertEventFixture('v', { level })), eventMetaOf(alertEventFixture('v', { level })), 't').priority;
    expect((['ok', 'warning', 'margin_call', 'critical', 'liquidatable'] as const).map(priorityOf)).toEqual([3, 3, 4, 5, 5]);
    expect(renderNtfyMessage(messageFor(monitorEvent('monitor.degraded')), eventMetaOf(monitorEvent('monitor.degraded')), 't')).toMatchObject({ priority: 4, tags: ['warning'] });
    const long = renderNtfyMessage({ ...messageFor(alertEventFixture('v')), headline: '€'.repeat(3000) }, eventMetaOf(alertEventFixture('v')), 't');
    expect(new TextEncoder().encode(long.message).byteLength).toBeLessThanOrEqual(NTFY_MESSAGE_MAX_BYTES);
  });

  it('PagerDuty: an alert about one of an account\'s several positions has an incident of its own per position, triggered and resolved apart', () => {
    const render = (body: unknown) => renderPagerDutyRequest(messageFor(body), eventMetaOf(body), 'k'.repeat(32));
    const subPosition = { id: '3', account: '0x1234567890abcdef1234567890abcdef12345603' as const };
    expect(render(alertEventFixture('v', { subPosition }))).toMatchObject({ body: { event_action: 'trigger', dedup_key: 'w_0123456789abcdef0123/position/3' } });
    expect(render(alertEventFixture('v', { type: 'alert.resolved', level: 'ok', subPosition }))).toMatchObject({ body: { event_action: 'resolve', dedup_key: 'w_0123456789abcdef0123/position/3' } });
    expect(messageFor(alertEventFixture('v', { subPosition, watch: { ...alertEventFixture('v').watch, protocol: 'euler-v2' } })).title).toBe('CRITICAL · v · sub-account 3');
    expect(messageFor(alertEventFixture('v', { subPosition })).facts).toContainEqual({ label: 'Position', value: 'position 3 (0x1234…5603), alerting on its own' });
  });

  it('PagerDuty: one incident per watch for alerts, another for monitor health, change events for top-ups', () => {
    const render = (body: unknown) => renderPagerDutyRequest(messageFor(body), eventMetaOf(body), 'k'.repeat(32));
    const critical = render(alertEventFixture('v'));
    expect(critical).toMatchObject({ path: '/v2/enqueue', body: { event_action: 'trigger', dedup_key: 'w_0123456789abcdef0123', payload: { severity: 'critical', source: 'eip155:1:0x1234567890abcdef1234567890abcdef12345678' } } });
    expect(render(alertEventFixture('v', { type: 'alert.resolved', level: 'ok' }))).toMatchObject({ body: { event_action: 'resolve', dedup_key: 'w_0123456789abcdef0123' } });
    expect(render(alertEventFixture('v', { type: 'alert.resolved', level: 'ok' })).body).not.toHaveProperty('payload');
    expect(render(monitorEvent('monitor.degraded'))).toMatchObject({ body: { event_action: 'trigger', dedup_key: 'w_0123456789abcdef0123/monitor', payload: { severity: 'error' } } });
    expect(render(monitorEvent('monitor.recovered'))).toMatchObject({ body: { event_action: 'resolve', dedup_key: 'w_0123456789abcdef0123/monitor' } });
    expect(render(topUpEvent)).toMatchObject({ path: '/v2/change/enqueue', body: { payload: { summary: expect.stringContaining('TOP-UP SENT · vault') } } });
    expect(render(testEvent)).toMatchObject({ body: { event_action: 'trigger', dedup_key: 'channel.test/evt_test', payload: { severity: 'info' } } });
  });
});

describe('what an answer means', () => {
  it.each([
    ['Discord 204', classifyDiscordAnswer(answer(204)), { kind: 'delivered' }],
    ['Discord 404 Unknown Webhook', classifyDiscordAnswer(answer(404, '{"message": "Unknown Webhook", "code": 10015}')), { kind: 'gone', status: 404 }],
    ['Discord 401 Invalid Webhook Token', classifyDiscordAnswer(answer(401, '{"message": "Invalid Webhook Token", "code": 50027}')), { kind: 'gone', status: 401 }],
    ['Discord 400 Invalid Form Body', classifyDiscordAnswer(answer(400, '{"code": 50035}')), { kind: 'failed' }],
    ['Discord 429 Retry-After', classifyDiscordAnswer(answer(429, '', 30_000)), { kind: 'retry', status: 429, retryAfterMs: 30_000 }],
    ['Discord 302', classifyDiscordAnswer(answer(302)), { kind: 'retry', status: 302 }],
    ['Slack 200 ok', classifySlackAnswer(answer(200, 'ok')), { kind: 'delivered' }],
    ['Slack 404 no_service', classifySlackAnswer(answer(404, 'no_service')), { kind: 'gone', status: 404 }],
    ['Slack 404 channel_not_found', classifySlackAnswer(answer(404, 'channel_not_found')), { kind: 'gone' }],
    ['Slack 403 invalid_token', classifySlackAnswer(answer(403, 'invalid_token')), { kind: 'gone' }],
    ['Slack 400 invalid_payload', classifySlackAnswer(answer(400, 'invalid_payload')), { kind: 'failed' }],
    ['Slack 500', classifySlackAnswer(answer(500, 'rollup_error')), { kind: 'retry', status: 500 }],
    ['ntfy 401', classifyNtfyAnswer(answer(401, '{"code":40101}')), { kind: 'gone', status: 401 }],
    ['ntfy 413', classifyNtfyAnswer(answer(413)), { kind: 'failed' }],
    ['ntfy 429', classifyNtfyAnswer(answer(429)), { kind: 'retry', status: 429 }],
    ['PagerDuty 202', classifyPagerDutyAnswer(answer(202)), { kind: 'delivered' }],
    ['PagerDuty 400', classifyPagerDutyAnswer(answer(400, 'Event object is invalid')), { kind: 'failed' }],
    ['PagerDuty 429', classifyPagerDutyAnswer(answer(429)), { kind: 'retry', status: 429 }],
    ['network', classifyPagerDutyAnswer({ kind: 'network', reason: 'network error: connection refused' }), { kind: 'retry', reason: 'PagerDuty: network error: connection refused' }],
  ])('%s', (_name, outcome, expected) => {
    expect(outcome).toMatchObject(expected);
  });
});
