import { tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, api, control, grantTopUps, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { SIGNER, receivedEventually, watchThenCrash } from './topup-helpers';
import { verifiedWebhook } from './price-walk';

/*
 * Top-ups of native ETH into the ETH/USDC Fluid T1 vault the global setup deployed (collateral
 * at Fluid's NATIVE_TOKEN address, paid as the transaction's value), through the API, on the
 * real liquidity layer and vault bytecode. The vault's resolver is the reference for the result.
 */

let market: { vault: string; collateral: string; debt: string };

// 1 ETH against 1,300 USDC × LT 0.85: HF 1.308 at 2,000; 1.1115 at 1,700, under the trigger 1.2.
// HF 1.5 at 1,700 needs 1.5 × 1,300 / (1,700 × 0.85) = 1.3495 ETH: about 0.35 ETH more.
const POSITION = { collateralEth: '1', borrowUsdc: '1300' };
const WEI = 10n ** 18n;

function policy(overrides: Record<string, unknown> = {}) {
  return { mode: 'supply', asset: market.collateral, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1', cooldownSeconds: 600, ...overrides };
}

describe('Fluid native-ETH collateral through the API', () => {
  beforeAll(async () => {
    market = (await control('/fluid/native/market')) as typeof market;
    await control('/fluid/native/price', { price: '2000' });
  }, 120_000);

  it('a supply policy takes the vault\'s native-ETH collateral (NATIVE_TOKEN) as its asset, named ETH with 18 decimals', async () => {
    const key = await newTenant('fluid-native-policy');
    const { owner } = await control('/fluid/native/open', POSITION);
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'fluid', market: market.vault, account: owner, topUp: policy() } });
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    expect(watch.body.topUp).toMatchObject({ mode: 'supply', asset: market.collateral, symbol: 'ETH', decimals: 18 });
  });

  it('a dry run names the ETH it would send as the transaction\'s value, with no approval, and sends nothing', async () => {
    const path = '/fluid-native-dry-run';
    const key = await newTenant(path);
    const channel = await verifiedWebhook(key, path);
    const { nftId } = await control('/fluid/native/open', POSITION);
    const { before } = await watchThenCrash(key, { protocol: 'fluid', market: market.vault, account: nftId, channels: [channel], topUp: policy({ dryRun: true }) }, () => control('/fluid/native/price', { price: '1700' }));
    const dryRun = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.skipped');
    const topUp = (dryRun.body as any).topUp;
    expect(topUp).toMatchObject({ reason: 'dry_run', dryRun: true, symbol: 'ETH', transaction: { to: market.vault, function: 'supply', approve: null } });
    expect(topUp.transaction.summary).toContain('ETH collateral');
    // The value is exactly the collateral operate adds, in wei.
    expect(topUp.transaction.value).toBe(topUp.transaction.args.newCol);
    expect(BigInt(topUp.transaction.value)).toBeGreaterThan(34n * WEI / 100n);
    expect(BigInt(topUp.transaction.value)).toBeLessThan(36n * WEI / 100n);
    expect((await control('/topup/nonce', { address: SIGNER })).pending).toBe(before);
    await control('/fluid/native/price', { price: '2000' });
  });

  it('a live supply sends operate with the ETH as its value (one transaction, no approval) and brings the position to the target on the vault\'s own view', async () => {
    const path = '/fluid-native-live';
    const key = await newTenant(path);
    await grantTopUps(key, '100000');
    const channel = await verifiedWebhook(key, path);
    const { owner, nftId } = await control('/fluid/native/open', POSITION);
    const { watchId, before } = await watchThenCrash(key, { protocol: 'fluid', market: market.vault, account: owner, channels: [channel], topUp: policy({ dryRun: false }) }, () => control('/fluid/native/price', { price: '1700' }));
    const executed = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.executed');
    const topUp = (executed.body as any).topUp;
    expect(topUp).toMatchObject({ mode: 'supply', symbol: 'ETH', dryRun: false, targetReached: true, transaction: { to: market.vault, function: 'supply', approve: null } });
    expect(Number(topUp.healthFactorBefore)).toBeLessThan(1.2);
    expect(topUp.transaction.value).toBe(topUp.transaction.args.newCol);
    expect((await control('/topup/nonce', { address: SIGNER })).pending - before).toBe(1); // operate alone: ETH needs no approval

    const theirs = await control('/fluid/native/position', { nftId });
    expect(BigInt(theirs.healthFactor)).toBeGreaterThanOrEqual(15n * WEI / 10n);
    expect(BigInt(theirs.supply)).toBeGreaterThanOrEqual(WEI + BigInt(topUp.transaction.value) - 10n ** 12n);
    await pollShards();
    const read = await api('GET', `/v1/watches/${watchId}`, { token: key });
    expect(Number(read.body.position.healthFactor)).toBeGreaterThanOrEqual(1.5);
    // Booked against the owner's USD grant at the vault oracle's ETH price (1,700 USDC, USDC counted at $1).
    const grant = (await api('GET', `/v1/admin/tenants/${tenantIdOf(key)}/topup`, { token: ADMIN })).body;
    expect(Number(grant.spentUsdLast24h)).toBeCloseTo(Number(topUp.amount) * 1_700, 2);
    await control('/fluid/native/price', { price: '2000' });
  });

  it('the per-action cap limits the ETH sent like any amount: a dry run capped at 0.1 ETH names 0.1 ETH as the value', async () => {
    const path = '/fluid-native-capped';
    const key = await newTenant(path);
    const channel = await verifiedWebhook(key, path);
    const { nftId } = await control('/fluid/native/open', POSITION);
    await watchThenCrash(key, { protocol: 'fluid', market: market.vault, account: nftId, channels: [channel], topUp: policy({ dryRun: true, maxAmountPerAction: '0.1' }) }, () => control('/fluid/native/price', { price: '1700' }));
    const dryRun = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.skipped');
    const topUp = (dryRun.body as any).topUp;
    expect(topUp).toMatchObject({ reason: 'dry_run', amount: '0.1', cappedBy: ['per_action'], transaction: { value: String(WEI / 10n), approve: null } });
    await control('/fluid/native/price', { price: '2000' });
  });

  it('refuses a live supply when the wallet\'s ETH covers the value but not the value plus gas, saying both, and sends nothing', async () => {
    const path = '/fluid-native-no-gas';
    const key = await newTenant(path);
    await grantTopUps(key, '100000');
    const channel = await verifiedWebhook(key, path);
    const { owner } = await control('/fluid/native/open', POSITION);
    // 0.3 ETH: the amount is capped at the wallet's balance, which then leaves nothing for gas.
    const { had } = await control('/fluid/native/eth', { address: SIGNER, wei: String(3n * WEI / 10n) });
    try {
      const { before } = await watchThenCrash(key, { protocol: 'fluid', market: market.vault, account: owner, channels: [channel], topUp: policy({ dryRun: false }) }, () => control('/fluid/native/price', { price: '1700' }));
      const failed = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.failed');
      const topUp = (failed.body as any).topUp;
      expect(topUp).toMatchObject({ reason: 'insufficient_gas_funds', symbol: 'ETH', transaction: { to: market.vault, function: 'supply', value: String(3n * WEI / 10n) } });
      expect(topUp.message).toContain("less than the 0.3 the top-up sends as the transaction's value plus up to");
      expect((await control('/topup/nonce', { address: SIGNER })).pending).toBe(before);
    } finally {
      await control('/fluid/native/eth', { address: SIGNER, wei: had });
      await control('/fluid/native/price', { price: '2000' });
    }
  });
});

