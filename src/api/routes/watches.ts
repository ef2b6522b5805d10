import { Hono } from 'hono';
import type { AuthVariables } from '../auth';
import { parseJsonBody, parseValue } from '../validate';
import { createWatchSchema, DEFAULT_THRESHOLDS_INPUT, paginationSchema, patchWatchSchema, silenceSchema } from '../../config/api-schemas';
import { AppError } from '../../lib/errors';
import { newId } from '../../lib/crypto';
import { createChainClient } from '../../chain/client';
import { loadMarketMeta } from '../../protocols/aave-v3';
import { directoryStub, shardStub, tenantStub } from '../../durable/stubs';
import type { WatchRecord } from '../../durable/tenant';
import type { AppConfig } from '../../config/env';

type App = { Bindings: Env; Variables: AuthVariables };

const notFound = (id: string) => new AppError('not_found', `watch ${id} not found`, { status: 404 });

/** What the API shows of a watch: the record without internal placement. */
function publicWatch(watch: WatchRecord) {
  const { shard: _shard, ...rest } = watch;
  return rest;
}

function syncShard(env: Env, tenantId: string, watch: WatchRecord) {
  return shardStub(env, watch.shard).upsertWatch({
    id: watch.id,
    label: watch.label,
    chainId: watch.chainId,
    protocol: watch.protocol,
    market: watch.market,
    account: watch.account,
    tenantId,
    thresholds: watch.thresholds,
    silencedUntil: watch.silencedUntil ? Date.parse(watch.silencedUntil) : null,
  });
}

async function assertChannelsExist(env: Env, tenantId: string, channels: string[]) {
  const existing = new Set(await tenantStub(env, tenantId).existingChannels(channels));
  const issues = channels.flatMap((id, index) => (existing.has(id) ? [] : [{ path: `channels.${index}`, message: `no channel ${id}; create it with POST /v1/channels` }]));
  if (issues.length > 0) throw new AppError('validation_failed', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), { status: 400, issues });
}

async function assertMarket(config: AppConfig, chainId: number, market: `0x${string}`) {
  const chain = config.chains.get(chainId);
  if (!chain) {
    const known = [...config.chains.keys()].join(', ');
    throw new AppError('unknown_chain', `chain ${chainId} is not configured in RPC_URLS (configured: ${known})`, { status: 400, issues: [{ path: 'chainId', message: `not configured; one of ${known}` }] });
  }
  const { client } = createChainClient(chain, { timeoutMs: config.rpcTimeoutMs });
  await loadMarketMeta({ client, chainId, multicall3: chain.multicall3 }, market);
}

export const watchRoutes = new Hono<App>()
  .post('/', async (c) => {
    const input = await parseJsonBody(c, createWatchSchema);
    const tenantId = c.get('tenantId');
    const tenant = tenantStub(c.env, tenantId);
    await assertChannelsExist(c.env, tenantId, input.channels);
    const duplicate = (await tenant.listWatches()).find(
      (watch) => watch.chainId === input.chainId && watch.protocol === input.protocol && watch.market === input.market && watch.account === input.account,
    );
    if (duplicate) throw new AppError('watch_exists', `this account is already watched on this market as ${duplicate.id}; PATCH it instead`, { status: 409 });
    await assertMarket(c.get('config'), input.chainId, input.market);

    const marketKey = `${input.chainId}:${input.protocol}:${input.market.toLowerCase()}`;
    const shard = await directoryStub(c.env).assignShard(marketKey, c.get('config').shardSize);
    const watch = await tenant.createWatch({
      id: newId('w'),
      chainId: input.chainId,
      protocol: input.protocol,
      market: input.market,
      account: input.account,
      label: input.label ?? '',
      thresholds: input.thresholds ?? DEFAULT_THRESHOLDS_INPUT,
      channels: input.channels,
      shard,
    });
    await syncShard(c.env, tenantId, watch);
    return c.json({ ...publicWatch(watch), level: null, position: null }, 201);
  })
  .get('/', async (c) => c.json({ data: (await tenantStub(c.env, c.get('tenantId')).listWatches()).map(publicWatch) }))
  .get('/:id', async (c) => {
    const watch = await tenantStub(c.env, c.get('tenantId')).getWatch(c.req.param('id'));
    if (!watch) throw notFound(c.req.param('id'));
    const status = await shardStub(c.env, watch.shard).watchStatus(watch.id);
    return c.json({ ...publicWatch(watch), level: status?.level ?? null, position: status?.position ?? null, lastPolledAt: status?.lastPolledAt ?? null, lastError: status?.lastError ?? null });
  })
  .patch('/:id', async (c) => {
    const input = await parseJsonBody(c, patchWatchSchema);
    const tenantId = c.get('tenantId');
    if (input.channels) await assertChannelsExist(c.env, tenantId, input.channels);
    const watch = await tenantStub(c.env, tenantId).updateWatch(c.req.param('id'), input);
    if (!watch) throw notFound(c.req.param('id'));
    await syncShard(c.env, tenantId, watch);
    return c.json(publicWatch(watch));
  })
  .delete('/:id', async (c) => {
    const watch = await tenantStub(c.env, c.get('tenantId')).deleteWatch(c.req.param('id'));
    if (!watch) throw notFound(c.req.param('id'));
    await shardStub(c.env, watch.shard).removeWatch(watch.id);
    await directoryStub(c.env).releaseShard(watch.shard);
    return c.body(null, 204);
  })
  .get('/:id/alerts', async (c) => {
    const page = parseValue(paginationSchema, c.req.query());
    const tenant = tenantStub(c.env, c.get('tenantId'));
    if (!(await tenant.getWatch(c.req.param('id')))) throw notFound(c.req.param('id'));
    return c.json(await tenant.listEvents(c.req.param('id'), page.limit, page.cursor ? Number(page.cursor) : undefined));
  })
  .post('/:id/silence', async (c) => {
    const input = await parseJsonBody(c, silenceSchema);
    const tenantId = c.get('tenantId');
    const watch = await tenantStub(c.env, tenantId).updateWatch(c.req.param('id'), { silencedUntil: Date.parse(input.until) });
    if (!watch) throw notFound(c.req.param('id'));
    await syncShard(c.env, tenantId, watch);
    return c.json(publicWatch(watch));
  })
  .delete('/:id/silence', async (c) => {
    const tenantId = c.get('tenantId');
    const watch = await tenantStub(c.env, tenantId).updateWatch(c.req.param('id'), { silencedUntil: null });
    if (!watch) throw notFound(c.req.param('id'));
    await syncShard(c.env, tenantId, watch);
    return c.json(publicWatch(watch));
  });
