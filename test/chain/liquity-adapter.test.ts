import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address, Hex } from 'viem';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { deployLiquity, liquidateTroves, liquityTestAbi, liquityWouldLiquidate, openTrove, redeemCollateral, setLiquityPrice, shutdownBranch, type LiquityBranchSymbol, type LocalLiquity } from '../../tools/chain/liquity-v2';
import { createChainClient } from '../../src/chain/client';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { adapterFor } from '../../src/protocols';
import { readPositions } from '../../src/protocols/read-positions';
import { parseLiquityAccount } from '../../src/protocols/liquity-v2';
import { WAD, type PositionSnapshot } from '../../src/domain/position';
import { positionView } from '../../src/domain/position-view';

/*
 * The Liquity v2 adapter against the real liquity/bold bytecode (../shared/protocols/liquity-v2):
 * a WETH branch (MCR 110 %, CCR 150 %) and a wstETH branch (MCR 120 %, CCR 160 %). TroveManager's
 * own getCurrentICR and batchLiquidateTroves are the reference for our health factor.
 */

let chain: LocalChain;
let local: LocalLiquity;

function context() {
  const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
  return { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 };
}

const idText = (troveId: bigint) => `0x${troveId.toString(16).padStart(64, '0')}` as Address;

async function read(branch: LiquityBranchSymbol, accounts: Address[], batchSize = 300, deployment: LocalLiquity = local) {
  return readPositions(adapterFor('liquity-v2'), { context: context(), market: { market: deployment.branches[branch].troveManager, protocolAddress: null }, accounts, batchSize });
}

function snapshotOf(reads: Awaited<ReturnType<typeof read>>['reads'], account: Address): PositionSnapshot {
  const found = reads.find((entry) => entry.account === account);
  if (!found || !('snapshot' in found)) throw new Error(`no snapshot for ${account}: ${found && 'error' in found ? found.error : 'missing'}`);
  return found.snapshot;
}

/** The protocol's own view: getCurrentICR at the branch's price, over MCR, at the same block. */
async function protocolHealthFactor(branch: LiquityBranchSymbol, troveId: bigint, blockNumber: bigint): Promise<bigint> {
  const { troveManager, priceFeed, mcr } = local.branches[branch];
  const price = await chain.publicClient.readContract({ address: priceFeed, abi: liquityTestAbi, functionName: 'lastGoodPrice', blockNumber });
  const icr = await chain.publicClient.readContract({ address: troveManager, abi: liquityTestAbi, functionName: 'getCurrentICR', args: [troveId, price], blockNumber });
  return (icr * WAD) / mcr;
}

beforeAll(async () => {
  chain = await startLocalChain();
  local = await deployLiquity(chain.clients, chain.accounts[0]!);
}, 180_000);

afterAll(async () => {
  await chain?.stop();
});

