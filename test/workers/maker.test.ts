import { tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';

import { api, control, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { DOWN_AND_BACK, deliveriesAt, noticesOf, verifiedWebhook, walkPrices } from './price-walk';

/*
 * A Maker vault watched through the API, on real dss bytecode: the market is an ilk ("ETH-A")
 * inside the Vat, which a local chain must name (its Spotter, Jug and Dog come from
 * PROTOCOL_CONTRACTS, set by the workers config from the global setup's deployment, with a
 * CdpManager of our own for vault ids). A second ilk, ETH-B, is priced by an OSM (our fixture,
 * a one-second hop) whose next price the adapter reads ahead.
 */

let market: { vat: string; ilk: string; name: string; pip: string; cdpManager: string };

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

  it('a top-up policy names what the ilk\'s joins take: the price source is refused at topUp.asset, the gem (supply) and DAI (repay) are taken', async () => {
    const key = await newTenant('maker-topup-assets');
    const { account } = await control('/maker/open', { collateral: '1', debt: '500' });
    const joins = await control('/maker/topup-market');
    const topUp = { mode: 'supply', asset: market.pip, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1' };
    const body = { chainId: 31337, protocol: 'maker', market: 'ETH-A', protocolAddress: market.vat, account };
    const refused = await api('POST', '/v1/watches', { token: key, body: { ...body, topUp } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', issues: [{ path: 'topUp.asset' }] });
    expect(refused.body.error.message).toContain(joins.gem);
    const repayWithGem = await api('POST', '/v1/watches', { token: key, body: { ...body, topUp: { ...topUp, mode: 'repay', asset: joins.gem } } });
    expect(repayWithGem.status).toBe(400);
    expect(repayWithGem.body.error.message).toContain(joins.dai);
    const supply = await api('POST', '/v1/watches', { token: key, body: { ...body, topUp: { ...topUp, asset: joins.gem } } });
    expect(supply.status, JSON.stringify(supply.body)).toBe(201);
    expect(supply.body.topUp).toMatchObject({ mode: 'supply', symbol: 'WETH', decimals: 18 });
    const repay = await api('POST', '/v1/watches', { token: key, body: { ...body, account: (await control('/maker/open', { collateral: '1', debt: '500' })).account, topUp: { ...topUp, mode: 'repay', asset: joins.dai, maxAmountPerAction: '100', maxAmountPerDay: '100' } } });
    expect(repay.status, JSON.stringify(repay.body)).toBe(201);
    expect(repay.body.topUp).toMatchObject({ mode: 'repay', symbol: 'DAI' });
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

  it("a price drop published as the OSM's next price delivers margin_call before it takes effect: signed, once, trigger next_price, with position.nextPrice", async () => {
    const osmMarket = (await control('/maker/osm-market')) as { ilk: string; name: string };
    const path = '/maker-next-price';
    const key = await newTenant(path);
    const channel = await verifiedWebhook(key, path);
    // 1 ETH at $2,000 ÷ 1.45 against 800 DAI: HF 1.724; at $1,300 it will be 1.121 (margin_call).
    const { account } = await control('/maker/osm-open', { collateral: '1', debt: '800' });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'maker', market: osmMarket.name, protocolAddress: market.vat, account, channels: [channel] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    await pollShards();
    const before = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    expect(before.body.level).toBe('ok');
    expect(before.body.position.nextPrice).toBe('2000');
    expect(Number(before.body.position.nextHealthFactor)).toBeCloseTo(1.724, 2);

    const published = await control('/maker/osm-publish', { price: '1300' });
    expect(published).toEqual({ next: (1300n * 10n ** 18n).toString(), has: true });
    await pollShards();
    await pollShards();
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const events = await deliveriesAt(path);
    expect(noticesOf(events)).toEqual({ notices: [['alert.triggered', 'margin_call']], allSignedAndAccepted: true });
    expect(events[0]!.body).toMatchObject({ trigger: 'next_price', position: { nextPrice: '1300' } });
    // The price in effect has not moved: the alert comes from the next one alone.
    expect(Number(events[0]!.body.position.healthFactor)).toBeCloseTo(1.724, 2);
    expect(Number(events[0]!.body.position.nextHealthFactor)).toBeCloseTo(1.121, 2);

    await pollShards();
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    expect(await deliveriesAt(path)).toHaveLength(1);
  });

  it('a vault id ("cdp:N") watch reads the same position as its urn; malformed and unknown ids are 400s naming account', async () => {
    const key = await newTenant('maker-cdp');
    // 1 ETH at $2,000 ÷ 1.45 against 900 DAI: HF 1.533.
    const { cdp, urn } = (await control('/maker/open-cdp', { collateral: '1', debt: '900' })) as { cdp: string; urn: string };
    const base = { chainId: 31337, protocol: 'maker', market: 'ETH-A', protocolAddress: market.vat };
    const byId = await api('POST', '/v1/watches', { token: key, body: { ...base, account: `cdp:${cdp}` } });
    expect(byId.status, JSON.stringify(byId.body)).toBe(201);
    expect(byId.body.account).toBe(`0x${BigInt(cdp).toString(16).padStart(64, '0')}`);
    const byUrn = await api('POST', '/v1/watches', { token: key, body: { ...base, account: urn } });
    expect(byUrn.status, JSON.stringify(byUrn.body)).toBe(201);
    await pollShards();
    const [viaId, viaUrn] = await Promise.all([byId, byUrn].map((watch) => api('GET', `/v1/watches/${watch.body.id}`, { token: key })));
    const { vault, urn: shownUrn, ...position } = viaId!.body.position;
    expect({ vault, shownUrn }).toEqual({ vault: `cdp:${cdp}`, shownUrn: urn });
    expect(position).toEqual(viaUrn!.body.position);
    expect(Number(position.healthFactor)).toBeCloseTo(1.533, 2);

    for (const account of ['cdp:abc', 'cdp:0', '12345']) {
      const refused = await api('POST', '/v1/watches', { token: key, body: { ...base, account } });
      expect(refused.status, account).toBe(400);
      expect(refused.body.error.issues[0].path, account).toBe('account');
    }
    const unknown = await api('POST', '/v1/watches', { token: key, body: { ...base, account: `cdp:${BigInt(cdp) + 1000n}` } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'invalid_account', issues: [{ path: 'account' }] });
    expect(unknown.body.error.message).toContain(`has no vault cdp:${BigInt(cdp) + 1000n}`);
  });
});
