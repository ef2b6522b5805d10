import { tenantStub } from '../durable/stubs';
import { createMiddleware } from 'hono/factory';
import { deleteCookie, getCookie } from 'hono/cookie';
import type { AuthVariables } from '../api/auth';
import { AppError } from '../lib/errors';
import { readForm } from './form';
import { secretsEqual } from '../lib/crypto';

import { SESSION_COOKIE, csrfTokenOf, sessionHash, tenantOfSessionToken } from './session';

export type DashboardVariables = AuthVariables & { sessionToken: string; csrfToken: string };
type DashboardEnv = { Bindings: Env; Variables: DashboardVariables };

export const SIGN_IN_PATH = '/dashboard/sign-in';

/** The session token of the request's cookie (the tag is checked later), or null. */
export function sessionCookieOf(c: Parameters<typeof getCookie>[0]): string | null {
  return getCookie(c, SESSION_COOKIE, 'host') ?? null;
}

export function clearSessionCookie(c: Parameters<typeof deleteCookie>[0]): void {
  deleteCookie(c, SESSION_COOKIE, { prefix: 'host', path: '/', secure: true, httpOnly: true, sameSite: 'Strict' });
}

/**
 * A signed-in session, or a way back to sign in: a page request goes to the sign-in page,
 * a form post gets a 401. Every POST must also carry the session's form token (`_csrf`).
 */
export const requireSession = createMiddleware<DashboardEnv>(async (c, next) => {
  const token = sessionCookieOf(c);
  const tenantId = token === null ? null : await tenantOfSessionToken(c.get('config').apiKeySecret, token);
  const session = tenantId === null ? null : await tenantStub(c.env, tenantId).findSession(await sessionHash(token!));
  if (session === null) {
    if (token !== null) clearSessionCookie(c);
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return c.redirect(SIGN_IN_PATH, 303);
    throw new AppError('session_required', 'your session has ended; sign in again', { status: 401 });
  }
  const csrfToken = await csrfTokenOf(token!);
  if (c.req.method === 'POST') {
    const form = await readForm(c);
    const sent = typeof form._csrf === 'string' ? form._csrf : '';
    if (!(await secretsEqual(sent, csrfToken))) {
      throw new AppError('csrf_rejected', 'this form is out of date or did not come from the dashboard; reload the page and try again', { status: 403, issues: [{ path: '_csrf', message: 'missing or not this session\'s form token' }] });
    }
  }
  c.set('tenantId', tenantId!);
  c.set('keyId', session.keyId);
  c.set('sessionToken', token!);
  c.set('csrfToken', csrfToken);
  await next();
});
