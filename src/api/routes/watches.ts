import { tenantStub } from '../../durable/stubs';
import { Hono } from 'hono';
import type { AuthVariables } from '../auth';
import { parseJsonBody, parseValue } from '../validate';
import { createWatchSchema, paginationSchema, patchWatchSchema, silenceSchema } from '../../config/api-schemas';
import { AppError } from '../../lib/errors';
import { encodePageCursor } from '../../lib/page-cursor';
import { listPageSchema } from '../page-query';

import { createWatch, deleteWatch, getWatchWithStatus, listWatchesAtAGlance, publicWatch, updateWatch } from '../../watches/service';

type App = { Bindings: Env; Variables: AuthVariables };

export const watchRoutes = new Hono<App>()
  .post('/', async (c) => {
    const input = await parseJsonBody(c, createWatchSchema);
    const watch = await createWatch(c.env, c.get('config'), c.get('tenantId'), input);
    return c.json({ ...publicWatch(watch), level: null, position: null }, 201);
  })
  .get('/', async (c) => {
    const query = parseValue(listPageSchema, c.req.query());
    const page = await listWatchesAtAGlance(c.env, c.get('tenantId'), query.limit, query.cursor ?? null);
    return c.json({ data: page.data, nextCursor: page.next ? encodePageCursor(page.next) : null });
  })
  .get('/:id', async (c) => c.json(await getWatchWithStatus(c.env, c.get('tenantId'), c.req.param('id'))))
  .patch('/:id', async (c) => {
    const input = await parseJsonBody(c, patchWatchSchema);
    return c.json(publicWatch(await updateWatch(c.env, c.get('tenantId'), c.req.param('id'), input)));
  })
  .delete('/:id', async (c) => {
    await deleteWatch(c.env, c.get('tenantId'), c.req.param('id'));
    return c.body(null, 204);
  })
  .get('/:id/alerts', async (c) => {
    const page = parseValue(paginationSchema, c.req.query());
    const tenant = tenantStub(c.env, c.get('tenantId'));
    if (!(await tenant.getWatch(c.req.param('id')))) throw new AppError('not_found', `watch ${c.req.param('id')} not found`, { status: 404 });
    return c.json(await tenant.listEvents(c.req.param('id'), page.limit, page.cursor ? Number(page.cursor) : undefined));
  })
  .post('/:id/silence', async (c) => {
    const input = await parseJsonBody(c, silenceSchema);
    return c.json(publicWatch(await updateWatch(c.env, c.get('tenantId'), c.req.param('id'), { silencedUntil: Date.parse(input.until) })));
  })
  .delete('/:id/silence', async (c) => c.json(publicWatch(await updateWatch(c.env, c.get('tenantId'), c.req.param('id'), { silencedUntil: null }))));