describe('Fluid native-ETH debt through the API, valued through the owner\'s ETH / USD feed (USD_PRICE_FEEDS)', () => {
  let ethDebt: { vault: string; collateral: string; debt: string };

  beforeAll(async () => {
    ethDebt = (await control('/fluid/eth-debt/market')) as typeof ethDebt;
    await control('/fluid/eth-debt/price', { price: '1.2' });
    await control('/eth-usd', { price: '2000' });
  }, 120_000);

  it('a live payback sends operate(nft, 0, −amount) with the ETH as its value and no approval, cut by a $200 grant at $2,000 to 0.1 ETH, and the vault\'s debt falls by it', async () => {
    const path = '/fluid-eth-debt-live';
    const key = await newTenant(path);
    await grantTopUps(key, '200');
    const channel = await verifiedWebhook(key, path);
    // 1 WETH at 1.2 ETH × LT 0.85 against 0.8 ETH: HF 1.275; at 1.05 ETH, 1.116, under the trigger 1.2.
    // HF 1.5 then needs the debt at 0.595 ETH: about 0.205 ETH ($410) paid back, more than the grant.
    const { nftId } = await control('/fluid/eth-debt/open', { collateralWeth: '1', borrowEth: '0.8' });
    const topUpPolicy = { mode: 'repay', asset: ethDebt.debt, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1', cooldownSeconds: 600, dryRun: false };
    const owed = BigInt((await control('/fluid/eth-debt/position', { nftId })).borrow);
    const { before } = await watchThenCrash(key, { protocol: 'fluid', market: ethDebt.vault, account: nftId, channels: [channel], topUp: topUpPolicy }, () => control('/fluid/eth-debt/price', { price: '1.05' }));
    try {
      const executed = await receivedEventually(tenantStub(testEnv, tenantIdOf(key)), path, 'topup.executed');
      const topUp = (executed.body as any).topUp;
      expect(topUp).toMatchObject({ mode: 'repay', symbol: 'ETH', dryRun: false, transaction: { to: ethDebt.vault, approve: null } });
      expect(topUp.cappedBy).toContain('tenant_budget');
      const paid = BigInt(topUp.transaction.value);
      expect(BigInt(topUp.transaction.args.newDebt)).toBe(-paid);
      expect(paid).toBeLessThanOrEqual(WEI / 10n);
      expect(paid).toBeGreaterThan((WEI * 999n) / 10_000n);
      expect((await control('/topup/nonce', { address: SIGNER })).pending - before).toBe(1); // operate alone: ETH needs no approval
      // The vault's own view: the debt fell by what was sent (plus a little interest since it was read).
      const after = BigInt((await control('/fluid/eth-debt/position', { nftId })).borrow);
      expect(after).toBeLessThanOrEqual(owed - paid + 10n ** 12n);
      expect(after).toBeGreaterThanOrEqual(owed - paid - 10n);
      const grant = (await api('GET', `/v1/admin/tenants/${tenantIdOf(key)}/topup`, { token: ADMIN })).body;
      expect(Number(grant.spentUsdLast24h)).toBeGreaterThan(199.9);
      expect(Number(grant.spentUsdLast24h)).toBeLessThanOrEqual(200);
    } finally {
      await control('/fluid/eth-debt/price', { price: '1.2' });
    }
  });
});
