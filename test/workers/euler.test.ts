import { tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';

import { api, control, grantTopUps, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { SIGNER, receivedEventually, watchThenCrash } from './topup-helpers';
import { DOWN_AND_BACK, deliveriesAt, noticesOf, verifiedWebhook, walkPrices } from './price-walk';
import committed from '../../docs/openapi.json';
import { createContract } from '../helpers/openapi-contract';

/*
 * Euler v2 positions watched through the API, on the real EVC and Euler Vault Kit: the market
 * is the USDS controller vault, the account an owner (with its sub-accounts) or one sub-account.
 */

let market: { vault: string; asset: string; collaterals: Record<'WETH' | 'wstETH', { vault: string; asset: string }> };

describe('Euler v2 through the API', () => {
  beforeAll(async () => {
    market = (await control('/euler/market')) as typeof market;
    await control('/euler/price', { symbol: 'WETH', price: '2000' });
  }, 120_000);

  it('a price walk on an owner\'s riskiest sub-account delivers warning → margin_call → critical → resolved, signed, once each, listing every sub-account with debt', async () => {
    const path = '/euler-flow';
    const key = await newTenant(path);
    const channel = await verifiedWebhook(key, path);
    // 1 WETH at $2,000 × liquidation LTV 0.83: against 800 USDS HF 2.075 (sub-account 0), against 1,000 HF 1.66 (sub-account 3).
    const { owner, subAccounts } = await control('/euler/open', { positions: [{ index: 0, collateralWeth: '1', borrowUsds: '800' }, { index: 3, collateralWeth: '1', borrowUsds: '1000' }] });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'euler-v2', market: market.vault, account: owner, label: 'euler', channels: [channel] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    expect(watch.body).toMatchObject({ protocol: 'euler-v2', market: market.vault, protocolAddress: null });
    const tenant = tenantStub(testEnv, tenantIdOf(key));

    await pollShards();
    const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    expect(read.body.level).toBe('ok');
    expect(Number(read.body.position.healthFactor)).toBeCloseTo(1.66, 3);
    expect(Number(read.body.position.collateral.usd)).toBeCloseTo(2000, 3);
    expect(read.body.position.subPositions.map((position: any) => [position.id, position.account, Number(position.healthFactor).toFixed(3)])).toEqual([
      ['0', subAccounts[0], '2.075'],
      ['3', subAccounts[1], '1.660'],
    ]);

    // HF of sub-account 3: 1.4525, 1.2035, 1.079, 1.66.
    await walkPrices([['1750', 2], ['1450', 2], ['1300', 1], ['2000', 1]], (price) => control('/euler/price', { symbol: 'WETH', price }));
    await tenant.deliverDue();
    const events = await deliveriesAt(path);
    expect(noticesOf(events)).toEqual({ notices: DOWN_AND_BACK, allSignedAndAccepted: true });
    expect(new Set(events.map((event) => event.id)).size).toBe(4);
    const critical = events[2]!.body;
    expect(critical.watch).toMatchObject({ protocol: 'euler-v2', market: market.vault });
    expect(Number(critical.position.healthFactor)).toBeCloseTo(1.079, 3);
    expect(critical.position.subPositions.map((position: any) => [position.id, Number(position.healthFactor).toFixed(3), position.level])).toEqual([
      ['0', '1.349', 'ok'],
      ['3', '1.079', 'critical'],
    ]);
    // Each alert is about sub-account 3, under ids of its own.
    expect(events.map((event) => (event.body as any).subPosition)).toEqual(Array(4).fill({ id: '3', account: subAccounts[1] }));
    expect(events.every((event) => event.id.startsWith(`evt_${watch.body.id}_p3_`))).toBe(true);
  });

  it('a second sub-account falling while the first already alerts gets alerts of its own, each resolving on its own; the watch shows the worst level', async () => {
    const path = '/euler-two-sub-accounts';
    const key = await newTenant(path);
    const channel = await verifiedWebhook(key, path);
    // At $2,000: sub-account 3 HF 1.66 (1,000 USDS), sub-account 7 HF 2.075 (800 USDS).
    const { owner, subAccounts } = await control('/euler/open', { positions: [{ index: 3, collateralWeth: '1', borrowUsds: '1000' }, { index: 7, collateralWeth: '1', borrowUsds: '800' }] });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'euler-v2', market: market.vault, account: owner, channels: [channel] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    // $1,750: 1.4525 / 1.816. $1,400: 1.162 / 1.4525.
    await walkPrices([['2000', 1], ['1750', 2], ['1400', 2]], (price) => control('/euler/price', { symbol: 'WETH', price }));
    const during = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    expect(during.body.level).toBe('margin_call');
    expect(during.body.position.subPositions.map((position: any) => [position.id, position.level])).toEqual([['3', 'margin_call'], ['7', 'warning']]);
    await walkPrices([['2000', 1]], (price) => control('/euler/price', { symbol: 'WETH', price }));
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const events = await deliveriesAt(path);
    expect(events.map((event) => [event.body.type, event.body.level, (event.body as any).subPosition.id])).toEqual([
      ['alert.triggered', 'warning', '3'],
      ['alert.escalated', 'margin_call', '3'],
      ['alert.triggered', 'warning', '7'],
      ['alert.resolved', 'ok', '3'],
      ['alert.resolved', 'ok', '7'],
    ]);
    expect(events.every((event) => event.verified && event.status === 200)).toBe(true);
    expect(new Set(events.map((event) => event.id)).size).toBe(5);
    expect(events.flatMap((event) => createContract(committed).webhookProblems(event.body)), 'each body as the OpenAPI document describes it').toEqual([]);
    const second = events[2]!.body as any;
    expect(second.subPosition).toEqual({ id: '7', account: subAccounts[1] });
    // The position shown is sub-account 7's own, without the breakdown read for the riskiest.
    expect(second.position).toMatchObject({ liquidationPrices: [] });
    expect(Number(second.position.healthFactor)).toBeCloseTo(1.4525, 3);
    expect(Number(second.position.debt.base)).toBeCloseTo(800, 6);
    expect(second.risk).toBeNull();
    expect((events[1]!.body as any).recommendation).toMatchObject({ action: 'supply' });
    expect((await api('GET', `/v1/watches/${watch.body.id}`, { token: key })).body.level).toBe('ok');
  });

  it('a watch on one sub-account reads that sub-account alone', async () => {
    const key = await newTenant('euler-sub-account');
    const { subAccounts } = await control('/euler/open', { positions: [{ index: 0, collateralWeth: '2', borrowUsds: '1000' }, { index: 9, collateralWeth: '1', borrowUsds: '1200' }] });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'euler-v2', market: market.vault, account: subAccounts[1] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    await pollShards();
    const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    // 1 WETH × 2,000 × 0.83 / 1,200.
    expect(Number(read.body.position.healthFactor)).toBeCloseTo(1.3833, 3);
    expect(read.body.position.subPositions).toBeUndefined();
  });

  it('refuses a market that is not a borrow vault, at market, and a top-up asset the vault does not lend, at topUp.asset', async () => {
    const key = await newTenant('euler-refusals');
    const { owner } = await control('/euler/open', {});
    const base = { chainId: 31337, protocol: 'euler-v2', account: owner };
    const collateralVault = await api('POST', '/v1/watches', { token: key, body: { ...base, market: market.collaterals.WETH.vault } });
    expect(collateralVault.status).toBe(400);
    expect(collateralVault.body.error).toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    const notAVault = await api('POST', '/v1/watches', { token: key, body: { ...base, market: testEnv.TEST_MARKET } });
    expect(notAVault.status).toBe(400);
    expect(notAVault.body.error).toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    const topUp = { mode: 'repay', asset: market.collaterals.WETH.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '100', maxAmountPerDay: '100' };
    const withTopUp = await api('POST', '/v1/watches', { token: key, body: { ...base, market: market.vault, topUp } });
    expect(withTopUp.status).toBe(400);
    expect(withTopUp.body.error).toMatchObject({ code: 'validation_failed', issues: [{ path: 'topUp.asset' }] });
    expect(withTopUp.body.error.message).toContain('this vault lends USDS');
    const vaultItself = await api('POST', '/v1/watches', { token: key, body: { ...base, market: market.vault, topUp: { ...topUp, mode: 'supply', asset: market.collaterals.WETH.vault } } });
    expect(vaultItself.status).toBe(400);
    expect(vaultItself.body.error.message).toContain('name its underlying token');
  });

  it('a dry run on a sub-account reports the exact repay it would send on its behalf and sends nothing', async () => {
    const path = '/euler-dry-run';
    const key = await newTenant(path);
    const channel = await verifiedWebhook(key, path);
    // 1 WETH × 0.83 against 1,300 USDS: HF 1.277 at $2,000; 1.085 at $1,700, under the trigger 1.2.
    const { subAccounts } = await control('/euler/open', { positions: [{ index: 2, collateralWeth: '1', borrowUsds: '1300' }] });
    const topUp = { mode: 'repay', asset: market.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1000', maxAmountPerDay: '1000' };
    const { before } = await watchThenCrash(key, { protocol: 'euler-v2', market: market.vault, account: subAccounts[0], channels: [channel], topUp }, () => control('/euler/price', { symbol: 'WETH', price: '1700' }));
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const dryRun = (await deliveriesAt(path)).find((event) => event.body.type === 'topup.skipped')!;
    expect(dryRun, 'a topup.skipped dry_run event').toBeDefined();
    expect((dryRun.body as any).topUp).toMatchObject({ reason: 'dry_run', dryRun: true, symbol: 'USDS', transaction: { to: market.vault, function: 'repay', approve: { spender: market.vault } } });
    expect((dryRun.body as any).topUp.transaction.summary).toContain(`receiver ${subAccounts[0]}`);
    // HF 1.5 at $1,700 needs the debt at 1,411 / 1.5 ≈ 941 USDS: about 359 repaid.
    expect(Number((dryRun.body as any).topUp.amount)).toBeGreaterThan(350);
    expect(Number((dryRun.body as any).topUp.amount)).toBeLessThan(370);
    expect((await control('/topup/nonce', { address: SIGNER })).pending).toBe(before);
    await control('/euler/price', { symbol: 'WETH', price: '2000' });
  });

  it.each([
    ['supply', 'WETH'],
    ['repay', 'USDS'],
  ] as const)('live top-up (%s with %s) for an owner\'s riskiest sub-account lands on the real vaults and brings its health factor to the target', async (mode, symbol) => {
    const path = `/euler-topup-${mode}`;
    const key = await newTenant(path);
    await grantTopUps(key, '100000');
    const channel = await verifiedWebhook(key, path);
    await control('/euler/mint', { symbol, to: SIGNER, amount: symbol === 'WETH' ? '10' : '5000' });
    const { owner, subAccounts } = await control('/euler/open', { positions: [{ index: 3, collateralWeth: '1', borrowUsds: '1300' }] });
    const asset = symbol === 'WETH' ? market.collaterals.WETH.asset : market.asset;
    const topUp = { mode, asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: symbol === 'WETH' ? '1' : '1000', maxAmountPerDay: symbol === 'WETH' ? '1' : '1000', cooldownSeconds: 600, dryRun: false };
    const { watchId, before } = await watchThenCrash(key, { protocol: 'euler-v2', market: market.vault, account: owner, channels: [channel], topUp }, () => control('/euler/price', { symbol: 'WETH', price: '1700' }));
    const executed = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.executed');
    await pollShards();
    const read = await api('GET', `/v1/watches/${watchId}`, { token: key });
    expect(read.body.position.subPositions.map((position: any) => [position.id, position.account])).toEqual([['3', subAccounts[0]]]);
    expect(Number(read.body.position.healthFactor)).toBeGreaterThanOrEqual(1.5);
    expect((await control('/topup/nonce', { address: SIGNER })).pending - before).toBe(2); // the exact approval, then the vault call
    expect((executed.body as any).topUp).toMatchObject({ mode, symbol, dryRun: false, targetReached: true });
    expect(Number((executed.body as any).topUp.healthFactorBefore)).toBeLessThan(1.2);
    expect((executed.body as any).topUp.transaction).toMatchObject({ to: mode === 'supply' ? market.collaterals.WETH.vault : market.vault });
    expect((executed.body as any).topUp.transaction.summary).toContain(`receiver ${subAccounts[0]}`);
    await control('/euler/price', { symbol: 'WETH', price: '2000' });
  });

  it('a live supply policy for a sub-account that has not enabled the asset\'s collateral vault is 400 topup_not_allowed_by_position at account; repay is taken', async () => {
    const key = await newTenant('euler-not-enabled');
    await grantTopUps(key, '100000');
    const { subAccounts } = await control('/euler/open', { positions: [{ index: 1, collateralWeth: '1', borrowUsds: '1000' }] });
    const base = { chainId: 31337, protocol: 'euler-v2', market: market.vault, account: subAccounts[0] };
    const supply = { mode: 'supply', asset: market.collaterals.wstETH.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1', dryRun: false };
    const refused = await api('POST', '/v1/watches', { token: key, body: { ...base, topUp: supply } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'topup_not_allowed_by_position', issues: [{ path: 'account' }] });
    expect(refused.body.error.message).toContain('only its owner can enable one (EVC.enableCollateral)');
    const repay = await api('POST', '/v1/watches', { token: key, body: { ...base, topUp: { ...supply, mode: 'repay', asset: market.asset, maxAmountPerAction: '100', maxAmountPerDay: '100' } } });
    expect(repay.status, JSON.stringify(repay.body)).toBe(201);
    expect((await api('DELETE', `/v1/watches/${repay.body.id}`, { token: key })).status).toBe(204);
  });
});
