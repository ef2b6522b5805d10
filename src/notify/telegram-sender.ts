import { parseConfig, type TelegramConfig } from '../config/env';
import { describeTelegramFailure, telegramApi } from '../telegram/client';
import type { OutgoingEvent, SendOutcome } from './channel';
import { messageFor } from './render';
import { renderTelegramMessage } from './telegram-format';

/**
 * One Telegram delivery attempt (Bot API sendMessage, MarkdownV2), as a SendOutcome:
 * - ok → delivered;
 * - 429 → retry, not before Telegram's `retry_after`;
 * - 403 (bot blocked, kicked, user deactivated) and 400 "chat not found" / a group that
 *   became a supergroup → gone: the chat cannot receive anything, so the channel is
 *   disabled with Telegram's reason;
 * - any other 400 (e.g. "can't parse entities", "message is too long") → failed: the
 *   message itself is wrong (a bug on our side) and sending it again cannot help;
 * - 401/404 (a wrong or revoked token), 5xx, network errors → retry: they are the
 *   deployment's or Telegram's to fix, and delivery resumes when they are.
 *
 * Pacing: the tenant outbox spaces messages to one chat by `minSendIntervalMs` (≈1/s per
 * chat). Telegram's other limit, ~30 messages/s per bot across all chats, is not enforced
 * globally here (tenants are separate objects); a burst past it gets 429 + retry_after,
 * which this honours.
 */
export async function sendTelegramMessage(config: TelegramConfig, chatId: string, text: string): Promise<SendOutcome> {
  try {
    await telegramApi(config).sendMessage(chatId, text, { parse_mode: 'MarkdownV2', link_preview_options: { is_disabled: true } });
    return { kind: 'delivered', status: 200 };
  } catch (error) {
    const failure = describeTelegramFailure(error, config.token);
    const said = failure.code === undefined ? failure.description : `Telegram answered ${failure.code}: ${failure.description}`;
    if (failure.code === 429) {
      const seconds = failure.retryAfterSeconds;
      return seconds === undefined ? { kind: 'retry', status: 429, reason: said } : { kind: 'retry', status: 429, retryAfterMs: seconds * 1000, reason: said };
    }
    if (failure.code === 403) return { kind: 'gone', status: 403, reason: said };
    if (failure.code === 400 && failure.migrateToChatId !== undefined) {
      return { kind: 'gone', status: 400, reason: `${said}; the group is now chat ${failure.migrateToChatId}: link that chat again` };
    }
    if (failure.code === 400 && /chat not found/i.test(failure.description)) return { kind: 'gone', status: 400, reason: said };
    if (failure.code === 400) return { kind: 'failed', reason: said };
    if (failure.code === 401 || failure.code === 404) return { kind: 'retry', status: failure.code, reason: `${said} (check TELEGRAM_BOT_TOKEN)` };
    return failure.code === undefined ? { kind: 'retry', reason: said } : { kind: 'retry', status: failure.code, reason: said };
  }
}

/** Renders an outbox event for Telegram and sends it to the chat. */
export async function sendTelegramEvent(env: Env, chatId: string, event: OutgoingEvent): Promise<SendOutcome> {
  const config = parseConfig(env as unknown as Record<string, unknown>).telegram;
  // Retried, not dead-lettered: setting the token resumes delivery of what is waiting.
  if (!config) return { kind: 'retry', reason: 'Telegram is not configured in this deployment (set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET)' };
  const text = renderTelegramMessage(messageFor(JSON.parse(event.body) as unknown));
  return sendTelegramMessage(config, chatId, text);
}
