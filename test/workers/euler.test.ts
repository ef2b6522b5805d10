import { beforeAll, describe, expect, it } from 'vitest';
import { tenantStub } from '../../src/durable/tenant';
import { api, control, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { DOWN_AND_BACK, deliveriesAt, noticesOf, verifiedWebhook, walkPrices } from './price-walk';

/*
 * Euler v2 positions watched through the API, on the real EVC and Euler Vault Kit: the market
 * is the USDS controller vault, the account an owner (with its sub-accounts) or one sub-account.
 */

let market: { vault: string; asset: string; collaterals: { WETH: { vault: string } } };

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
    expect(critical.position.subPositions.map((position: any) => [position.id, Number(position.healthFactor).toFixed(3)])).toEqual([
      ['0', '1.349'],
      ['3', '1.079'],
    ]);
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

  it('refuses a market that is not a borrow vault, at market, and a top-up policy, at topUp', async () => {
    const key = await newTenant('euler-refusals');
    const { owner } = await control('/euler/open', {});
    const base = { chainId: 31337, protocol: 'euler-v2', account: owner };
    const collateralVault = await api('POST', '/v1/watches', { token: key, body: { ...base, market: market.collaterals.WETH.vault } });
    expect(collateralVault.status).toBe(400);
    expect(collateralVault.body.error).toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    const notAVault = await api('POST', '/v1/watches', { token: key, body: { ...base, market: testEnv.TEST_MARKET } });
    expect(notAVault.status).toBe(400);
    expect(notAVault.body.error).toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    const topUp = { mode: 'repay', asset: market.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '100', maxAmountPerDay: '100' };
    const withTopUp = await api('POST', '/v1/watches', { token: key, body: { ...base, market: market.vault, topUp } });
    expect(withTopUp.status).toBe(400);
    expect(withTopUp.body.error).toMatchObject({ code: 'topup_not_supported', issues: [{ path: 'topUp' }] });
    expect(withTopUp.body.error.message).toContain('euler-v2 watches alert only');
  });
});
