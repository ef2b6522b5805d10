import { tenantStub } from '../../src/durable/stubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import { parseConfig, type SmtpConfig } from '../../src/config/env';

import { sendViaBinding } from '../../src/notify/email-cloudflare';
import { buildEmail } from '../../src/notify/email-sender';
import { sendSmtp } from '../../src/notify/email-smtp';
import { escapeHtml } from '../../src/notify/email-format';
import { messageFor } from '../../src/notify/render';
import type { ReceivedMessage, SessionRecord } from '../helpers/smtp-test-server';
import { api, confirmedEmailChannel, control, isConfirmationMail, newTenant, testEnv, pollShards, tenantIdOf } from './helpers';

/** What test/workers/email-setup.ts provides next to the worker's own SMTP settings. */
type EmailTestEnv = typeof testEnv & {
  SMTP_PASSWORD: string;
  SMTP_USER: string;
  SMTP_PORT: string;
  TEST_SMTP_CONTROL_URL: string;
  TEST_SMTP_STARTTLS_PORT: string;
  TEST_SMTP_STARTTLS_CONTROL_URL: string;
  TEST_SMTP_HANGUP_PORT: string;
  /** Only when vitest started with NODE_EXTRA_CA_CERTS=.cache/smtp-tls/ca.pem (see email-setup.ts). */
  TEST_SMTP_TRUSTED_STARTTLS_PORT?: string;
  TEST_SMTP_TRUSTED_STARTTLS_CONTROL_URL?: string;
  TEST_SMTP_TRUSTED_TLS_PORT?: string;
  TEST_SMTP_TRUSTED_TLS_CONTROL_URL?: string;
  SEND_EMAIL: SendEmail;
};
const env = testEnv as EmailTestEnv;

async function smtp(path: string, body: unknown = {}, method = 'POST', base = env.TEST_SMTP_CONTROL_URL): Promise<any> {
  const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : JSON.stringify(body) });
  const json = await response.json();
  if (!response.ok) throw new Error(`smtp control ${path} failed: ${JSON.stringify(json)}`);
  return json;
}

/** Alert mail only: each channel's confirmation mail is checked in abuse-consent.test.ts. */
const received = async (to: string, all = false): Promise<ReceivedMessage[]> =>
  ((await smtp(`/messages?to=${encodeURIComponent(to)}${all ? '&all=1' : ''}`, {}, 'GET')) as ReceivedMessage[]).filter((message) => !isConfirmationMail(message));
const sessions = (base = env.TEST_SMTP_CONTROL_URL): Promise<SessionRecord[]> => smtp('/sessions', {}, 'GET', base);

