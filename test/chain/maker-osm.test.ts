import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, formatUnits, hexToBigInt, type Address } from 'viem';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { deployMaker, keeperAt, makerTestAbi, mineAt, openMakerVault, type LocalMaker } from '../../tools/chain/maker';
import { deployOsmIlk, osmAbi, peepOsm, publishOsmPrice, type LocalOsmIlk } from '../../tools/chain/maker-fixtures';
import { createChainClient } from '../../src/chain/client';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { adapterFor } from '../../src/protocols';
import { readPositions } from '../../src/protocols/read-positions';
import { WAD } from '../../src/domain/position';
import type { ReadContext } from '../../src/protocols/read-types';
import { snapshotOf } from './snapshot-of';

/*
 * Maker's next price on real dss bytecode: a second ilk ("ETH-B") whose Spotter pip is an OSM
 * (test/fixtures/MakerOsm.sol: the OSM's storage layout and interface, an hour's hop) fed by
 * dss's PipMock. The reference for the next health factor is the chain itself after the price
 * takes effect: `osm.poke` then `spotter.poke`, with a keeper's `drip` and `bark` in that block.
 */

let chain: LocalChain;
let local: LocalMaker;
let osmIlk: LocalOsmIlk;

function context(): ReadContext {
  const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
  return { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3, protocolContracts: { maker: { vat: local.vat, spot: local.spot, jug: local.jug, dog: local.dog } } };
}

function read(ilk: LocalMaker, accounts: Address[]) {
  return readPositions(adapterFor('maker'), { context: context(), market: { market: ilk.ilk.ilk, protocolAddress: ilk.vat }, accounts, batchSize: 300 });
}

/**
 * In one block at `timestamp`, then undone: a keeper's drip, the OSM's poke, the Spotter's poke
 * and a bark of `urn`. The ilk's rate and spot that block stored, and whether bark succeeded.
 */
async function priceTakesEffectAt(urn: Address, timestamp: bigint): Promise<{ rate: bigint; spot: bigint; barked: boolean }> {
  const { testClient, walletClient, publicClient } = chain.clients;
  const snapshot = await testClient.snapshot();
  await testClient.setAutomine(false);
  try {
    await testClient.setNextBlockTimestamp({ timestamp });
    const send = (to: Address, data: `0x${string}`, gas: bigint) => walletClient.sendTransaction({ account: local.admin, to, data, gas });
    const steps = [
      await send(local.jug, encodeFunctionData({ abi: makerTestAbi, functionName: 'drip', args: [osmIlk.ilk.ilk] }), 300_000n),
      await send(osmIlk.osm, encodeFunctionData({ abi: osmAbi, functionName: 'poke' }), 300_000n),
      await send(local.spot, encodeFunctionData({ abi: makerTestAbi, functionName: 'poke', args: [osmIlk.ilk.ilk] }), 300_000n),
    ];
    const bark = await send(local.dog, encodeFunctionData({ abi: makerTestAbi, functionName: 'bark', args: [osmIlk.ilk.ilk, urn, local.admin] }), 3_000_000n);
    await testClient.mine({ blocks: 1 });
    for (const hash of steps) expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
    const barked = (await publicClient.waitForTransactionReceipt({ hash: bark })).status === 'success';
    // bark empties the urn but leaves the ilk's rate and spot as drip and the pokes wrote them.
    const [, rate, spot] = await publicClient.readContract({ address: local.vat, abi: makerTestAbi, functionName: 'ilks', args: [osmIlk.ilk.ilk] });
    return { rate, spot, barked };
  } finally {
    await testClient.setAutomine(true);
    await testClient.revert({ id: snapshot });
  }
}

beforeAll(async () => {
  chain = await startLocalChain();
  local = await deployMaker(chain.clients, chain.accounts[0]!);
  osmIlk = await deployOsmIlk(chain.clients, local, { name: 'ETH-B', hop: 3600, usdPerGem: '2000' });
}, 180_000);

afterAll(async () => {
  await chain?.stop();
});

