import { tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';

import { api, control, grantTopUps, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { receivedAt } from './monitor-helpers';
import { expectSignedAlertLadder } from './alert-ladder';
import { SIGNER, receivedEventually, watchThenCrash } from './topup-helpers';

/*
 * A Liquity v2 trove watched through the API, on the real liquity/bold bytecode: the market is
 * the WETH branch's TroveManager, the account a trove id.
 */

let market: { troveManager: string; collateral: string; bold: string; borrowerOperations: string };

describe('Liquity v2 through the API', () => {
  beforeAll(async () => {
    market = (await control('/liquity/market')) as typeof market;
    await control('/liquity/price', { price: '2000' });
  }, 120_000);

  it('takes a trove id in decimal as its 0x form, refuses other account forms at account, and a top-up asset other than the branch collateral at topUp.asset', async () => {
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
    const topUp = { mode: 'supply', asset: market.bold, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1' };
    const withTopUp = await api('POST', '/v1/watches', { token: key, body: { ...base, account: trove.owner, topUp } });
    expect(withTopUp.status).toBe(400);
    expect(withTopUp.body.error).toMatchObject({ code: 'validation_failed', issues: [{ path: 'topUp.asset' }] });
    expect(withTopUp.body.error.message).toContain("this branch's only collateral is WETH");
  });

  it('a watch on an owner lists each trove with debt, and a second trove falling while the first already alerts gets alerts of its own, each resolving on its own', async () => {
    const path = '/liquity-owner-troves';
    const key = await newTenant(path);
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    // At $2,000: trove A HF ≈ 1.73 (2 WETH, 2,100 BOLD), trove B HF ≈ 2.18 (3 WETH, 2,500 BOLD).
    const first = (await control('/liquity/open', { collateral: '2', debt: '2100' })) as { troveId: string; owner: string };
    const second = (await control('/liquity/open', { collateral: '3', debt: '2500', owner: first.owner })) as { troveId: string; owner: string };
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'liquity-v2', market: market.troveManager, account: first.owner, channels: [channel.body.id] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    await pollShards();
    const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    expect(read.body.position.troveId).toBe(first.troveId);
    expect(read.body.position.subPositions.map((trove: any) => [trove.id, trove.account.toLowerCase(), Number(trove.healthFactor).toFixed(2)])).toEqual([
      [first.troveId, first.owner.toLowerCase(), '1.73'],
      [second.troveId, first.owner.toLowerCase(), '2.18'],
    ]);
    // $1,700: A ≈ 1.47, B ≈ 1.85. $1,300: A ≈ 1.13, B ≈ 1.42.
    for (const [price, polls] of [['1700', 2], ['1300', 2], ['2000', 1]] as const) {
      await control('/liquity/price', { price });
      for (let poll = 0; poll < polls; poll++) await pollShards();
    }
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const events = ((await control('/receiver/events', {}, 'GET')) as Array<{ path: string; id: string; verified: boolean; status: number; body: any }>).filter((event) => event.path === path && event.body.type.startsWith('alert.'));
    expect(events.map((event) => [event.body.type, event.body.level, event.body.subPosition.id])).toEqual([
      ['alert.triggered', 'warning', first.troveId],
      ['alert.escalated', 'margin_call', first.troveId],
      ['alert.triggered', 'warning', second.troveId],
      ['alert.resolved', 'ok', first.troveId],
      ['alert.resolved', 'ok', second.troveId],
    ]);
    expect(events.every((event) => event.verified && event.status === 200)).toBe(true);
    expect(Number(events[2]!.body.position.healthFactor)).toBeCloseTo(1.42, 1);
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

  it('a dry run on a trove reports the exact repayBold it would send (no approval: BorrowerOperations burns BOLD from the caller) and sends nothing', async () => {
    const path = '/liquity-dry-run';
    const key = await newTenant(path);
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    // 3 WETH against 4,000 BOLD (+ upfront fee): HF ≈ 1.36 at $2,000, ≈ 1.16 at $1,700, under the trigger 1.2.
    const trove = (await control('/liquity/open', { collateral: '3', debt: '4000' })) as { troveId: string };
    const topUp = { mode: 'repay', asset: market.bold, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '2000', maxAmountPerDay: '2000' };
    const { before } = await watchThenCrash(key, { protocol: 'liquity-v2', market: market.troveManager, account: trove.troveId, channels: [channel.body.id], topUp }, () => control('/liquity/price', { price: '1700' }));
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const dryRun = (await receivedAt(path)).find((event) => event.body.type === 'topup.skipped')!;
    expect(dryRun, 'a topup.skipped dry_run event').toBeDefined();
    expect((dryRun.body as any).topUp).toMatchObject({ reason: 'dry_run', dryRun: true, symbol: 'BOLD', transaction: { to: market.borrowerOperations, function: 'repay', approve: null } });
    expect((dryRun.body as any).topUp.transaction.summary).toContain(`repayBold(trove ${trove.troveId}, `);
    // HF 1.5 at $1,700 needs the debt at 3 × 1700 / 1.65 ≈ 3,091 BOLD: about 910 BOLD repaid.
    expect(Number((dryRun.body as any).topUp.amount)).toBeGreaterThan(900);
    expect(Number((dryRun.body as any).topUp.amount)).toBeLessThan(960);
    expect((await control('/topup/nonce', { address: SIGNER })).pending).toBe(before);
    await control('/liquity/price', { price: '2000' });
  });

  it.each([
    ['supply', 'WETH', 2],
    ['repay', 'BOLD', 1],
  ] as const)('live top-up (%s with %s) on a trove on behalf of its owner lands on the real BorrowerOperations and brings the health factor to the target', async (mode, symbol, transactions) => {
    const path = `/liquity-topup-${mode}`;
    const key = await newTenant(path);
    await grantTopUps(key, '100000');
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    await control('/liquity/fund', { symbol, to: SIGNER, amount: symbol === 'WETH' ? '10' : '5000' });
    const trove = (await control('/liquity/open', { collateral: '3', debt: '4000' })) as { troveId: string; owner: string };
    const asset = symbol === 'WETH' ? market.collateral : market.bold;
    const topUp = { mode, asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: symbol === 'WETH' ? '1' : '2000', maxAmountPerDay: symbol === 'WETH' ? '1' : '2000', cooldownSeconds: 600, dryRun: false };
    // Watched by its owner's address: the executor tops up the owner's weakest (here: only) trove.
    const { watchId, before } = await watchThenCrash(key, { protocol: 'liquity-v2', market: market.troveManager, account: trove.owner, channels: [channel.body.id], topUp }, () => control('/liquity/price', { price: '1700' }));
    const executed = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.executed');
    await pollShards();
    const read = await api('GET', `/v1/watches/${watchId}`, { token: key });
    expect(read.body.position.troveId).toBe(trove.troveId);
    expect(Number(read.body.position.healthFactor)).toBeGreaterThanOrEqual(1.5);
    expect((await control('/topup/nonce', { address: SIGNER })).pending - before).toBe(transactions);
    expect((executed.body as any).topUp).toMatchObject({ mode, symbol, dryRun: false, targetReached: true });
    expect(Number((executed.body as any).topUp.healthFactorBefore)).toBeLessThan(1.2);
    expect((executed.body as any).topUp.transaction.summary).toContain(`${mode === 'supply' ? 'addColl' : 'repayBold'}(trove ${trove.troveId}, `);
    await control('/liquity/price', { price: '2000' });
  });

  it('a live policy on a trove whose owner named another add-manager is 400 topup_not_allowed_by_position at account; a dry run is still taken', async () => {
    const key = await newTenant('liquity-add-manager');
    await grantTopUps(key, '100000');
    const trove = (await control('/liquity/open', { collateral: '3', debt: '4000' })) as { troveId: string; owner: string };
    const someoneElse = '0x00000000000000000000000000000000000000a1';
    await control('/liquity/add-manager', { owner: trove.owner, troveId: trove.troveId, manager: someoneElse });
    const base = { chainId: 31337, protocol: 'liquity-v2', market: market.troveManager, account: trove.troveId };
    const topUp = { mode: 'supply', asset: market.collateral, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1' };
    const live = await api('POST', '/v1/watches', { token: key, body: { ...base, topUp: { ...topUp, dryRun: false } } });
    expect(live.status).toBe(400);
    expect(live.body.error).toMatchObject({ code: 'topup_not_allowed_by_position', issues: [{ path: 'account' }] });
    expect(live.body.error.message.toLowerCase()).toContain(`names an add-manager (${someoneElse})`);
    expect(live.body.error.message).toContain('setAddManager');
    const dryRun = await api('POST', '/v1/watches', { token: key, body: { ...base, topUp: { ...topUp, dryRun: true } } });
    expect(dryRun.status, JSON.stringify(dryRun.body)).toBe(201);
    // Naming the executor wallet as add-manager lets the live policy through.
    await control('/liquity/add-manager', { owner: trove.owner, troveId: trove.troveId, manager: SIGNER });
    const allowed = await api('PATCH', `/v1/watches/${dryRun.body.id}`, { token: key, body: { topUp: { ...topUp, dryRun: false } } });
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
    // Its live policy would act on the next price drop of another test.
    expect((await api('DELETE', `/v1/watches/${dryRun.body.id}`, { token: key })).status).toBe(204);
  });

  it('an add-manager named after a live policy was accepted stops the action in simulation: topup.failed simulation_reverted names NotOwnerNorAddManager and nothing is sent', async () => {
    const path = '/liquity-add-manager-later';
    const key = await newTenant(path);
    await grantTopUps(key, '100000');
    const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
    await control('/receiver/secret', { path, secret: channel.body.secret });
    await control('/liquity/fund', { symbol: 'BOLD', to: SIGNER, amount: '3000' });
    const trove = (await control('/liquity/open', { collateral: '3', debt: '4000' })) as { troveId: string; owner: string };
    const topUp = { mode: 'repay', asset: market.bold, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '2000', maxAmountPerDay: '2000', cooldownSeconds: 600, dryRun: false };
    const { before } = await watchThenCrash(key, { protocol: 'liquity-v2', market: market.troveManager, account: trove.troveId, channels: [channel.body.id], topUp }, async () => {
      await control('/liquity/add-manager', { owner: trove.owner, troveId: trove.troveId, manager: '0x00000000000000000000000000000000000000a2' });
      await control('/liquity/price', { price: '1700' });
    });
    const failed = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.failed');
    expect((failed.body as any).topUp.reason).toBe('simulation_reverted');
    expect((failed.body as any).topUp.message).toContain('NotOwnerNorAddManager');
    expect((failed.body as any).topUp.message).toContain('setAddManager');
    expect((await control('/topup/nonce', { address: SIGNER })).pending).toBe(before);
    await control('/liquity/price', { price: '2000' });
  });
});
