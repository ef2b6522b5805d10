import { Hono } from 'hono';
import { formatUnits } from 'viem';
import type { AuthVariables } from '../auth';
import { createChainClient } from '../../chain/client';
import { findAppError } from '../../lib/find-app-error';
import { gwei } from '../../topup/guards';

type App = { Bindings: Env; Variables: AuthVariables };

/**
 * The executor wallet as owners need to see it to fund it: its address and native balance
 * per configured chain. Never the key: the config only ever holds the derived address.
 */
export const topUpRoutes = new Hono<App>().get('/signer', async (c) => {
  const config = c.get('config');
  const address = config.topUp.signer;
  const chains = address
    ? await Promise.all(
        [...config.chains.values()].map(async (chain) => {
          try {
            const { client } = createChainClient(chain, { timeoutMs: config.rpcTimeoutMs });
            const balance = await client.getBalance({ address });
            return { chainId: chain.chainId, balanceNative: formatUnits(balance, 18), error: null };
          } catch (error) {
            // RPC errors name endpoints by origin only (see chain/redact.ts).
            return { chainId: chain.chainId, balanceNative: null, error: findAppError(error)?.message ?? 'balance could not be read' };
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
