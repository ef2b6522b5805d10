import { Api, GrammyError, HttpError } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { TelegramConfig } from '../config/env';

/**
 * The Bot API through grammY, pointed at `TELEGRAM_API_BASE` (a local stand-in in tests).
 *
 * The bot token is part of every Bot API URL (`/bot<token>/<method>`), so anything that
 * may carry a URL or a library message goes through `redactToken` before it reaches a
 * log, a stored error or a response.
 */

/** Short: a webhook answer and an outbox attempt both wait on it. */
const API_TIMEOUT_SECONDS = 10;

export function telegramApi(config: TelegramConfig): Api {
  return new Api(config.token, { apiRoot: config.apiBase, timeoutSeconds: API_TIMEOUT_SECONDS });
}

/** Replaces the token (and anything shaped like a bot token) with a marker. */
export function redactToken(text: string, token?: string): string {
  let result = token ? text.split(token).join('<redacted>') : text;
  result = result.replace(/\bbot\d{1,20}:[A-Za-z0-9_-]{20,}/g, 'bot<redacted>').replace(/\b\d{1,20}:[A-Za-z0-9_-]{30,}\b/g, '<redacted>');
  return result;
}

export type TelegramFailure = {
  /** Bot API `error_code` (an HTTP status), or undefined for a network failure. */
  code: number | undefined;
  /** Telegram's own description ("Forbidden: bot was blocked by the user") or the network error, redacted. */
  description: string;
  retryAfterSeconds: number | undefined;
  migrateToChatId: number | undefined;
};

/** What a failed grammY call came to, with no token in it. */
export function describeTelegramFailure(error: unknown, token: string): TelegramFailure {
  if (error instanceof GrammyError) {
    return {
      code: error.error_code,
      description: redactToken(String(error.description ?? '').slice(0, 300), token),
      retryAfterSeconds: typeof error.parameters.retry_after === 'number' ? error.parameters.retry_after : undefined,
      migrateToChatId: typeof error.parameters.migrate_to_chat_id === 'number' ? error.parameters.migrate_to_chat_id : undefined,
    };
  }
  if (error instanceof HttpError) {
    const inner = error.error instanceof Error ? `${error.error.name}: ${error.error.message}` : '';
    return { code: undefined, description: redactToken(`${error.message}${inner ? ` (${inner})` : ''}`.slice(0, 300), token), retryAfterSeconds: undefined, migrateToChatId: undefined };
  }
  const text = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
  return { code: undefined, description: redactToken(text.slice(0, 300), token), retryAfterSeconds: undefined, migrateToChatId: undefined };
}

// getMe per isolate, not per request: the username (for t.me links and /cmd@bot) and the
// bot info grammY needs to handle updates do not change while the token stays the same.
const botInfoCache = new Map<string, Promise<UserFromGetMe>>();

export function getBotInfo(config: TelegramConfig): Promise<UserFromGetMe> {
  const key = `${config.apiBase}\n${config.token}`;
  let pending = botInfoCache.get(key);
  if (!pending) {
    pending = telegramApi(config).getMe();
    botInfoCache.set(key, pending);
    // A failed lookup is not cached: the next request tries again.
    pending.catch(() => botInfoCache.delete(key));
  }
  return pending;
}

/** The bot's username: the configured one, else Telegram's answer to getMe. */
export async function botUsername(config: TelegramConfig): Promise<string> {
  return config.botUsername ?? (await getBotInfo(config)).username;
}
