import { tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatUnits, getAddress, parseUnits } from 'viem';

import { ADMIN, api, control, grantTopUps, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { deliveriesAt, verifiedWebhook } from './price-walk';
import { SIGNER, executor, receivedAt, receivedEventually, watchThenCrash, type Received } from './topup-helpers';

/*
 * Maker top-ups through the API on real dss bytecode (the global setup's Vat, ETH-A GemJoin and
 * DaiJoin, named in PROTOCOL_CONTRACTS; the Vat listed in TOPUP_TRUSTED_MARKETS). Each action is
 * three transactions: the exact approval of the join, the join into the executor's own Vat
 * balance, and Vat.frob into the urn. A vault of 1 ETH against 1,000 DAI at $2,000 (mat 145%)
 * has HF 1.379; at $1,700 it is 1.172, under the 1.2 trigger; the target is 1.5.
 */

type TopUpMarket = { vat: string; gem: string; gemJoin: string; dai: string; daiJoin: string };
let market: TopUpMarket;
const WAD = 10n ** 18n;

async function vatState(address: string, urn?: string) {
  const state = await control('/maker/vat-state', { address, urn });
  return { gem: BigInt(state.gem), dai: BigInt(state.dai), ink: BigInt(state.ink), art: BigInt(state.art) };
}

function policy(mode: 'supply' | 'repay', dryRun: boolean) {
  return mode === 'supply'
    ? { mode, asset: market.gem, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '3', cooldownSeconds: 600, dryRun }
    : { mode, asset: market.dai, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1000', maxAmountPerDay: '1000', cooldownSeconds: 600, dryRun };
}

/** The vault's health factor on the Vat's own numbers at $1,700: ink × spot ÷ (art × rate) ≈ ink × 1700 / 1.45 ÷ debt. */
async function healthFactorOnChain(urn: string): Promise<number> {
  const { ink, art } = await vatState(urn, urn);
  return (Number(formatUnits(ink, 18)) * 1700) / 1.45 / Number(formatUnits(art, 18));
}

/** The executor's held balances per tenant, as the owner reads them (admin token). */
async function heldShares() {
  const signer = await api('GET', '/v1/topup/signer', { token: ADMIN });
  expect(signer.status).toBe(200);
  return signer.body.chains.find((chain: { chainId: number }) => chain.chainId === 31337).held;
}

/** The topup.failed event with this reason, once the executor and the tenant have handed it over. */
async function failureEventually(key: string, path: string, reason: string): Promise<Received> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await executor().processNow();
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const found = (await receivedAt(path)).find((event) => event.body.type === 'topup.failed' && event.body.topUp.reason === reason);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no topup.failed ${reason} event reached ${path} within 30 s: ${JSON.stringify((await receivedAt(path)).map((event) => [event.body.type, event.body.topUp?.reason, event.body.topUp?.message, event.body.topUp?.transaction]))}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('Maker top-ups through the API', () => {
  beforeAll(async () => {
    market = (await control('/maker/topup-market')) as TopUpMarket;
    await control('/maker/price', { price: '2000' });
  }, 120_000);

  it('a dry run reports the supply it would make: the GemJoin approval, the join into the executor\'s Vat balance and the frob into the urn, and sends nothing', async () => {
    const path = '/maker-topup-dry';
    const key = await newTenant(path);
    const channel = await verifiedWebhook(key, path);
    const { account } = await control('/maker/open', { collateral: '1', debt: '1000' });
    const { before } = await watchThenCrash(key, { protocol: 'maker', market: 'ETH-A', protocolAddress: market.vat, account, channels: [channel], topUp: policy('supply', true) }, () => control('/maker/price', { price: '1700' }));
    await executor().processNow();
    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const dryRun = (await deliveriesAt(path)).find((event) => event.body.type === 'topup.skipped');
    expect(dryRun, 'a topup.skipped dry_run event').toBeDefined();
    expect(dryRun!.verified).toBe(true);
    const topUp = (dryRun!.body as any).topUp;
    expect(topUp).toMatchObject({ reason: 'dry_run', dryRun: true, transaction: { to: market.vat, function: 'supply', approve: { to: market.gem, spender: market.gemJoin } } });
    // ink for HF 1.5 at $1,700: 1.5 × 1.45 × 1,000 ÷ 1,700 = 1.2794 ETH, so about 0.28 WETH more.
    expect(Number(topUp.amount)).toBeGreaterThan(0.279);
    expect(Number(topUp.amount)).toBeLessThan(0.29);
    expect(topUp.transaction.before).toHaveLength(1);
    expect(topUp.transaction.before[0]).toMatchObject({ to: market.gemJoin });
    expect(topUp.transaction.before[0].summary).toContain(`join(`);
    expect(topUp.transaction.summary).toContain(`urn ${getAddress(account)}`);
    expect((await control('/topup/nonce', { address: SIGNER })).pending).toBe(before);
    expect((await vatState(account, account)).ink).toBe(WAD);
    await control('/maker/price', { price: '2000' });
  });

  it.each([
    ['supply', 'urn'],
    ['repay', 'cdp'],
  ] as const)('a live %s for a vault watched by its %s lands on the real Vat in three transactions (approve, join, frob) and brings the health factor to the target', async (mode, by) => {
    const path = `/maker-topup-${mode}`;
    const key = await newTenant(path);
    await grantTopUps(key, '100000');
    const channel = await verifiedWebhook(key, path);
    await control('/maker/mint', { symbol: mode === 'supply' ? 'WETH' : 'DAI', to: SIGNER, amount: mode === 'supply' ? '5' : '2000' });
    const opened = by === 'urn' ? await control('/maker/open', { collateral: '1', debt: '1000' }) : await control('/maker/open-cdp', { collateral: '1', debt: '1000' });
    const urn: string = by === 'urn' ? opened.account : opened.urn;
    const account = by === 'urn' ? urn : `cdp:${opened.cdp}`;
    const startState = await vatState(urn, urn);
    const { watchId, before } = await watchThenCrash(key, { protocol: 'maker', market: 'ETH-A', protocolAddress: market.vat, account, channels: [channel], topUp: policy(mode, false) }, () => control('/maker/price', { price: '1700' }));
    const executed = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.executed');
    expect(executed.verified).toBe(true);
    const topUp = (executed.body as any).topUp;
    expect(topUp).toMatchObject({ mode, dryRun: false, targetReached: true, transaction: { to: market.vat, function: mode, approve: { spender: mode === 'supply' ? market.gemJoin : market.daiJoin } } });
    expect(topUp.transaction.before[0].to).toBe(mode === 'supply' ? market.gemJoin : market.daiJoin);
    expect((await control('/topup/nonce', { address: SIGNER })).pending - before).toBe(3);
    expect(Number(topUp.healthFactorBefore)).toBeLessThan(1.2);
    // The Vat's own numbers moved: ink up by the amount (supply), or art down (repay).
    const after = await vatState(urn, urn);
    const amount = parseUnits(topUp.amount, 18);
    if (mode === 'supply') {
      expect(after.ink - startState.ink).toBe(amount);
      expect(after.art).toBe(startState.art);
    } else {
      expect(after.ink).toBe(startState.ink);
      expect(after.art).toBeLessThan(startState.art);
    }
    expect(await healthFactorOnChain(urn)).toBeGreaterThanOrEqual(1.49);
    await pollShards();
    const read = await api('GET', `/v1/watches/${watchId}`, { token: key });
    expect(Number(read.body.position.healthFactor)).toBeGreaterThanOrEqual(1.5);
    await control('/maker/price', { price: '2000' });
  });

  it('a frob that reverts after its join landed fails with the money named in the executor\'s Vat balance; another tenant\'s top-up of the ilk joins its own money and leaves that balance alone; the same tenant\'s next top-up uses it instead of joining it again', async () => {
    const path = '/maker-topup-stranded';
    // The ilk's dust raised above the vault's debt: vat.sol now refuses any frob of it.
    const { key, channel, heldBefore, account, watch, joined } = await joinedNotFrobbed(path, () => control('/maker/dust', { dai: '100000' }));
    try {
      const failed = await failureEventually(key, path, 'simulation_reverted');
      expect(failed.verified).toBe(true);
      const message: string = (failed.body as any).topUp.message;
      expect(message).toContain('Vat/dust');
      expect(message).toContain(`sits in the executor's own Vat balance (Vat.gem(ETH-A, ${SIGNER}))`);
      expect(message).toContain(formatUnits(joined, 18));
      expect((await vatState(account, account)).ink).toBe(WAD);
    } finally {
      await control('/maker/dust', { dai: '100' });
    }
    // The owner sees whose money it is.
    expect(await heldShares()).toContainEqual({ tenantId: tenantIdOf(key), balance: `${market.vat.toLowerCase()}:gem:ETH-A`, amount: formatUnits(joined, 18), symbol: 'WETH' });
    expect(await api('DELETE', `/v1/watches/${watch.body.id}`, { token: key }).then((response) => response.status)).toBe(204);

    // Another tenant's vault of the same ilk: the Vat balance is one number for the whole executor, but the held WETH was paid for this tenant's action.
    const otherPath = `${path}-other`;
    const otherKey = await newTenant(otherPath);
    await grantTopUps(otherKey, '100000');
    const otherChannel = await verifiedWebhook(otherKey, otherPath);
    const other = await control('/maker/open', { collateral: '1', debt: '1000' });
    const otherRun = await watchThenCrash(otherKey, { protocol: 'maker', market: 'ETH-A', protocolAddress: market.vat, account: other.account, channels: [otherChannel], topUp: policy('supply', false) }, async () => undefined);
    const otherExecuted = (await deliveriesAt(otherPath)).find((event) => event.body.type === 'topup.executed') ?? (await receivedEventually(tenantStub(testEnv, tenantIdOf(otherKey)), otherPath, 'topup.executed'));
    const otherTopUp = (otherExecuted.body as any).topUp;
    const otherAmount = parseUnits(otherTopUp.amount, 18);
    expect(otherTopUp.transaction.approve?.amount).toBe(otherAmount.toString());
    expect(otherTopUp.transaction.before[0].summary).toContain(`${formatUnits(otherAmount, 18)} WETH`);
    expect((await control('/topup/nonce', { address: SIGNER })).pending - otherRun.before).toBe(3);
    expect((await vatState(SIGNER)).gem - heldBefore).toBe(joined);
    expect((await vatState(other.account, other.account)).ink).toBe(WAD + otherAmount);

    // A second vault twice the size needs about twice the collateral: the held WETH first, only the rest is joined.
    const second = await control('/maker/open', { collateral: '2', debt: '2000' });
    const { before } = await watchThenCrash(key, { protocol: 'maker', market: 'ETH-A', protocolAddress: market.vat, account: second.account, channels: [channel], topUp: policy('supply', false) }, async () => undefined);
    const executed = (await deliveriesAt(path)).find((event) => event.body.type === 'topup.executed') ?? (await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.executed'));
    const topUp = (executed.body as any).topUp;
    const amount = parseUnits(topUp.amount, 18);
    expect(amount).toBeGreaterThan(joined);
    expect(topUp.transaction.approve.amount).toBe((amount - joined).toString());
    expect(topUp.transaction.before[0].summary).toContain(`${formatUnits(amount - joined, 18)} WETH`);
    expect((await control('/topup/nonce', { address: SIGNER })).pending - before).toBe(3);
    expect((await vatState(SIGNER)).gem).toBe(heldBefore);
    expect((await vatState(second.account, second.account)).ink).toBe(2n * WAD + amount);
    // Used up: the tenant's share is gone from the owner's view.
    expect((await heldShares()).filter((share: { tenantId: string }) => share.tenantId === tenantIdOf(key))).toEqual([]);
    await control('/maker/price', { price: '2000' });
  });

  it('an action stopped after its join landed (the price recovered before the frob) says where the joined money is, in its topup.skipped event', async () => {
    const path = '/maker-topup-stopped';
    // Back at $2,000 the vault's health factor is 1.379, above the 1.2 trigger: the frob is not sent.
    const { key, channel, heldBefore, account, watch, joined } = await joinedNotFrobbed(path, () => control('/maker/price', { price: '2000' }));
    const deadline = Date.now() + 30_000;
    let stopped: Received | undefined;
    while (!stopped) {
      await executor().processNow();
      await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
      stopped = (await receivedAt(path)).find((event) => event.body.type === 'topup.skipped' && event.body.topUp.reason === 'above_trigger');
      if (!stopped && Date.now() > deadline) throw new Error(`no topup.skipped above_trigger reached ${path}: ${JSON.stringify((await receivedAt(path)).map((event) => [event.body.type, event.body.topUp?.reason]))}`);
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(stopped.verified).toBe(true);
    expect(stopped.body.topUp.message).toContain(`${formatUnits(joined, 18)} WETH the join moved sits in the executor's own Vat balance`);
    expect((await vatState(account, account)).ink).toBe(WAD);
    expect((await vatState(SIGNER)).gem - heldBefore).toBe(joined);
  });
});

/**
 * A tenant whose 1 WETH / 1,000 DAI vault fell to a supply top-up's trigger, with the executor's
 * approval and join mined and its frob not yet sent: each transaction waits for a block of its
 * own. `change` alters the chain no later than the block the join is mined in, so the frob meets
 * it whenever the executor looks next (its own alarm may run as soon as the join is mined).
 */
async function joinedNotFrobbed(path: string, change: () => Promise<unknown>) {
  const key = await newTenant(path);
  await grantTopUps(key, '100000');
  const channel = await verifiedWebhook(key, path);
  await control('/maker/mint', { symbol: 'WETH', to: SIGNER, amount: '5' });
  const heldBefore = (await vatState(SIGNER)).gem;
  const { account } = await control('/maker/open', { collateral: '1', debt: '1000' });
  const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'maker', market: 'ETH-A', protocolAddress: market.vat, account, channels: [channel], topUp: policy('supply', false) } });
  expect(watch.status, JSON.stringify(watch.body)).toBe(201);
  await pollShards();
  await control('/maker/price', { price: '1700' });
  await control('/maker/automine', { on: false });
  try {
    await pollShards();
    await executor().processNow(); // the approval, pending
    await control('/mine');
    await executor().processNow(); // the approval mined; the join, pending
  } finally {
    await control('/maker/automine', { on: true });
  }
  // The change's own transaction mines the pending join with it (or before it), never after: the frob cannot come first.
  await change();
  await control('/mine');
  const joined = (await vatState(SIGNER)).gem - heldBefore;
  expect(joined).toBeGreaterThan(0n);
  return { key, channel, heldBefore, account, watch, joined };
}
