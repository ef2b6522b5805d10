import type { LocalChain } from '../../tools/chain';
import { openMakerVault, setMakerPrice, type LocalMaker } from '../../tools/chain/maker';

/* Control routes for tests inside workerd that use the Maker system the global setup deployed. */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function makerControlRoutes(chain: LocalChain, local: LocalMaker): Record<string, Route> {
  return {
    'POST /maker/market': async () => ({ vat: local.vat, ilk: local.ilk.ilk, name: local.ilk.name, pip: local.ilk.pip }),
    'POST /maker/open': async (body) => ({
      account: await openMakerVault(chain.clients, local, { collateral: String(body.collateral ?? '1'), debt: String(body.debt ?? '1000') }),
    }),
    'POST /maker/price': async (body) => {
      await setMakerPrice(chain.clients, local, String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
  };
}