describe('Maker next price from the OSM', () => {
  it("reads the OSM's next price from its nxt slot, equal to peep(); a plain price feed (ETH-A's PipMock) gives none", async () => {
    const onOsm = await openMakerVault(chain.clients, osmIlk, { collateral: '1', debt: '1000' });
    const onPlain = await openMakerVault(chain.clients, local, { collateral: '1', debt: '1000' });
    await publishOsmPrice(chain.clients, osmIlk, '1666.25');
    const { block, reads } = await read(osmIlk, [onOsm]);
    const [next, has] = await peepOsm(chain.clients, osmIlk, block.number);
    expect(has).toBe(true);
    const snapshot = snapshotOf(reads, onOsm);
    expect(snapshot.protocolFields?.nextPrice).toBe(formatUnits(hexToBigInt(next), 18));
    expect(snapshot.protocolFields?.nextPrice).toBe('1666.25');
    const zzz = await chain.publicClient.readContract({ address: osmIlk.osm, abi: osmAbi, functionName: 'zzz', blockNumber: block.number });
    expect(snapshot.protocolFields?.nextPriceAt).toBe(new Date(Number(zzz + 3600n) * 1000).toISOString());
    // The Vat still prices at $2,000 (HF 1.379); at $1,666.25 it will be 1.149.
    expect(Number(snapshot.healthFactor) / 1e18).toBeCloseTo(1.3793, 3);
    expect(Number(snapshot.nextHealthFactor) / 1e18).toBeCloseTo(1.1491, 3);
    const plain = snapshotOf((await read(local, [onPlain])).reads, onPlain);
    expect(plain.nextHealthFactor).toBeUndefined();
    expect(plain.protocolFields).toBeUndefined();
  });

  it('the next health factor equals the Vat\'s after osm.poke + spotter.poke (after a drip), to the wei, and the Dog barks then, not before', async () => {
    // 1 ETH against 1,300 DAI: HF 1.061 at $2,000; at $1,800 it will be 0.955.
    const urn = await openMakerVault(chain.clients, osmIlk, { collateral: '1', debt: '1300' });
    await publishOsmPrice(chain.clients, osmIlk, '2000');
    await publishOsmPrice(chain.clients, osmIlk, '1800');
    const [hop, zzz] = await Promise.all([
      chain.publicClient.readContract({ address: osmIlk.osm, abi: osmAbi, functionName: 'hop' }),
      chain.publicClient.readContract({ address: osmIlk.osm, abi: osmAbi, functionName: 'zzz' }),
    ]);
    const latest = await chain.publicClient.getBlock();
    const at = latest.timestamp + 1n > zzz + BigInt(hop) ? latest.timestamp + 1n : zzz + BigInt(hop);
    const [ink, art] = await chain.publicClient.readContract({ address: local.vat, abi: makerTestAbi, functionName: 'urns', args: [osmIlk.ilk.ilk, urn] });
    const theirs = await priceTakesEffectAt(urn, at);
    const before = await keeperAt(chain.clients, osmIlk, urn, at);
    await mineAt(chain.clients, at);
    const { block, reads } = await read(osmIlk, [urn]);
    expect(block.timestamp).toBe(at);
    const ours = snapshotOf(reads, urn);
    expect(ours.nextHealthFactor).toBe((ink * theirs.spot * WAD) / (art * theirs.rate));
    expect(ours.healthFactor! >= WAD && !before.barked).toBe(true);
    expect(ours.nextHealthFactor! < WAD && theirs.barked).toBe(true);
  });

  it('the next price costs a tick one request, eth_getStorageAt, on an OSM-priced ilk, and none on a plain feed', async () => {
    const methods: string[] = [];
    const fetchFn: typeof fetch = (input, init) => {
      methods.push((JSON.parse(String(init?.body)) as { method: string }).method);
      return fetch(input, init);
    };
    const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 }, { fetchFn });
    const measured = { ...context(), client };
    const onOsm = [await openMakerVault(chain.clients, osmIlk, { collateral: '2', debt: '1000' }), await openMakerVault(chain.clients, osmIlk, { collateral: '3', debt: '1000' })];
    const onPlain = [await openMakerVault(chain.clients, local, { collateral: '2', debt: '1000' }), await openMakerVault(chain.clients, local, { collateral: '3', debt: '1000' })];
    const tickOf = async (ilk: LocalMaker, accounts: Address[]) => {
      const market = { market: ilk.ilk.ilk, protocolAddress: ilk.vat };
      await readPositions(adapterFor('maker'), { context: measured, market, accounts, batchSize: 300 }); // loads the market (cached after)
      const from = methods.length;
      const { reads } = await readPositions(adapterFor('maker'), { context: measured, market, accounts, batchSize: 300 });
      expect(reads.every((entry) => 'snapshot' in entry)).toBe(true);
      return methods.slice(from).sort();
    };
    // The ilk's state (which pins the block) and the urns: two Multicall3 calls either way (in any order with the storage read).
    expect(await tickOf(osmIlk, onOsm)).toEqual(['eth_call', 'eth_call', 'eth_getStorageAt']);
    expect(await tickOf(local, onPlain)).toEqual(['eth_call', 'eth_call']);
  });
});
