import { describe, expect, it } from 'vitest';
import { createPublicClient, http, parseUnits, type Address } from 'viem';
import type { LocalChain } from '../../tools/chain';
import { withFluidChain } from './fluid-chain';
import {
  FLUID_SETTINGS,
  addFluidCollateral,
  fluidPosition,
  liquidateFluid,
  newFluidLiquidator,
  newFluidOwner,
  openFluidPosition,
  setFluidPrice,
  simulateFluidLiquidation,
  type LocalFluid,
} from '../../tools/chain/fluid';
import { createChainClient } from '../../src/chain/client';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { adapterFor, parseAccount } from '../../src/protocols';
import { readPositions } from '../../src/protocols/read-positions';
import { WAD } from '../../src/domain/position';
import { snapshotOf } from './snapshot-of';

/*
 * The Fluid adapter against the real liquidity layer, vault factory, T1 vault and VaultResolver
 * bytecode (../shared/protocols/fluid): a WETH/USDC vault priced by Fluid's MockOracle. The
 * resolver's positionByNftId and the vault's own liquidate are the reference.
 */

let chain: LocalChain;
let local: LocalFluid;

function context() {
  const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
  return { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3, protocolContracts: { fluid: { vaultResolver: local.vaultResolver } } };
}

function accountOf(text: string): Address {
  const parsed = parseAccount('fluid', text);
  if (!parsed?.ok) throw new Error(`not a Fluid account: ${text}`);
  return parsed.account as Address;
}

async function read(accounts: Address[], options: { batchSize?: number; detail?: boolean } = {}) {
  return readPositions(adapterFor('fluid'), {
    context: context(),
    market: { market: local.vault, protocolAddress: null },
    accounts,
    batchSize: options.batchSize ?? 300,
    ...(options.detail ? { detailFor: () => true } : {}),
  });
}

/** The resolver's own position, one eth_call each, and the issue's health factor from it: supply × price / 1e27 × LT / borrow. */
async function theirs(nftId: bigint): Promise<{ supply: bigint; borrow: bigint; healthFactor: bigint }> {
  const position = await fluidPosition(chain.clients, local, nftId);
  const healthFactor = (position.supply * position.oraclePriceLiquidate * BigInt(position.liquidationThreshold) * WAD) / (10n ** 27n * 10_000n * position.borrow);
  return { supply: position.supply, borrow: position.borrow, healthFactor };
}

async function liquidationAllowed(liquidator: Address): Promise<boolean> {
  return simulateFluidLiquidation(chain.clients, local, liquidator, '1000000').then(
    (result) => result.debt > 0n,
    () => false,
  );
}

withFluidChain((started, deployed) => {
  chain = started;
  local = deployed;
});

