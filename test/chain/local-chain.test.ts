// The local chain must behave like a real Aave v3 market: positions open, health factors follow
// prices, and the real liquidationCall reduces debt. It must also start fast from its cache.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MULTICALL3_ADDRESS, startLocalChain, type LocalChain } from '../../tools/chain/index';
import { poolAbi, tokenAbi } from '../../tools/chain/actions';

const WAD = 10n ** 18n;
const usd8 = (dollars: bigint) => dollars * 10n ** 8n;

describe('local chain with an Aave v3 market', () => {
  let chain: LocalChain;
  const others: LocalChain[] = [];

  beforeAll(async () => {
    chain = await startLocalChain();
  });

  afterAll(async () => {
    await Promise.all([chain?.stop(), ...others.map((c) => c.stop())]);
  });

  it('has Multicall3 at its canonical address and viem multicall works', async () => {
    const code = await chain.publicClient.getCode({ address: MULTICALL3_ADDRESS });
    expect(code && code.length > 2).toBe(true);
    const [price] = await chain.publicClient.multicall({
      allowFailure: false,
      contracts: [
        {
          address: chain.market.oracle,
          abi: [
            {
              type: 'function',
              name: 'getAssetPrice',
              stateMutability: 'view',
              inputs: [{ name: 'asset', type: 'address' }],
              outputs: [{ name: '', type: 'uint256' }],
            },
          ] as const,
          functionName: 'getAssetPrice',
          args: [chain.market.reserves.WETH.asset],
        },
      ],
    });
    expect(price).toBe(usd8(2_000n));
  });

  it('describes the three reserves as configured on chain', () => {
    const { WETH, WBTC, USDC } = chain.market.reserves;
    expect([WETH.decimals, WBTC.decimals, USDC.decimals]).toEqual([18, 8, 6]);
    expect([WETH.ltvBps, WETH.liquidationThresholdBps, WETH.liquidationBonusBps]).toEqual([8000, 8250, 10500]);
    expect(JSON.parse(JSON.stringify(chain.market))).toEqual(chain.market);
  });

  it('opens a position, makes it unhealthy with a price drop and liquidates it', async () => {
    const { actions: a, market: m, accounts } = chain;
    const [, user, lender, liquidator] = accounts as [string, `0x${string}`, `0x${string}`, `0x${string}`];

    await a.mint(m.reserves.USDC.asset, lender, a.units(m, 'USDC', '1000000'));
    await a.supply(m, lender, 'USDC', a.units(m, 'USDC', '1000000'));

    await a.mint(m.reserves.WETH.asset, user, a.units(m, 'WETH', '10'));
    await a.supply(m, user, 'WETH', a.units(m, 'WETH', '10'));
    await a.borrow(m, user, 'USDC', a.units(m, 'USDC', '12000'));

    // 10 WETH × $2,000 × 82.5% / $12,000 = 1.375
    const healthy = await a.getUserAccountData(m, user);
    expect(healthy.healthFactor).toBeGreaterThan(WAD);
    expect(healthy.healthFactor).toBe(1_375_000_000_000_000_000n);

    await a.setPrice(m, 'WETH', usd8(1_400n));
    expect(await a.getPrice(m, 'WETH')).toBe(usd8(1_400n));
    // 10 × $1,400 × 82.5% / $12,000 ≈ 0.9625 (plus a block of interest on the debt)
    const unhealthy = await a.getUserAccountData(m, user);
    expect(unhealthy.healthFactor).toBeLessThan(WAD);

    const debtBefore = await a.balanceOf(m.reserves.USDC.variableDebtToken, user);
    const result = await a.liquidate(m, liquidator, 'WETH', 'USDC', user, a.units(m, 'USDC', '6000'));
    const debtAfter = await a.balanceOf(m.reserves.USDC.variableDebtToken, user);

    expect(result.debtRepaid).toBe(a.units(m, 'USDC', '6000'));
    expect(debtAfter).toBeLessThan(debtBefore);
    expect(debtBefore - debtAfter).toBeGreaterThanOrEqual(a.units(m, 'USDC', '5999'));
    // The liquidator got the collateral with the 5% bonus: 6,000 × 1.05 / 1,400 = 4.5 WETH.
    expect(result.collateralSeized).toBe(45n * 10n ** 17n);
    expect(await a.balanceOf(m.reserves.WETH.asset, liquidator)).toBe(result.collateralSeized);
    expect((await a.getUserAccountData(m, user)).healthFactor).toBeGreaterThan(unhealthy.healthFactor);
  });

  it('restores state with snapshot and revert', async () => {
    const { actions: a, market: m } = chain;
    const id = await a.snapshot();
    const before = await a.getPrice(m, 'WBTC');
    await a.setPrice(m, 'WBTC', usd8(30_000n));
    await a.mine(3);
    await a.revert(id);
    expect(await a.getPrice(m, 'WBTC')).toBe(before);
  });

  it('opens many distinct positions at their target health factors', async () => {
    const { actions: a, market: m } = chain;
    const positions = await a.openPositions(m, 50, { healthFactor: { min: 1.1, max: 1.6 } });
    expect(positions).toHaveLength(50);
    expect(new Set(positions.map((p) => p.address.toLowerCase())).size).toBe(50);

    const data = await chain.publicClient.multicall({
      allowFailure: false,
      contracts: positions.map(
        (p) => ({ address: m.pool, abi: poolAbi, functionName: 'getUserAccountData', args: [p.address] }) as const,
      ),
    });
    for (const [i, p] of positions.entries()) {
      const healthFactor = data[i]![5];
      expect(healthFactor).toBeGreaterThan(WAD);
      // Integer rounding and a block of interest only: within 0.01% of the target.
      const diff = healthFactor > p.targetHealthFactor ? healthFactor - p.targetHealthFactor : p.targetHealthFactor - healthFactor;
      expect(diff * 10_000n).toBeLessThanOrEqual(p.targetHealthFactor);
    }
    const debt = await chain.publicClient.readContract({
      address: m.reserves.USDC.variableDebtToken,
      abi: tokenAbi,
      functionName: 'balanceOf',
      args: [positions[0]!.address],
    });
    expect(debt).toBeGreaterThanOrEqual(positions[0]!.debtAmount);
  });

  it('starts again from the cache in well under two seconds', async () => {
    const started = performance.now();
    const second = await startLocalChain();
    const elapsed = performance.now() - started;
    others.push(second);

    expect(second.fromCache).toBe(true);
    expect(elapsed).toBeLessThan(2_000);
    expect(second.market).toEqual(chain.market);
    expect(second.rpcUrl).not.toBe(chain.rpcUrl);
    // A fresh market: the prices moved on the first chain are back to their deploy values.
    expect(await second.actions.getPrice(second.market, 'WETH')).toBe(usd8(2_000n));
    expect(await second.publicClient.getCode({ address: MULTICALL3_ADDRESS })).toBeDefined();
  });
});
