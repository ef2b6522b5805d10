import type { TestProject } from 'vitest/node';
import { startTelegramStandIn, type TelegramStandIn } from '../helpers/telegram-stand-in';

declare module 'vitest' {
  export interface ProvidedContext {
    telegramBindings: Record<string, string>;
  }
}

let standIn: TelegramStandIn | undefined;

/** The webhook secret the worker expects and setWebhook registers (test value). */
export const TEST_TELEGRAM_WEBHOOK_SECRET = 'test-telegram-webhook-secret_0123';

/**
 * Runs in Node before the workerd tests: starts the local Telegram Bot API stand-in and
 * points the worker at it. Tests drive it through `TEST_TELEGRAM_CONTROL_URL`.
 */
export default async function setup(project: TestProject) {
  standIn = await startTelegramStandIn();
  project.provide('telegramBindings', {
    TELEGRAM_API_BASE: standIn.url,
    TELEGRAM_BOT_TOKEN: standIn.token,
    TELEGRAM_WEBHOOK_SECRET: TEST_TELEGRAM_WEBHOOK_SECRET,
    TEST_TELEGRAM_CONTROL_URL: standIn.controlUrl,
  });
  return async () => {
    await standIn?.stop();
  };
}
