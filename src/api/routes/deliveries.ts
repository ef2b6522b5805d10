import { tenantStub } from '../../durable/stubs';
import { Hono } from 'hono';
import type { AuthVariables } from '../auth';
import { parseValue } from '../validate';

import { deliveriesQuerySchema } from '../../config/api-schemas';

type App = { Bindings: Env; Variables: AuthVariables };

/** Delivery records, a page at a time; `status=dead` lists dead letters (events given up on after ≥ 24 h of retries). */
export const deliveryRoutes = new Hono<App>().get('/', async (c) => {
  const query = parseValue(deliveriesQuerySchema, c.req.query());
  const page = await tenantStub(c.env, c.get('tenantId')).listDeliveries(query.status, query.limit, query.cursor ?? null);
  return c.json({ data: page.data, nextCursor: page.next ? `${page.next.seq}_${page.next.channelId}` : null });
});
