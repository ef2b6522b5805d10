import { tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';

import { api, control, grantTopUps, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { SIGNER, receivedEventually, watchThenCrash } from './topup-helpers';
import { expectSignedAlertLadder } from './alert-ladder';

/*
 * A Compound v3 position watched through the API, on real Comet bytecode: the same alert
 * sequence, signed webhooks and position shape as on Aave.
 */

type Received = { id: string; verified: boolean; path: string; status: number | null; body: { type: string; level: string; previousLevel: string; id: string; position: any; watch: any; recommendation: any } };

async function receivedAt(path: string): Promise<Received[]> {
  const events = (await control('/receiver/events', {}, 'GET')) as Received[];
  return events.filter((event) => event.path === path);
}

let comet: string;

describe('Compound v3 through the API', () => {
  beforeAll(async () => {
    comet = ((await control('/comet/market')) as { comet: string }).comet;
    await control('/comet/price', { symbol: 'WETH', price: '2000' });
  });

  it('a price walk on a Comet position delivers warning → margin_call → critical → resolved, signed, once each', async () => {
    const path = '/comet-flow';
    const key = await newTenant(path);
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    // 1 WETH at $2,000 (liquidate CF 0.895) against 1,000 USDC: HF 1.79.
    const { account } = await control('/comet/open', { collateral: 'WETH', collateralAmount: '1', borrow: '1000' });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'compound-v3', market: comet, account, label: 'comet', channels: [channel.body.id] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    const tenant = tenantStub(testEnv, tenantIdOf(key));

    await pollShards();
    const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    expect(read.body).toMatchObject({ protocol: 'compound-v3', level: 'ok' });
    expect(Number(read.body.position.healthFactor)).toBeCloseTo(1.79, 3);

    for (const [price, polls] of [['1600', 2], ['1300', 2], ['1200', 1], ['2000', 1]] as const) {
      await control('/comet/price', { symbol: 'WETH', price }); // HF 1.432, 1.1635, 1.074, 1.79
      for (let poll = 0; poll < polls; poll++) await pollShards();
    }
    await tenant.deliverDue();
    const events = await receivedAt(path);
    expectSignedAlertLadder(events);
    const critical = events[2]!.body;
    expect(critical.watch).toMatchObject({ protocol: 'compound-v3', market: comet });
    expect(Number(critical.position.healthFactor)).toBeCloseTo(1.074, 3);
    expect(critical.position.liquidationPrices[0]).toMatchObject({ symbol: 'WETH' });
    expect(critical.recommendation).toMatchObject({ action: 'supply', symbol: 'WETH' });
  });

  it('refuses what is not a Comet, and top-up assets the Comet cannot take for the mode', async () => {
    const key = await newTenant('comet-refusals');
    const { account } = await control('/comet/open', { collateral: 'WETH', collateralAmount: '1', borrow: '500' });
    const notComet = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'compound-v3', market: testEnv.TEST_MARKET, account } });
    expect(notComet.status).toBe(400);
    expect(notComet.body.error).toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    const tokens = ((await control('/comet/market')) as { tokens: Record<string, { asset: string }> }).tokens;
    const policy = { triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1' };
    const supplyBase = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'compound-v3', market: comet, account, topUp: { ...policy, mode: 'supply', asset: tokens.USDC!.asset } } });
    expect(supplyBase.body.error).toMatchObject({ issues: [{ path: 'topUp.asset' }] });
    const repayCollateral = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'compound-v3', market: comet, account, topUp: { ...policy, mode: 'repay', asset: tokens.WETH!.asset } } });
    expect(repayCollateral.body.error.message).toContain('base token');
  });

  it.each([
    ['supply', 'WETH'],
    ['repay', 'USDC'],
  ] as const)('live top-up (%s with %s) through Comet.supplyTo: the health factor reaches the target, the owner\'s budget counts it', async (mode, symbol) => {
    const path = `/comet-topup-${mode}`;
    const key = await newTenant(path);
    await grantTopUps(key, '100000');
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    const tokens = ((await control('/comet/market')) as { tokens: Record<string, { asset: string }> }).tokens;
    await control('/comet/mint', { symbol, to: SIGNER, amount: symbol === 'WETH' ? '10' : '100000' });
    // 1 WETH against 1,300 USDC: HF 1.377 at $2,000; 1.17 at $1,700, under the trigger 1.2.
    const { account } = await control('/comet/open', { collateral: 'WETH', collateralAmount: '1', borrow: '1300' });
    const topUp = { mode, asset: tokens[symbol]!.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: symbol === 'WETH' ? '1' : '1000', maxAmountPerDay: symbol === 'WETH' ? '1' : '1000', cooldownSeconds: 600, dryRun: false };
    const { watchId, before } = await watchThenCrash(key, { protocol: 'compound-v3', market: comet, account, channels: [channel.body.id], topUp }, () => control('/comet/price', { symbol: 'WETH', price: '1700' }));
    const executed = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.executed');
    await pollShards();
    const read = await api('GET', `/v1/watches/${watchId}`, { token: key });
    expect(Number(read.body.position.healthFactor)).toBeGreaterThanOrEqual(1.5);
    expect((await control('/topup/nonce', { address: SIGNER })).pending - before).toBe(2); // the exact approval, then supplyTo
    expect(executed.verified).toBe(true);
    expect((executed.body as any).topUp).toMatchObject({ mode, symbol, dryRun: false, targetReached: true });
    expect((executed.body as any).topUp.transaction.summary).toContain('supplyTo(');
    // The owner's budget counted it at Comet's own prices (USD).
    const grant = await api('GET', '/v1/topup/grant', { token: key });
    expect(Number(grant.body.spentUsdLast24h)).toBeGreaterThan(100);
    await control('/comet/price', { symbol: 'WETH', price: '2000' });
  });

  it('a live WETH repayment on a Comet priced in ETH is valued through the owner\'s ETH / USD feed: a $1,000 grant at $2,000 repays at most 0.5 WETH and books $1,000', async () => {
    const path = '/comet-weth-budget';
    const key = await newTenant(path);
    await grantTopUps(key, '1000');
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    const weth = (await control('/comet/market', { market: 'weth' })) as { comet: string; base: string; tokens: Record<string, { asset: string }> };
    expect(weth.base).toBe('WETH');
    await control('/eth-usd', { price: '2000' });
    await control('/comet/mint', { symbol: 'WETH', to: SIGNER, amount: '10' });
    // 1 WBTC at 30 ETH × 0.77 against 18 WETH: HF 1.283; at 27 ETH, 1.155, under the trigger 1.2 (HF 1.5 would need 4.14 WETH repaid).
    const { account } = await control('/comet/open', { market: 'weth', collateral: 'WBTC', collateralAmount: '1', borrow: '18' });
    const topUp = { mode: 'repay', asset: weth.tokens.WETH!.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '10', maxAmountPerDay: '10', cooldownSeconds: 600, dryRun: false };
    try {
      const { before } = await watchThenCrash(key, { protocol: 'compound-v3', market: weth.comet, account, channels: [channel.body.id], topUp }, () => control('/comet/price', { market: 'weth', symbol: 'WBTC', price: '27' }));
      const executed = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.executed');
      const done = (executed.body as any).topUp;
      expect(done).toMatchObject({ mode: 'repay', symbol: 'WETH', dryRun: false });
      expect(done.cappedBy).toContain('tenant_budget');
      expect(Number(done.amount)).toBeLessThanOrEqual(0.5);
      expect(Number(done.amount)).toBeGreaterThan(0.4999);
      expect((await control('/topup/nonce', { address: SIGNER })).pending - before).toBe(2); // the exact approval, then supplyTo
      const grant = await api('GET', '/v1/topup/grant', { token: key });
      expect(Number(grant.body.spentUsdLast24h)).toBeGreaterThan(999.9);
      expect(Number(grant.body.spentUsdLast24h)).toBeLessThanOrEqual(1000);
    } finally {
      await control('/comet/price', { market: 'weth', symbol: 'WBTC', price: '30' });
    }
  });

  it('a position on a Comet priced in ETH is shown in WETH, with its dollars from the owner\'s ETH / USD feed', async () => {
    const key = await newTenant('/comet-weth-usd');
    const weth = (await control('/comet/market', { market: 'weth' })) as { comet: string };
    await control('/eth-usd', { price: '2000' });
    // 1 WBTC at 30 ETH against 18 WETH (WETH at 1.0 ETH in this Comet's feeds).
    const { account } = await control('/comet/open', { market: 'weth', collateral: 'WBTC', collateralAmount: '1', borrow: '18' });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'compound-v3', market: weth.comet, account } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    await pollShards();
    const { position } = (await api('GET', `/v1/watches/${watch.body.id}`, { token: key })).body;
    expect(position.baseCurrency).toBe('WETH');
    expect(position.collateral).toEqual({ base: '30', usd: '60000' });
    expect(Number(position.debt.base)).toBeCloseTo(18, 4);
    expect(Number(position.debt.usd)).toBeCloseTo(Number(position.debt.base) * 2_000, 4);
  });

  it('a dry run on Comet reports the exact supplyTo it would send and sends nothing', async () => {
    const path = '/comet-dry-run';
    const key = await newTenant(path);
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    const tokens = ((await control('/comet/market')) as { tokens: Record<string, { asset: string }> }).tokens;
    const { account } = await control('/comet/open', { collateral: 'WETH', collateralAmount: '1', borrow: '1300' });
    const topUp = { mode: 'supply', asset: tokens.WETH!.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1' };
    const { before } = await watchThenCrash(key, { protocol: 'compound-v3', market: comet, account, channels: [channel.body.id], topUp }, () => control('/comet/price', { symbol: 'WETH', price: '1700' }));
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const dryRun = (await receivedAt(path)).find((event) => event.body.type === 'topup.skipped')!;
    expect((dryRun.body as any).topUp).toMatchObject({ reason: 'dry_run', dryRun: true, transaction: { to: comet, function: 'supply' } });
    expect((dryRun.body as any).topUp.transaction.summary.toLowerCase()).toContain(`supplyTo(${account}`.toLowerCase());
    expect(Number((dryRun.body as any).topUp.amount)).toBeGreaterThan(0.2);
    expect((await control('/topup/nonce', { address: SIGNER })).pending).toBe(before);
    await control('/comet/price', { symbol: 'WETH', price: '2000' });
  });
});
