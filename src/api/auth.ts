import { createMiddleware } from 'hono/factory';
import type { AppConfig } from '../config/env';
import { AppError } from '../lib/errors';
import { secretsEqual, sha256Hex, toBase64Url, randomBytes, toHex } from '../lib/crypto';
import { tenantStub } from '../durable/tenant';

export type AuthVariables = { config: AppConfig; tenantId: string };

const KEY_PATTERN = /^mwk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;

function bearerToken(header: string | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) throw new AppError('unauthorized', 'send Authorization: Bearer <API key>', { status: 401 });
  return match[1]!;
}

/** Tenant API keys carry their tenant id, so a key is checked against that tenant's hashes only. */
export function newTenantKey(tenantId: string): string {
  return `mwk_${tenantId.slice(2)}_${toBase64Url(randomBytes(32))}`;
}

export function newTenantId(): string {
  return `t_${toHex(randomBytes(8))}`;
}

export const requireTenant = createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
  const token = bearerToken(c.req.header('authorization'));
  const match = KEY_PATTERN.exec(token);
  if (!match) throw new AppError('unauthorized', 'the API key is not valid', { status: 401 });
  const tenantId = `t_${match[1]}`;
  const valid = await tenantStub(c.env, tenantId).verifyKey(await sha256Hex(token));
  if (!valid) throw new AppError('unauthorized', 'the API key is not valid', { status: 401 });
  c.set('tenantId', tenantId);
  await next();
});

export const requireAdmin = createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
  const token = bearerToken(c.req.header('authorization'));
  if (!(await secretsEqual(token, c.get('config').adminToken))) throw new AppError('unauthorized', 'this route needs the ADMIN_TOKEN', { status: 401 });
  await next();
});
