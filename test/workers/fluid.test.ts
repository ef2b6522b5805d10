import { tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';

import { api, control, grantTopUps, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { SIGNER, receivedEventually, watchThenCrash } from './topup-helpers';
import { DOWN_AND_BACK, deliveriesAt, noticesOf, verifiedWebhook, walkPrices } from './price-walk';

/*
 * Fluid positions watched through the API, on the real liquidity layer, T1 vault and
 * VaultResolver (named in PROTOCOL_CONTRACTS by the global setup): the market is the WETH/USDC
 * vault, the account a position NFT id or an owner (with all its positions in the vault).
 */

let market: { vault: string; collateral: string; debt: string };

describe('Fluid through the API', () => {
  beforeAll(async () => {
    market = (await control('/fluid/market')) as typeof market;
    await control('/fluid/price', { price: '2000' });
  }, 120_000);

  it('a price walk on an owner\'s riskiest position delivers warning → margin_call → critical → resolved, signed, once each, listing every position with debt', async () => {
    const path = '/fluid-flow';
    const key = await newTenant(path);
    const channel = await verifiedWebhook(key, path);
    // 1 WETH at 2,000 USDC × LT 0.85: against 800 USDC HF 2.125, against 1,000 HF 1.70.
    const { owner, nftIds } = await control('/fluid/open', { positions: [{ collateralWeth: '1', borrowUsdc: '800' }, { collateralWeth: '1', borrowUsdc: '1000' }] });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'fluid', market: market.vault, account: owner, label: 'fluid', channels: [channel] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    expect(watch.body).toMatchObject({ protocol: 'fluid', market: market.vault, protocolAddress: null });
    const tenant = tenantStub(testEnv, tenantIdOf(key));

    await pollShards();
    const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    expect(read.body.level).toBe('ok');
    expect(Number(read.body.position.healthFactor)).toBeCloseTo(1.7, 3);
    expect(read.body.position.subPositions.map((position: any) => [position.id, position.account, Number(position.healthFactor).toFixed(3)])).toEqual([
      [nftIds[0], owner, '2.125'],
      [nftIds[1], owner, '1.700'],
    ]);

    // HF of the 1,000 USDC position: 1.445, 1.207, 1.0795, 1.70.
    await walkPrices([['1700', 2], ['1420', 2], ['1270', 1], ['2000', 1]], (price) => control('/fluid/price', { price }));
    await tenant.deliverDue();
    const events = await deliveriesAt(path);
    expect(noticesOf(events)).toEqual({ notices: DOWN_AND_BACK, allSignedAndAccepted: true });
    expect(new Set(events.map((event) => event.id)).size).toBe(4);
    const critical = events[2]!.body;
    expect(critical.watch).toMatchObject({ protocol: 'fluid', market: market.vault });
    expect(Number(critical.position.healthFactor)).toBeCloseTo(1.0795, 3);
    expect(critical.position.subPositions.map((position: any) => [position.id, Number(position.healthFactor).toFixed(3), position.level])).toEqual([
      [nftIds[0], '1.349', 'ok'],
      [nftIds[1], '1.079', 'critical'],
    ]);
    // Each alert is about the 1,000 USDC position, by its NFT id.
    expect(events.map((event) => (event.body as any).subPosition)).toEqual(Array(4).fill({ id: nftIds[1], account: owner }));
  });

  it('a watch on one position NFT, given in decimal, reads that position alone', async () => {
    const key = await newTenant('fluid-nft');
    const { nftIds } = await control('/fluid/open', { positions: [{ collateralWeth: '2', borrowUsdc: '1000' }, { collateralWeth: '1', borrowUsdc: '1200' }] });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'fluid', market: market.vault, account: nftIds[1] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    expect(watch.body.account).toBe(`0x${BigInt(nftIds[1]).toString(16).padStart(64, '0')}`);
    await pollShards();
    const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    // 1 WETH × 2,000 × 0.85 / 1,200.
    expect(Number(read.body.position.healthFactor)).toBeCloseTo(1.4167, 3);
    expect(read.body.position.subPositions).toBeUndefined();
  });

  it('refuses an account that is neither an NFT id nor an address, a market that is not a Fluid vault, and a top-up asset that is not the vault\'s side for the mode, each at its field', async () => {
    const key = await newTenant('fluid-refusals');
    const { owner } = await control('/fluid/open', {});
    const base = { chainId: 31337, protocol: 'fluid', account: owner };
    const badAccount = await api('POST', '/v1/watches', { token: key, body: { ...base, market: market.vault, account: 'nft-7' } });
    expect(badAccount.status).toBe(400);
    expect(badAccount.body.error.issues).toEqual([expect.objectContaining({ path: 'account' })]);
    const notAVault = await api('POST', '/v1/watches', { token: key, body: { ...base, market: testEnv.TEST_MARKET } });
    expect(notAVault.status).toBe(400);
    expect(notAVault.body.error).toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    const topUp = { mode: 'repay', asset: market.collateral, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '100', maxAmountPerDay: '100' };
    const withTopUp = await api('POST', '/v1/watches', { token: key, body: { ...base, market: market.vault, topUp } });
    expect(withTopUp.status).toBe(400);
    expect(withTopUp.body.error).toMatchObject({ code: 'validation_failed', issues: [{ path: 'topUp.asset' }] });
    expect(withTopUp.body.error.message).toContain("this vault's debt is in USDC");
  });

  it('a dry run on a position NFT reports the exact operate payback it would send and sends nothing', async () => {
    const path = '/fluid-dry-run';
    const key = await newTenant(path);
    const channel = await verifiedWebhook(key, path);
    // 1 WETH against 1,300 USDC × LT 0.85: HF 1.308 at 2,000; 1.112 at 1,700, under the trigger 1.2.
    const { nftIds } = await control('/fluid/open', { positions: [{ collateralWeth: '1', borrowUsdc: '1300' }] });
    const topUp = { mode: 'repay', asset: market.debt, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1000', maxAmountPerDay: '1000' };
    const { before } = await watchThenCrash(key, { protocol: 'fluid', market: market.vault, account: nftIds[0], channels: [channel], topUp }, () => control('/fluid/price', { price: '1700' }));
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const dryRun = (await deliveriesAt(path)).find((event) => event.body.type === 'topup.skipped')!;
    expect(dryRun, 'a topup.skipped dry_run event').toBeDefined();
    const nft = `0x${BigInt(nftIds[0]).toString(16).padStart(64, '0')}`;
    expect((dryRun.body as any).topUp).toMatchObject({ reason: 'dry_run', dryRun: true, symbol: 'USDC', transaction: { to: market.vault, function: 'repay', approve: { spender: market.vault } } });
    expect((dryRun.body as any).topUp.transaction.summary).toContain(`operate(nft ${nft}, 0 collateral, −`);
    // HF 1.5 at 1,700 needs the debt at 1 × 1,700 × 0.85 / 1.5 ≈ 963 USDC: about 337 paid back.
    expect(Number((dryRun.body as any).topUp.amount)).toBeGreaterThan(330);
    expect(Number((dryRun.body as any).topUp.amount)).toBeLessThan(345);
    expect((await control('/topup/nonce', { address: SIGNER })).pending).toBe(before);
    await control('/fluid/price', { price: '2000' });
  });

  it.each([
    ['supply', 'WETH'],
    ['repay', 'USDC'],
  ] as const)('live top-up (%s with %s) through the vault\'s operate on an owner\'s position lands and brings the health factor to the target', async (mode, symbol) => {
    const path = `/fluid-topup-${mode}`;
    const key = await newTenant(path);
    await grantTopUps(key, '100000');
    const channel = await verifiedWebhook(key, path);
    await control('/fluid/fund', { symbol, to: SIGNER, amount: symbol === 'WETH' ? '10' : '5000' });
    const { owner, nftIds } = await control('/fluid/open', { positions: [{ collateralWeth: '1', borrowUsdc: '1300' }] });
    const asset = symbol === 'WETH' ? market.collateral : market.debt;
    const topUp = { mode, asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: symbol === 'WETH' ? '1' : '1000', maxAmountPerDay: symbol === 'WETH' ? '1' : '1000', cooldownSeconds: 600, dryRun: false };
    const { watchId, before } = await watchThenCrash(key, { protocol: 'fluid', market: market.vault, account: owner, channels: [channel], topUp }, () => control('/fluid/price', { price: '1700' }));
    const executed = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.executed');
    await pollShards();
    const read = await api('GET', `/v1/watches/${watchId}`, { token: key });
    expect(read.body.position.nftId).toBe(BigInt(nftIds[0]).toString());
    expect(Number(read.body.position.healthFactor)).toBeGreaterThanOrEqual(1.5);
    expect((await control('/topup/nonce', { address: SIGNER })).pending - before).toBe(2); // the exact approval to the vault, then operate
    expect((executed.body as any).topUp).toMatchObject({ mode, symbol, dryRun: false, targetReached: true });
    expect(Number((executed.body as any).topUp.healthFactorBefore)).toBeLessThan(1.2);
    expect((executed.body as any).topUp.transaction.summary).toContain('operate(nft ');
    await control('/fluid/price', { price: '2000' });
  });
});
