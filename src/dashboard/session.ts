import type { AppConfig } from '../config/env';
import { constantTimeEqual, deploymentTag, fromBase64Url, labelled } from '../api/api-keys';
import { randomBytes, sha256Hex, toBase64Url } from '../lib/crypto';

/**
 * Dashboard sessions. Signing in exchanges an API key for a session token
 * `mws_<16 hex tenant>_<43 base64url>` (16 random bytes and a 16-byte tag by the deployment
 * secret, like API keys): a forged cookie is refused before any object is woken, and the
 * tenant stores only the token's SHA-256 with an expiry. The cookie holds the session token,
 * never the API key.
 */

/** hono's `prefix: 'host'` makes this `__Host-mw_session`: Secure, Path=/, no Domain. */
export const SESSION_COOKIE = 'mw_session';
export const SESSION_TTL_MS = 12 * 3_600_000;
/** Sessions one tenant may hold at once; signing in beyond it ends the oldest. */
export const MAX_SESSIONS_PER_TENANT = 50;

const TOKEN_PATTERN = /^mws_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const RANDOM_BYTES = 16;
const TAG_BYTES = 16;
const TAG_LABEL = 'marginwatch dashboard session v1';

function tagInput(tenantHex: string, random: Uint8Array): Uint8Array {
  return labelled(`${tenantHex}|`, random);
}

export async function newSessionToken(secret: AppConfig['apiKeySecret'], tenantId: string): Promise<string> {
  const tenantHex = tenantId.slice(2);
  const random = randomBytes(RANDOM_BYTES);
  const body = new Uint8Array(RANDOM_BYTES + TAG_BYTES);
  body.set(random);
  body.set(await deploymentTag(secret, TAG_LABEL, tagInput(tenantHex, random), TAG_BYTES), RANDOM_BYTES);
  return `mws_${tenantHex}_${toBase64Url(body)}`;
}

/** The tenant a session token belongs to when its tag is genuine; null for anything else (no I/O). */
export async function tenantOfSessionToken(secret: AppConfig['apiKeySecret'], token: string): Promise<string | null> {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const body = fromBase64Url(match[2]!);
  if (body.length !== RANDOM_BYTES + TAG_BYTES) return null;
  const expected = await deploymentTag(secret, TAG_LABEL, tagInput(match[1]!, body.slice(0, RANDOM_BYTES)), TAG_BYTES);
  return constantTimeEqual(expected, body.slice(RANDOM_BYTES)) ? `t_${match[1]}` : null;
}

/** What the tenant stores and looks a session up by. */
export function sessionHash(token: string): Promise<string> {
  return sha256Hex(token);
}

/**
 * The form token of a session: derived from the session token (which only the HttpOnly
 * cookie carries), so a page from another site can neither read nor compute it, and nothing
 * more needs storing. Domain-separated from the stored hash.
 */
export async function csrfTokenOf(sessionToken: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`marginwatch csrf|${sessionToken}`));
  return toBase64Url(new Uint8Array(digest));
}
