import { tenantStub } from '../../src/durable/stubs';
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';

import { api, control, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { receivedAt, type Received } from './monitor-helpers';

/*
 * Liquity v2 branch dangers through the API, on the real liquity/bold bytecode: a deployment of
 * this file's own (test/helpers/liquity-branch-control.ts), whose WETH branch is driven under its
 * CCR and back, and whose wstETH branch is driven under its SCR and shut down for good. Each
 * branch holds the deployer's trove (1,000 collateral against 200,000 BOLD at 5 %) and the
 * watched one (40 against 2,000 at 10 %): TCR ≈ price × 1,040 / 202,200.
 */

let branches: { WETH: string; wstETH: string };
let key: string;

async function channelAt(path: string): Promise<string> {
  const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
  await control('/receiver/secret', { path, secret: channel.body.secret });
  return channel.body.id as string;
}

async function watchTrove(branch: 'WETH' | 'wstETH', path: string, options: { interestRate?: string } = {}) {
  const trove = (await control('/liquity-branches/open', { branch, collateral: '40', debt: '2000', interestRate: options.interestRate ?? '0.1' })) as { owner: string; troveId: string };
  const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'liquity-v2', market: branches[branch], account: trove.troveId, label: `${branch} trove`, channels: [await channelAt(path)] } });
  expect(watch.status, JSON.stringify(watch.body)).toBe(201);
  return { ...trove, watchId: watch.body.id as string };
}

async function activeCodes(watchId: string): Promise<string[]> {
  const read = await api('GET', `/v1/watches/${watchId}`, { token: key });
  expect(read.status).toBe(200);
  return read.body.conditions.map((condition: { code: string }) => condition.code);
}

async function delivered(path: string): Promise<Received[]> {
  await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
  return (await receivedAt(path)).filter((event) => event.body.type.startsWith('condition.'));
}

