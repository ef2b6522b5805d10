import { parseUnits, type Address } from 'viem';
import type { LocalChain } from '../../tools/chain';
import { mintComet, openCometPosition, setCometPrice, type CometSymbol, type LocalComet } from '../../tools/chain/comet';

/*
 * Control routes for tests inside workerd that use the Compound v3 markets the global setup
 * deployed (their addresses are a worker setting: the owner trusts them for live top-ups): the
 * USDC market, or with `market: "weth"` the WETH market priced in ETH.
 */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function cometControlRoutes(chain: LocalChain, markets: { usdc: LocalComet; weth: LocalComet }): Record<string, Route> {
  const marketOf = (body: Record<string, unknown>): LocalComet => (body.market === 'weth' ? markets.weth : markets.usdc);
  return {
    'POST /comet/market': async (body) => {
      const local = marketOf(body);
      return { comet: local.comet, base: local.base, tokens: Object.fromEntries(Object.values(local.tokens).map((token) => [token.symbol, { asset: token.asset, decimals: token.decimals }])) };
    },
    /** A new borrower: { collateral, collateralAmount, borrow } (borrow in the market's base token). */
    'POST /comet/open': async (body) => {
      const account = await openCometPosition(chain.clients, marketOf(body), {
        collateral: (body.collateral as 'WETH' | 'WBTC' | undefined) ?? 'WETH',
        collateralAmount: String(body.collateralAmount ?? '1'),
        borrow: String(body.borrow ?? '1000'),
      });
      return { account };
    },
    /** A token's price on the market's own feed for it (USD in the USDC market, ETH in the WETH one). */
    'POST /comet/price': async (body) => {
      await setCometPrice(chain.clients, marketOf(body), body.symbol as CometSymbol, String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
    /** Test tokens of the Comet market for an address (the executor wallet). */
    'POST /comet/mint': async (body) => {
      const symbol = body.symbol as CometSymbol;
      await mintComet(chain.clients, marketOf(body), body.to as Address, symbol, parseUnits(String(body.amount), markets.usdc.tokens[symbol].decimals));
      return { ok: true };
    },
  };
}
