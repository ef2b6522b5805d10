import { parseAbi, parseUnits, type Address } from 'viem';
import { sendContractTx } from '../../tools/chain/actions';
import type { LocalChain } from '../../tools/chain';
import { RAD, bytes32, openMakerVault, setMakerPrice, type LocalMaker } from '../../tools/chain/maker';
import { deployOsmIlk, openCdpVault, peepOsm, publishOsmPrice, type LocalOsmIlk } from '../../tools/chain/maker-fixtures';

/*
 * Control routes for tests inside workerd that use the Maker system the global setup deployed:
 * the ETH-A ilk (priced by dss's PipMock), its CdpManager, and on first use a second ilk,
 * ETH-B, priced by an OSM with a one-second hop (so a test need not wait an hour).
 */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

const topUpTestAbi = parseAbi([
  'function mint(address usr, uint256 wad)',
  'function file(bytes32 ilk, bytes32 what, uint256 data)',
  'function gem(bytes32 ilk, address usr) view returns (uint256)',
  'function dai(address usr) view returns (uint256)',
  'function urns(bytes32 ilk, address urn) view returns (uint256 ink, uint256 art)',
]);

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
    'POST /maker/topup-market': async () => ({ vat: local.vat, gem: local.ilk.gem, gemJoin: local.ilk.join, dai: local.dai, daiJoin: local.daiJoin }),
    // WETH (Aave's MintableERC20: anyone mints) or DAI (dss's Dai: the deployer is its ward) to `to`.
    'POST /maker/mint': async (body) => {
      const token = body.symbol === 'DAI' ? local.dai : local.ilk.gem;
      await sendContractTx(chain.clients, local.admin, { address: token, abi: topUpTestAbi, functionName: 'mint', args: [body.to as Address, parseUnits(String(body.amount), 18)] });
      return { ok: true };
    },
    // The ilk's dust (DAI): raised above a vault's debt, vat.sol refuses any frob of it ("Vat/dust").
    'POST /maker/dust': async (body) => {
      await sendContractTx(chain.clients, local.admin, { address: local.vat, abi: topUpTestAbi, functionName: 'file', args: [local.ilk.ilk, bytes32('dust'), BigInt(String(body.dai)) * RAD] });
      return { ok: true };
    },
    'POST /maker/automine': async (body) => {
      await chain.clients.testClient.setAutomine(Boolean(body.on));
      return { ok: true };
    },
    // An address's Vat balances (gem of the ilk, WAD; dai, RAD) and an urn's ink and art.
    'POST /maker/vat-state': async (body) => {
      const read = (functionName: 'gem' | 'dai' | 'urns', args: readonly unknown[]) => chain.clients.publicClient.readContract({ address: local.vat, abi: topUpTestAbi, functionName, args } as never);
      const [ink, art] = (await read('urns', [local.ilk.ilk, (body.urn ?? body.address) as Address])) as readonly [bigint, bigint];
      const gem = (await read('gem', [local.ilk.ilk, body.address as Address])) as bigint;
      const dai = (await read('dai', [body.address as Address])) as bigint;
      return { gem: gem.toString(), dai: dai.toString(), ink: ink.toString(), art: art.toString() };
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
