import { beforeAll, describe, expect, it } from 'vitest';
import { tenantStub } from '../../src/durable/tenant';
import { api, control, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { receivedAt } from './monitor-helpers';
import { expectSignedAlertLadder } from './alert-ladder';

/*
 * A Liquity v2 trove watched through the API, on the real liquity/bold bytecode: the market is
 * the WETH branch's TroveManager, the account a trove id.
 */

let market: { troveManager: string; collateral: string };

describe('Liquity v2 through the API', () => {
  beforeAll(async () => {
    market = (await control('/liquity/market')) as typeof market;
    await control('/liquity/price', { price: '2000' });
  }, 120_000);

  it('takes a trove id in decimal as its 0x form, refuses other account forms at account, and refuses a top-up policy with a 400 at topUp', async () => {
    const key = await newTenant('liquity-forms');
    const trove = (await control('/liquity/open', { collateral: '3', debt: '2500' })) as { troveId: string; decimal: string; owner: string };
    const base = { chainId: 31337, protocol: 'liquity-v2', market: market.troveManager };
    const decimal = await api('POST', '/v1/watches', { token: key, body: { ...base, account: trove.decimal } });
    expect(decimal.status, JSON.stringify(decimal.body)).toBe(201);
    expect(decimal.body.account).toBe(trove.troveId);
    const again = await api('POST', '/v1/watches', { token: key, body: { ...base, account: trove.troveId.toUpperCase().replace('0X', '0x') } });
    expect(again.status).toBe(409);
    for (const account of ['0x1234', 'trove-1', '0']) {
      const refused = await api('POST', '/v1/watches', { token: key, body: { ...base, account } });
      expect(refused.status, account).toBe(400);
      expect(refused.body.error.issues[0].path).toBe('account');
    }
    const onAave = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account: trove.decimal } });
    expect(onAave.status).toBe(400);
    expect(onAave.body.error.issues[0].path).toBe('account');
    const topUp = { mode: 'supply', asset: market.collateral, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1' };
    const withTopUp = await api('POST', '/v1/watches', { token: key, body: { ...base, account: trove.owner, topUp } });
    expect(withTopUp.status).toBe(400);
    expect(withTopUp.body.error).toMatchObject({ code: 'topup_not_supported', issues: [{ path: 'topUp' }] });
    expect(withTopUp.body.error.message).toContain('liquity-v2 watches alert only');
  });

  it('a price walk on a trove delivers warning → margin_call → critical → resolved, signed, once each, with the trove\'s own fields (and its redemption risk once)', async () => {
    const path = '/liquity-flow';
    const key = await newTenant(path);
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    // 2 WETH at $2,000 against 2,100 BOLD (+ its upfront fee): ICR ≈ 1.903, HF = ICR / 1.1 ≈ 1.730.
    const trove = (await control('/liquity/open', { collateral: '2', debt: '2100' })) as { troveId: string };
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'liquity-v2', market: market.troveManager, account: trove.troveId, label: 'trove', channels: [channel.body.id] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    const tenant = tenantStub(testEnv, tenantIdOf(key));

    await pollShards();
    const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    expect(read.body.level).toBe('ok');
    expect(Number(read.body.position.healthFactor)).toBeCloseTo(1.73, 2);
    expect(read.body.position).toMatchObject({ troveId: trove.troveId, troveStatus: 'active', minimumCollateralRatio: '1.1', branchShutdown: false, branchBelowCcr: false });
    expect(read.body.position.redemptionRank).toBeGreaterThanOrEqual(1);
    expect(read.body.position.collateral.usd).not.toBeNull();

    for (const [price, polls] of [['1600', 2], ['1390', 2], ['1240', 1], ['2000', 1]] as const) {
      await control('/liquity/price', { price }); // HF 1.384, 1.202, 1.073, 1.730
      for (let poll = 0; poll < polls; poll++) await pollShards();
    }
    await tenant.deliverDue();
    const received = await receivedAt(path);
    // The trove pays 5 %, as the branch's first trove does: rank 1, so redemption risk is raised too (once).
    expect(received.filter((event) => event.body.type.startsWith('condition.')).map((event) => [event.body.type, event.body.condition.code])).toEqual([['condition.raised', 'redemption_risk']]);
    const events = received.filter((event) => event.body.type.startsWith('alert.'));
    expectSignedAlertLadder(events);
    expect(events[2]!.body.watch).toMatchObject({ protocol: 'liquity-v2', market: market.troveManager, account: trove.troveId });
    expect(Number(events[2]!.body.position.healthFactor)).toBeCloseTo(1.073, 2);
    expect(events[2]!.body.position).toMatchObject({ troveId: trove.troveId, interestRate: '0.05' });
    await control('/liquity/price', { price: '2000' });
  });
});