let counter = 0;
/** A recipient of its own per test, so tests never read each other's mail. */
function inbox(name: string): string {
  counter += 1;
  return `${name}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

function emailChannel(key: string, to: string, label = 'ops inbox'): Promise<string> {
  return confirmedEmailChannel(key, to, label);
}

/** Makes every pending retry of a tenant due now, as time passing would. */
async function makeRetriesDue(key: string) {
  await runInDurableObject(tenantStub(testEnv, tenantIdOf(key)), async (_instance, state) => {
    state.storage.sql.exec("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'pending'");
  });
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function part(message: ReceivedMessage, type: 'text/plain' | 'text/html') {
  const found = message.parts.find((entry) => entry.contentType === type);
  expect(found, `${type} part in ${message.contentType}`).toBeDefined();
  return found!;
}

function smtpConfig(overrides: Partial<SmtpConfig>): SmtpConfig {
  const config = parseConfig(env as unknown as Record<string, unknown>).email;
  if (config?.transport !== 'smtp') throw new Error('the workers tests run with EMAIL_TRANSPORT=smtp');
  return { ...config.smtp, ...overrides };
}

function testEvent(id = `evt_test_${Math.random().toString(36).slice(2, 10)}`) {
  const body = { id, type: 'channel.test', createdAt: new Date().toISOString(), channel: { id: 'ch_direct', label: 'direct' }, message: 'direct send' };
  return { id, body: JSON.stringify(body), createdAt: new Date() };
}

function directMessage(to: string) {
  const config = parseConfig(env as unknown as Record<string, unknown>).email!;
  return buildEmail({ config, to, channelId: 'ch_direct', event: testEvent(), now: new Date() });
}

describe('email channels: API', () => {
  let key: string;
  beforeAll(async () => {
    key = await newTenant('email-api');
  });

  it('creates an email channel with a validated address and no secret', async () => {
    const to = inbox('create');
    const created = await api('POST', '/v1/channels', { token: key, body: { type: 'email', to, label: 'ops inbox' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'email', to, label: 'ops inbox', disabledAt: null });
    expect(created.body.secret).toBeUndefined();
    const read = await api('GET', `/v1/channels/${created.body.id}`, { token: key });
    expect(read.body).toMatchObject({ id: created.body.id, type: 'email', to });
  });

  it.each([
    [{ type: 'email' }, 'to'],
    [{ type: 'email', to: 'not-an-address' }, 'to'],
    [{ type: 'email', to: 'ops@example.com\r\nBcc: thief@example.net' }, 'to'],
    [{ type: 'email', to: 'Ops <ops@example.com>' }, 'to'],
    [{ type: 'email', to: 'a@example.com, b@example.com' }, 'to'],
    [{ type: 'email', to: 42 }, 'to'],
    [{ type: 'email', to: `${'a'.repeat(250)}@example.com` }, 'to'],
    [{ type: 'email', to: 'ops@example.com', secret: 'x' }, '(body)'],
    [{ type: 'email', to: 'ops@example.com', label: 'x'.repeat(101) }, 'label'],
    [{ type: 'mail', to: 'ops@example.com' }, 'type'],
  ])('%j → 400 naming %s', async (body, path) => {
    const response = await api('POST', '/v1/channels', { token: key, body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
    expect(response.body.error.issues.map((issue: { path: string }) => issue.path)).toContain(path);
  });

  it('a test send arrives at the SMTP server with the right headers and both parts', async () => {
    const to = inbox('test-send');
    const channelId = await emailChannel(key, to, 'ops inbox');
    const response = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(response.status).toBe(202);
    expect(response.body.delivery).toMatchObject({ status: 'delivered', attempts: 1, lastError: null });
    const [message, ...others] = await received(to);
    expect(others).toEqual([]);
    expect(message!.mailFrom).toBe('alerts@marginwatch.test');
    expect(message!.rcptTo).toEqual([to]);
    expect(message!.authUser).toBe(env.SMTP_USER);
    expect(message!.headers.from).toBe('"marginwatch alerts" <alerts@marginwatch.test>');
    expect(message!.headers.to).toBe(to);
    expect(message!.headers.subject).toBe('TEST · ops inbox — marginwatch test event: this channel receives alerts.');
    expect(message!.headers['x-marginwatch-event-id']).toBe(response.body.event.id);
    expect(message!.headers['message-id']).toBe(`<${response.body.event.id}.${channelId}@marginwatch.test>`);
    expect(message!.headers['mime-version']).toBe('1.0');
    expect(message!.headers['auto-submitted']).toBe('auto-generated');
    expect(Math.abs(Date.parse(message!.headers.date!) - Date.now())).toBeLessThan(60_000);
    expect(part(message!, 'text/plain').body).toContain('marginwatch test event: this channel receives alerts.');
    expect(part(message!, 'text/html').body).toContain('<h1');
    expect(part(message!, 'text/plain').charset?.toLowerCase()).toBe('utf-8');
    // Every header line within RFC 5322's hard limit; the folded ones (Subject, From) within 78.
    const head = message!.raw.split('\r\n\r\n')[0]!.split('\r\n');
    for (const line of head) expect(line.length).toBeLessThanOrEqual(998);
    const subjectAt = head.findIndex((line) => line.startsWith('Subject: '));
    const subjectLines = [head[subjectAt]!];
    for (let index = subjectAt + 1; head[index]?.startsWith(' '); index += 1) subjectLines.push(head[index]!);
    expect(subjectLines.length).toBeGreaterThan(1); // non-ASCII "·": encoded words, folded
    for (const line of subjectLines) expect(line.length).toBeLessThanOrEqual(78);
    expect(head.find((line) => line.startsWith('From: '))!.length).toBeLessThanOrEqual(78);
  });

  it('escapes HTML in labels, keeps them readable in the text part and subject', async () => {
    const to = inbox('escape');
    const label = `<script>alert("x")</script> & 'quotes'`;
    const channelId = await emailChannel(key, to, label);
    expect((await api('POST', `/v1/channels/${channelId}/test`, { token: key })).body.delivery.status).toBe('delivered');
    const [message] = await received(to);
    const html = part(message!, 'text/html').body;
    expect(html).not.toContain('<script>');
    expect(html).not.toContain(`'quotes'`);
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;quotes&#39;');
    expect(part(message!, 'text/plain').body).toContain(`TEST · ${label}`);
    expect(message!.headers.subject!.startsWith(`TEST · ${label}`)).toBe(true);
  });
});

describe('email alerts: chain → shard → outbox → SMTP', () => {
  afterAll(async () => {
    await control('/price', { symbol: 'WBTC', price: '60000' });
  });

  /**
   * Sets the WBTC price and polls until the watch shows the wanted level. Test files run in
   * parallel on one chain and the Telegram and top-up tests move WBTC too, so a move of
   * theirs can land between ours and the poll: set it again rather than fail.
   */
  async function moveUntil(key: string, watchId: string, price: string, wanted: string[]) {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      await control('/price', { symbol: 'WBTC', price });
      await pollShards();
      const level = (await api('GET', `/v1/watches/${watchId}`, { token: key })).body.level as string;
      if (wanted.includes(level)) return level;
    }
    throw new Error(`watch ${watchId} never reached ${wanted.join('/')}`);
  }

  it('a price move sends the alert email: level and label in the subject, the numbers in both parts', async () => {
    const key = await newTenant('email-alert');
    const to = inbox('alert');
    const channelId = await emailChannel(key, to, 'ops inbox');
    const label = `btc <script>&"' vault`;
    // 1 WBTC (LT 78%) against 30,000 USDC: HF 1.56 at $60,000, ≈ 1.04 (critical) at $40,000.
    const { account } = await control('/open', { collateral: 'WBTC', collateralAmount: '1', debt: 'USDC', debtAmount: '30000' });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label, channels: [channelId] } });
    expect(watch.status).toBe(201);
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    expect(await moveUntil(key, watch.body.id, '40000', ['critical'])).toBe('critical');
    await tenant.deliverDue();
    const messages = await waitFor(() => received(to), (list) => list.length >= 1);
    const message = messages[0]!;

    const history = await api('GET', `/v1/watches/${watch.body.id}/alerts?limit=200`, { token: key });
    const event = history.body.data.find((entry: { id: string }) => entry.id === message.headers['x-marginwatch-event-id']);
    expect(event).toMatchObject({ type: 'alert.triggered', body: { level: 'critical' } });
    expect(event.deliveries[0]).toMatchObject({ channelId, status: 'delivered', attempts: 1 });

    expect(message.headers.subject!.startsWith(`CRITICAL · ${label} — Health factor `)).toBe(true);
    expect(message.headers.from).toBe('"marginwatch alerts" <alerts@marginwatch.test>');
    expect(message.headers.to).toBe(to);
    expect(message.rcptTo).toEqual([to]);
    expect(message.headers['message-id']).toBe(`<${event.id}.${channelId}@marginwatch.test>`);
    expect(message.contentType).toMatch(/^multipart\//);

    const text = part(message, 'text/plain').body;
    const html = part(message, 'text/html').body;
    const hf = event.body.position.healthFactor as string;
    expect(Number(hf)).toBeGreaterThan(1);
    expect(Number(hf)).toBeLessThan(1.1);
    expect(event.body.recommendation).toMatchObject({ action: 'supply', symbol: 'WBTC' });
    const model = messageFor(event.body);
    expect(model.action).toMatch(/^Supply [0-9.]+ WBTC to bring the health factor back to \d\.\d{4}\.$/);

    // Lines end in CRLF on the wire, as SMTP requires.
    expect(text.split('\r\n')[0]).toBe(`CRITICAL · ${label}`);
    expect(text).toContain(`Health factor: ${hf}`);
    // 30,000 USDC / (1 WBTC × 0.78): the price at which this position is liquidated.
    expect(text).toContain('WBTC liquidation price: $38,46');
    expect(text).toContain(`What to do: ${model.action}`);
    expect(text).toContain(event.id);
    // Every fact of the message model, in both parts.
    for (const fact of model.facts) {
      expect(text).toContain(`${fact.label}: ${fact.value}`);
      expect(html).toContain(`>${escapeHtml(fact.value)}</td>`);
    }

    expect(html).toContain('CRITICAL · btc &#60;script&#62;&#38;&#34;&#39; vault');
    expect(html).not.toContain('<script>');
    expect(html).toContain(escapeHtml(model.action!));
    expect(html).toContain('border-left:6px solid #c53030');

    // Back above the warning line: a resolved email follows; nothing is sent twice.
    await moveUntil(key, watch.body.id, '60000', ['ok']);
    await tenant.deliverDue();
    const after = await waitFor(() => received(to), (list) => list.some((entry) => entry.headers.subject!.startsWith('RESOLVED')));
    expect(after.map((entry) => entry.headers.subject!.split(' — ')[0])).toContain(`RESOLVED · ${label}`);
    expect(new Set(after.map((entry) => entry.headers['message-id'])).size).toBe(after.length);
  });
});

