import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, http, parseUnits, type Address } from 'viem';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import {
  EULER_LTVS,
  deployEuler,
  eulerAccountLiquidity,
  eulerMaxRepay,
  liquidateEuler,
  newEulerLiquidator,
  newEulerOwner,
  openEulerPosition,
  setEulerPrice,
  subAccount,
  type LocalEuler,
} from '../../tools/chain/euler-v2';
import { createChainClient } from '../../src/chain/client';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { adapterFor } from '../../src/protocols';
import { readPositions } from '../../src/protocols/read-positions';
import { WAD, type PositionSnapshot } from '../../src/domain/position';
import { positionView } from '../../src/domain/position-view';

/*
 * The Euler v2 adapter against the real Ethereum Vault Connector and Euler Vault Kit bytecode
 * (../shared/protocols/euler-v2): a USDS vault lending against WETH and wstETH vaults, in USD.
 * The vault's own accountLiquidity, checkLiquidation and liquidate are the reference.
 */

let chain: LocalChain;
let local: LocalEuler;

function context() {
  const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
  return { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 };
}

async function read(accounts: Address[], options: { batchSize?: number; detail?: boolean } = {}) {
  return readPositions(adapterFor('euler-v2'), {
    context: context(),
    market: { market: local.borrowVault.vault, protocolAddress: null },
    accounts,
    batchSize: options.batchSize ?? 300,
    ...(options.detail ? { detailFor: () => true } : {}),
  });
}

function snapshotOf(reads: Awaited<ReturnType<typeof read>>['reads'], account: Address): PositionSnapshot {
  const found = reads.find((entry) => entry.account === account);
  if (!found || !('snapshot' in found)) throw new Error(`no snapshot for ${account}: ${found && 'error' in found ? found.error : 'missing'}`);
  return found.snapshot;
}

/** The vault's own health factor: its accountLiquidity ratio, floored as ours is. */
async function theirHealthFactor(account: Address): Promise<bigint> {
  const { collateralValue, liabilityValue } = await eulerAccountLiquidity(chain.clients, local, account);
  return (collateralValue * WAD) / liabilityValue;
}

beforeAll(async () => {
  chain = await startLocalChain();
  local = await deployEuler(chain.clients, chain.accounts[0]!);
}, 180_000);

afterAll(async () => {
  await chain?.stop();
});

