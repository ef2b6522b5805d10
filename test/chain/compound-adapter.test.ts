import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { absorb, cometIsLiquidatable, deployComet, openCometPosition, setCometPrice, type LocalComet } from '../../tools/chain/comet';
import { createChainClient } from '../../src/chain/client';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { adapterFor } from '../../src/protocols';
import { readPositions } from '../../src/protocols/read-positions';
import { WAD } from '../../src/domain/position';
import { positionView } from '../../src/domain/position-view';

/*
 * The Compound v3 adapter against real Comet bytecode (../shared/protocols/comet): a USDC
 * market with WETH and WBTC collateral. Comet's own `isLiquidatable` and `absorb` are the
 * reference for our health factor.
 */

let chain: LocalChain;
let local: LocalComet;

function context() {
  const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
  return { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 };
}

async function read(accounts: Address[], batchSize = 300) {
  return readPositions(adapterFor('compound-v3'), { context: context(), market: { market: local.comet, protocolAddress: null }, accounts, batchSize });
}

function healthFactorOf(reads: Awaited<ReturnType<typeof read>>['reads'], account: Address): bigint | null {
  const found = reads.find((entry) => entry.account === account);
  if (!found || !('snapshot' in found)) throw new Error(`no snapshot for ${account}: ${found && 'error' in found ? found.error : 'missing'}`);
  return found.snapshot.healthFactor;
}

beforeAll(async () => {
  chain = await startLocalChain();
  local = await deployComet(chain.clients, chain.accounts[0]!);
}, 120_000);

afterAll(async () => {
  await chain?.stop();
});

describe('Compound v3 adapter on real Comet', () => {
  it('reads many accounts in ⌈N / batch⌉ Multicall3 calls and normalizes them into the shared model', async () => {
    // 1 WETH at $2,000 (liquidate CF 0.895) against 1,500 USDC: HF = 2000 × 0.895 / 1500 = 1.1933.
    const a = await openCometPosition(chain.clients, local, { collateral: 'WETH', collateralAmount: '1', borrow: '1500' });
    const b = await openCometPosition(chain.clients, local, { collateral: 'WBTC', collateralAmount: '0.1', borrow: '3000' });
    const c = await openCometPosition(chain.clients, local, { collateral: 'WETH', collateralAmount: '2', borrow: '1000' });
    const { reads } = await read([a, b, c], 2);
    expect(reads).toHaveLength(3);
    const hfA = Number(healthFactorOf(reads, a)) / 1e18;
    expect(hfA).toBeGreaterThan(1.19);
    expect(hfA).toBeLessThan(1.1934);
    // 0.1 WBTC at $60,000 × 0.77 / 3,000 = 1.54
    expect(Number(healthFactorOf(reads, b)) / 1e18).toBeCloseTo(1.54, 3);
    const snapshotA = (reads[0] as { snapshot: Parameters<typeof positionView>[0] }).snapshot;
    expect(snapshotA).toMatchObject({ protocol: 'compound-v3', market: local.comet, baseDecimals: 8 });
    expect(snapshotA.assets?.map((asset) => [asset.symbol, asset.collateral > 0n, asset.debt > 0n])).toEqual([
      ['WETH', true, false],
      ['USDC', false, true],
    ]);
    // The same view the API and alerts show: the base token is USDC priced at 1.00, so the unit is USD.
    const view = positionView(snapshotA, new Date());
    expect(view.collateral.usd).toBe('2000');
    expect(Number(view.collateral.base)).toBeCloseTo(2000, 6);
  });

  it('our health factor is below 1 exactly when Comet says the account is liquidatable, at every step of a price walk', async () => {
    const accounts = [
      await openCometPosition(chain.clients, local, { collateral: 'WETH', collateralAmount: '1', borrow: '1600' }),
      await openCometPosition(chain.clients, local, { collateral: 'WETH', collateralAmount: '1', borrow: '1400' }),
      await openCometPosition(chain.clients, local, { collateral: 'WBTC', collateralAmount: '0.05', borrow: '2000' }),
    ];
    let crossings = 0;
    for (const [weth, wbtc] of [['2000', '60000'], ['1850', '55000'], ['1780', '52000'], ['1700', '50000'], ['1560', '48000'], ['1500', '45000']] as const) {
      await setCometPrice(chain.clients, local, 'WETH', weth);
      await setCometPrice(chain.clients, local, 'WBTC', wbtc);
      const { reads } = await read(accounts);
      for (const account of accounts) {
        const ours = healthFactorOf(reads, account)!;
        const theirs = await cometIsLiquidatable(chain.clients, local, account);
        expect(ours < WAD, `${account} at WETH ${weth}, WBTC ${wbtc}: HF ${ours}`).toBe(theirs);
        if (theirs) crossings += 1;
      }
    }
    expect(crossings).toBeGreaterThan(0);
    // Comet's own liquidation: absorb succeeds for the unhealthy account and is refused for a healthy one.
    const healthy = await openCometPosition(chain.clients, local, { collateral: 'WETH', collateralAmount: '3', borrow: '500' });
    const { reads } = await read([...accounts, healthy]);
    const unhealthy = accounts.find((account) => healthFactorOf(reads, account)! < WAD)!;
    await expect(absorb(chain.clients, local, healthy)).rejects.toThrow();
    await absorb(chain.clients, local, unhealthy);
    await setCometPrice(chain.clients, local, 'WETH', '2000');
    await setCometPrice(chain.clients, local, 'WBTC', '60000');
  });

  it('states Comet\'s liquidation rule: the whole account, 1 − liquidationFactor lost on each collateral', async () => {
    const adapter = adapterFor('compound-v3');
    const market = await adapter.loadMarket(context(), { market: local.comet, protocolAddress: null });
    expect(adapter.liquidationRule(market)).toEqual({
      closeFactorBps: 10_000n,
      fullCloseBelowHealthFactor: null,
      penaltyBps: [
        { asset: local.tokens.WETH.asset, symbol: 'WETH', bps: 500n },
        { asset: local.tokens.WBTC.asset, symbol: 'WBTC', bps: 500n },
      ],
    });
  });

  it('refuses an address that is not a Comet, naming the field', async () => {
    await expect(adapterFor('compound-v3').loadMarket(context(), { market: chain.market.pool, protocolAddress: null })).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
  });
});