describe('email delivery: retries, dead letters, credentials', () => {
  let key: string;
  beforeAll(async () => {
    key = await newTenant('email-delivery');
  });

  it('a 451 at the end of DATA is retried; the retry carries the same Message-ID and is delivered once', async () => {
    const to = inbox('greylisted');
    const channelId = await emailChannel(key, to);
    await smtp('/script', { stage: 'data', to, code: 451, message: '4.7.1 Greylisted, please try again later' });
    const first = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(first.body.delivery).toMatchObject({ status: 'pending', attempts: 1 });
    expect(first.body.delivery.lastError).toContain('451');
    expect(first.body.delivery.lastError).toContain('Greylisted, please try again later');
    expect(first.body.delivery.nextAttemptAt).not.toBeNull();

    await makeRetriesDue(key);
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const delivered = await waitFor(
      async () => (await api('GET', '/v1/deliveries?status=delivered', { token: key })).body.data.find((entry: { eventId: string }) => entry.eventId === first.body.event.id),
      (entry) => entry !== undefined,
    );
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 2, lastError: null });
    expect(await received(to)).toHaveLength(1);
    const attempts = await received(to, true);
    expect(attempts.map((entry) => entry.accepted)).toEqual([false, true]);
    expect(attempts[0]!.headers['message-id']).toBe(attempts[1]!.headers['message-id']);
    expect(attempts[1]!.headers['x-marginwatch-event-id']).toBe(first.body.event.id);
  });

  it('a 451 to RCPT TO is retried too', async () => {
    const to = inbox('rcpt-busy');
    const channelId = await emailChannel(key, to);
    await smtp('/script', { stage: 'rcpt', to, code: 451, message: '4.3.0 Mailbox temporarily unavailable' });
    const first = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(first.body.delivery.status).toBe('pending');
    expect(first.body.delivery.lastError).toMatch(/451 at RCPT TO: 4\.3\.0 Mailbox temporarily unavailable/);
    await makeRetriesDue(key);
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    expect(await waitFor(() => received(to), (list) => list.length >= 1)).toHaveLength(1);
  });

  it.each([
    ['rcpt', 550, '5.1.1 Recipient address rejected: User unknown', 'RCPT TO'],
    ['data', 554, '5.7.1 Message rejected as spam', 'end of DATA'],
  ])('a %s %i is a dead letter at once, with the server reply recorded', async (stage, code, reply, where) => {
    const to = inbox(`dead-${stage}`);
    const channelId = await emailChannel(key, to);
    await smtp('/script', { stage, to, code, message: reply });
    const response = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(response.body.delivery).toMatchObject({ status: 'dead', attempts: 1, nextAttemptAt: null });
    const dead = await api('GET', '/v1/deliveries?status=dead', { token: key });
    const letter = dead.body.data.find((entry: { eventId: string }) => entry.eventId === response.body.event.id);
    expect(letter.lastError).toBe(`SMTP 127.0.0.1:${env.SMTP_PORT} answered ${code} at ${where}: ${reply}`);
    expect(await received(to)).toEqual([]);
    // A dead letter is not retried.
    await makeRetriesDue(key);
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    expect(await received(to, true)).toHaveLength(stage === 'data' ? 1 : 0);
  });

  it('a wrong SMTP password is retried with a reason that names the settings and never the password', async () => {
    const to = inbox('bad-password');
    const channelId = await emailChannel(key, to);
    await smtp('/password', { password: 'the-server-expects-another-one' });
    let response;
    try {
      response = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    } finally {
      await smtp('/password', { password: env.SMTP_PASSWORD });
    }
    expect(response.body.delivery.status).toBe('pending');
    const reason = response.body.delivery.lastError as string;
    expect(reason).toContain('535');
    expect(reason).toContain('check SMTP_USER and SMTP_PASSWORD');
    const everything = JSON.stringify(response.body) + JSON.stringify((await api('GET', '/v1/deliveries?status=pending', { token: key })).body);
    for (const form of [env.SMTP_PASSWORD, btoa(env.SMTP_PASSWORD), btoa(`\u0000${env.SMTP_USER}\u0000${env.SMTP_PASSWORD}`)]) expect(everything).not.toContain(form);
    expect((await sessions()).some((session) => session.auth.some((attempt) => attempt.username === env.SMTP_USER && !attempt.ok))).toBe(true);

    // Fixed password: the waiting alert goes out.
    await makeRetriesDue(key);
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    expect(await waitFor(() => received(to), (list) => list.length >= 1)).toHaveLength(1);
  });
});

