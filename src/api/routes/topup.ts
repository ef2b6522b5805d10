import { tenantStub, topUpStub } from '../../durable/stubs';
import { topUpObjectName } from '../../topup/signer';
import { Hono } from 'hono';
import { formatUnits, getAddress } from 'viem';
import { requireAdmin, requireTenant, type AuthVariables } from '../auth';
import { parseJsonBody } from '../validate';
import { tenantIdSchema, topUpGrantSchema } from '../../config/api-schemas';
import { AppError } from '../../lib/errors';

import { setTopUpGrant } from '../../topup/grant-service';
import { createChainClient, ISOLATE_PROVEN_CHAINS } from '../../chain/client';
import { findAppError } from '../../lib/find-app-error';
import { gwei } from '../../topup/guards';
import { readFeedRound } from '../../protocols/usd-price-feed';
import { roundProblem } from '../../domain/usd-unit';
import type { UsdPriceFeeds } from '../../config/usd-price-feeds';
import type { ReadContext } from '../../protocols/read-types';

type App = { Bindings: Env; Variables: AuthVariables };

/**
 * The executor wallet as owners need to see it to fund it: its address and native balance
 * per configured chain. Never the key: the config only ever holds the derived address.
 * The wallet is the owner's: admin token only. A tenant sees its own grant (`/grant`).
 */
export const topUpRoutes = new Hono<App>().get('/grant', requireTenant, async (c) => {
  const tenantId = c.get('tenantId');
  return c.json({ tenantId, ...(await tenantStub(c.env, tenantId).topUpGrant()) });
}).get('/signer', requireAdmin, async (c) => {
  const config = c.get('config');
  const address = config.topUp.signer;
  const chains = address
    ? await Promise.all(
        [...config.chains.values()].map(async (chain) => {
          const held = await heldSharesOf(c.env, topUpObjectName(chain.chainId, address));
          const { client } = createChainClient(chain, { timeoutMs: config.rpcTimeoutMs, provenChains: ISOLATE_PROVEN_CHAINS });
          const usdFeeds = await usdFeedStates({ client, chainId: chain.chainId, multicall3: chain.multicall3 }, config.usdPriceFeeds.get(chain.chainId));
          try {
            const balance = await client.getBalance({ address });
            return { chainId: chain.chainId, balanceNative: formatUnits(balance, 18), error: null, held, usdFeeds };
          } catch (error) {
            // RPC errors name endpoints by origin only (see chain/redact.ts).
            return { chainId: chain.chainId, balanceNative: null, error: findAppError(error)?.message ?? 'balance could not be read', held, usdFeeds };
          }
        }),
      )
    : [];
  return c.json({
    address,
    configured: address !== null,
    maxGasGwei: gwei(config.topUp.maxGasWei),
    chains,
    ...(address ? {} : { hint: 'set TOPUP_PRIVATE_KEY with `wrangler secret put TOPUP_PRIVATE_KEY` to enable live top-ups; dry runs work without it' }),
  });
});

/**
 * The owner's USD price feeds of one chain (USD_PRICE_FEEDS) as the executor would find them now:
 * each feed's latest answer and age at the latest block, and whether it would value an action.
 */
async function usdFeedStates(context: ReadContext, feeds: UsdPriceFeeds | undefined) {
  if (!feeds || feeds.size === 0) return [];
  const listing = [...feeds].map(([token, { feed, maxAgeSeconds }]) => ({ token: getAddress(token), feed, maxAgeSeconds }));
  try {
    const block = await context.client.getBlock({ blockTag: 'latest' });
    return await Promise.all(
      listing.map(async (entry) => {
        const round = await readFeedRound(context, entry.feed, block.number);
        if (!round) return { ...entry, usdPrice: null, updatedAt: null, usable: false, error: 'does not answer decimals() and latestRoundData()' };
        const problem = roundProblem({ round, blockTimestamp: block.timestamp, maxAgeSeconds: entry.maxAgeSeconds, feed: entry.feed, symbol: entry.token });
        return { ...entry, usdPrice: round.answer > 0n ? formatUnits(round.answer, round.decimals) : null, updatedAt: new Date(Number(round.updatedAt) * 1000).toISOString(), usable: problem === null, error: problem };
      }),
    );
  } catch (error) {
    const message = findAppError(error)?.message ?? 'the feeds could not be read';
    return listing.map((entry) => ({ ...entry, usdPrice: null, updatedAt: null, usable: false, error: message }));
  }
}

/** The executor's held balances per tenant (src/topup/held-ledger.ts), for the owner; null (and a log line) when its object cannot be reached. */
async function heldSharesOf(env: Env, executorName: string) {
  try {
    const shares = await topUpStub(env, executorName).heldShares();
    return shares.map((share) => ({ tenantId: share.tenantId, balance: share.key, amount: formatUnits(share.amount, share.decimals), symbol: share.symbol }));
  } catch (error) {
    console.warn('topup: the executor\'s held balances could not be read', error instanceof Error ? error.name : 'unknown');
    return null;
  }
}

/** `PUT|GET /v1/admin/tenants/:tenantId/topup`: the owner grants (or revokes) live top-ups to one tenant, with a USD budget per rolling 24 h. */
export const adminTenantRoutes = new Hono<App>()
  .use(requireAdmin)
  .put('/:tenantId/topup', async (c) => {
    const tenantId = await existingTenant(c.env, c.req.param('tenantId'));
    const input = await parseJsonBody(c, topUpGrantSchema);
    const grant = await setTopUpGrant(c.env, c.get('config'), tenantId, input);
    return c.json({ tenantId, ...grant });
  })
  .get('/:tenantId/topup', async (c) => {
    const tenantId = await existingTenant(c.env, c.req.param('tenantId'));
    return c.json({ tenantId, ...(await tenantStub(c.env, tenantId).topUpGrant()) });
  });

async function existingTenant(env: Env, raw: string): Promise<string> {
  const parsed = tenantIdSchema.safeParse(raw);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? 'is not a tenant id';
    throw new AppError('validation_failed', `tenantId: ${message}`, { status: 400, issues: [{ path: 'tenantId', message }] });
  }
  const tenantId = parsed.data;
  if (!(await tenantStub(env, tenantId).hasKeys())) throw new AppError('not_found', `tenant ${tenantId} not found; issue it a key with POST /v1/keys first`, { status: 404 });
  return tenantId;
}
