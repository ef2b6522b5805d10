import { parseUnits, type Address } from 'viem';
import type { LocalChain } from '../../tools/chain';
import { mintMorphoToken, openMorphoPosition, setMorphoPrice, type LocalMorpho } from '../../tools/chain/morpho';

/* Control routes for tests inside workerd that use the Morpho Blue the global setup deployed (a worker setting trusts it). */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function morphoControlRoutes(chain: LocalChain, local: LocalMorpho): Record<string, Route> {
  return {
    'POST /morpho/market': async () => ({ morpho: local.morpho, id: local.id, loan: local.loan, collateral: local.collateral }),
    'POST /morpho/open': async (body) => ({
      account: await openMorphoPosition(chain.clients, local, { collateralWeth: String(body.collateralWeth ?? '1'), borrowUsdc: String(body.borrowUsdc ?? '1000') }),
    }),
    'POST /morpho/price': async (body) => {
      await setMorphoPrice(chain.clients, local, String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
    /** The market's loan (USDC) or collateral (WETH) token for an address (the executor wallet). */
    'POST /morpho/mint': async (body) => {
      const token = body.symbol === 'WETH' ? local.collateral : local.loan;
      await mintMorphoToken(chain.clients, local, token.asset, body.to as Address, parseUnits(String(body.amount), token.decimals));
      return { ok: true };
    },
  };
}
