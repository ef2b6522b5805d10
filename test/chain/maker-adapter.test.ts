import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAddress, type Address } from 'viem';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { ETH_A, RAY, deployMaker, dripMaker, keeperAt, makerRateState, makerTestAbi, mineAt, openMakerVault, setMakerPrice, type LocalMaker } from '../../tools/chain/maker';
import { createChainClient } from '../../src/chain/client';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { adapterFor } from '../../src/protocols';
import { readPositions } from '../../src/protocols/read-positions';
import { WAD } from '../../src/domain/position';
import { projectedRate } from '../../src/protocols/maker/normalize';
import type { ReadContext } from '../../src/protocols/read-types';

/*
 * The Maker adapter against real dss bytecode (../shared/protocols/maker-dss): a Vat with an
 * ETH-A ilk at a 145% liquidation ratio, a 13% penalty and a 5% stability fee. The Dog's own
 * `bark` (after a keeper's `drip`, in one block) is the reference for our health factor.
 */

let chain: LocalChain;
let local: LocalMaker;

function context(protocolContracts?: ReadContext['protocolContracts']): ReadContext {
  const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
  return { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3, protocolContracts: protocolContracts ?? { maker: { vat: local.vat, spot: local.spot, jug: local.jug, dog: local.dog } } };
}

async function read(accounts: Address[], batchSize = 300) {
  return readPositions(adapterFor('maker'), { context: context(), market: { market: local.ilk.ilk, protocolAddress: local.vat }, accounts, batchSize });
}

function snapshotOf(reads: Awaited<ReturnType<typeof read>>['reads'], account: Address) {
  const found = reads.find((entry) => entry.account === account);
  if (!found || !('snapshot' in found)) throw new Error(`no snapshot for ${account}: ${found && 'error' in found ? found.error : 'missing'}`);
  return found.snapshot;
}

async function urnOf(urn: Address): Promise<{ ink: bigint; art: bigint; spot: bigint }> {
  const [ink, art] = await chain.publicClient.readContract({ address: local.vat, abi: makerTestAbi, functionName: 'urns', args: [local.ilk.ilk, urn] });
  const [, , spot] = await chain.publicClient.readContract({ address: local.vat, abi: makerTestAbi, functionName: 'ilks', args: [local.ilk.ilk] });
  return { ink, art, spot };
}

beforeAll(async () => {
  chain = await startLocalChain();
  local = await deployMaker(chain.clients, chain.accounts[0]!);
}, 180_000);

afterAll(async () => {
  await chain?.stop();
});

