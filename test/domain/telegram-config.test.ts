import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/env';

const valid = { RPC_URLS: '{"1":"https://a.example"}', ADMIN_TOKEN: 'x'.repeat(32) };
const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const SECRET = 'webhook-secret_0123456789';

function issuesOf(env: Record<string, unknown>) {
  try {
    parseConfig(env);
  } catch (error) {
    return error as { code: string; message: string; issues: Array<{ path: string; message: string }> };
  }
  throw new Error('expected parseConfig to throw');
}

describe('Telegram settings', () => {
  it('are off unless the token is set', () => {
    expect(parseConfig(valid).telegram).toBeUndefined();
    expect(parseConfig({ ...valid, TELEGRAM_BOT_TOKEN: '', TELEGRAM_WEBHOOK_SECRET: '', TELEGRAM_API_BASE: 'https://api.telegram.org' }).telegram).toBeUndefined();
  });

  it('parse with defaults', () => {
    expect(parseConfig({ ...valid, TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET }).telegram).toEqual({ token: TOKEN, webhookSecret: SECRET, apiBase: 'https://api.telegram.org', botUsername: undefined });
    expect(parseConfig({ ...valid, TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET, TELEGRAM_API_BASE: 'http://127.0.0.1:9999/', TELEGRAM_BOT_USERNAME: '@my_alerts_bot' }).telegram).toEqual({
      token: TOKEN,
      webhookSecret: SECRET,
      apiBase: 'http://127.0.0.1:9999',
      botUsername: 'my_alerts_bot',
    });
  });

  it.each([
    [{ TELEGRAM_BOT_TOKEN: TOKEN }, 'TELEGRAM_WEBHOOK_SECRET', 'is required when TELEGRAM_BOT_TOKEN is set'],
    [{ TELEGRAM_WEBHOOK_SECRET: SECRET }, 'TELEGRAM_BOT_TOKEN', 'is required when TELEGRAM_WEBHOOK_SECRET is set'],
    [{ TELEGRAM_BOT_TOKEN: 'not-a-token-but-secret', TELEGRAM_WEBHOOK_SECRET: SECRET }, 'TELEGRAM_BOT_TOKEN', 'BotFather'],
    [{ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: 'short' }, 'TELEGRAM_WEBHOOK_SECRET', '16–256 characters'],
    [{ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: 'has spaces in it, which Telegram refuses' }, 'TELEGRAM_WEBHOOK_SECRET', 'A-Z, a-z, 0-9'],
    [{ TELEGRAM_API_BASE: 'ftp://api.example' }, 'TELEGRAM_API_BASE', 'http(s) URL'],
    [{ TELEGRAM_API_BASE: 'https://api.example/?token=1' }, 'TELEGRAM_API_BASE', 'without query'],
    [{ TELEGRAM_BOT_USERNAME: 'a b' }, 'TELEGRAM_BOT_USERNAME', 'bot username'],
  ])('%j → names %s', (override, path, message) => {
    const error = issuesOf({ ...valid, ...override });
    expect(error.code).toBe('invalid_config');
    const issue = error.issues.find((entry) => entry.path === path);
    expect(issue, JSON.stringify(error.issues)).toBeDefined();
    expect(issue!.message).toContain(message);
  });

  it('never puts the token or the secret in an error', () => {
    const error = issuesOf({ ...valid, TELEGRAM_BOT_TOKEN: 'sekret-token-value', TELEGRAM_WEBHOOK_SECRET: 'bad secret value!' });
    const text = JSON.stringify(error.issues) + error.message;
    expect(text).not.toContain('sekret-token-value');
    expect(text).not.toContain('bad secret value!');
  });
});
