import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { parseUnits, type Address } from 'viem';
import { startLocalChain, type LocalChain, type ReserveSymbol } from '../../tools/chain';
import { poolAbi, sendContractTx, tokenAbi } from '../../tools/chain/actions';
import { seedLiquidity } from '../helpers/control-server';
import { createChainClient } from '../../src/chain/client';
import { aaveV3Adapter, loadMarketMeta, readAccountAssets } from '../../src/protocols/aave-v3';
import { readPositions } from '../../src/protocols/read-positions';
import { pinBlock } from '../../src/protocols/block-pin';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { healthFactorFromAssets, liquidationPrice, repayAmount, topUpAmount, decimalToWad } from '../../src/domain/risk';
import { WAD } from '../../src/domain/position';
import { MAX_UINT256 } from '../../src/protocols/aave-v3/abi';

let chain: LocalChain;

function client() {
  return createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
}

async function open(collateral: string, debt: string): Promise<Address> {
  const account = privateKeyToAccount(generatePrivateKey()).address;
  const weth = chain.market.reserves.WETH;
  const amount = parseUnits(collateral, 18);
  await chain.actions.mint(weth.asset, account, amount);
  await chain.actions.supply(chain.market, account, 'WETH', amount);
  await chain.actions.borrow(chain.market, account, 'USDC', parseUnits(debt, 6));
  return account;
}

/** A third party acting on the account's behalf, as a top-up executor would. */
async function onBehalfOf(kind: 'supply' | 'repay', symbol: ReserveSymbol, account: Address, amount: bigint) {
  const helper = chain.accounts[2]!;
  const reserve = chain.market.reserves[symbol];
  await chain.actions.mint(reserve.asset, helper, amount);
  await sendContractTx(chain.clients, helper, { address: reserve.asset, abi: tokenAbi, functionName: 'approve', args: [chain.market.pool, amount] });
  if (kind === 'supply') {
    await sendContractTx(chain.clients, helper, { address: chain.market.pool, abi: poolAbi, functionName: 'supply', args: [reserve.asset, amount, account, 0] });
  } else {
    await sendContractTx(chain.clients, helper, { address: chain.market.pool, abi: poolAbi, functionName: 'repay', args: [reserve.asset, amount, 2n, account] });
  }
}

async function assetsOf(account: Address) {
  const { client: viemClient } = client();
  const context = { client: viemClient, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 };
  const meta = await loadMarketMeta(context, chain.market.pool);
  const block = await pinBlock(viemClient);
  return (await readAccountAssets(context, meta, [account], block, 300)).get(account)!;
}

beforeAll(async () => {
  chain = await startLocalChain();
  await seedLiquidity(chain);
  await chain.actions.setPrice(chain.market, 'WETH', parseUnits('2000', 8));
}, 120_000);

afterAll(async () => {
  await chain?.stop();
});

