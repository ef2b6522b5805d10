import { tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, api, control, grantTopUps, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { SIGNER, receivedEventually, watchThenCrash } from './topup-helpers';
import { expectSignedAlertLadder } from './alert-ladder';

/*
 * A Morpho Blue position watched through the API, on Morpho Blue compiled from its npm
 * sources: the market is an id inside the Morpho contract, which a local chain must name.
 */

type Received = { id: string; verified: boolean; path: string; status: number | null; body: { type: string; level: string; position: any; watch: any; recommendation: any } };

async function receivedAt(path: string): Promise<Received[]> {
  const events = (await control('/receiver/events', {}, 'GET')) as Received[];
  return events.filter((event) => event.path === path);
}

let market: { morpho: string; id: string };

describe('Morpho Blue through the API', () => {
  beforeAll(async () => {
    market = (await control('/morpho/market')) as typeof market;
    await control('/morpho/price', { price: '2000' });
  }, 120_000);

  it('needs protocolAddress where Morpho has no canonical deployment, and the market id form', async () => {
    const key = await newTenant('morpho-refusals');
    const { account } = await control('/morpho/open', { collateral: '1', borrow: '500' });
    const base = { chainId: 31337, protocol: 'morpho-blue', account };
    const missing = await api('POST', '/v1/watches', { token: key, body: { ...base, market: market.id } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.issues[0].path).toBe('protocolAddress');
    const address = await api('POST', '/v1/watches', { token: key, body: { ...base, market: market.morpho, protocolAddress: market.morpho } });
    expect(address.status).toBe(400);
    expect(address.body.error.issues[0]).toMatchObject({ path: 'market' });
    const unknown = await api('POST', '/v1/watches', { token: key, body: { ...base, market: `0x${'ab'.repeat(32)}`, protocolAddress: market.morpho } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    const onAave = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, protocolAddress: market.morpho, account } });
    expect(onAave.body.error.issues[0].path).toBe('protocolAddress');
  });

  it('a price walk on a Morpho position delivers warning → margin_call → critical → resolved, signed, once each', async () => {
    const path = '/morpho-flow';
    const key = await newTenant(path);
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    // 1 WETH at 2,000 USDC × LLTV 0.86 against 1,000 USDC: HF 1.72.
    const { account } = await control('/morpho/open', { collateral: '1', borrow: '1000' });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'morpho-blue', market: market.id, protocolAddress: market.morpho, account, label: 'morpho', channels: [channel.body.id] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    expect(watch.body).toMatchObject({ protocol: 'morpho-blue', market: market.id, protocolAddress: market.morpho });
    const tenant = tenantStub(testEnv, tenantIdOf(key));

    await pollShards();
    const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    expect(read.body.level).toBe('ok');
    expect(Number(read.body.position.healthFactor)).toBeCloseTo(1.72, 3);
    // Values in the loan token, USDC: counted at $1, as the top-up budget counts it.
    expect(read.body.position).toMatchObject({ baseCurrency: 'USD', collateral: { base: '2000', usd: '2000' } });

    for (const [price, polls] of [['1650', 2], ['1380', 2], ['1250', 1], ['2000', 1]] as const) {
      await control('/morpho/price', { price }); // HF 1.419, 1.1868, 1.075, 1.72
      for (let poll = 0; poll < polls; poll++) await pollShards();
    }
    await tenant.deliverDue();
    const events = await receivedAt(path);
    expectSignedAlertLadder(events);
    expect(events[2]!.body.watch).toMatchObject({ protocol: 'morpho-blue', market: market.id, protocolAddress: market.morpho });
    expect(Number(events[2]!.body.position.healthFactor)).toBeCloseTo(1.075, 3);
  });

  it.each([
    ['supply', 'WETH'],
    ['repay', 'USDC'],
  ] as const)('live top-up (%s with %s) through Morpho on behalf of the account: the health factor reaches the target', async (mode, symbol) => {
    const path = `/morpho-topup-${mode}`;
    const key = await newTenant(path);
    await grantTopUps(key, '100000');
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    const tokens = (await control('/morpho/market')) as { collateral: { asset: string }; loan: { asset: string } };
    await control('/morpho/mint', { symbol, to: SIGNER, amount: symbol === 'WETH' ? '10' : '100000' });
    // 1 WETH against 1,200 USDC at LLTV 0.86: HF 1.433 at 2,000; 1.147 at 1,600, under the trigger 1.2.
    const { account } = await control('/morpho/open', { collateral: '1', borrow: '1200' });
    const asset = symbol === 'WETH' ? tokens.collateral.asset : tokens.loan.asset;
    const topUp = { mode, asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: symbol === 'WETH' ? '1' : '1000', maxAmountPerDay: symbol === 'WETH' ? '1' : '1000', cooldownSeconds: 600, dryRun: false };
    const { watchId, before } = await watchThenCrash(key, { protocol: 'morpho-blue', market: market.id, protocolAddress: market.morpho, account, channels: [channel.body.id], topUp }, () => control('/morpho/price', { price: '1600' }));
    const executed = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.executed');
    await pollShards();
    const read = await api('GET', `/v1/watches/${watchId}`, { token: key });
    expect(Number(read.body.position.healthFactor)).toBeGreaterThanOrEqual(1.5);
    expect((await control('/topup/nonce', { address: SIGNER })).pending - before).toBe(2); // the exact approval, then the Morpho call
    expect((executed.body as any).topUp).toMatchObject({ mode, symbol, dryRun: false, targetReached: true });
    expect((executed.body as any).topUp.transaction.summary).toContain(mode === 'supply' ? 'supplyCollateral(' : 'repay(');
    await control('/morpho/price', { price: '2000' });
  });

  it('a wrong asset for the mode is 400 at topUp.asset', async () => {
    const key = await newTenant('morpho-topup-asset');
    const tokens = (await control('/morpho/market')) as { collateral: { asset: string }; loan: { asset: string } };
    const { account } = await control('/morpho/open', { collateral: '1', borrow: '500' });
    const response = await api('POST', '/v1/watches', {
      token: key,
      body: { chainId: 31337, protocol: 'morpho-blue', market: market.id, protocolAddress: market.morpho, account, topUp: { mode: 'supply', asset: tokens.loan.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1' } },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ issues: [{ path: 'topUp.asset' }] });
    expect(response.body.error.message).toContain('only collateral is WETH');
  });

  it('a market a tenant creates in the Morpho contract (its own oracle, its own token named USDC, the real WETH as collateral) is not trusted: a live policy is 400 market_not_trusted, a dry run is accepted', async () => {
    const key = await newTenant('morpho-own-market');
    await grantTopUps(key, '100000');
    const own = (await control('/morpho/own-market')) as { id: string; collateral: { asset: string } };
    const watch = { chainId: 31337, protocol: 'morpho-blue', market: own.id, protocolAddress: market.morpho, account: SIGNER };
    // Supplying WETH "worth" nothing at its own oracle would have cost no budget: the market itself must be trusted.
    const topUp = { mode: 'supply', asset: own.collateral.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '100', maxAmountPerDay: '100' };
    const live = await api('POST', '/v1/watches', { token: key, body: { ...watch, topUp: { ...topUp, dryRun: false } } });
    expect(live.status).toBe(400);
    expect(live.body.error.code).toBe('market_not_trusted');
    expect(live.body.error.message).toContain(own.id);
    const dryRun = await api('POST', '/v1/watches', { token: key, body: { ...watch, topUp: { ...topUp, dryRun: true } } });
    expect(dryRun.status, JSON.stringify(dryRun.body)).toBe(201);
    const goLive = await api('PATCH', `/v1/watches/${dryRun.body.id}`, { token: key, body: { topUp: { ...topUp, dryRun: false } } });
    expect(goLive.status).toBe(400);
    expect(goLive.body.error.code).toBe('market_not_trusted');
  });

  it('a trusted market id in a copy of Morpho of anyone\'s (same params, same id, another contract) is not trusted: a live policy naming that contract is 400 market_not_trusted', async () => {
    const key = await newTenant('morpho-copy');
    await grantTopUps(key, '100000');
    const copy = (await control('/morpho/copy')) as { morpho: string; id: string; collateral: { asset: string } };
    expect(copy.id).toBe(market.id); // the owner lists this id for the real Morpho
    const topUp = { mode: 'supply', asset: copy.collateral.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1', dryRun: false };
    const live = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'morpho-blue', market: copy.id, protocolAddress: copy.morpho, account: SIGNER, topUp } });
    expect(live.status).toBe(400);
    expect(live.body.error.code).toBe('market_not_trusted');
    expect(live.body.error.message).toContain(copy.morpho);
  });

  it('a dry run on Morpho reports the exact repay it would send and sends nothing', async () => {
    const path = '/morpho-dry-run';
    const key = await newTenant(path);
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    const tokens = (await control('/morpho/market')) as { loan: { asset: string } };
    const { account } = await control('/morpho/open', { collateral: '1', borrow: '1200' });
    const topUp = { mode: 'repay', asset: tokens.loan.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1000', maxAmountPerDay: '1000' };
    const { before } = await watchThenCrash(key, { protocol: 'morpho-blue', market: market.id, protocolAddress: market.morpho, account, channels: [channel.body.id], topUp }, () => control('/morpho/price', { price: '1600' }));
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const dryRun = (await receivedAt(path)).find((event) => event.body.type === 'topup.skipped')!;
    expect((dryRun.body as any).topUp).toMatchObject({ reason: 'dry_run', dryRun: true, transaction: { to: market.morpho, function: 'repay' } });
    expect((dryRun.body as any).topUp.transaction.summary.toLowerCase()).toContain(`onbehalf ${account}`.toLowerCase());
    expect((await control('/topup/nonce', { address: SIGNER })).pending).toBe(before);
    await control('/morpho/price', { price: '2000' });
  });

  describe('a market whose values are in WETH, valued through the owner\'s ETH / USD feed (USD_PRICE_FEEDS)', () => {
    type WethLoan = { id: string; loan: { asset: string }; collateral: { asset: string } };
    let wethLoan: WethLoan;

    beforeAll(async () => {
      wethLoan = (await control('/morpho/market', { market: 'wethLoan' })) as WethLoan;
      await control('/morpho/price', { market: 'wethLoan', price: '1.2' });
      await control('/eth-usd', { price: '2000' });
      await control('/morpho/mint', { market: 'wethLoan', symbol: 'WETH', to: SIGNER, amount: '10' });
    });

    /** A tenant granted `grantUsd` a day, its webhook, and a wstETH/WETH position at HF 1.29 whose watch repays WETH below HF 1.2; the price then falls to 1.0 WETH (HF 1.075). */
    async function crashWithRepay(path: string, grantUsd: string) {
      const key = await newTenant(path);
      await grantTopUps(key, grantUsd);
      const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
      await control('/receiver/secret', { path, secret: channel.body.secret });
      // 1 wstETH at 1.2 WETH × LLTV 0.86 against 0.8 WETH: HF 1.29; at 1.0 WETH, 1.075.
      const { account } = await control('/morpho/open', { market: 'wethLoan', collateral: '1', borrow: '0.8' });
      const topUp = { mode: 'repay', asset: wethLoan.loan.asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1', cooldownSeconds: 600, dryRun: false };
      const crash = await watchThenCrash(key, { protocol: 'morpho-blue', market: wethLoan.id, protocolAddress: market.morpho, account, channels: [channel.body.id], topUp }, () =>
        control('/morpho/price', { market: 'wethLoan', price: '1.0' }),
      );
      return { key, tenant: tenantStub(testEnv, tenantIdOf(key)), ...crash };
    }

    it('a live WETH repayment is valued at the feed\'s ETH price: a $300 grant at $2,000 repays at most 0.15 WETH and books $300', async () => {
      const path = '/morpho-weth-loan-budget';
      const { key, tenant, watchId, before } = await crashWithRepay(path, '300');
      const executed = await receivedEventually(tenant, path, 'topup.executed');
      const topUp = (executed.body as any).topUp;
      // Unvalued, the repayment would be about 0.227 WETH (to HF 1.5); the grant cuts it to $300 of WETH.
      expect(topUp.cappedBy).toContain('tenant_budget');
      expect(Number(topUp.amount)).toBeLessThanOrEqual(0.15);
      expect(Number(topUp.amount)).toBeGreaterThan(0.1499);
      expect((await control('/topup/nonce', { address: SIGNER })).pending - before).toBe(2); // the exact approval, then repay
      const grant = await api('GET', '/v1/topup/grant', { token: key });
      expect(Number(grant.body.spentUsdLast24h)).toBeGreaterThan(299.9);
      expect(Number(grant.body.spentUsdLast24h)).toBeLessThanOrEqual(300);
      await pollShards();
      const read = await api('GET', `/v1/watches/${watchId}`, { token: key });
      // 0.86 ÷ (0.8 − 0.15) = 1.323: the repayment landed on the position.
      expect(Number(read.body.position.healthFactor)).toBeCloseTo(1.323, 2);
      await control('/morpho/price', { market: 'wethLoan', price: '1.2' });
    });

    it('a watch on it shows its collateral, debt and liquidation cost in dollars at the feed\'s ETH price, its values staying in WETH; no volatility is made up for wstETH in WETH', async () => {
      const key = await newTenant('/morpho-weth-loan-usd');
      // 1 wstETH at 1.2 WETH × LLTV 0.86 against 0.8 WETH: HF 1.29.
      const { account } = await control('/morpho/open', { market: 'wethLoan', collateral: '1', borrow: '0.8' });
      const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'morpho-blue', market: wethLoan.id, protocolAddress: market.morpho, account, risk: { enabled: true } } });
      expect(watch.status, JSON.stringify(watch.body)).toBe(201);
      await pollShards();
      const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
      const { position, risk } = read.body;
      expect(position.baseCurrency).toBe('WETH');
      expect(position.collateral).toEqual({ base: '1.2', usd: '2400' });
      expect(Number(position.debt.usd)).toBeCloseTo(Number(position.debt.base) * 2_000, 6);
      expect(Number(position.debt.usd)).toBeCloseTo(1_600, 0);
      // Morpho at LLTV 0.86: the liquidator gains 1 / (1 − 0.3 × 0.14) − 1 = 4.384 % of the 0.8 WETH repaid, $70.14 at $2,000.
      expect(risk.liquidationCost).toBeCloseTo(0.8 * 2_000 * (1 / (1 - 0.3 * 0.14) - 1), 0);
      // wstETH priced in WETH by a composite oracle: no round history, and the dollar class default (ETH's 88 %/yr) does not apply
      // to a price in WETH, so the volatility and what needs it stay unknown until the shard's own bars span a day.
      expect(risk.volatility).toEqual([expect.objectContaining({ symbol: 'wstETH', annualised: null, seed: null })]);
      expect(risk).toMatchObject({ liquidationProbability: { '1h': null, '24h': null }, valueAtRisk: null, expectedShortfall: null });
      // Without the feed's price the same figures are unknown, never guessed.
      await control('/eth-usd', { price: '2000', ageSeconds: 7_200 });
      try {
        await pollShards();
        const stale = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
        expect(stale.body.position.collateral).toEqual({ base: '1.2', usd: null });
        expect(stale.body.risk.liquidationCost).toBeNull();
      } finally {
        await control('/eth-usd', { price: '2000' });
      }
    });

    it('GET /v1/topup/signer shows the owner each USD feed with its price and update time, and says when its round is too old to value anything', async () => {
      const feedsNow = async () => {
        const signer = await api('GET', '/v1/topup/signer', { token: ADMIN });
        expect(signer.status).toBe(200);
        const feeds = signer.body.chains.find((chain: { chainId: number }) => chain.chainId === 31337).usdFeeds as Array<Record<string, unknown>>;
        return feeds.find((feed) => String(feed.token).toLowerCase() === wethLoan.loan.asset.toLowerCase())!;
      };
      expect(await feedsNow()).toMatchObject({ maxAgeSeconds: 3600, usdPrice: '2000', usable: true, error: null });
      await control('/eth-usd', { price: '2100', ageSeconds: 7_200 });
      try {
        const stale = await feedsNow();
        expect(stale).toMatchObject({ usdPrice: '2100', usable: false });
        expect(stale.error).toMatch(/more than its 3600 s limit/);
      } finally {
        await control('/eth-usd', { price: '2000' });
      }
    });

    it('with the feed\'s last round older than its max age, the live repayment is skipped (usd_price_unknown, saying how old) and nothing is sent', async () => {
      await control('/eth-usd', { price: '2000', ageSeconds: 7_200 });
      try {
        const path = '/morpho-weth-loan-stale';
        const { tenant, before } = await crashWithRepay(path, '100000');
        const skipped = await receivedEventually(tenant, path, 'topup.skipped');
        const topUp = (skipped.body as any).topUp;
        expect(topUp.reason).toBe('usd_price_unknown');
        expect(topUp.message).toMatch(/last updated \d+ s before the block, more than its 3600 s limit/);
        expect((await control('/topup/nonce', { address: SIGNER })).pending).toBe(before);
      } finally {
        await control('/eth-usd', { price: '2000' });
        await control('/morpho/price', { market: 'wethLoan', price: '1.2' });
      }
    });
  });
});
