import { Hono } from 'hono';
import type { AuthVariables } from '../auth';
import { parseValue } from '../validate';
import { marketsQuerySchema } from '../../config/api-schemas';
import { MARKET_PRESETS } from '../../protocols/presets';

type App = { Bindings: Env; Variables: AuthVariables };

/** `GET /v1/markets?chainId=`: the built-in markets of known deployments; a watch may name one by its `key`. */
export const marketRoutes = new Hono<App>().get('/', (c) => {
  const query = parseValue(marketsQuerySchema, c.req.query());
  const data = MARKET_PRESETS.filter((preset) => query.chainId === undefined || preset.chainId === query.chainId);
  return c.json({ data });
});