describe('Euler v2 adapter on the real EVC and Euler Vault Kit', () => {
  it('an owner watch lists each sub-account with debt as its own position and shows the riskiest; a sub-account watch shows that one only', async () => {
    const owner = await newEulerOwner(chain.clients);
    // Sub-account 0: 1 WETH at $2,000 × 0.83 against 1,000 USDS: HF 1.66. Sub-account 5: 1 wstETH at $2,400 × 0.81 against 1,500: HF 1.296.
    const zero = await openEulerPosition(chain.clients, local, { owner, index: 0, collateral: 'WETH', collateralAmount: '1', borrowUsds: '1000' });
    const five = await openEulerPosition(chain.clients, local, { owner, index: 5, collateral: 'wstETH', collateralAmount: '1', borrowUsds: '1500' });
    expect(zero).toBe(owner);
    const idle = await newEulerOwner(chain.clients);
    const { reads } = await read([owner, five, idle], { batchSize: 100 });

    const whole = snapshotOf(reads, owner);
    expect(whole).toMatchObject({ protocol: 'euler-v2', market: local.borrowVault.vault, account: five, baseDecimals: 18, baseUsdPrice: WAD });
    expect(whole.healthFactor).toBe(await theirHealthFactor(five));
    expect(Number(whole.healthFactor) / 1e18).toBeCloseTo((2400 * 0.81) / 1500, 4);
    expect(whole.subPositions?.map((position) => [position.id, position.account, position.healthFactor])).toEqual([
      ['0', owner, await theirHealthFactor(owner)],
      ['5', five, await theirHealthFactor(five)],
    ]);
    // Values before weighting, in USD with 18 decimals: the riskiest's collateral and debt.
    expect(Number(whole.collateralBase) / 1e18).toBeCloseTo(2400, 6);
    expect(Number(whole.debtBase) / 1e18).toBeCloseTo(1500, 6);
    expect(whole.liquidationThresholdBps).toBe(BigInt(EULER_LTVS.wstETH.liquidation));

    const single = snapshotOf(reads, five);
    expect(single.healthFactor).toBe(whole.healthFactor);
    expect(single.subPositions).toBeUndefined();
    // An address that never used the EVC has no position: no debt, an infinite health factor.
    expect(snapshotOf(reads, idle)).toMatchObject({ healthFactor: null, debtBase: 0n });

    const view = positionView(whole, new Date());
    // Shown to 4 decimals; debt accrues interest every second, so a read may be a hair below the hand-computed value.
    expect(view.subPositions?.map((position) => position.id)).toEqual(['0', '5']);
    view.subPositions?.forEach((position, k) => {
      const computed = [1.66, 1.296][k]!;
      expect(position.healthFactor).toMatch(/^\d+\.\d{4}$/);
      expect(Number(position.healthFactor)).toBeLessThanOrEqual(computed);
      expect(Number(position.healthFactor)).toBeGreaterThan(computed - 0.0005);
    });
    expect(Number(view.collateral.usd)).toBeCloseTo(2400, 6);
  });

  it('our health factor equals the vault\'s accountLiquidity and is below 1 exactly when checkLiquidation allows a liquidation, at every step of a price walk', async () => {
    const owner = await newEulerOwner(chain.clients);
    const accounts = [
      await openEulerPosition(chain.clients, local, { owner, index: 1, collateral: 'WETH', collateralAmount: '1', borrowUsds: '1550' }),
      await openEulerPosition(chain.clients, local, { owner, index: 2, collateral: 'WETH', collateralAmount: '1', borrowUsds: '1300' }),
      await openEulerPosition(chain.clients, local, { owner, index: 3, collateral: 'wstETH', collateralAmount: '1', borrowUsds: '1700' }),
    ];
    const liquidator = await newEulerLiquidator(chain.clients, local);
    let crossings = 0;
    for (const [weth, wsteth] of [['2000', '2400'], ['1900', '2250'], ['1860', '2100'], ['1800', '2050'], ['1650', '1950'], ['1500', '1800']] as const) {
      await setEulerPrice(chain.clients, local, 'WETH', weth);
      await setEulerPrice(chain.clients, local, 'wstETH', wsteth);
      const { reads } = await read(accounts, { batchSize: 2 });
      for (const [index, account] of accounts.entries()) {
        const ours = snapshotOf(reads, account).healthFactor!;
        expect(ours, `${account} at WETH ${weth}, wstETH ${wsteth}`).toBe(await theirHealthFactor(account));
        const maxRepay = await eulerMaxRepay(chain.clients, local, liquidator, account, index === 2 ? 'wstETH' : 'WETH');
        expect(ours < WAD, `${account} at WETH ${weth}, wstETH ${wsteth}: HF ${ours}, maxRepay ${maxRepay}`).toBe(maxRepay > 0n);
        if (maxRepay > 0n) crossings += 1;
      }
    }
    expect(crossings).toBeGreaterThan(0);
    // Euler's own liquidation: refused for a healthy sub-account, accepted for one our HF puts below 1.
    const healthy = await openEulerPosition(chain.clients, local, { owner, index: 4, collateral: 'WETH', collateralAmount: '3', borrowUsds: '500' });
    const { reads } = await read([...accounts, healthy]);
    expect(snapshotOf(reads, healthy).healthFactor! > WAD).toBe(true);
    await expect(liquidateEuler(chain.clients, local, liquidator, healthy, 'WETH')).rejects.toThrow();
    const unhealthy = accounts.find((account, index) => index < 2 && snapshotOf(reads, account).healthFactor! < WAD)!;
    const debtBefore = snapshotOf(reads, unhealthy).debtBase;
    await liquidateEuler(chain.clients, local, liquidator, unhealthy, 'WETH', '100');
    const after = await read([unhealthy]);
    expect(snapshotOf(after.reads, unhealthy).debtBase < debtBefore).toBe(true);
    await setEulerPrice(chain.clients, local, 'WETH', '2000');
    await setEulerPrice(chain.clients, local, 'wstETH', '2400');
  });

  it('the per-asset breakdown of the riskiest sub-account recomputes its health factor, with the vault\'s prices and LTVs', async () => {
    const owner = await newEulerOwner(chain.clients);
    await openEulerPosition(chain.clients, local, { owner, index: 0, collateral: 'WETH', collateralAmount: '2', borrowUsds: '1000' });
    const seven = await openEulerPosition(chain.clients, local, { owner, index: 7, collateral: 'wstETH', collateralAmount: '1.5', borrowUsds: '2500' });
    const { reads } = await read([owner], { detail: true });
    const snapshot = snapshotOf(reads, owner);
    expect(snapshot.account).toBe(seven);
    const assets = snapshot.assets!;
    expect(assets.map((asset) => [asset.asset, asset.collateral, asset.usedAsCollateral, asset.liquidationThresholdBps])).toEqual([
      [local.collaterals.wstETH.vault, parseUnits('1.5', 18), true, BigInt(EULER_LTVS.wstETH.liquidation)],
      [local.borrowVault.asset, 0n, false, 0n],
    ]);
    const weighted = assets.reduce((sum, asset) => sum + (asset.collateral * asset.price! * asset.liquidationThresholdBps) / 10n ** 18n / 10_000n, 0n);
    const debt = assets.reduce((sum, asset) => sum + (asset.debt * asset.price!) / 10n ** 18n, 0n);
    const recomputed = (weighted * WAD) / debt;
    // Interest accrues per second on the debt; the breakdown and the summary are at one block.
    expect(Number(recomputed - snapshot.healthFactor!)).toBeLessThan(1e10);
    expect(Number(snapshot.healthFactor! - recomputed)).toBeLessThan(1e10);
    expect(Number(snapshot.healthFactor) / 1e18).toBeCloseTo((1.5 * 2400 * 0.81) / 2500, 4);
  });

  it('a tick costs ⌈sub-accounts / batch⌉ Multicall3 requests, all at the block the first one pins', async () => {
    const owner = await newEulerOwner(chain.clients);
    const single = await openEulerPosition(chain.clients, local, { owner, index: 6, collateral: 'WETH', collateralAmount: '1', borrowUsds: '1000' });
    const bodies: string[] = [];
    const client = createPublicClient({ transport: http(chain.rpcUrl, { onFetchRequest: async (request) => void bodies.push(await request.clone().text()) }) });
    const counted = { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 };
    const readWith = (batchSize: number) => readPositions(adapterFor('euler-v2'), { context: counted, market: { market: local.borrowVault.vault, protocolAddress: null }, accounts: [owner, single], batchSize });
    await readWith(300); // the market's facts and both owners' registrations, cached from here on
    bodies.length = 0;
    const { reads } = await readWith(300);
    // The owner's 256 sub-accounts and the known sub-account: 257 in one call.
    expect(bodies.map((body) => (JSON.parse(body) as { method: string }).method)).toEqual(['eth_call']);
    expect(snapshotOf(reads, single).healthFactor).toBe(await theirHealthFactor(single));
    bodies.length = 0;
    await readWith(100);
    const calls = bodies.map((body) => JSON.parse(body) as { method: string; params: [unknown, string] });
    expect(calls.map((call) => call.method)).toEqual(['eth_call', 'eth_call', 'eth_call']);
    // The first runs at `latest` and pins; the others run at its block.
    expect(calls[0]!.params[1]).toBe('latest');
    expect(new Set(calls.slice(1).map((call) => call.params[1])).size).toBe(1);
  });

  it('reads every price of the market from the vault\'s oracle, in USD', async () => {
    const adapter = adapterFor('euler-v2');
    const market = await adapter.loadMarket(context(), { market: local.borrowVault.vault, protocolAddress: null });
    const block = await chain.publicClient.getBlock();
    const prices = await adapter.readPrices(context(), market, { number: block.number, timestamp: block.timestamp });
    expect(prices).toMatchObject({ priceDecimals: 18, quoteIsUsd: true, flat: [] });
    expect(prices.prices.map((price) => [price.asset, price.price, price.feed])).toEqual([
      [local.collaterals.WETH.vault, parseUnits('2000', 18), null],
      [local.collaterals.wstETH.vault, parseUnits('2400', 18), null],
      [local.borrowVault.asset, parseUnits('1', 18), null],
    ]);
  });

  it('states Euler\'s liquidation rule: all of the debt, the seized collateral discounted by at most the vault\'s 15% cap', async () => {
    const adapter = adapterFor('euler-v2');
    const market = await adapter.loadMarket(context(), { market: local.borrowVault.vault, protocolAddress: null });
    // Repaying r buys collateral worth r / 0.85: a gain of 17.64% at the cap.
    expect(adapter.liquidationRule(market)).toEqual({
      closeFactorBps: 10_000n,
      fullCloseBelowHealthFactor: null,
      penaltyBps: [
        { asset: local.collaterals.WETH.vault, symbol: 'eWETH-1', bps: 1764n },
        { asset: local.collaterals.wstETH.vault, symbol: 'ewstETH-1', bps: 1764n },
      ],
    });
  });

  it('refuses a contract that is not a vault, and a vault that accepts no collateral, naming the field', async () => {
    const adapter = adapterFor('euler-v2');
    await expect(adapter.loadMarket(context(), { market: chain.market.pool, protocolAddress: null })).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    await expect(adapter.loadMarket(context(), { market: local.collaterals.WETH.vault, protocolAddress: null })).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'market', message: expect.stringContaining('accepts no collateral') }] });
    await expect(adapter.loadMarket(context(), { market: subAccount(local.admin, 9), protocolAddress: null })).rejects.toMatchObject({ code: 'invalid_market' });
  });
});