describe('Maker adapter on real dss', () => {
  it('reads urns in batches and normalizes them: USD values, the liquidation ratio as threshold, ETH and DAI assets', async () => {
    // 1 ETH at $2,000 ÷ 1.45 against 1,000 DAI: HF 1.3793; 2 ETH: 2.7586.
    const a = await openMakerVault(chain.clients, local, { collateral: '1', debt: '1000' });
    const b = await openMakerVault(chain.clients, local, { collateral: '2', debt: '1000' });
    const { reads } = await read([a, b, chain.accounts[5]!], 2);
    expect(Number(snapshotOf(reads, a).healthFactor) / 1e18).toBeCloseTo(1.3793, 3);
    expect(Number(snapshotOf(reads, b).healthFactor) / 1e18).toBeCloseTo(2.7586, 3);
    expect(snapshotOf(reads, chain.accounts[5]!).healthFactor).toBeNull(); // no vault: no debt
    const snapshot = snapshotOf(reads, a);
    expect(snapshot).toMatchObject({ protocol: 'maker', market: local.ilk.ilk, baseDecimals: 18, baseUsdPrice: WAD, liquidationThresholdBps: 6896n, ltvBps: 6896n });
    expect(Number(snapshot.collateralBase) / 1e18).toBeCloseTo(2000, 6);
    expect(Number(snapshot.debtBase) / 1e18).toBeCloseTo(1000, 3);
    expect(snapshot.assets?.map((asset) => [asset.symbol, asset.asset])).toEqual([['ETH', local.ilk.pip], ['DAI', local.vat]]);
  });

  it('projects the rate exactly as jug.drip then stores it (to the wei)', async () => {
    await chain.testClient.increaseTime({ seconds: 30 * 86_400 });
    await chain.testClient.mine({ blocks: 1 });
    const before = await chain.publicClient.getBlock();
    const state = await makerRateState(chain.clients, local, before.number);
    await dripMaker(chain.clients, local);
    const after = await chain.publicClient.getBlock();
    const stored = await makerRateState(chain.clients, local);
    expect(stored.rate).toBeGreaterThan(state.rate);
    expect(projectedRate(state, after.timestamp)).toBe(stored.rate);
  });

  it('our health factor is below 1 exactly when the Dog barks (after a drip), and equals the Vat\'s own numbers, at every step of a price and time walk', async () => {
    // HF at $2,000: 1.4745, 1.1034, 2.3448 (1 ETH 935 DAI, 1 ETH 1,250 DAI, 3 ETH 1,765 DAI).
    const accounts = [
      await openMakerVault(chain.clients, local, { collateral: '1', debt: '935' }),
      await openMakerVault(chain.clients, local, { collateral: '1', debt: '1250' }),
      await openMakerVault(chain.clients, local, { collateral: '3', debt: '1765' }),
    ];
    let crossings = 0;
    // Months pass between steps with nobody dripping: only the projected rate sees the fee.
    for (const [price, days] of [['2000', 0], ['1900', 60], ['1820', 90], ['1700', 30], ['1560', 120], ['1450', 10]] as const) {
      await setMakerPrice(chain.clients, local, price);
      const at = (await chain.publicClient.getBlock()).timestamp + BigInt(days) * 86_400n + 1n;
      const theirs = new Map<Address, { barked: boolean; rate: bigint }>();
      for (const account of accounts) theirs.set(account, await keeperAt(chain.clients, local, account, at));
      await mineAt(chain.clients, at);
      const { block, reads } = await read(accounts, 2);
      expect(block.timestamp).toBe(at);
      for (const account of accounts) {
        const ours = snapshotOf(reads, account);
        const { barked, rate } = theirs.get(account)!;
        const vat = await urnOf(account);
        expect(ours.healthFactor, `${account} at ${price}`).toBe((vat.ink * vat.spot * WAD) / (vat.art * rate));
        expect(ours.debtBase).toBe((vat.art * rate + RAY - 1n) / RAY);
        expect(ours.healthFactor! < WAD, `${account} at ${price}: HF ${ours.healthFactor}`).toBe(barked);
        if (barked) crossings += 1;
      }
    }
    expect(crossings).toBeGreaterThan(0);
    await setMakerPrice(chain.clients, local, '2000');
  });

  it('states the Dog\'s rule: the whole debt, penalty chop − 1 (13%)', async () => {
    const adapter = adapterFor('maker');
    const market = await adapter.loadMarket(context(), { market: local.ilk.ilk, protocolAddress: local.vat });
    expect(ETH_A.chop).toBe(113n * 10n ** 16n);
    expect(adapter.liquidationRule(market)).toEqual({ closeFactorBps: 10_000n, fullCloseBelowHealthFactor: null, penaltyBps: [{ asset: local.ilk.pip, symbol: 'ETH', bps: 1300n }] });
  });

  it('gives every asset price of the ilk in one call: the collateral in USD as the Vat sees it, DAI flat at par', async () => {
    await setMakerPrice(chain.clients, local, '1234.5');
    const adapter = adapterFor('maker');
    const market = await adapter.loadMarket(context(), { market: local.ilk.ilk, protocolAddress: local.vat });
    const block = await chain.publicClient.getBlock();
    const prices = await adapter.readPrices(context(), market, { number: block.number, timestamp: block.timestamp });
    expect(prices).toMatchObject({ priceDecimals: 18, quoteIsUsd: true, flat: [local.vat], prices: [{ asset: local.ilk.pip, symbol: 'ETH', feed: null }] });
    // spot × mat loses at most a few units of 1e-27 against the pip's 1234.5.
    expect(Number(prices.prices[0]!.price) / 1e18).toBeCloseTo(1234.5, 9);
    await setMakerPrice(chain.clients, local, '2000');
  });

  it('refuses an unknown ilk, a missing Vat, a Vat whose Spotter, Jug and Dog are unknown, and companions of another Vat, naming the field', async () => {
    const adapter = adapterFor('maker');
    const ref = { market: local.ilk.ilk, protocolAddress: local.vat };
    await expect(adapter.loadMarket(context(), { ...ref, market: `0x${Buffer.from('NOPE-A').toString('hex').padEnd(64, '0')}` })).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    await expect(adapter.loadMarket(context(), { ...ref, protocolAddress: null })).rejects.toMatchObject({ issues: [{ path: 'protocolAddress' }] });
    const unknownVat = adapter.loadMarket(context({}), ref);
    await expect(unknownVat).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'protocolAddress' }] });
    await expect(unknownVat).rejects.toThrow(/PROTOCOL_CONTRACTS\["31337"\]\.maker/);
    const foreign = adapter.loadMarket(context({ maker: { vat: local.vat, spot: local.spot, jug: local.jug, dog: getAddress(chain.market.pool) } }), ref);
    await expect(foreign).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'protocolAddress' }] });
  });
});