describe('SMTP transport: security and failure modes (direct sends)', () => {
  it('never puts a wrong password, in any encoding, into the reason', async () => {
    const password = 'hunter2-WRONG-pa55';
    const outcome = await sendSmtp(smtpConfig({ credentials: { user: env.SMTP_USER, password } }), directMessage(inbox('direct-bad')));
    expect(outcome.kind).toBe('retry');
    const reason = (outcome as { reason: string }).reason;
    expect(reason).toMatch(/^SMTP 127\.0\.0\.1:\d+ answered 535 at AUTH: .*\(check SMTP_USER and SMTP_PASSWORD\)$/);
    for (const form of [password, btoa(password), btoa(`\u0000${env.SMTP_USER}\u0000${password}`)]) expect(reason).not.toContain(form);
  });

  it('SMTP_SECURITY=starttls refuses a server that does not offer STARTTLS, before AUTH and before any mail', async () => {
    const to = inbox('no-starttls');
    const before = (await sessions()).length;
    const outcome = await sendSmtp(smtpConfig({ security: 'starttls' }), directMessage(to));
    expect(outcome).toMatchObject({ kind: 'retry' });
    expect((outcome as { reason: string }).reason).toContain('did not offer STARTTLS');
    const opened = (await sessions()).slice(before);
    expect(opened.length).toBeGreaterThanOrEqual(1);
    expect(opened.every((session) => session.auth.length === 0 && session.mailFrom === null)).toBe(true);
    expect(await received(to, true)).toEqual([]);
  });

  it('an unencrypted connection never carries the password unless SMTP_ALLOW_INSECURE_AUTH is set', async () => {
    const before = (await sessions()).length;
    const outcome = await sendSmtp(smtpConfig({ security: 'none', allowInsecureAuth: false }), directMessage(inbox('insecure')));
    expect(outcome.kind).toBe('retry');
    expect((outcome as { reason: string }).reason).toContain('SMTP_ALLOW_INSECURE_AUTH');
    expect((await sessions()).slice(before).every((session) => session.auth.length === 0)).toBe(true);
  });

  it('STARTTLS to a certificate workerd does not trust fails closed: no AUTH, no mail, a retry naming TLS', async () => {
    const to = inbox('self-signed');
    const base = env.TEST_SMTP_STARTTLS_CONTROL_URL;
    const before = (await sessions(base)).length;
    const outcome = await sendSmtp(smtpConfig({ port: Number(env.TEST_SMTP_STARTTLS_PORT), security: 'starttls' }), directMessage(to));
    expect(outcome.kind).toBe('retry');
    expect((outcome as { reason: string }).reason).toMatch(/TLS|certificate|connection/i);
    const opened = (await sessions(base)).slice(before);
    expect(opened.every((session) => session.auth.length === 0 && session.mailFrom === null)).toBe(true);
    expect(await smtp(`/messages?to=${encodeURIComponent(to)}&all=1`, {}, 'GET', base)).toEqual([]);
  });

  it('a server that hangs up mid-dialogue is a retry, not a busy loop', async () => {
    const started = Date.now();
    const outcome = await sendSmtp(smtpConfig({ port: Number(env.TEST_SMTP_HANGUP_PORT), credentials: undefined }), directMessage(inbox('hang-up')));
    expect(outcome).toMatchObject({ kind: 'retry' });
    expect((outcome as { reason: string }).reason).toMatch(/closed the connection|connection/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a server that never answers DATA is a retry after the timeout', async () => {
    const to = inbox('silent');
    await smtp('/script', { stage: 'data', to, hang: true });
    const outcome = await sendSmtp(smtpConfig({ timeoutMs: 1000 }), directMessage(to));
    expect(outcome).toMatchObject({ kind: 'retry' });
    expect((outcome as { reason: string }).reason).toContain('timed out');
  });

  it('a refused connection is a retry', async () => {
    const outcome = await sendSmtp(smtpConfig({ port: 1, timeoutMs: 2000 }), directMessage(inbox('refused')));
    expect(outcome).toMatchObject({ kind: 'retry' });
    expect((outcome as { reason: string }).reason).toMatch(/^SMTP 127\.0\.0\.1:1: /);
  });
});

describe('SMTP over TLS that workerd trusts (opt-in: start vitest with NODE_EXTRA_CA_CERTS=.cache/smtp-tls/ca.pem)', () => {
  it.runIf(env.TEST_SMTP_TRUSTED_STARTTLS_PORT)('STARTTLS: encrypted before AUTH, certificate checked for the host name, delivered', async () => {
    const base = env.TEST_SMTP_TRUSTED_STARTTLS_CONTROL_URL!;
    const to = inbox('starttls');
    const outcome = await sendSmtp(smtpConfig({ host: 'localhost', port: Number(env.TEST_SMTP_TRUSTED_STARTTLS_PORT), security: 'starttls', allowInsecureAuth: false }), directMessage(to));
    expect(outcome).toEqual({ kind: 'delivered', status: 250 });
    const [message] = await smtp(`/messages?to=${encodeURIComponent(to)}`, {}, 'GET', base);
    expect(message).toMatchObject({ secure: true, authUser: env.SMTP_USER });
    const authenticated = (await sessions(base)).filter((session) => session.auth.length > 0);
    expect(authenticated.length).toBeGreaterThan(0);
    expect(authenticated.every((session) => session.secure)).toBe(true);
  });

  it.runIf(env.TEST_SMTP_TRUSTED_TLS_PORT)('tls (port 465 style): TLS from the first byte, delivered', async () => {
    const to = inbox('implicit-tls');
    const outcome = await sendSmtp(smtpConfig({ port: Number(env.TEST_SMTP_TRUSTED_TLS_PORT), security: 'tls', allowInsecureAuth: false }), directMessage(to));
    expect(outcome).toEqual({ kind: 'delivered', status: 250 });
    const [message] = await smtp(`/messages?to=${encodeURIComponent(to)}`, {}, 'GET', env.TEST_SMTP_TRUSTED_TLS_CONTROL_URL!);
    expect(message).toMatchObject({ secure: true, authUser: env.SMTP_USER });
  });

  it.runIf(env.TEST_SMTP_TRUSTED_TLS_PORT)('starttls against a port that speaks TLS at once is a retry whose reason says to use tls', async () => {
    const outcome = await sendSmtp(smtpConfig({ port: Number(env.TEST_SMTP_TRUSTED_TLS_PORT), security: 'starttls', timeoutMs: 1000 }), directMessage(inbox('wrong-mode')));
    expect(outcome.kind).toBe('retry');
    expect((outcome as { reason: string }).reason).toContain('set SMTP_SECURITY=tls');
  });
});

describe('send_email binding path (miniflare local binding)', () => {
  it('sends the same MIME message through SEND_EMAIL; a sender mismatch is a retry with the reason', async () => {
    expect(env.SEND_EMAIL).toBeDefined();
    const message = directMessage('someone@example.com');
    expect(await sendViaBinding(env.SEND_EMAIL, { from: 'alerts@marginwatch.test', to: 'someone@example.com' }, message)).toEqual({ kind: 'delivered', status: 250 });
    const refused = await sendViaBinding(env.SEND_EMAIL, { from: 'other@marginwatch.test', to: 'someone@example.com' }, message);
    expect(refused.kind).toBe('retry');
    expect((refused as { reason: string }).reason).toMatch(/^send_email binding SEND_EMAIL refused the message: .*From/);
  });
});
