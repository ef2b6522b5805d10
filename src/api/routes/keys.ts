import { tenantStub } from '../../durable/stubs';
import { Hono } from 'hono';
import { requireAdmin, requireTenant, type AuthVariables } from '../auth';
import { newTenantId, newTenantKey, newKeyId, tenantOfKeyId } from '../api-keys';
import { parseJsonBody, parseValue } from '../validate';
import { createKeySchema, listKeysQuerySchema, rotateKeySchema } from '../../config/api-schemas';
import { AppError } from '../../lib/errors';
import { sha256Hex } from '../../lib/crypto';
import { MAX_KEYS_IN_GRACE } from '../api-key-store';

type App = { Bindings: Env; Variables: AuthVariables };

const keyNotFound = (id: string) => new AppError('not_found', `API key ${id} not found`, { status: 404 });

/**
 * Tenant API keys. The admin issues (a new tenant unless tenantId is given), lists and
 * revokes them; a tenant rotates its own. Keys are shown once, when issued; only their
 * SHA-256 is stored.
 */
export const keyRoutes = new Hono<App>()
  .post('/rotate', requireTenant, async (c) => {
    const input = await parseJsonBody(c, rotateKeySchema, { optional: true });
    const tenantId = c.get('tenantId');
    const key = await newTenantKey(c.get('config').apiKeySecret, tenantId);
    const rotated = await tenantStub(c.env, tenantId).rotateKey(c.get('keyId'), { id: newKeyId(tenantId), hash: await sha256Hex(key) }, input.graceSeconds * 1000);
    switch (rotated.outcome) {
      case 'rotated':
        return c.json({ tenantId, key, ...rotated.key, previous: rotated.previous }, 201);
      case 'unknown_key':
        throw new AppError('unauthorized', 'the API key is not valid', { status: 401 });
      case 'rotated_out':
        throw new AppError('key_rotated_out', `this key was replaced by a rotation and stops working at ${rotated.expiresAt}; rotate with the key that replaced it`, { status: 409 });
      case 'too_many_keys_in_grace':
        throw new AppError('too_many_keys_in_grace', `${MAX_KEYS_IN_GRACE} rotated keys are still in their grace period; rotate with graceSeconds 0, or after ${rotated.nextEndsAt}`, { status: 409 });
    }
  })
  .post('/', requireAdmin, async (c) => {
    const input = await parseJsonBody(c, createKeySchema);
    const tenantId = input.tenantId ?? newTenantId();
    const key = await newTenantKey(c.get('config').apiKeySecret, tenantId);
    const record = await tenantStub(c.env, tenantId).addKey({ id: newKeyId(tenantId), hash: await sha256Hex(key), label: input.label ?? '' });
    return c.json({ tenantId, key, ...record }, 201);
  })
  .get('/', requireAdmin, async (c) => {
    const { tenantId } = parseValue(listKeysQuerySchema, c.req.query());
    const tenant = tenantStub(c.env, tenantId);
    if (!(await tenant.hasKeys())) throw new AppError('not_found', `tenant ${tenantId} has no keys; issue one with POST /v1/keys`, { status: 404 });
    return c.json({ tenantId, data: await tenant.listKeys() });
  })
  .delete('/:id', requireAdmin, async (c) => {
    const id = c.req.param('id');
    const tenantId = tenantOfKeyId(id);
    if (tenantId === null) throw keyNotFound(id);
    if (!(await tenantStub(c.env, tenantId).revokeKey(id))) throw keyNotFound(id);
    return c.body(null, 204);
  });