/** The dashboard's page of a watch, signed in with the tenant's key as a browser would. */
async function dashboardPage(watchId: string): Promise<string> {
  const fetcher = (exports as unknown as { default: Fetcher }).default;
  const origin = 'http://marginwatch.test';
  const signIn = await fetcher.fetch(`${origin}/dashboard/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: new URLSearchParams({ apiKey: key }).toString(), redirect: 'manual' });
  expect(signIn.status).toBe(303);
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
  const page = await fetcher.fetch(`${origin}/dashboard/watches/${watchId}`, { headers: { cookie } });
  expect(page.status).toBe(200);
  return page.text();
}

function expectSignedOnce(events: readonly Received[], expected: Array<[string, string]>): void {
  expect(events.map((event) => [event.body.type, event.body.condition.code])).toEqual(expected);
  expect(events.every((event) => event.verified && event.status === 200)).toBe(true);
  expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
}

describe('Liquity v2 branch dangers as condition events', () => {
  let aave: { watchId: string; path: string };

  beforeAll(async () => {
    branches = (await control('/liquity-branches/deploy')) as typeof branches;
    key = await newTenant('liquity-conditions');
    // A watch of another protocol, polled through every step below: it must never get a condition event.
    const path = '/conditions-aave';
    const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '5000' });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: 'aave', channels: [await channelAt(path)] } });
    expect(watch.status).toBe(201);
    aave = { watchId: watch.body.id, path };
  }, 180_000);

  it('a branch under its CCR sends one signed condition.raised, and after recovery one condition.cleared of the same episode; GET shows it while active', async () => {
    const path = '/conditions-ccr';
    const trove = await watchTrove('WETH', path);
    await pollShards();
    expect(await activeCodes(trove.watchId)).toEqual([]);

    await control('/liquity-branches/price', { branch: 'WETH', price: '280' }); // TCR ≈ 1.44 < CCR 1.5, above SCR 1.1
    await pollShards();
    await pollShards();
    const read = await api('GET', `/v1/watches/${trove.watchId}`, { token: key });
    expect(read.body.conditions).toEqual([
      expect.objectContaining({ code: 'branch_below_ccr', severity: 'warning', title: 'Branch below its critical collateral ratio', facts: expect.objectContaining({ criticalCollateralRatio: '1.5' }), sinceBlock: expect.stringMatching(/^\d+$/) }),
    ]);
    expect(Number(read.body.conditions[0].facts.branchCollateralRatio)).toBeCloseTo(1.44, 2);
    expect(read.body.level).toBe('ok');

    await control('/liquity-branches/price', { branch: 'WETH', price: '2000' });
    await pollShards();
    await pollShards();
    expect(await activeCodes(trove.watchId)).toEqual([]);

    const events = await delivered(path);
    expectSignedOnce(events, [
      ['condition.raised', 'branch_below_ccr'],
      ['condition.cleared', 'branch_below_ccr'],
    ]);
    const [raised, cleared] = events.map((event) => event.body);
    expect(raised.id).toBe(`evt_${trove.watchId}_cnd_branch_below_ccr_${BigInt(raised.condition.sinceBlock).toString(36)}_raised`);
    expect(cleared.condition.sinceBlock).toBe(raised.condition.sinceBlock);
    expect(BigInt(cleared.condition.blockNumber)).toBeGreaterThan(BigInt(raised.condition.blockNumber));
    expect(raised).toMatchObject({ watch: { id: trove.watchId, protocol: 'liquity-v2', account: trove.troveId }, position: { troveId: trove.troveId, branchBelowCcr: true } });
  });

  it('a trove whose rate becomes the lowest of its branch sends one condition.raised redemption_risk (rank 1), cleared once it pays more again; a silenced watch records them unsent', async () => {
    const path = '/conditions-redemption';
    const trove = await watchTrove('WETH', path);
    // A second tenant watches the same trove, silenced for an hour: recorded, never sent.
    const silentKey = await newTenant('liquity-conditions-silenced');
    const silentPath = '/conditions-redemption-silenced';
    const silentChannel = await api('POST', '/v1/channels', { token: silentKey, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${silentPath.slice(1)}`, label: silentPath } });
    const silent = await api('POST', '/v1/watches', { token: silentKey, body: { chainId: 31337, protocol: 'liquity-v2', market: branches.WETH, account: trove.troveId, channels: [silentChannel.body.id] } });
    expect((await api('POST', `/v1/watches/${silent.body.id}/silence`, { token: silentKey, body: { until: new Date(Date.now() + 3_600_000).toISOString() } })).status).toBe(200);
    await pollShards();
    expect(await activeCodes(trove.watchId)).toEqual([]);

    await control('/liquity-branches/rate', { branch: 'WETH', troveId: trove.troveId, owner: trove.owner, interestRate: '0.01' });
    await pollShards();
    await pollShards();
    expect(await activeCodes(trove.watchId)).toEqual(['redemption_risk']);
    await control('/liquity-branches/rate', { branch: 'WETH', troveId: trove.troveId, owner: trove.owner, interestRate: '0.2' });
    await pollShards();
    await pollShards();
    expect(await activeCodes(trove.watchId)).toEqual([]);

    const events = await delivered(path);
    expectSignedOnce(events, [
      ['condition.raised', 'redemption_risk'],
      ['condition.cleared', 'redemption_risk'],
    ]);
    expect(events[0]!.body.condition).toMatchObject({ severity: 'warning', facts: { troveId: trove.troveId, interestRate: '0.01', redemptionRank: 1, redemptionFront: 1 } });
    expect(events[0]!.body.condition.facts.branchTroves).toBeGreaterThanOrEqual(3);

    await tenantStub(testEnv, tenantIdOf(silentKey)).deliverDue();
    expect(await receivedAt(silentPath)).toEqual([]);
    const history = await api('GET', `/v1/watches/${silent.body.id}/alerts`, { token: silentKey });
    const recorded = history.body.data.filter((event: { type: string }) => event.type.startsWith('condition.'));
    expect(recorded.map((event: { type: string; silenced: boolean }) => [event.type, event.silenced])).toEqual([
      ['condition.cleared', true],
      ['condition.raised', true],
    ]);
  });

  it('a branch under its SCR and then shut down sends branch_below_ccr and branch_below_scr, then branch_shutdown: each once, signed, in order; GET and the dashboard page list them', async () => {
    const path = '/conditions-shutdown';
    const trove = await watchTrove('wstETH', path);
    await pollShards();
    await control('/liquity-branches/price', { branch: 'wstETH', price: '200' }); // TCR ≈ 1.03 < SCR 1.1
    await pollShards();
    expect(await activeCodes(trove.watchId)).toEqual(['branch_below_ccr', 'branch_below_scr']);
    await control('/liquity-branches/shutdown', { branch: 'wstETH' });
    await pollShards();
    await pollShards();
    await pollShards();
    expect(await activeCodes(trove.watchId)).toEqual(['branch_below_ccr', 'branch_below_scr', 'branch_shutdown']);
    const read = await api('GET', `/v1/watches/${trove.watchId}`, { token: key });
    expect(read.body.position).toMatchObject({ branchShutdown: true });

    const events = await delivered(path);
    expectSignedOnce(events, [
      ['condition.raised', 'branch_below_ccr'],
      ['condition.raised', 'branch_below_scr'],
      ['condition.raised', 'branch_shutdown'],
    ]);
    expect(events[2]!.body.condition).toMatchObject({ severity: 'critical', title: 'Branch shut down', facts: { branchShutdown: true } });
    expect(BigInt(events[2]!.body.condition.sinceBlock)).toBeGreaterThan(BigInt(events[1]!.body.condition.sinceBlock));
    const html = await dashboardPage(trove.watchId);
    expect(html).toContain(`critical: Branch shut down since block ${events[2]!.body.condition.sinceBlock}`);
    expect(html).toContain('raised: Branch shut down');
  });

  it('a trove a real redemption leaves under the minimum debt, the branch\'s last zombie trove, sends one signed condition.raised redemption_risk with the zombie facts', async () => {
    const path = '/conditions-zombie';
    // The lowest rate of the WETH branch: the redemption takes it first, and leaves it 1,000 BOLD.
    const trove = (await control('/liquity-branches/open', { branch: 'WETH', collateral: '40', debt: '2500', interestRate: '0.005' })) as { owner: string; troveId: string };
    await control('/liquity-branches/redeem', { branch: 'WETH', troveId: trove.troveId, leave: '1000' });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'liquity-v2', market: branches.WETH, account: trove.troveId, label: 'zombie', channels: [await channelAt(path)] } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    await pollShards();
    await pollShards();
    const read = await api('GET', `/v1/watches/${watch.body.id}`, { token: key });
    expect(read.body.position).toMatchObject({ troveId: trove.troveId, troveStatus: 'zombie', nextRedeemedZombie: true, redemptionRank: null });
    expect(read.body.conditions.map((condition: { code: string }) => condition.code)).toEqual(['redemption_risk']);

    const events = await delivered(path);
    expectSignedOnce(events, [['condition.raised', 'redemption_risk']]);
    expect(events[0]!.body.condition).toMatchObject({ severity: 'warning', title: 'Next in line for redemptions', facts: { troveId: trove.troveId, troveStatus: 'zombie', nextRedeemedZombie: true, interestRate: '0.005' } });
    expect(Number(events[0]!.body.condition.facts.debt)).toBeCloseTo(1000, 0);
    expect(events[0]!.body.condition.message).toContain('last zombie trove');
  });

  it('a watch of another protocol, polled through all of it, never gets a condition event and shows none', async () => {
    await pollShards();
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    expect((await receivedAt(aave.path)).map((event) => event.body.type)).toEqual([]);
    expect(await activeCodes(aave.watchId)).toEqual([]);
  });
});
