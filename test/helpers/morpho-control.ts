import type { LocalChain } from '../../tools/chain';
import { deployMorpho, openMorphoPosition, setMorphoPrice, type LocalMorpho } from '../../tools/chain/morpho';

/* Control routes for tests inside workerd that need Morpho Blue: deployed (and compiled, cached) on first use. */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function morphoControlRoutes(chain: LocalChain): Record<string, Route> {
  let deployed: Promise<LocalMorpho> | undefined;
  const morpho = () => (deployed ??= deployMorpho(chain.clients, chain.accounts[0]!));
  return {
    'POST /morpho/market': async () => {
      const local = await morpho();
      return { morpho: local.morpho, id: local.id, loan: local.loan, collateral: local.collateral };
    },
    'POST /morpho/open': async (body) => ({
      account: await openMorphoPosition(chain.clients, await morpho(), { collateralWeth: String(body.collateralWeth ?? '1'), borrowUsdc: String(body.borrowUsdc ?? '1000') }),
    }),
    'POST /morpho/price': async (body) => {
      await setMorphoPrice(chain.clients, await morpho(), String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
  };
}
