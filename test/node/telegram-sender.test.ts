import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TelegramConfig } from '../../src/config/env';
import { sendTelegramEvent, sendTelegramMessage } from '../../src/notify/telegram-sender';
import { redactToken } from '../../src/telegram/client';
import { startTelegramStandIn, type TelegramStandIn } from '../helpers/telegram-stand-in';

/** The Telegram sender and the Bot API stand-in, over real HTTP on loopback. */

let standIn: TelegramStandIn;
let config: TelegramConfig;

beforeAll(async () => {
  standIn = await startTelegramStandIn();
  config = { token: standIn.token, webhookSecret: 'stand-in-webhook-secret', apiBase: standIn.url, botUsername: undefined };
});

afterAll(async () => {
  await standIn.stop();
});

let nextChat = 500_000;
function chat(patch: Parameters<TelegramStandIn['chat']>[1] = {}): string {
  nextChat += 1;
  standIn.chat(String(nextChat), patch);
  return String(nextChat);
}

async function call(method: string, init: { token?: string; body?: string; contentType?: string; query?: string } = {}) {
  const response = await fetch(`${standIn.url}/bot${init.token ?? standIn.token}/${method}${init.query ?? ''}`, {
    method: 'POST',
    headers: init.contentType ? { 'content-type': init.contentType } : {},
    body: init.body,
  });
  return { status: response.status, body: (await response.json()) as { ok: boolean; error_code?: number; description?: string; result?: any; parameters?: { retry_after?: number } } };
}

