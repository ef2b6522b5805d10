import { beforeAll, describe, expect, it } from 'vitest';
import { tenantStub } from '../../src/durable/tenant';
import { api, control, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { DOWN_AND_BACK, deliveriesAt, noticesOf, verifiedWebhook, walkPrices } from './price-walk';

/*
 * A Maker vault watched through the API, on real dss bytecode: the market is an ilk ("ETH-A")
 * inside the Vat, which a local chain must name (its Spotter, Jug and Dog come from
 * PROTOCOL_CONTRACTS, set by the workers config from the global setup's deployment).
 */

let market: { vat: string; ilk: string; name: string; pip: string };

describe('Maker through the API', () => {
  beforeAll(async () => {
    market = (await control('/maker/market')) as typeof market;
    await control('/maker/price', { price: '2000' });
  }, 120_000);

  it('needs the Vat where Maker has no canonical deployment, an ilk the Vat knows, and the ilk name form', async () => {
    const key = await newTenant('maker-refusals');
    const { account } = await control('/maker/open', { collateral: '1', debt: '500' });
    const base = { chainId: 31337, protocol: 'maker', account };
    const missing = await api('POST', '/v1/watches', { token: key, body: { ...base, market: 'ETH-A' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.issues[0].path).toBe('protocolAddress');
    const unknown = await api('POST', '/v1/watches', { token: key, body: { ...base, market: 'NOPE-A', protocolAddress: market.vat } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    const badName = await api('POST', '/v1/watches', { token: key, body: { ...base, market: 'ETH A', protocolAddress: market.vat } });
    expect(badName.status).toBe(400);
    expect(badName.body.error.issues[0].path).toBe('market');
  });

  it('has no auto-top-up: a top-up policy is a clear 400 at topUp, on create and on update', async () => {
    const key = await newTenant('maker-no-topup');
    const { account } = await control('/maker/open', { collateral: '1', debt: '500' });
    const topUp = { mode: 'supply', asset: market.pip, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1' };
    const created = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'maker', market: 'ETH-A', protocolAddress: market.vat, account, topUp } });
    expect(created.status).toBe(400);
    expect(created.body.error).toMatchObject({ code: 'topup_not_supported', issues: [{ path: 'topUp' }] });
    expect(created.body.error.message).toContain('maker watches alert only');
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'maker', market: 'ETH-A', protocolAddress: market.vat, account } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    const patched = await api('PATCH', `/v1/watches/${watch.body.id}`, { token: key, body: { topUp } });
    expect(patched.status).toBe(400);
    expect(patched.body.error).toMatchObject({ code: 'topup_not_supported', issues: [{ path: 'topUp' }] });
  });

  it('a price walk on a Maker vault delivers warning → margin_call → critical → resolved, signed, once each', async () => {
    const path = '/maker-flow';
    const key = await newTenant(path);
    const channel = await verifiedWebhook(key, path);
    // 1 ETH at $2,000 ÷ 1.45 against 800 DAI: HF 1.724.
    const { account } = await control('/maker/open', { collateral: '1', debt: '800' });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'maker', market: 'ETH-A', protocolAddress: market.vat, account, label: 'maker', channels: [channel] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    expect(watch.body).toMatchObject({ protocol: 'maker', market: market.ilk, protocolAddress: market.vat });
    const tenant = tenantStub(testEnv, tenantIdOf(key));

    await pollShards();
    const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    expect(read.body.level).toBe('ok');
    expect(Number(read.body.position.healthFactor)).toBeCloseTo(1.724, 2);
    expect(Number(read.body.position.collateral.usd)).toBeCloseTo(2000, 3); // the pip's USD price

    // HF 1.422, 1.190, 1.078, 1.724.
    await walkPrices([['1650', 2], ['1380', 2], ['1250', 1], ['2000', 1]], (price) => control('/maker/price', { price }));
    await tenant.deliverDue();
    const events = await deliveriesAt(path);
    expect(noticesOf(events)).toEqual({ notices: DOWN_AND_BACK, allSignedAndAccepted: true });
    expect(events[2]!.body.watch).toMatchObject({ protocol: 'maker', market: market.ilk, protocolAddress: market.vat });
    expect(Number(events[2]!.body.position.healthFactor)).toBeCloseTo(1.078, 2);
  });
});