describe('Liquity v2 accounts', () => {
  it('takes a trove id in decimal or 0x + 64 hex, or an owner address, and refuses anything else naming why', () => {
    expect(parseLiquityAccount('255')).toEqual({ ok: true, account: `0x${'0'.repeat(62)}ff` });
    expect(parseLiquityAccount(`0x${'0'.repeat(62)}FF`)).toEqual({ ok: true, account: `0x${'0'.repeat(62)}ff` });
    expect(parseLiquityAccount('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266')).toEqual({ ok: true, account: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' });
    expect(parseLiquityAccount('0')).toMatchObject({ ok: false, message: 'must be a trove id between 1 and 2^256 − 1' });
    expect(parseLiquityAccount(`${2n ** 256n}`)).toMatchObject({ ok: false });
    expect(parseLiquityAccount('0x1234')).toMatchObject({ ok: false, message: expect.stringContaining('trove id') });
    expect(parseLiquityAccount(`0x${'0'.repeat(40)}`)).toMatchObject({ ok: false, message: 'must not be the zero address' });
  });
});

describe('Liquity v2 adapter on real liquity/bold', () => {
  it('reads troves in batches at one pinned block, each health factor equal to getCurrentICR / MCR, with the branch facts in the position', async () => {
    const a = await openTrove(chain.clients, local, { branch: 'WETH', collateral: '2', debt: '2500' });
    const b = await openTrove(chain.clients, local, { branch: 'WETH', collateral: '2', debt: '3000' });
    const c = await openTrove(chain.clients, local, { branch: 'WETH', collateral: '3', debt: '4000' });
    const accounts = [a, b, c].map((trove) => idText(trove.troveId));
    const { block, reads } = await read('WETH', accounts, 2);
    expect(reads).toHaveLength(3);
    for (const [index, trove] of [a, b, c].entries()) {
      expect(snapshotOf(reads, accounts[index]!).healthFactor).toBe(await protocolHealthFactor('WETH', trove.troveId, block.number));
    }
    // 2 WETH at $2,000 against 2,500 BOLD and its upfront fee: ICR ≈ 1.598, HF = ICR / 1.1 ≈ 1.453.
    const snapshot = snapshotOf(reads, accounts[0]!);
    expect(Number(snapshot.healthFactor) / 1e18).toBeGreaterThan(1.45);
    expect(Number(snapshot.healthFactor) / 1e18).toBeLessThan(1.4546);
    expect(snapshot).toMatchObject({ protocol: 'liquity-v2', market: local.branches.WETH.troveManager, account: accounts[0], baseDecimals: 18, liquidationThresholdBps: 9090n });
    expect(snapshot.assets?.map((asset) => [asset.symbol, asset.collateral > 0n, asset.debt > 0n])).toEqual([
      ['WETH', true, false],
      ['BOLD', false, true],
    ]);
    const view = positionView(snapshot, new Date()) as ReturnType<typeof positionView> & Record<string, unknown>;
    expect(view.collateral.usd).toBe('4000');
    expect(view).toMatchObject({ troveId: accounts[0], troveStatus: 'active', interestRate: '0.05', minimumCollateralRatio: '1.1', criticalCollateralRatio: '1.5', branchBelowCcr: false, branchShutdown: false });
    expect(view.liquidationPrices[0]?.symbol).toBe('WETH');
  });

  it('an owner address stands for its weakest trove on the branch, and says how many it has', async () => {
    const safe = await openTrove(chain.clients, local, { branch: 'WETH', collateral: '5', debt: '2500' });
    const risky = await openTrove(chain.clients, local, { branch: 'WETH', collateral: '2', debt: '3200', owner: safe.owner });
    const { block, reads } = await read('WETH', [safe.owner, idText(safe.troveId)]);
    const owner = snapshotOf(reads, safe.owner);
    expect(owner.account).toBe(safe.owner);
    expect(owner.protocolFields).toMatchObject({ troveId: idText(risky.troveId), ownerTroves: 2 });
    expect(owner.healthFactor).toBe(await protocolHealthFactor('WETH', risky.troveId, block.number));
    expect(snapshotOf(reads, idText(safe.troveId)).healthFactor).toBe(await protocolHealthFactor('WETH', safe.troveId, block.number));
    const stranger = '0x1111111111111111111111111111111111111111' as Address;
    const { reads: none } = await read('WETH', [stranger]);
    expect(none[0]).toMatchObject({ account: stranger, error: expect.stringContaining('owns no open trove') });
  });

  it('our health factor is below 1 exactly when TroveManager would liquidate, at every step of a price walk', async () => {
    const troves = [
      await openTrove(chain.clients, local, { branch: 'WETH', collateral: '2', debt: '2600' }),
      await openTrove(chain.clients, local, { branch: 'WETH', collateral: '2', debt: '3000' }),
      await openTrove(chain.clients, local, { branch: 'WETH', collateral: '3', debt: '4000' }),
    ];
    const accounts = troves.map((trove) => idText(trove.troveId));
    let crossings = 0;
    for (const price of ['2000', '1800', '1700', '1660', '1640', '1600', '1500', '1470', '1460', '1440']) {
      await setLiquityPrice(chain.clients, local, 'WETH', price);
      const { block, reads } = await read('WETH', accounts);
      for (const [index, trove] of troves.entries()) {
        const ours = snapshotOf(reads, accounts[index]!).healthFactor!;
        expect(ours, `trove ${index} at $${price}`).toBe(await protocolHealthFactor('WETH', trove.troveId, block.number));
        const liquidatable = await liquityWouldLiquidate(chain.clients, local, 'WETH', trove.troveId, block.number);
        expect(ours < WAD, `trove ${index} at $${price}: HF ${ours}`).toBe(liquidatable);
        if (liquidatable) crossings += 1;
      }
    }
    expect(crossings).toBeGreaterThan(2);
    // The real liquidation: refused for the healthy trove, done for the unhealthy ones.
    const { reads } = await read('WETH', accounts);
    const healthy = troves.filter((_, index) => snapshotOf(reads, accounts[index]!).healthFactor! >= WAD);
    const unhealthy = troves.filter((_, index) => snapshotOf(reads, accounts[index]!).healthFactor! < WAD);
    expect(healthy.length).toBeGreaterThan(0);
    expect(unhealthy.length).toBeGreaterThan(0);
    await expect(liquidateTroves(chain.clients, local, 'WETH', healthy.map((trove) => trove.troveId))).rejects.toThrow();
    await liquidateTroves(chain.clients, local, 'WETH', unhealthy.map((trove) => trove.troveId));
    const { reads: after } = await read('WETH', [idText(unhealthy[0]!.troveId)]);
    expect(snapshotOf(after, idText(unhealthy[0]!.troveId))).toMatchObject({ healthFactor: null, protocolFields: { troveStatus: 'closedByLiquidation', redemptionRank: null } });
    await setLiquityPrice(chain.clients, local, 'WETH', '2000');
  });

  it('ranks troves in the redemption order: the lowest interest rate of the branch is first', async () => {
    const admin = (await read('wstETH', [local.admin])).reads;
    const before = snapshotOf(admin, local.admin).protocolFields!;
    const cheap = await openTrove(chain.clients, local, { branch: 'wstETH', collateral: '3', debt: '2500', interestRate: '0.005' });
    const middle = await openTrove(chain.clients, local, { branch: 'wstETH', collateral: '3', debt: '2500', interestRate: '0.01' });
    const dear = await openTrove(chain.clients, local, { branch: 'wstETH', collateral: '3', debt: '2500', interestRate: '0.2' });
    const accounts = [cheap, middle, dear].map((trove) => idText(trove.troveId));
    const { reads } = await read('wstETH', [...accounts, local.admin]);
    expect(accounts.map((account) => snapshotOf(reads, account).protocolFields?.redemptionRank)).toEqual([1, 2, 4]);
    // The branch's first trove pays 5 %: it moves from first to third in line.
    expect(before.redemptionRank).toBe(1);
    expect(snapshotOf(reads, local.admin).protocolFields).toMatchObject({ redemptionRank: 3, branchTroves: 4 });
    // Rank 1 of 4 is inside the front (⌈4 × 10 %⌉ = 1): redemption risk; rank 2 is not.
    expect(snapshotOf(reads, accounts[0]!).conditions).toEqual([expect.objectContaining({ code: 'redemption_risk', met: true, facts: expect.objectContaining({ redemptionRank: 1, branchTroves: 4 }) })]);
    expect(snapshotOf(reads, accounts[1]!).conditions).toEqual([]);
  });

  it('a trove redeemed below the 2,000 BOLD minimum debt by a real redemption is the branch\'s lastZombieTroveId: our read says so and raises redemption_risk; its neighbour at rank 1 keeps the rank rule', async () => {
    // A deployment of this test's own: a redemption reaches every branch of its CollateralRegistry.
    const own = await deployLiquity(chain.clients, chain.accounts[0]!);
    const victim = await openTrove(chain.clients, own, { branch: 'WETH', collateral: '3', debt: '2500', interestRate: '0.01' });
    const next = await openTrove(chain.clients, own, { branch: 'WETH', collateral: '3', debt: '2500', interestRate: '0.02' });
    const [victimId, nextId] = [idText(victim.troveId), idText(next.troveId)];
    const tm = own.branches.WETH.troveManager;
    const debtOf = (address: Address) => chain.publicClient.readContract({ address, abi: liquityTestAbi, functionName: 'getEntireBranchDebt' });
    const [wethDebt, wstethDebt] = [await debtOf(tm), await debtOf(own.branches.wstETH.troveManager)];
    const before = snapshotOf((await read('WETH', [victimId], 300, own)).reads, victimId);
    expect(before.protocolFields).toMatchObject({ troveStatus: 'active', redemptionRank: 1, nextRedeemedZombie: false });
    // One trove per branch: the WETH branch's share (by its debt, no stability pool deposits) leaves the victim ≈ 1,000 BOLD.
    const share = before.debtBase - 1000n * WAD;
    await redeemCollateral(chain.clients, own, { bold: (share * (wethDebt + wstethDebt)) / wethDebt, maxIterationsPerBranch: 1n });
    const zombieAbi = [{ type: 'function', name: 'lastZombieTroveId', stateMutability: 'view', inputs: [], outputs: [{ type: 'uint256' }] }] as const;
    const { block, reads } = await read('WETH', [victimId, nextId, victim.owner], 300, own);
    expect(await chain.publicClient.readContract({ address: tm, abi: zombieAbi, functionName: 'lastZombieTroveId', blockNumber: block.number })).toBe(victim.troveId);
    expect(await chain.publicClient.readContract({ address: tm, abi: liquityTestAbi, functionName: 'getTroveStatus', args: [victim.troveId], blockNumber: block.number })).toBe(4);
    const zombie = snapshotOf(reads, victimId);
    expect(zombie.debtBase).toBeGreaterThan(0n);
    expect(zombie.debtBase).toBeLessThan(2000n * WAD);
    expect(zombie.protocolFields).toMatchObject({ troveStatus: 'zombie', nextRedeemedZombie: true, redemptionRank: null, branchTroves: 2 });
    expect(zombie.conditions).toEqual([
      expect.objectContaining({ code: 'redemption_risk', met: true, facts: expect.objectContaining({ troveId: victimId, troveStatus: 'zombie', nextRedeemedZombie: true, interestRate: '0.01' }) }),
    ]);
    // The owner's account names its zombie too.
    expect(snapshotOf(reads, victim.owner).conditions).toEqual([expect.objectContaining({ code: 'redemption_risk', facts: expect.objectContaining({ troveId: victimId, nextRedeemedZombie: true }) })]);
    // The next trove is now first among the active ones: rank 1 of 2, the rank rule.
    expect(snapshotOf(reads, nextId).protocolFields).toMatchObject({ troveStatus: 'active', redemptionRank: 1, nextRedeemedZombie: false });
    expect(snapshotOf(reads, nextId).conditions).toEqual([expect.objectContaining({ code: 'redemption_risk', met: true, facts: expect.objectContaining({ redemptionRank: 1 }) })]);

    // The next redemption takes the zombie's remainder first: with no debt left it is no longer the last zombie, and raises nothing.
    await redeemCollateral(chain.clients, own, { bold: ((zombie.debtBase + 10n * WAD) * (wethDebt + wstethDebt)) / wethDebt, maxIterationsPerBranch: 1n });
    const after = snapshotOf((await read('WETH', [victimId], 300, own)).reads, victimId);
    expect(after.debtBase).toBe(0n);
    expect(after.protocolFields).toMatchObject({ troveStatus: 'zombie', nextRedeemedZombie: false });
    expect(after.conditions).toEqual([]);
  });

  it('says when the branch falls under its CCR, then under its SCR, and when it has been shut down, in its fields and as conditions', async () => {
    const watched = local.admin;
    const fields = async () => snapshotOf((await read('wstETH', [watched])).reads, watched).protocolFields!;
    const conditions = async () => snapshotOf((await read('wstETH', [watched])).reads, watched).conditions!.map((condition) => [condition.code, condition.met]);
    expect(await fields()).toMatchObject({ branchBelowCcr: false, branchBelowScr: false, branchShutdown: false });
    // ≈ 1,009 wstETH against ≈ 207,700 BOLD: at $320 the branch's ratio is ≈ 1.55, under the CCR of 1.6.
    await setLiquityPrice(chain.clients, local, 'wstETH', '320');
    expect(await fields()).toMatchObject({ branchBelowCcr: true, branchBelowScr: false, branchShutdown: false, criticalCollateralRatio: '1.6' });
    expect(await conditions()).toEqual([['branch_below_ccr', true]]);
    await setLiquityPrice(chain.clients, local, 'wstETH', '220');
    expect(await fields()).toMatchObject({ branchBelowCcr: true, branchBelowScr: true, branchShutdown: false });
    expect(await conditions()).toEqual([['branch_below_ccr', true], ['branch_below_scr', true]]);
    await shutdownBranch(chain.clients, local, 'wstETH');
    expect(await fields()).toMatchObject({ branchShutdown: true });
    expect(await conditions()).toEqual([['branch_below_ccr', false], ['branch_below_scr', false], ['branch_shutdown', true]]);
  });

  it('states the liquidation rule: the whole trove, the stability pool\'s 5 % penalty', async () => {
    const adapter = adapterFor('liquity-v2');
    const market = await adapter.loadMarket(context(), { market: local.branches.WETH.troveManager, protocolAddress: null });
    expect(adapter.liquidationRule(market)).toEqual({ closeFactorBps: 10_000n, fullCloseBelowHealthFactor: null, penaltyBps: [{ asset: local.weth, symbol: 'WETH', bps: 500n }] });
    const prices = await adapter.readPrices(context(), market, { number: await chain.publicClient.getBlockNumber(), timestamp: 0n });
    expect(prices).toEqual({ priceDecimals: 18, quoteIsUsd: true, flat: [local.bold], prices: [{ asset: local.weth, symbol: 'WETH', price: 2000n * WAD, feed: null }] });
  });

  it('refuses an address that is not a TroveManager, naming the field', async () => {
    await expect(adapterFor('liquity-v2').loadMarket(context(), { market: chain.market.pool as Hex, protocolAddress: null })).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    await expect(adapterFor('liquity-v2').loadMarket(context(), { market: local.branches.WETH.borrowerOperations as Hex, protocolAddress: null })).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
  });

  it('refuses a copy of a real TroveManager at another address (same code, so the real BorrowerOperations, and the same storage pointers): the branch does not name it', async () => {
    // What an attacker can deploy: TroveManager's code (its immutables name the real branch's BorrowerOperations, which the
    // owner trusts) with storage of its choosing (troves, a price feed of its own); here the real one's first 32 slots.
    const real = local.branches.WETH.troveManager;
    const copy = '0x00000000000000000000000000000000c0ffee01' as Address;
    await chain.testClient.setCode({ address: copy, bytecode: (await chain.publicClient.getCode({ address: real }))! });
    const slot = (index: number) => `0x${index.toString(16).padStart(64, '0')}` as Hex;
    for (let index = 0; index < 32; index++) {
      await chain.testClient.setStorageAt({ address: copy, index: slot(index), value: (await chain.publicClient.getStorageAt({ address: real, slot: slot(index) }))! });
    }
    await chain.actions.mine(1);
    const refused = adapterFor('liquity-v2').loadMarket(context(), { market: copy as Hex, protocolAddress: null });
    await expect(refused).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    await expect(refused).rejects.toThrow(/BorrowerOperations and ActivePool do not name it/);
    // The real one still loads.
    await expect(adapterFor('liquity-v2').loadMarket(context(), { market: real as Hex, protocolAddress: null })).resolves.toMatchObject({ borrowerOperations: local.branches.WETH.borrowerOperations });
  });
});