describe('Bot API stand-in', () => {
  it('checks the token in the path', async () => {
    expect(await call('getMe', { token: '123456789:wrong_token_wrong_token_wrong' })).toEqual({ status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } });
    const me = await call('getMe');
    expect(me.status).toBe(200);
    expect(me.body.result).toMatchObject({ id: 123456789, is_bot: true, username: 'marginwatch_test_bot' });
    expect((await call('noSuchMethod')).body).toEqual({ ok: false, error_code: 404, description: 'Not Found' });
  });

  it('takes JSON, urlencoded, multipart and query parameters', async () => {
    const id = chat();
    expect((await call('sendMessage', { contentType: 'application/json', body: JSON.stringify({ chat_id: Number(id), text: 'json' }) })).body.ok).toBe(true);
    expect((await call('sendMessage', { contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams({ chat_id: id, text: 'form' }).toString() })).body.ok).toBe(true);
    const form = new FormData();
    form.set('chat_id', id);
    form.set('text', 'multi part');
    const multipart = await fetch(`${standIn.url}/bot${standIn.token}/sendMessage`, { method: 'POST', body: form });
    expect(((await multipart.json()) as { ok: boolean }).ok).toBe(true);
    expect((await call('sendMessage', { query: `?chat_id=${id}&text=query` })).body.ok).toBe(true);
    expect(standIn.chats.get(id)!.messages.map((message) => message.text)).toEqual(['json', 'form', 'multi part', 'query']);
  });

  it('refuses what Telegram refuses', async () => {
    const id = chat();
    const send = (params: Record<string, unknown>) => call('sendMessage', { contentType: 'application/json', body: JSON.stringify({ chat_id: id, ...params }) });
    expect((await send({ text: 'x'.repeat(4097) })).body).toEqual({ ok: false, error_code: 400, description: 'Bad Request: message is too long' });
    expect((await send({ text: 'x'.repeat(4096) })).body.ok).toBe(true);
    // The limit applies to the text after parsing: escapes do not count.
    expect((await send({ text: '\\.'.repeat(4096), parse_mode: 'MarkdownV2' })).body.ok).toBe(true);
    expect((await send({ text: 'HF 1.05', parse_mode: 'MarkdownV2' })).body).toEqual({
      ok: false,
      error_code: 400,
      description: "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
    });
    expect((await send({ text: '*HF', parse_mode: 'MarkdownV2' })).body.description).toBe("Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0");
    expect((await send({ text: '' })).body.description).toBe('Bad Request: message text is empty');
    expect((await call('sendMessage', { contentType: 'application/json', body: JSON.stringify({ chat_id: '999', text: 'hi' }) })).body.description).toBe('Bad Request: chat not found');
    expect((await call('setWebhook', { contentType: 'application/json', body: JSON.stringify({ url: 'http://example.com/hook' }) })).body.description).toContain('HTTPS URL must be provided');
    expect((await call('setWebhook', { contentType: 'application/json', body: JSON.stringify({ url: 'https://example.com/hook', secret_token: 'no spaces allowed' }) })).body.description).toContain('secret token');
    expect((await call('setMyCommands', { contentType: 'application/json', body: JSON.stringify({ commands: [{ command: 'Bad-Name', description: 'x' }] }) })).body.description).toBe('Bad Request: BOT_COMMAND_INVALID');
  });

  it('answers 429 with retry_after past the per-chat rate, and 403 for a blocked chat', async () => {
    const id = chat({ burst: 1, perSecond: 1 });
    const send = () => call('sendMessage', { contentType: 'application/json', body: JSON.stringify({ chat_id: id, text: 'hi' }) });
    expect((await send()).body.ok).toBe(true);
    const flooded = await send();
    expect(flooded.status).toBe(429);
    expect(flooded.body).toEqual({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect((await send()).body.ok).toBe(true);

    standIn.chat(id, { blocked: true });
    expect((await send()).body).toEqual({ ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' });
  });

  it('delivers updates to the webhook like Telegram: secret header, chat, text, bot_command entity', async () => {
    const received: Array<{ headers: IncomingMessage['headers']; body: any }> = [];
    const hook = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/telegram/webhook`;
      expect((await call('setWebhook', { contentType: 'application/json', body: JSON.stringify({ url, secret_token: 'the-secret', allowed_updates: ['message'] }) })).body).toEqual({ ok: true, result: true, description: 'Webhook was set' });
      const delivered = await standIn.deliverUpdate({ chatId: '-1001234', chatType: 'supergroup', title: 'desk', text: '/status@marginwatch_test_bot w_12ab' });
      expect(delivered.status).toBe(200);
      expect(received[0]!.headers['x-telegram-bot-api-secret-token']).toBe('the-secret');
      expect(received[0]!.body).toMatchObject({
        update_id: expect.any(Number),
        message: { chat: { id: -1001234, type: 'supergroup', title: 'desk' }, text: '/status@marginwatch_test_bot w_12ab', entities: [{ type: 'bot_command', offset: 0, length: 28 }] },
      });
    } finally {
      await new Promise<void>((resolve) => hook.close(() => resolve()));
    }
  });
});

describe('sendTelegramMessage', () => {
  it('delivers valid MarkdownV2', async () => {
    const id = chat();
    expect(await sendTelegramMessage(config, id, '*CRITICAL* HF 1\\.05')).toEqual({ kind: 'delivered', status: 200 });
    expect(standIn.chats.get(id)!.messages[0]).toMatchObject({ text: 'CRITICAL HF 1.05', parse_mode: 'MarkdownV2', entities: [{ type: 'bold', offset: 0, length: 8 }] });
  });

  it('429 → retry not before retry_after', async () => {
    const id = chat();
    standIn.script({ method: 'sendMessage', chatId: id, errorCode: 429, description: 'Too Many Requests: retry after 17', retryAfter: 17 });
    expect(await sendTelegramMessage(config, id, 'hi')).toEqual({ kind: 'retry', status: 429, retryAfterMs: 17_000, reason: 'Telegram answered 429: Too Many Requests: retry after 17' });
  });

  it('403 → gone with the reason', async () => {
    const id = chat({ blocked: true });
    expect(await sendTelegramMessage(config, id, 'hi')).toEqual({ kind: 'gone', status: 403, reason: 'Telegram answered 403: Forbidden: bot was blocked by the user' });
    expect(await sendTelegramMessage(config, '424242', 'hi')).toMatchObject({ kind: 'gone', reason: 'Telegram answered 400: Bad Request: chat not found' });
  });

  it("400 can't parse entities / too long → failed (never retried)", async () => {
    const id = chat();
    expect(await sendTelegramMessage(config, id, 'HF 1.05')).toEqual({ kind: 'failed', reason: "Telegram answered 400: Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'" });
    expect(await sendTelegramMessage(config, id, 'x'.repeat(5000))).toEqual({ kind: 'failed', reason: 'Telegram answered 400: Bad Request: message is too long' });
  });

  it('5xx, a wrong token and network errors → retry, with no token in the reason', async () => {
    const id = chat();
    standIn.script({ method: 'sendMessage', chatId: id, errorCode: 502, description: 'Bad Gateway' });
    expect(await sendTelegramMessage(config, id, 'hi')).toEqual({ kind: 'retry', status: 502, reason: 'Telegram answered 502: Bad Gateway' });

    const wrong = { ...config, token: '987654321:WRONG_token_abcdefghijklmnopqrstuvw' };
    const unauthorized = await sendTelegramMessage(wrong, id, 'hi');
    expect(unauthorized).toMatchObject({ kind: 'retry', status: 401 });
    expect(unauthorized.kind === 'retry' && unauthorized.reason).toContain('check TELEGRAM_BOT_TOKEN');

    const down = await sendTelegramMessage({ ...config, apiBase: 'http://127.0.0.1:1' }, id, 'hi');
    expect(down.kind).toBe('retry');
    expect(JSON.stringify(down)).not.toContain(config.token);
    expect(JSON.stringify(down)).not.toContain(config.token.split(':')[1]);
  });

  it('sendTelegramEvent renders the event; without a configured bot it waits', async () => {
    const id = chat();
    const body = JSON.stringify({ id: 'evt_1', type: 'channel.test', createdAt: '2026-01-01T00:00:00Z', channel: { id: 'ch_1', label: 'desk (main)' }, message: 'marginwatch test event: this channel receives alerts.' });
    const env = { RPC_URLS: '{"1":"https://a.example"}', ADMIN_TOKEN: 'x'.repeat(32), TELEGRAM_BOT_TOKEN: config.token, TELEGRAM_WEBHOOK_SECRET: 'stand-in-webhook-secret', TELEGRAM_API_BASE: config.apiBase } as unknown as Env;
    expect(await sendTelegramEvent(env, id, { id: 'evt_1', body, createdAt: new Date() })).toEqual({ kind: 'delivered', status: 200 });
    expect(standIn.chats.get(id)!.messages[0]!.text).toBe('TEST · desk (main)\nmarginwatch test event: this channel receives alerts.\nevent evt_1');
    const unconfigured = { RPC_URLS: '{"1":"https://a.example"}', ADMIN_TOKEN: 'x'.repeat(32) } as unknown as Env;
    expect(await sendTelegramEvent(unconfigured, id, { id: 'evt_1', body, createdAt: new Date() })).toMatchObject({ kind: 'retry', reason: expect.stringContaining('not configured') });
  });
});

describe('redactToken', () => {
  it('removes the token and anything shaped like one', () => {
    const token = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
    expect(redactToken(`GET https://api.telegram.org/bot${token}/sendMessage failed`, token)).toBe('GET https://api.telegram.org/bot<redacted>/sendMessage failed');
    expect(redactToken('url /bot987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe')).toBe('url /bot<redacted>/getMe');
    expect(redactToken('nothing secret here: 12:34')).toBe('nothing secret here: 12:34');
  });
});