describe('Aave v3 adapter against a real Aave v3 market', () => {
  it('reads many accounts in ⌈N / batch⌉ multicalls, matching the Pool account by account', async () => {
    const accounts: Address[] = [];
    for (let index = 0; index < 12; index++) accounts.push(await open(String(5 + index), String(4000 + index * 500)));
    const noDebt = privateKeyToAccount(generatePrivateKey()).address;
    accounts.push(noDebt);

    const reader = client();
    await loadMarketMeta({ client: reader.client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 }, chain.market.pool);
    const before = reader.stats.requests;
    const { block, reads } = await readPositions(aaveV3Adapter, { context: { client: reader.client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 }, market: { market: chain.market.pool, protocolAddress: null }, accounts, batchSize: 5 });
    // ⌈13 / 5⌉ = 3 multicalls, the first of which pins the block (eth_chainId was proven during the warm-up).
    expect(reader.stats.requests - before).toBe(3);

    for (const read of reads) {
      expect('snapshot' in read).toBe(true);
      if (!('snapshot' in read)) continue;
      const pool = await chain.publicClient.readContract({ address: chain.market.pool, abi: poolAbi, functionName: 'getUserAccountData', args: [read.account], blockNumber: block.number });
      expect(read.snapshot.collateralBase).toBe(pool[0]);
      expect(read.snapshot.debtBase).toBe(pool[1]);
      expect(read.snapshot.liquidationThresholdBps).toBe(pool[3]);
      expect(read.snapshot.healthFactor).toBe(pool[5] === MAX_UINT256 ? null : pool[5]);
      expect(read.snapshot.blockNumber).toBe(block.number);
    }
    expect(reads.find((read) => read.account === noDebt)).toMatchObject({ snapshot: { healthFactor: null, debtBase: 0n } });
  });

  it('recomputes the Pool health factor exactly from the per-asset breakdown', async () => {
    const account = await open('3', '3100');
    await onBehalfOf('supply', 'WBTC', account, parseUnits('0.05', 8));
    const assets = await assetsOf(account);
    expect(assets.map((asset) => asset.symbol).sort()).toEqual(['USDC', 'WBTC', 'WETH']);
    const pool = await chain.actions.getUserAccountData(chain.market, account);
    const ours = healthFactorFromAssets(assets)!;
    expect(ours.collateralBase).toBe(pool.totalCollateralBase);
    expect(ours.debtBase).toBe(pool.totalDebtBase);
    expect(ours.liquidationThresholdBps).toBe(pool.currentLiquidationThreshold);
    expect(ours.healthFactor).toBe(pool.healthFactor);
  });

  it('agrees with the chain on "liquidatable": the real liquidationCall fails above 1 and succeeds below', async () => {
    const account = await open('10', '15000'); // HF 1.1 at $2000
    const liquidator = chain.accounts[3]!;
    await expect(chain.actions.liquidate(chain.market, liquidator, 'WETH', 'USDC', account, parseUnits('1000', 6))).rejects.toThrow();

    const assets = await assetsOf(account);
    const price = liquidationPrice(assets, chain.market.reserves.WETH.asset)!;
    // 15000 / (10 × 0.825) = 1818.1818…: rounded up to the oracle's 8 decimals.
    expect(price).toBe(181818181819n);
    await chain.actions.setPrice(chain.market, 'WETH', price);
    expect((await chain.actions.getUserAccountData(chain.market, account)).healthFactor).toBeGreaterThanOrEqual(WAD);
    await chain.actions.setPrice(chain.market, 'WETH', price - 1n);
    const reader = client();
    const { reads } = await readPositions(aaveV3Adapter, { context: { client: reader.client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 }, market: { market: chain.market.pool, protocolAddress: null }, accounts: [account], batchSize: 300 });
    const snapshot = 'snapshot' in reads[0]! ? reads[0].snapshot : undefined;
    expect(snapshot!.healthFactor! < WAD).toBe(true);

    const result = await chain.actions.liquidate(chain.market, liquidator, 'WETH', 'USDC', account, parseUnits('1000', 6));
    expect(result.debtRepaid).toBe(parseUnits('1000', 6));
    await chain.actions.setPrice(chain.market, 'WETH', parseUnits('2000', 8));
  });

  it('the computed top-up brings the Pool to the target health factor, and one unit less does not', async () => {
    const account = await open('10', '14000'); // HF 1.1786
    const target = decimalToWad('1.5');
    const assets = await assetsOf(account);
    const { amount, reachesTarget } = topUpAmount(assets, chain.market.reserves.WETH.asset, target)!;
    expect(reachesTarget).toBe(true);
    const snapshot = await chain.actions.snapshot();
    await onBehalfOf('supply', 'WETH', account, amount - 1n);
    expect((await chain.actions.getUserAccountData(chain.market, account)).healthFactor < target).toBe(true);
    await chain.actions.revert(snapshot);
    await onBehalfOf('supply', 'WETH', account, amount);
    const after = (await chain.actions.getUserAccountData(chain.market, account)).healthFactor;
    expect(after >= target).toBe(true);
    expect(after - target < 10n ** 6n).toBe(true);
  });

  it('the computed repay brings the Pool to the target health factor, and one unit less does not', async () => {
    const account = await open('10', '14000');
    const target = decimalToWad('1.4');
    const assets = await assetsOf(account);
    const { amount, reachesTarget } = repayAmount(assets, chain.market.reserves.USDC.asset, target)!;
    expect(reachesTarget).toBe(true);
    const snapshot = await chain.actions.snapshot();
    await onBehalfOf('repay', 'USDC', account, amount - 1n);
    expect((await chain.actions.getUserAccountData(chain.market, account)).healthFactor < target).toBe(true);
    await chain.actions.revert(snapshot);
    await onBehalfOf('repay', 'USDC', account, amount);
    expect((await chain.actions.getUserAccountData(chain.market, account)).healthFactor >= target).toBe(true);
  });

  it('states Aave\'s liquidation rule: half the debt (all below HF 0.95), each collateral reserve\'s bonus', async () => {
    const { client: viemClient } = client();
    const meta = await loadMarketMeta({ client: viemClient, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 }, chain.market.pool);
    const rule = aaveV3Adapter.liquidationRule(meta);
    expect(rule).toMatchObject({ closeFactorBps: 5_000n, fullCloseBelowHealthFactor: 95n * 10n ** 16n });
    expect(rule.penaltyBps.map((entry) => [entry.symbol, entry.bps])).toEqual(expect.arrayContaining([['WETH', 500n], ['WBTC', 650n]]));
  });

  it('refuses an address that is not an Aave v3 Pool', async () => {
    const { client: viemClient } = client();
    await expect(loadMarketMeta({ client: viemClient, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 }, chain.market.reserves.USDC.asset)).rejects.toMatchObject({ code: 'invalid_market' });
  });
});
