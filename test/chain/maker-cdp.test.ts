import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { deployMaker, type LocalMaker } from '../../tools/chain/maker';
import { deployCdpManager, deployOsmIlk, openCdpVault, type LocalOsmIlk } from '../../tools/chain/maker-fixtures';
import { createChainClient } from '../../src/chain/client';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { adapterFor } from '../../src/protocols';
import { readPositions } from '../../src/protocols/read-positions';
import { parseMakerAccount, vaultIdText } from '../../src/protocols/maker/account';
import type { ReadContext } from '../../src/protocols/read-types';
import { snapshotOf } from './snapshot-of';

/*
 * Maker vaults named by their CdpManager id on real dss bytecode: a CdpManager of our own
 * (test/fixtures/MakerCdpManager.sol, DssCdpManager's interface) opens vaults whose urns are
 * contracts of their own, and the owner draws DAI through it. A vault id reads as its urn does.
 */

let chain: LocalChain;
let local: LocalMaker;
let other: LocalOsmIlk;
let manager: `0x${string}`;

function context(withManager = true): ReadContext {
  const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
  const maker = { vat: local.vat, spot: local.spot, jug: local.jug, dog: local.dog, ...(withManager ? { cdpManager: manager } : {}) };
  return { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3, protocolContracts: { maker } };
}

const ref = () => ({ market: local.ilk.ilk, protocolAddress: local.vat });

beforeAll(async () => {
  chain = await startLocalChain();
  local = await deployMaker(chain.clients, chain.accounts[0]!);
  manager = await deployCdpManager(chain.clients, local);
  other = await deployOsmIlk(chain.clients, local, { name: 'ETH-B', hop: 3600, usdPerGem: '2000' });
}, 180_000);

afterAll(async () => {
  await chain?.stop();
});

describe('Maker vault ids (CdpManager)', () => {
  it('takes "cdp:12345" and its stored form (0x + 64 hex) as a vault id, an urn address as itself, and refuses anything else', () => {
    expect(parseMakerAccount('cdp:12345')).toEqual({ ok: true, account: `0x${(12345).toString(16).padStart(64, '0')}` });
    expect(parseMakerAccount(vaultIdText(12345n))).toEqual({ ok: true, account: vaultIdText(12345n) });
    expect(parseMakerAccount(local.vat.toLowerCase())).toEqual({ ok: true, account: local.vat });
    for (const bad of ['cdp:0', 'cdp:', 'cdp:-1', 'cdp:1.5', 'cdp:0x10', '12345', `0x${'0'.repeat(40)}`]) expect(parseMakerAccount(bad), bad).toMatchObject({ ok: false });
  });

  it('a vault id reads the same position as its urn, and names the vault and its urn in the position', async () => {
    // 1 ETH at $2,000 ÷ 1.45 against 1,000 DAI: HF 1.3793.
    const { cdp, urn } = await openCdpVault(chain.clients, local, manager, { collateral: '1', debt: '1000' });
    const id = vaultIdText(cdp);
    const { reads } = await readPositions(adapterFor('maker'), { context: context(), market: ref(), accounts: [id, urn], batchSize: 300 });
    const byId = snapshotOf(reads, id);
    const byUrn = snapshotOf(reads, urn);
    expect(Number(byUrn.healthFactor) / 1e18).toBeCloseTo(1.3793, 3);
    const { account: _a, protocolFields, ...same } = byId;
    const { account: _b, protocolFields: none, ...reference } = byUrn;
    expect(same).toEqual(reference);
    expect(protocolFields).toEqual({ vault: `cdp:${cdp}`, urn });
    expect(none).toBeUndefined();
  });

  it('checks a vault id when a watch is created: an unknown id, a vault of another ilk, or no known CdpManager is a 400 at account', async () => {
    const adapter = adapterFor('maker');
    const market = await adapter.loadMarket(context(), ref());
    const { cdp } = await openCdpVault(chain.clients, local, manager, { collateral: '1', debt: '500' });
    await expect(adapter.checkAccount!(context(), market, vaultIdText(cdp))).resolves.toBeUndefined();
    const unknown = adapter.checkAccount!(context(), market, vaultIdText(cdp + 1000n));
    await expect(unknown).rejects.toMatchObject({ code: 'invalid_account', status: 400, issues: [{ path: 'account' }] });
    await expect(unknown).rejects.toThrow(`has no vault cdp:${cdp + 1000n}`);
    const elsewhere = await openCdpVault(chain.clients, other, manager, { collateral: '1', debt: '500' });
    await expect(adapter.checkAccount!(context(), market, vaultIdText(elsewhere.cdp))).rejects.toThrow(`is a vault of ilk ETH-B, not ETH-A`);
    const bare = await adapter.loadMarket(context(false), ref());
    await expect(adapter.checkAccount!(context(false), bare, vaultIdText(cdp))).rejects.toThrow(/PROTOCOL_CONTRACTS\["31337"\]\.maker\.cdpManager/);
    // An unknown id that reaches a read anyway is that account's error, never its batch's.
    const { reads } = await readPositions(adapter, { context: context(), market: ref(), accounts: [vaultIdText(cdp + 1000n), vaultIdText(cdp)], batchSize: 300 });
    expect(reads[0]).toMatchObject({ error: expect.stringContaining('has no vault') });
    expect(reads[1]).toHaveProperty('snapshot');
  });
});