describe('Fluid adapter on the real liquidity layer, T1 vault and VaultResolver', () => {
  it('accounts are an NFT id (decimal or 0x + 64 hex) or an owner address; anything else says what it must be', () => {
    expect(parseAccount('fluid', '42')).toEqual({ ok: true, account: `0x${'2a'.padStart(64, '0')}` });
    expect(parseAccount('fluid', `0x${'2A'.padStart(64, '0')}`)).toEqual({ ok: true, account: `0x${'2a'.padStart(64, '0')}` });
    expect(parseAccount('fluid', '0x52aa899454998be5b000ad077a46bbe360f4e497')).toEqual({ ok: true, account: '0x52Aa899454998Be5b000Ad077a46Bbe360F4e497' });
    expect(parseAccount('fluid', '0')).toMatchObject({ ok: false, message: expect.stringContaining('between 1') });
    expect(parseAccount('fluid', 'nft-7')).toMatchObject({ ok: false, message: expect.stringContaining('position NFT id') });
  });

  it('an NFT watch reads that position; an owner watch lists each of its positions in the vault and shows the riskiest', async () => {
    const owner = await newFluidOwner(chain.clients);
    // 1 WETH at 2,000 USDC × 0.85 against 1,000 USDC: HF 1.70; 1 WETH against 1,500: HF 1.1333.
    const safe = await openFluidPosition(chain.clients, local, { owner, weth: '1', borrowUsdc: '1000' });
    const risky = await openFluidPosition(chain.clients, local, { owner, weth: '1', borrowUsdc: '1500' });
    const stranger = await newFluidOwner(chain.clients);
    const ownerAccount = accountOf(owner);
    const riskyAccount = accountOf(risky.toString());
    const { reads } = await read([ownerAccount, riskyAccount, accountOf(stranger)], { detail: true });

    const whole = snapshotOf(reads, ownerAccount);
    const reference = await theirs(risky);
    expect(whole).toMatchObject({ protocol: 'fluid', market: local.vault, account: ownerAccount, baseDecimals: 6, baseUsdPrice: 10n ** 6n, debtBase: reference.borrow, healthFactor: reference.healthFactor });
    expect(Number(whole.healthFactor) / 1e18).toBeCloseTo((2000 * 0.85) / 1500, 4);
    expect(whole.liquidationThresholdBps).toBe(FLUID_SETTINGS.liquidationThreshold);
    expect(whole.ltvBps).toBe(FLUID_SETTINGS.collateralFactor);
    expect(whole.protocolFields).toMatchObject({ nftId: risky.toString(), ownerPositions: 2, liquidated: false, beyondMaxLimit: false, liquidationPenaltyBps: 100 });
    expect(whole.subPositions?.map((position) => [position.id, position.account, position.healthFactor])).toEqual([
      [safe.toString(), owner, (await theirs(safe)).healthFactor],
      [risky.toString(), owner, reference.healthFactor],
    ]);
    // Collateral at the liquidation price, in USDC (6 decimals).
    expect(whole.collateralBase).toBe(parseUnits('2000', 6));

    const single = snapshotOf(reads, riskyAccount);
    expect(single.healthFactor).toBe(reference.healthFactor);
    expect(single.subPositions).toBeUndefined();
    expect(single.assets!.map((asset) => [asset.symbol, asset.price, asset.collateral, asset.debt])).toEqual([
      ['WETH', parseUnits('2000', 6), parseUnits('1', 18), 0n],
      ['USDC', parseUnits('1', 6), 0n, reference.borrow],
    ]);
    // An owner without positions in the vault is an error of its own, not a failed batch.
    expect(reads.find((entry) => entry.account === accountOf(stranger))).toMatchObject({ error: expect.stringContaining('holds no position') });
  });

  it('our health factor equals the resolver\'s position by the issue\'s formula, and the vault\'s liquidate succeeds exactly when one is below 1, at every step of a price walk', async () => {
    const owner = await newFluidOwner(chain.clients);
    // Each crosses 1 at a different price: 1,764.7, 1,647.1 and 1,529.4 USDC per WETH (far from every step, beyond Fluid's 0.15 % tick).
    const ids = [
      await openFluidPosition(chain.clients, local, { owner, weth: '1', borrowUsdc: '1500' }),
      await openFluidPosition(chain.clients, local, { owner, weth: '2', borrowUsdc: '2800' }),
      await openFluidPosition(chain.clients, local, { owner, weth: '1', borrowUsdc: '1300' }),
    ];
    const accounts = ids.map((id) => accountOf(id.toString()));
    const liquidator = await newFluidLiquidator(chain.clients, local);
    const seen = { allowed: 0, refused: 0 };
    for (const price of ['2000', '1900', '1800', '1700', '1600', '1500']) {
      await setFluidPrice(chain.clients, local, price);
      const { reads } = await read(accounts, { batchSize: 2 });
      const ours = accounts.map((account) => snapshotOf(reads, account).healthFactor!);
      for (const [index, id] of ids.entries()) {
        const reference = await theirs(id);
        expect(ours[index], `NFT ${id} at ${price}`).toBe(reference.healthFactor);
        expect(snapshotOf(reads, accounts[index]!).debtBase).toBe(reference.borrow);
      }
      // Fluid liquidates the vault's riskiest ticks first: liquidate succeeds when any position is past the line.
      const anyBelow = ours.some((hf) => hf < WAD);
      expect(await liquidationAllowed(liquidator), `at ${price}: ${ours.map((hf) => Number(hf) / 1e18).join(', ')}`).toBe(anyBelow);
      seen[anyBelow ? 'allowed' : 'refused'] += 1;
    }
    expect(seen).toEqual({ allowed: 3, refused: 3 });
    // Past the liquidation max limit (debt over 90 % of the collateral's value) a liquidator can no longer buy: the vault absorbs the position whole.
    const atLimit = await read(accounts);
    expect(accounts.map((account) => snapshotOf(atLimit.reads, account).protocolFields?.beyondMaxLimit)).toEqual([true, true, false]);
    await setFluidPrice(chain.clients, local, '1400');
    const beyond = await read(accounts);
    expect(accounts.map((account) => snapshotOf(beyond.reads, account).protocolFields?.beyondMaxLimit)).toEqual([true, true, true]);
    expect(await liquidationAllowed(liquidator)).toBe(false);
  });

  it('a liquidation takes only the positions below 1 and marks them liquidated; the others stay as they were', async () => {
    const owner = await newFluidOwner(chain.clients);
    const weak = await openFluidPosition(chain.clients, local, { owner, weth: '1', borrowUsdc: '1500' });
    const strong = await openFluidPosition(chain.clients, local, { owner, weth: '1', borrowUsdc: '1000' });
    const liquidator = await newFluidLiquidator(chain.clients, local);
    await expect(liquidateFluid(chain.clients, local, liquidator, '100')).rejects.toThrow();
    await setFluidPrice(chain.clients, local, '1700');
    const before = await read([accountOf(weak.toString()), accountOf(strong.toString())]);
    expect(snapshotOf(before.reads, accountOf(weak.toString())).healthFactor! < WAD).toBe(true);
    expect(snapshotOf(before.reads, accountOf(strong.toString())).healthFactor! > WAD).toBe(true);
    await liquidateFluid(chain.clients, local, liquidator, '1000000');
    const after = await read([accountOf(weak.toString()), accountOf(strong.toString())]);
    const weakAfter = snapshotOf(after.reads, accountOf(weak.toString()));
    expect(weakAfter.protocolFields).toMatchObject({ liquidated: true });
    expect(weakAfter.debtBase < snapshotOf(before.reads, accountOf(weak.toString())).debtBase).toBe(true);
    // Fluid sells only down to the liquidation threshold: the position is back at about 1, within its tick.
    expect(Number(weakAfter.healthFactor) / 1e18).toBeGreaterThan(0.99);
    // The strong position is untouched: not liquidated, its debt only what interest added in the blocks between the reads (a unit or two of 1,000 USDC).
    const strongBefore = snapshotOf(before.reads, accountOf(strong.toString())).debtBase;
    const strongAfter = snapshotOf(after.reads, accountOf(strong.toString()));
    expect(strongAfter.protocolFields).toMatchObject({ liquidated: false });
    expect(strongAfter.debtBase >= strongBefore && strongAfter.debtBase - strongBefore <= strongBefore / 1_000_000n, `${strongBefore} → ${strongAfter.debtBase}`).toBe(true);
  });

  it('a tick costs ⌈accounts / min(batch, 25)⌉ Multicall3 requests, all at the block the first one pins', async () => {
    const owner = await newFluidOwner(chain.clients);
    const ids = [await openFluidPosition(chain.clients, local, { owner, weth: '1', borrowUsdc: '1000' }), await openFluidPosition(chain.clients, local, { owner, weth: '1', borrowUsdc: '900' })];
    const accounts = [accountOf(owner), ...ids.map((id) => accountOf(id.toString()))];
    const bodies: string[] = [];
    const client = createPublicClient({ transport: http(chain.rpcUrl, { onFetchRequest: async (request) => void bodies.push(await request.clone().text()) }) });
    const counted = { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3, protocolContracts: { fluid: { vaultResolver: local.vaultResolver } } };
    const readWith = (batchSize: number) => readPositions(adapterFor('fluid'), { context: counted, market: { market: local.vault, protocolAddress: null }, accounts, batchSize });
    await readWith(300); // the market's facts, cached from here on
    bodies.length = 0;
    await readWith(300);
    expect(bodies.map((body) => (JSON.parse(body) as { method: string }).method)).toEqual(['eth_call']);
    bodies.length = 0;
    await readWith(1);
    const calls = bodies.map((body) => JSON.parse(body) as { method: string; params: [unknown, string] });
    expect(calls.map((call) => call.method)).toEqual(['eth_call', 'eth_call', 'eth_call']);
    expect(calls[0]!.params[1]).toBe('latest');
    expect(new Set(calls.slice(1).map((call) => call.params[1])).size).toBe(1);

    // At most 25 positions ride in one call whatever the batch size (each answer holds the vault's whole state).
    const many = [...accounts, ...Array.from({ length: 27 }, (_, index) => accountOf(String(1_000_000 + index)))];
    bodies.length = 0;
    const reads = await readPositions(adapterFor('fluid'), { context: counted, market: { market: local.vault, protocolAddress: null }, accounts: many, batchSize: 300 });
    expect(bodies).toHaveLength(2); // ⌈30 / 25⌉
    expect(reads.reads.filter((read) => 'snapshot' in read)).toHaveLength(3);
  });

  it('reads the collateral price from the vault\'s liquidation oracle, in USDC; states the liquidation rule with the vault\'s penalty', async () => {
    const adapter = adapterFor('fluid');
    const market = await adapter.loadMarket(context(), { market: local.vault, protocolAddress: null });
    const block = await chain.publicClient.getBlock();
    const prices = await adapter.readPrices(context(), market, { number: block.number, timestamp: block.timestamp });
    // USDC, a dollar stablecoin, is a dollar quote.
    expect(prices).toEqual({ priceDecimals: 6, quoteIsUsd: true, flat: [local.debt.asset], prices: [{ asset: local.collateral.asset, symbol: 'WETH', price: parseUnits('2000', 6), feed: null }] });
    expect(adapter.liquidationRule(market)).toEqual({ closeFactorBps: 10_000n, fullCloseBelowHealthFactor: null, penaltyBps: [{ asset: local.collateral.asset, symbol: 'WETH', bps: FLUID_SETTINGS.liquidationPenalty }] });
  });

  it('refuses a market that is not a Fluid vault, and a chain without a known VaultResolver, at `market`', async () => {
    const adapter = adapterFor('fluid');
    await expect(adapter.loadMarket(context(), { market: local.collateral.asset, protocolAddress: null })).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
    await expect(adapter.loadMarket({ client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 }, { market: local.vault, protocolAddress: null })).rejects.toMatchObject({
      code: 'invalid_market',
      message: expect.stringContaining(`PROTOCOL_CONTRACTS["${chain.chainId}"].fluid.vaultResolver`),
    });
  });

  it('another account may add collateral to a position it does not own, and our read sees the health factor rise by it', async () => {
    const owner = await newFluidOwner(chain.clients);
    const id = await openFluidPosition(chain.clients, local, { owner, weth: '1', borrowUsdc: '1000' });
    const helper = await newFluidOwner(chain.clients);
    await addFluidCollateral(chain.clients, local, helper, id, '0.5');
    expect((await theirs(id)).supply).toBe(parseUnits('1.5', 18));
    const { reads } = await read([accountOf(id.toString())]);
    expect(Number(snapshotOf(reads, accountOf(id.toString())).healthFactor) / 1e18).toBeCloseTo((1.5 * 2000 * 0.85) / 1000, 4);
  });
});
