import { Hono } from 'hono';
import { z } from 'zod';
import type { AuthVariables } from '../auth';
import { parseValue } from '../validate';
import { tenantStub } from '../../durable/tenant';

type App = { Bindings: Env; Variables: AuthVariables };

const querySchema = z.object({
  status: z.enum(['pending', 'delivered', 'dead'], { error: 'must be pending, delivered or dead' }).default('dead'),
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
});

/** Delivery records; `status=dead` lists dead letters (events given up on after ≥ 24 h of retries). */
export const deliveryRoutes = new Hono<App>().get('/', async (c) => {
  const query = parseValue(querySchema, c.req.query());
  return c.json({ data: await tenantStub(c.env, c.get('tenantId')).listDeliveries(query.status, query.limit) });
});
