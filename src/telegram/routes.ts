import { Hono } from 'hono';
import type { Update } from 'grammy/types';
import { requireAdmin, type AuthVariables } from '../api/auth';
import { parseJsonBody, parseValue, readJson } from '../api/validate';
import { parseConfig, type AppConfig, type TelegramConfig } from '../config/env';
import { telegramLinkSchema, telegramSetupSchema, telegramUpdateSchema } from '../config/api-schemas';
import { AppError } from '../lib/errors';
import { secretsEqual } from '../lib/crypto';
import { handleTelegramUpdate } from './bot';
import { describeTelegramFailure, getBotInfo, telegramApi } from './client';
import { COMMANDS } from './commands';
import { issueLinkCode } from './link';

type App = { Bindings: Env; Variables: AuthVariables };

/** Telegram sends one update per request; real ones are a few KB. */
const MAX_UPDATE_BYTES = 256 * 1024;
const ALLOWED_UPDATES = ['message'] as const;

function telegramOf(config: AppConfig): TelegramConfig {
  if (!config.telegram) {
    // The deployment's choice, not an outage: a 4xx with the same code POST /v1/channels uses.
    throw new AppError('telegram_not_configured', 'this deployment has no Telegram bot (TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are not set)', { status: 400 });
  }
  return config.telegram;
}

/**
 * `POST /telegram/webhook`: updates from Telegram. Authenticated by the secret token
 * Telegram echoes in `X-Telegram-Bot-Api-Secret-Token` (set by setWebhook), compared in
 * constant time; anything else gets 401 before the body is read.
 */
export const telegramWebhookRoutes = new Hono<App>().post('/webhook', async (c) => {
  const config = parseConfig(c.env as unknown as Record<string, unknown>);
  if (!config.telegram) throw new AppError('not_found', 'no Telegram bot is configured here', { status: 404 });
  const given = c.req.header('x-telegram-bot-api-secret-token');
  if (!given || !(await secretsEqual(given, config.telegram.webhookSecret))) {
    throw new AppError('unauthorized', 'missing or wrong X-Telegram-Bot-Api-Secret-Token', { status: 401 });
  }
  const update = parseValue(telegramUpdateSchema, await readJson(c, MAX_UPDATE_BYTES));
  await handleTelegramUpdate(c.env, config, config.telegram, update as unknown as Update);
  return c.json({ ok: true });
});

/** `POST /v1/telegram/link` (tenant): a one-time code and its t.me deep link, valid for an hour. */
export const telegramLinkRoutes = new Hono<App>().post('/link', async (c) => {
  const telegram = telegramOf(c.get('config'));
  // The body is optional: an empty request links with the chat's own name as label.
  const body = await parseJsonBody(c, telegramLinkSchema, { optional: true });
  const issued = await issueLinkCode(c.env, c.get('config'), telegram, c.get('tenantId'), body.label ?? '');
  return c.json({ ...issued, command: `/start ${issued.code}` }, 201);
});

/**
 * `POST /v1/admin/telegram/setup` (admin): registers the webhook with Telegram (with the
 * secret token, only message updates) and publishes the command menu.
 */
export const telegramAdminRoutes = new Hono<App>().use(requireAdmin).post('/setup', async (c) => {
  const config = c.get('config');
  const telegram = telegramOf(config);
  const input = await parseJsonBody(c, telegramSetupSchema);
  const url = new URL(input.url);
  // Telegram itself only calls https URLs; plain http is for a local stand-in.
  if (url.protocol !== 'https:' && !(config.allowPrivateWebhookUrls && url.protocol === 'http:')) {
    throw new AppError('validation_failed', 'url: must be an https URL (Telegram only calls https webhooks)', { status: 400, issues: [{ path: 'url', message: 'must be an https URL' }] });
  }
  const api = telegramApi(telegram);
  const commands = COMMANDS.map((command) => ({ command: command.name, description: command.description }));
  try {
    await api.setWebhook(url.toString(), { secret_token: telegram.webhookSecret, allowed_updates: [...ALLOWED_UPDATES] });
    await api.setMyCommands(commands);
    const me = await getBotInfo(telegram);
    return c.json({ ok: true, bot: { id: me.id, username: me.username }, webhook: { url: url.toString(), allowedUpdates: ALLOWED_UPDATES }, commands });
  } catch (error) {
    if (error instanceof AppError) throw error;
    const failure = describeTelegramFailure(error, telegram.token);
    const hint = failure.code === 401 || failure.code === 404 ? ' (Telegram does not accept the bot token: check TELEGRAM_BOT_TOKEN)' : '';
    throw new AppError('telegram_error', `Telegram refused the setup: ${failure.code ? `${failure.code} ` : ''}${failure.description}${hint}`, { status: 502, cause: error });
  }
});
