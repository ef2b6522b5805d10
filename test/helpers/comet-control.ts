import type { LocalChain } from '../../tools/chain';
import { deployComet, openCometPosition, setCometPrice, type CometSymbol, type LocalComet } from '../../tools/chain/comet';

/*
 * Control routes for tests inside workerd that need a Compound v3 market: deployed on first
 * use (most test files never need it), then positions and price rounds on request.
 */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function cometControlRoutes(chain: LocalChain): Record<string, Route> {
  let deployed: Promise<LocalComet> | undefined;
  const comet = () => (deployed ??= deployComet(chain.clients, chain.accounts[0]!));
  return {
    'POST /comet/market': async () => {
      const local = await comet();
      return { comet: local.comet, tokens: Object.fromEntries(Object.values(local.tokens).map((token) => [token.symbol, { asset: token.asset, decimals: token.decimals }])) };
    },
    'POST /comet/open': async (body) => {
      const account = await openCometPosition(chain.clients, await comet(), {
        collateral: (body.collateral as 'WETH' | 'WBTC' | undefined) ?? 'WETH',
        collateralAmount: String(body.collateralAmount ?? '1'),
        borrowUsdc: String(body.borrowUsdc ?? '1000'),
      });
      return { account };
    },
    'POST /comet/price': async (body) => {
      await setCometPrice(chain.clients, await comet(), body.symbol as CometSymbol, String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
  };
}
