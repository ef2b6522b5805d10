import type { Address } from 'viem';
import type { LocalChain } from '../../tools/chain';
import { openMakerVault, setMakerPrice, type LocalMaker } from '../../tools/chain/maker';
import { deployOsmIlk, openCdpVault, peepOsm, publishOsmPrice, type LocalOsmIlk } from '../../tools/chain/maker-fixtures';

/*
 * Control routes for tests inside workerd that use the Maker system the global setup deployed:
 * the ETH-A ilk (priced by dss's PipMock), its CdpManager, and on first use a second ilk,
 * ETH-B, priced by an OSM with a one-second hop (so a test need not wait an hour).
 */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function makerControlRoutes(chain: LocalChain, local: LocalMaker & { cdpManager: Address }): Record<string, Route> {
  let osmIlk: Promise<LocalOsmIlk> | undefined;
  const osm = () => (osmIlk ??= deployOsmIlk(chain.clients, local, { name: 'ETH-B', hop: 1, usdPerGem: '2000' }));
  return {
    'POST /maker/market': async () => ({ vat: local.vat, ilk: local.ilk.ilk, name: local.ilk.name, pip: local.ilk.pip, cdpManager: local.cdpManager }),
    'POST /maker/open': async (body) => ({
      account: await openMakerVault(chain.clients, local, { collateral: String(body.collateral ?? '1'), debt: String(body.debt ?? '1000') }),
    }),
    'POST /maker/price': async (body) => {
      await setMakerPrice(chain.clients, local, String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
    'POST /maker/open-cdp': async (body) => {
      const { cdp, urn } = await openCdpVault(chain.clients, local, local.cdpManager, { collateral: String(body.collateral ?? '1'), debt: String(body.debt ?? '1000') });
      return { cdp: cdp.toString(), urn };
    },
    'POST /maker/osm-market': async () => {
      const ilk = await osm();
      return { ilk: ilk.ilk.ilk, name: ilk.ilk.name, osm: ilk.osm };
    },
    'POST /maker/osm-open': async (body) => ({
      account: await openMakerVault(chain.clients, await osm(), { collateral: String(body.collateral ?? '1'), debt: String(body.debt ?? '1000') }),
    }),
    // The OSM queues `price` as its next one (what was next takes effect in the OSM; the Vat's spot is left alone).
    'POST /maker/osm-publish': async (body) => {
      const ilk = await osm();
      await publishOsmPrice(chain.clients, ilk, String(body.price));
      await chain.actions.mine(1);
      const [next, has] = await peepOsm(chain.clients, ilk);
      return { next: BigInt(next).toString(), has };
    },
  };
}
