import type { LocalChain } from '../../tools/chain';
import { openTrove, setLiquityPrice, type LocalLiquity } from '../../tools/chain/liquity-v2';

/* Control routes for tests inside workerd that use the Liquity v2 branches the global setup deployed. */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function liquityControlRoutes(chain: LocalChain, local: LocalLiquity): Record<string, Route> {
  return {
    'POST /liquity/market': async () => ({ troveManager: local.branches.WETH.troveManager, collateral: local.branches.WETH.collToken }),
    /** A trove on the WETH branch; its id as the API takes it (0x + 64 hex). */
    'POST /liquity/open': async (body) => {
      const trove = await openTrove(chain.clients, local, { branch: 'WETH', collateral: String(body.collateral ?? '2'), debt: String(body.debt ?? '2500') });
      return { owner: trove.owner, troveId: `0x${trove.troveId.toString(16).padStart(64, '0')}`, decimal: trove.troveId.toString() };
    },
    'POST /liquity/price': async (body) => {
      await setLiquityPrice(chain.clients, local, 'WETH', String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
  };
}
