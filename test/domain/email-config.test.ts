import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/env';

const base = { RPC_URLS: '{"1":"https://rpc.example"}', ADMIN_TOKEN: 'x'.repeat(32) };
const SECRET = 'sm7p-Secret-Value-0123';
const smtp = { SMTP_HOST: 'smtp.example.com', EMAIL_FROM: 'alerts@example.com', SMTP_USER: 'apikey', SMTP_PASSWORD: SECRET };

function errorOf(env: Record<string, unknown>) {
  try {
    parseConfig({ ...base, ...env });
  } catch (error) {
    return error as { code: string; message: string; issues: Array<{ path: string; message: string }> };
  }
  throw new Error('expected parseConfig to throw');
}

describe('email settings', () => {
  it('email is off when nothing is set', () => {
    expect(parseConfig(base).email).toBeUndefined();
    expect(parseConfig({ ...base, EMAIL_TRANSPORT: '', SMTP_HOST: '' }).email).toBeUndefined();
  });

  it('SMTP with defaults: STARTTLS on 587, 15 s timeout; SMTP_HOST alone chooses smtp', () => {
    expect(parseConfig({ ...base, ...smtp }).email).toEqual({
      transport: 'smtp',
      from: { address: 'alerts@example.com', name: undefined },
      smtp: { host: 'smtp.example.com', port: 587, security: 'starttls', credentials: { user: 'apikey', password: SECRET }, allowInsecureAuth: false, timeoutMs: 15_000 },
    });
  });

  it('tls defaults to port 465; explicit settings win; a display name is kept', () => {
    const config = parseConfig({ ...base, ...smtp, EMAIL_TRANSPORT: 'smtp', SMTP_SECURITY: 'tls', EMAIL_FROM: 'Risk desk <risk@example.com>' }).email;
    expect(config).toMatchObject({ from: { address: 'risk@example.com', name: 'Risk desk' }, smtp: { port: 465, security: 'tls' } });
    expect(parseConfig({ ...base, ...smtp, SMTP_PORT: '2525', SMTP_TIMEOUT_MS: '3000' }).email).toMatchObject({ smtp: { port: 2525, timeoutMs: 3000 } });
  });

  it('a relay without authentication, and plain text for local development', () => {
    expect(parseConfig({ ...base, SMTP_HOST: 'relay.internal', EMAIL_FROM: 'a@example.com' }).email).toMatchObject({ smtp: { credentials: undefined } });
    expect(parseConfig({ ...base, ...smtp, SMTP_HOST: '127.0.0.1', SMTP_SECURITY: 'none', SMTP_ALLOW_INSECURE_AUTH: 'true' }).email).toMatchObject({
      smtp: { security: 'none', allowInsecureAuth: true, port: 587 },
    });
  });

  it('the cloudflare path needs EMAIL_FROM and the SEND_EMAIL binding', () => {
    const binding = { send: async () => ({}) };
    expect(parseConfig({ ...base, EMAIL_TRANSPORT: 'cloudflare', EMAIL_FROM: 'alerts@example.com', SEND_EMAIL: binding }).email).toEqual({
      transport: 'cloudflare',
      from: { address: 'alerts@example.com', name: undefined },
    });
  });

  it.each([
    [{ EMAIL_TRANSPORT: 'sendgrid' }, 'EMAIL_TRANSPORT', '"smtp" or "cloudflare"'],
    [{ EMAIL_FROM: 'alerts@example.com' }, 'EMAIL_TRANSPORT', 'is required when EMAIL_FROM is set'],
    [{ SMTP_USER: 'u', SMTP_PASSWORD: SECRET }, 'EMAIL_TRANSPORT', 'SMTP_USER, SMTP_PASSWORD are set'],
    [{ EMAIL_TRANSPORT: 'smtp', EMAIL_FROM: 'a@example.com' }, 'SMTP_HOST', 'is required when EMAIL_TRANSPORT=smtp'],
    [{ SMTP_HOST: 'smtp.example.com' }, 'EMAIL_FROM', 'is required when email is on'],
    [{ ...smtp, EMAIL_FROM: 'not an address' }, 'EMAIL_FROM', 'must be an email address'],
    [{ ...smtp, EMAIL_FROM: 'Ops <ops@example.com>\r\nBcc: x@example.com' }, 'EMAIL_FROM', 'must be an email address'],
    [{ ...smtp, SMTP_HOST: 'smtps://smtp.example.com:465' }, 'SMTP_HOST', 'without scheme or port'],
    [{ ...smtp, SMTP_PORT: '25' }, 'SMTP_PORT', 'cannot connect to port 25'],
    [{ ...smtp, SMTP_PORT: '70000' }, 'SMTP_PORT', 'at most 65535'],
    [{ ...smtp, SMTP_PORT: 'smtp' }, 'SMTP_PORT', 'whole number'],
    [{ ...smtp, SMTP_SECURITY: 'ssl' }, 'SMTP_SECURITY', '"starttls" (port 587), "tls" (port 465) or "none"'],
    [{ ...smtp, SMTP_SECURITY: 'none' }, 'SMTP_SECURITY', 'SMTP_ALLOW_INSECURE_AUTH=true (local development only)'],
    [{ ...smtp, SMTP_PASSWORD: undefined }, 'SMTP_PASSWORD', 'set together'],
    [{ ...smtp, SMTP_USER: undefined }, 'SMTP_USER', 'set together'],
    [{ ...smtp, SMTP_TIMEOUT_MS: '10' }, 'SMTP_TIMEOUT_MS', 'at least 1000'],
    [{ ...smtp, SMTP_ALLOW_INSECURE_AUTH: 'yes' }, 'SMTP_ALLOW_INSECURE_AUTH', ''],
    [{ EMAIL_TRANSPORT: 'cloudflare', EMAIL_FROM: 'a@example.com' }, 'SEND_EMAIL', '[[send_email]] binding named SEND_EMAIL'],
  ])('%j → names %s', (override, path, message) => {
    const error = errorOf(override);
    expect(error.code).toBe('invalid_config');
    const issue = error.issues.find((entry) => entry.path === path);
    expect(issue, JSON.stringify(error.issues)).toBeDefined();
    expect(issue!.message).toContain(message);
    expect(error.message).toContain(path);
    // The password is a secret: never in an error, whatever else is wrong.
    expect(JSON.stringify(error)).not.toContain(SECRET);
    expect(error.message).not.toContain(SECRET);
  });

  it('a bad SMTP_PASSWORD is reported without its value', () => {
    const error = errorOf({ ...smtp, SMTP_PASSWORD: `${SECRET}${'x'.repeat(1100)}` });
    expect(error.issues.find((issue) => issue.path === 'SMTP_PASSWORD')!.message).toBe('must be at most 1024 characters');
    expect(JSON.stringify(error.issues) + error.message).not.toContain(SECRET);
  });
});
