import { Hono } from 'hono';
import { newTenantId, newTenantKey, requireAdmin, type AuthVariables } from '../auth';
import { parseJsonBody } from '../validate';
import { createKeySchema } from '../../config/api-schemas';
import { sha256Hex } from '../../lib/crypto';
import { tenantStub } from '../../durable/tenant';

type App = { Bindings: Env; Variables: AuthVariables };

/** Admin only: issues a tenant API key (a new tenant unless tenantId is given). Stored hashed. */
export const keyRoutes = new Hono<App>().use(requireAdmin).post('/', async (c) => {
  const input = await parseJsonBody(c, createKeySchema);
  const tenantId = input.tenantId ?? newTenantId();
  const key = newTenantKey(tenantId);
  await tenantStub(c.env, tenantId).addKey(await sha256Hex(key), input.label ?? '');
  return c.json({ tenantId, key, label: input.label ?? '' }, 201);
});
