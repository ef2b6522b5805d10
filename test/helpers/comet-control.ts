import { parseUnits, type Address } from 'viem';
import type { LocalChain } from '../../tools/chain';
import { mintComet, openCometPosition, setCometPrice, type CometSymbol, type LocalComet } from '../../tools/chain/comet';

/*
 * Control routes for tests inside workerd that use the Compound v3 market the global setup
 * deployed (its address is a worker setting: the owner trusts it for live top-ups).
 */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function cometControlRoutes(chain: LocalChain, local: LocalComet): Record<string, Route> {
  return {
    'POST /comet/market': async () => ({ comet: local.comet, tokens: Object.fromEntries(Object.values(local.tokens).map((token) => [token.symbol, { asset: token.asset, decimals: token.decimals }])) }),
    'POST /comet/open': async (body) => {
      const account = await openCometPosition(chain.clients, local, {
        collateral: (body.collateral as 'WETH' | 'WBTC' | undefined) ?? 'WETH',
        collateralAmount: String(body.collateralAmount ?? '1'),
        borrowUsdc: String(body.borrowUsdc ?? '1000'),
      });
      return { account };
    },
    'POST /comet/price': async (body) => {
      await setCometPrice(chain.clients, local, body.symbol as CometSymbol, String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
    /** Test tokens of the Comet market for an address (the executor wallet). */
    'POST /comet/mint': async (body) => {
      const symbol = body.symbol as CometSymbol;
      await mintComet(chain.clients, local, body.to as Address, symbol, parseUnits(String(body.amount), local.tokens[symbol].decimals));
      return { ok: true };
    },
  };
}
