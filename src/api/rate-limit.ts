import { createMiddleware } from 'hono/factory';
import { secretsEqual } from '../lib/crypto';
import { tenantOfKey } from './api-keys';
import { bearerTokenOf, type AuthVariables } from './auth';
import { tenantOfSessionToken } from '../dashboard/session';
import { sessionCookieOf } from '../dashboard/session-auth';

/** The window of both limiters in wrangler.toml (`simple.period`); retry-after is counted to its end. */
const PERIOD_SECONDS = 60;

type Bucket = { limiter: 'key' | 'ip'; key: string };

/**
 * Which budget a request spends: its tenant's (every key of a tenant with a genuine tag, and
 * its dashboard sessions, share one: more keys or sessions buy no more requests), the admin
 * token's, else its client IP's; none for Telegram's own webhook calls (they carry
 * the webhook secret, come from Telegram's addresses and are paced by Telegram). Only the
 * tag is checked here, no object is woken: a revoked key still spends its own budget before its 401.
 */
export async function bucketOf(
  request: { authorization: string | undefined; clientIp: string | undefined; telegramSecret: string | undefined; sessionToken?: string | null },
  config: AuthVariables['config'],
): Promise<Bucket | null> {
  if (request.telegramSecret !== undefined && config.telegram && (await secretsEqual(request.telegramSecret, config.telegram.webhookSecret))) return null;
  const token = bearerTokenOf(request.authorization);
  if (token !== null) {
    const tenantId = await tenantOfKey(config.apiKeySecret, token);
    if (tenantId !== null) return { limiter: 'key', key: `tenant:${tenantId}` };
    if (await secretsEqual(token, config.adminToken)) return { limiter: 'key', key: 'admin' };
  }
  // A dashboard session spends its tenant's budget, as the tenant's keys do.
  const sessionTenant = request.sessionToken ? await tenantOfSessionToken(config.apiKeySecret, request.sessionToken) : null;
  if (sessionTenant !== null) return { limiter: 'key', key: `tenant:${sessionTenant}` };
  return { limiter: 'ip', key: `ip:${request.clientIp ?? 'unknown'}` };
}

/** Seconds until the current window ends (windows are aligned to the clock). */
export function retryAfterSeconds(now: number, periodSeconds = PERIOD_SECONDS): number {
  return Math.max(1, Math.ceil(periodSeconds - (now / 1000) % periodSeconds));
}

let missingBindingLogged = false;

/** 429 with retry-after once a bucket's budget for the window is spent. Runs after `withConfig`. */
export const rateLimit = createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
  const bucket = await bucketOf({ authorization: c.req.header('authorization'), clientIp: c.req.header('cf-connecting-ip'), telegramSecret: c.req.header('x-telegram-bot-api-secret-token'), sessionToken: sessionCookieOf(c) }, c.get('config'));
  if (bucket === null) return next();
  const limiter = bucket.limiter === 'key' ? c.env.KEY_RATE_LIMITER : c.env.IP_RATE_LIMITER;
  if (!limiter) {
    if (!missingBindingLogged) console.warn('rate limiting is off: the KEY_RATE_LIMITER / IP_RATE_LIMITER bindings are missing from wrangler.toml');
    missingBindingLogged = true;
    return next();
  }
  let success: boolean;
  try {
    ({ success } = await limiter.limit({ key: bucket.key }));
  } catch (error) {
    // The limiter is a safeguard, not a dependency: if it fails, serve the request and say so.
    console.error('rate limiter failed; request allowed', error instanceof Error ? error.name : 'unknown');
    return next();
  }
  if (!success) {
    const retryAfter = retryAfterSeconds(Date.now());
    const who = bucket.key === 'admin' ? 'the admin token' : bucket.limiter === 'key' ? 'this tenant' : 'requests without a valid API key from this address';
    return c.json({ error: { code: 'rate_limited', message: `too many requests for ${who}; retry after ${retryAfter} s` } }, 429, { 'retry-after': String(retryAfter) });
  }
  return next();
});
