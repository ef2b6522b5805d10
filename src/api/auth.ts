import { tenantStub } from '../durable/stubs';
import { createMiddleware } from 'hono/factory';
import type { AppConfig } from '../config/env';
import { AppError } from '../lib/errors';
import { secretsEqual, sha256Hex } from '../lib/crypto';

import { tenantOfKey } from './api-keys';

export type AuthVariables = { config: AppConfig; tenantId: string; keyId: string };

/** The bearer token, or null when the header is missing or not `Bearer <token>`. */
export function bearerTokenOf(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

function bearerToken(header: string | undefined): string {
  const token = bearerTokenOf(header);
  if (token === null) throw new AppError('unauthorized', 'send Authorization: Bearer <API key>', { status: 401 });
  return token;
}

const invalidKey = () => new AppError('unauthorized', 'the API key is not valid', { status: 401 });

/**
 * A key's tag is checked first, without I/O: only a key this deployment issued reaches
 * its tenant's object, which then says whether it is still stored (not revoked or rotated out).
 */
export async function authenticateKey(env: Env, config: AppConfig, token: string): Promise<{ tenantId: string; keyId: string }> {
  const tenantId = await tenantOfKey(config.apiKeySecret, token);
  if (tenantId === null) throw invalidKey();
  const keyId = await tenantStub(env, tenantId).verifyKey(await sha256Hex(token));
  if (keyId === null) throw invalidKey();
  return { tenantId, keyId };
}

export const requireTenant = createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
  const { tenantId, keyId } = await authenticateKey(c.env, c.get('config'), bearerToken(c.req.header('authorization')));
  c.set('tenantId', tenantId);
  c.set('keyId', keyId);
  await next();
});

export const requireAdmin = createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
  const token = bearerToken(c.req.header('authorization'));
  if (!(await secretsEqual(token, c.get('config').adminToken))) throw new AppError('unauthorized', 'this route needs the ADMIN_TOKEN', { status: 401 });
  await next();
});
