import { parseUnits, type Address } from 'viem';
import type { LocalChain } from '../../tools/chain';
import { createMorphoMarket, deployMorphoCopyWithMarket, deployMorphoTestToken, mintMorphoToken, openMorphoPosition, setMorphoPrice, type LocalMorpho, type LocalMorphoMarket } from '../../tools/chain/morpho';

/*
 * Control routes for tests inside workerd that use the Morpho Blue the global setup deployed (a
 * worker setting trusts it): its USDC/WETH market, or with `market: "wethLoan"` its WETH-loan
 * market, whose values are in WETH and reach dollars through the ETH / USD feed (USD_PRICE_FEEDS).
 */

type Route = (body: Record<string, unknown>) => Promise<unknown>;
export type LocalMorphoWithWethLoan = LocalMorpho & { wethLoan: LocalMorphoMarket };

export function morphoControlRoutes(chain: LocalChain, local: LocalMorphoWithWethLoan): Record<string, Route> {
  const marketOf = (body: Record<string, unknown>): LocalMorphoMarket => (body.market === 'wethLoan' ? local.wethLoan : local);
  return {
    'POST /morpho/market': async (body) => {
      const market = marketOf(body);
      return { morpho: local.morpho, id: market.id, loan: market.loan, collateral: market.collateral };
    },
    'POST /morpho/open': async (body) => ({
      account: await openMorphoPosition(chain.clients, local, { collateral: String(body.collateral ?? '1'), borrow: String(body.borrow ?? '1000') }, marketOf(body)),
    }),
    /** The oracle's loan tokens per collateral token. */
    'POST /morpho/price': async (body) => {
      await setMorphoPrice(chain.clients, local, String(body.price), marketOf(body));
      await chain.actions.mine(1);
      return { ok: true };
    },
    /** The market's loan or collateral token (by symbol) for an address (the executor wallet). */
    'POST /morpho/mint': async (body) => {
      const market = marketOf(body);
      const token = body.symbol === market.collateral.symbol ? market.collateral : market.loan;
      await mintMorphoToken(chain.clients, local, token.asset, body.to as Address, parseUnits(String(body.amount), token.decimals));
      return { ok: true };
    },
    /**
     * What an attacker can do in any Morpho contract: a market of its own lending a token it names
     * "USDC" against the real WETH, priced by an oracle of its own at next to nothing.
     */
    'POST /morpho/own-market': async () => {
      const loan = await deployMorphoTestToken(chain.clients, local.admin, { name: 'Totally USDC', symbol: 'USDC', decimals: 6 });
      const market = await createMorphoMarket(chain.clients, local, { loan, collateral: local.collateral, irm: local.params.irm, price: '0.000001', lent: '1000' });
      return { id: market.id, loan: market.loan, collateral: market.collateral };
    },
    /** A copy of Morpho's code of an attacker's own, holding the default market's params: the same market id in another contract. */
    'POST /morpho/copy': async () => ({ morpho: await deployMorphoCopyWithMarket(chain.clients, local.admin, local.params), id: local.id, collateral: local.collateral }),
  };
}
