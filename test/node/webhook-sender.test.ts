import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/lib/errors';
import { generateWebhookSecret, sendWebhook, WEBHOOK_USER_AGENT } from '../../src/notify/webhook-sender';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

describe('sendWebhook against a real receiver', () => {
  let receiver: WebhookReceiver;
  let secret: string;
  let seq = 0;

  beforeEach(async () => {
    secret = generateWebhookSecret();
    receiver = await startWebhookReceiver({ secret });
  });

  afterEach(async () => {
    await receiver.stop();
  });

  const event = (overrides: { eventId?: string; body?: string } = {}) => {
    seq += 1;
    const eventId = overrides.eventId ?? `evt_test_${seq}`;
    return {
      url: `${receiver.url}hooks/a`,
      secret,
      eventId,
      timestamp: new Date(),
      body: overrides.body ?? JSON.stringify({ type: 'health_factor.warning', id: eventId, data: { healthFactor: '1.04' } }),
    };
  };

  it('delivers a signed event that the receiver verifies', async () => {
    const input = event();
    const outcome = await sendWebhook(input);
    expect(outcome).toEqual({ kind: 'delivered', status: 200 });

    expect(receiver.events).toHaveLength(1);
    const [received] = receiver.events;
    expect(received).toMatchObject({
      id: input.eventId,
      timestamp: Math.floor(input.timestamp.getTime() / 1000),
      body: JSON.parse(input.body),
      verified: true,
      path: '/hooks/a',
      status: 200,
    });
    expect(received?.headers['content-type']).toBe('application/json');
    expect(received?.headers['user-agent']).toBe(WEBHOOK_USER_AGENT);
    expect(received?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // Independently verifiable with the library, from the recorded request.
    expect(new Webhook(secret).verify(received?.rawBody ?? '', received?.headers ?? {})).toEqual(JSON.parse(input.body));
  });

  it('treats any 2xx as delivered', async () => {
    receiver.respondWith(204);
    receiver.respondWith(202, {}, 'queued');
    expect(await sendWebhook(event())).toEqual({ kind: 'delivered', status: 204 });
    expect(await sendWebhook(event())).toEqual({ kind: 'delivered', status: 202 });
  });

  it('records duplicates of the same webhook-id (retries reuse the id)', async () => {
    const input = event();
    await sendWebhook(input);
    await sendWebhook(input);
    const events = await receiver.waitFor((all) => all.filter((e) => e.id === input.eventId).length === 2, 2_000);
    expect(events.every((e) => e.verified)).toBe(true);
  });

  it('a receiver with a different secret rejects the signature -> retry, recorded unverified', async () => {
    receiver.setSecret(generateWebhookSecret());
    const outcome = await sendWebhook(event());
    expect(outcome).toMatchObject({ kind: 'retry', status: 400 });
    expect(receiver.events[0]?.verified).toBe(false);
    expect(receiver.events[0]?.status).toBe(400);
  });

  it('per-path secrets', async () => {
    const other = generateWebhookSecret();
    receiver.setSecret((path) => (path === '/hooks/b' ? other : secret));
    expect(await sendWebhook(event())).toMatchObject({ kind: 'delivered' });
    expect(await sendWebhook({ ...event(), url: `${receiver.url}hooks/b`, secret: other })).toMatchObject({ kind: 'delivered' });
    expect(await sendWebhook({ ...event(), url: `${receiver.url}hooks/b` })).toMatchObject({ kind: 'retry', status: 400 });
  });

  it('503 -> retry with the status and a short reason', async () => {
    receiver.respondWith(503, { 'content-type': 'text/plain' }, 'maintenance');
    const outcome = await sendWebhook(event());
    expect(outcome).toEqual({ kind: 'retry', status: 503, reason: 'receiver answered HTTP 503: maintenance' });
  });

  it('429 with retry-after: 7 -> retry with retryAfterMs 7000', async () => {
    receiver.respondWith(429, { 'retry-after': '7' });
    const outcome = await sendWebhook(event());
    expect(outcome).toMatchObject({ kind: 'retry', status: 429, retryAfterMs: 7_000 });
  });

  it('retry-after as an HTTP-date is relative to the injected clock', async () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);
    receiver.respondWith(503, { 'retry-after': 'Wed, 01 Jan 2025 12:02:00 GMT' });
    const outcome = await sendWebhook({ ...event(), now: () => now });
    expect(outcome).toMatchObject({ kind: 'retry', status: 503, retryAfterMs: 120_000 });
  });

  it('410 -> gone', async () => {
    receiver.respondWith(410);
    const outcome = await sendWebhook(event());
    expect(outcome).toMatchObject({ kind: 'gone', status: 410 });
  });

  it('other 4xx -> retry', async () => {
    receiver.respondWith(404);
    expect(await sendWebhook(event())).toMatchObject({ kind: 'retry', status: 404 });
  });

  it('does not follow redirects', async () => {
    receiver.respondWith(302, { location: 'http://169.254.169.254/latest/meta-data/' });
    const outcome = await sendWebhook(event());
    expect(outcome).toMatchObject({ kind: 'retry', status: 302 });
    expect(outcome.kind === 'retry' && outcome.reason).toContain('redirects are not followed');
    expect(receiver.events).toHaveLength(1);
  });

  it('keeps reasons short and free of the secret', async () => {
    receiver.respondWith(500, {}, `${'x'.repeat(5_000)} ${secret}`);
    const outcome = await sendWebhook(event());
    expect(outcome.kind).toBe('retry');
    if (outcome.kind !== 'retry') return;
    expect(outcome.reason.length).toBeLessThanOrEqual(260);
    expect(outcome.reason).not.toContain(secret);
    expect(outcome.reason).not.toContain(secret.slice('whsec_'.length));
  });

  it('receiver down -> retry (connection refused), and delivers once it is back up', async () => {
    expect(await sendWebhook(event())).toEqual({ kind: 'delivered', status: 200 });
    await receiver.down();
    const outcome = await sendWebhook(event());
    expect(outcome).toEqual({ kind: 'retry', reason: 'network error: connection refused' });
    expect(receiver.events).toHaveLength(1);

    await receiver.up();
    expect(await sendWebhook(event())).toEqual({ kind: 'delivered', status: 200 });
    expect(receiver.events).toHaveLength(2);
  });

  it('a hung receiver -> retry after the timeout', async () => {
    receiver.respondWith('hang');
    const started = Date.now();
    const outcome = await sendWebhook({ ...event(), timeoutMs: 300 });
    const elapsed = Date.now() - started;
    expect(outcome).toEqual({ kind: 'retry', reason: 'no response within 300 ms (timed out)' });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5_000);
    expect(receiver.events).toHaveLength(1); // it did arrive; the receiver just never answered
  });

  it('waitFor rejects with a summary when the condition is not met', async () => {
    await expect(receiver.waitFor((all) => all.length > 0, 50)).rejects.toThrow(/not met within 50 ms; received 0/);
  });

  it('refuses an unusable secret before sending, without echoing it', async () => {
    const bad = 'whsec_not base64!!';
    const error = await sendWebhook({ ...event(), secret: bad }).catch((e: unknown) => e);
    expect(isAppError(error) && error.code).toBe('invalid_webhook_secret');
    expect(String((error as Error).message)).not.toContain('not base64');
    expect(receiver.events).toHaveLength(0);
  });

  it('uses the injected fetch', async () => {
    const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
    const fetchFn = (async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      return new Response(null, { status: 201 });
    }) as typeof fetch;
    const input = event();
    expect(await sendWebhook({ ...input, fetchFn })).toEqual({ kind: 'delivered', status: 201 });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.init?.method).toBe('POST');
    expect(calls[0]?.init?.redirect).toBe('manual');
    expect(calls[0]?.init?.body).toBe(input.body);
  });
});

describe('generateWebhookSecret', () => {
  it('is whsec_ + base64 of 32 random bytes and works with standardwebhooks', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
    const wh = new Webhook(a);
    const ts = new Date();
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)), 'webhook-signature': wh.sign('msg_1', ts, '{"ok":true}') };
    expect(wh.verify('{"ok":true}', headers)).toEqual({ ok: true });
  });
});
