import { beforeAll, describe, expect, it } from 'vitest';
import { tenantStub } from '../../src/durable/tenant';
import { api, control, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
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
    expect(critical.position.subPositions.map((position: any) => [position.id, Number(position.healthFactor).toFixed(3)])).toEqual([
      [nftIds[0], '1.349'],
      [nftIds[1], '1.079'],
    ]);
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

  it('refuses an account that is neither an NFT id nor an address, a market that is not a Fluid vault, and a top-up policy, each at its field', async () => {
    const key = await newTenant('fluid-refusals');
    const { owner } = await control('/fluid/open', {});
    const base = { chainId: 31337, protocol: 'fluid', account: owner };
    const badAccount = await api('POST', '/v1/watches', { token: key, body: { ...base, market: market.vault, account: 'nft-7' } });
    expect(badAccount.status).toBe(400);
    expect(badAccount.body.error.issues).toEqual([expect.objectContaining({ path: 'account' })]);
    const notAVault = await api('POST', '/v1/watches', { token: key, body: { ...base, market: testEnv.TEST_MARKET } });
    expect(notAVault.status).toBe(400);
    expect(notAVault.body.error).toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    const topUp = { mode: 'repay', asset: market.debt, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '100', maxAmountPerDay: '100' };
    const withTopUp = await api('POST', '/v1/watches', { token: key, body: { ...base, market: market.vault, topUp } });
    expect(withTopUp.status).toBe(400);
    expect(withTopUp.body.error).toMatchObject({ code: 'topup_not_supported', issues: [{ path: 'topUp' }] });
    expect(withTopUp.body.error.message).toContain('fluid watches alert only');
  });
});
