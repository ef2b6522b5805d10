import { describe, expect, it } from 'vitest';
import { amountWithinUsd, formatUsd, parseUsd, summarizeBudget, usdValue } from '../../src/domain/topup-budget';
import { decideAuthorization } from '../../src/topup/authorization';
import { fairOrder } from '../../src/topup/fair-order';
import { trustedByOwner } from '../../src/topup/trust';
import { planTopUp, DAY_WINDOW_MS } from '../../src/domain/topup-plan';
import { parseConfig } from '../../src/config/env';
import type { Address, Hex } from 'viem';
import type { ReadContext } from '../../src/protocols/read-types';
import { morphoTopUp } from '../../src/protocols/morpho-blue/topup';
import { MORPHO_BLUE_DEPLOYMENTS } from '../../src/protocols/morpho-blue/deployments';
import { MORPHO_PRESETS } from '../../src/protocols/morpho-blue/presets';
import type { MorphoMarket } from '../../src/protocols/morpho-blue/normalize';
import type { StoredTopUpPolicy } from '../../src/config/topup-policy';

const USD = 10n ** 8n;
const WBTC_PRICE = 45_000n * USD; // Aave oracle: 8-decimal USD per whole token

describe('USD budget arithmetic', () => {
  it('values an amount at the oracle price, rounding up', () => {
    expect(usdValue(10n ** 8n, 8, WBTC_PRICE, USD)).toBe(45_000n * USD);
    expect(usdValue(1n, 8, WBTC_PRICE, USD)).toBe(45_000n); // 1 satoshi = $0.00045
    expect(usdValue(1n, 18, 2_000n * USD, USD)).toBe(1n); // a wei of ETH rounds up to the smallest unit
  });

  it('the amount within a USD budget never values above it', () => {
    for (const usd of [1n, 999n, 20_000n * USD, 12_345_678_901n]) {
      const amount = amountWithinUsd(usd, 8, WBTC_PRICE, USD);
      expect(usdValue(amount, 8, WBTC_PRICE, USD)).toBeLessThanOrEqual(usd);
      expect(usdValue(amount + 1n, 8, WBTC_PRICE, USD)).toBeGreaterThan(usd);
    }
    expect(amountWithinUsd(0n, 8, WBTC_PRICE, USD)).toBe(0n);
    expect(amountWithinUsd(USD, 8, 0n, USD)).toBe(0n);
  });

  it('counts unreleased spends of the rolling 24 hours against the grant', () => {
    const now = 10 * DAY_WINDOW_MS;
    const spends = [
      { usd: parseUsd('100'), at: now - 1000, released: false },
      { usd: parseUsd('50'), at: now - 2000, released: true },
      { usd: parseUsd('70'), at: now - DAY_WINDOW_MS, released: false },
    ];
    expect(summarizeBudget({ enabled: true, maxUsdPerDay: parseUsd('250') }, spends, now)).toEqual({ spent: parseUsd('100'), remaining: parseUsd('150'), oldestAt: now - 1000 });
    expect(summarizeBudget({ enabled: false, maxUsdPerDay: parseUsd('250') }, spends, now).remaining).toBe(0n);
    expect(summarizeBudget(null, [], now).remaining).toBe(0n);
    expect(formatUsd(parseUsd('250.5'))).toBe('250.5');
  });

  it('the planner caps a live action by the budget and says so; an empty budget skips', () => {
    const policy = { enabled: true, mode: 'supply' as const, asset: '0x0000000000000000000000000000000000000001' as const, triggerHealthFactor: 12n * 10n ** 17n, targetHealthFactor: 15n * 10n ** 17n, maxAmountPerAction: 10n ** 8n, maxAmountPerDay: 10n ** 9n, cooldownMs: 0, dryRun: false };
    const assets = [{ asset: policy.asset, symbol: 'WBTC', decimals: 8, collateral: 10n ** 8n, debt: 0n, price: WBTC_PRICE, liquidationThresholdBps: 7800n, usedAsCollateral: true }, { asset: '0x0000000000000000000000000000000000000002' as const, symbol: 'USDC', decimals: 6, collateral: 0n, debt: 30_000n * 10n ** 6n, price: USD, liquidationThresholdBps: 0n, usedAsCollateral: false }];
    const base = { policy, position: { healthFactor: 117n * 10n ** 16n, assets: assets as never }, spentInWindow: 0n, lastActionAt: null, walletBalance: 10n ** 9n, now: 0 };
    const free = planTopUp(base);
    expect(free).toMatchObject({ action: 'send', cappedBy: [] });
    const capped = planTopUp({ ...base, budgetAmount: 1_000_000n });
    expect(capped).toMatchObject({ action: 'send', amount: 1_000_000n, reachesTarget: false, cappedBy: ['tenant_budget'] });
    expect(planTopUp({ ...base, budgetAmount: 0n })).toMatchObject({ action: 'skip', reason: 'tenant_budget_reached' });
  });
});

describe('the tenant\'s authorization of a live action', () => {
  const policy = { enabled: true, dryRun: false, version: 3 } as StoredTopUpPolicy;
  const grant = { enabled: true, maxUsdPerDay: parseUsd('100') };
  const budget = { spent: parseUsd('60'), remaining: parseUsd('40'), oldestAt: 0 };
  const request = { watchId: 'w_1', policyVersion: 3 };

  it.each([
    ['a deleted watch', { watchPolicy: undefined }, 'watch_deleted'],
    ['a removed policy', { watchPolicy: null }, 'policy_changed'],
    ['a newer policy version', { watchPolicy: { ...policy, version: 4 } }, 'policy_changed'],
    ['a policy turned into a dry run', { watchPolicy: { ...policy, dryRun: true } }, 'policy_changed'],
    ['a disabled policy', { watchPolicy: { ...policy, enabled: false } }, 'policy_changed'],
    ['a revoked grant', { grant: { ...grant, enabled: false } }, 'not_permitted'],
    ['no grant at all', { grant: null }, 'not_permitted'],
  ])('refuses %s', (_name, overrides, reason) => {
    const decision = decideAuthorization(request, { watchPolicy: policy, grant, budget, alreadyReserved: false, ...overrides });
    expect(decision).toMatchObject({ ok: false, reason });
  });

  it('reserves within the budget, refuses beyond it, and a repeated reservation of one action is not counted twice', () => {
    expect(decideAuthorization({ ...request, actionId: 'a', reserveUsd: parseUsd('40').toString() }, { watchPolicy: policy, grant, budget, alreadyReserved: false })).toEqual({ ok: true, remainingUsd: 0n });
    expect(decideAuthorization({ ...request, actionId: 'a', reserveUsd: parseUsd('41').toString() }, { watchPolicy: policy, grant, budget, alreadyReserved: false })).toMatchObject({ ok: false, reason: 'tenant_budget_reached' });
    expect(decideAuthorization({ ...request, actionId: 'a', reserveUsd: parseUsd('41').toString() }, { watchPolicy: policy, grant, budget, alreadyReserved: true })).toEqual({ ok: true, remainingUsd: parseUsd('40') });
  });
});

describe('executor queue and trust list', () => {
  it('takes waiting requests in turns by tenant, oldest first', () => {
    const rows = [
      { tenant_id: 'a', received_at: 1, id: 'a1' },
      { tenant_id: 'a', received_at: 2, id: 'a2' },
      { tenant_id: 'a', received_at: 3, id: 'a3' },
      { tenant_id: 'b', received_at: 4, id: 'b1' },
      { tenant_id: 'c', received_at: 5, id: 'c1' },
    ];
    expect(fairOrder(rows).map((row) => row.id)).toEqual(['a1', 'b1', 'c1', 'a2', 'a3']);
  });

  it('TOPUP_TRUSTED_MARKETS is parsed per chain and matched case-insensitively', () => {
    const config = parseConfig({ RPC_URLS: '{"31337":"http://127.0.0.1:8545"}', ADMIN_TOKEN: 'x'.repeat(32), TOPUP_TRUSTED_MARKETS: '{"31337":"0x87870bca3f3fd6335c3f4ce8392d69350b4fa4e2","1":["0xC13e21B648A5Ee794902342038FF3aDAB66BE987"]}' });
    expect(trustedByOwner(config.topUp.trustedMarkets, 31337, '0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2')).toBe(true);
    expect(trustedByOwner(config.topUp.trustedMarkets, 1, '0xc13e21b648a5ee794902342038ff3adab66be987')).toBe(true);
    expect(trustedByOwner(config.topUp.trustedMarkets, 1, '0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2')).toBe(false);
    expect(() => parseConfig({ RPC_URLS: '{"1":"http://x"}', ADMIN_TOKEN: 'x'.repeat(32), TOPUP_TRUSTED_MARKETS: '{"1":["nope"]}' })).toThrow(/TOPUP_TRUSTED_MARKETS\.1/);
    expect(parseConfig({ RPC_URLS: '{"1":"http://x"}', ADMIN_TOKEN: 'x'.repeat(32) }).topUp.trustedMarkets.size).toBe(0);
  });

  it('TOPUP_TRUSTED_MARKETS takes Morpho market ids (0x + 64 hex) beside contract addresses, and names the entry it refuses', () => {
    const id = '0xB323495F7E4148BE5643A4EA4A8221EEF163E4BCCFDEDC2A6F4696BAACBC86CC';
    const config = parseConfig({ RPC_URLS: '{"1":"http://x"}', ADMIN_TOKEN: 'x'.repeat(32), TOPUP_TRUSTED_MARKETS: JSON.stringify({ '1': [id, '0xc13e21b648a5ee794902342038ff3adab66be987'] }) });
    expect(trustedByOwner(config.topUp.trustedMarkets, 1, id.toLowerCase() as `0x${string}`)).toBe(true);
    expect(() => parseConfig({ RPC_URLS: '{"1":"http://x"}', ADMIN_TOKEN: 'x'.repeat(32), TOPUP_TRUSTED_MARKETS: JSON.stringify({ '1': ['0x1234'] }) })).toThrow(
      /TOPUP_TRUSTED_MARKETS\.1\.0: must be a market contract address \(0x \+ 40 hex digits\) or a Morpho Blue market id/,
    );
  });

  it('in the canonical Morpho Blue contract only the built-in market ids are trusted: a market anyone created there is not', async () => {
    const canonical = MORPHO_BLUE_DEPLOYMENTS[1]!;
    const preset = MORPHO_PRESETS.find((candidate) => candidate.chainId === 1)!;
    const context = { chainId: 1 } as ReadContext;
    const marketOf = (morpho: Address, id: Hex) => ({ morpho, id }) as MorphoMarket;
    expect(await morphoTopUp.trustedPreset(context, marketOf(canonical, preset.id))).toBe(preset.name);
    expect(await morphoTopUp.trustedPreset(context, marketOf(canonical, `0x${'ab'.repeat(32)}`))).toBeNull();
    expect(await morphoTopUp.trustedPreset(context, marketOf('0x000000000000000000000000000000000000dEaD', preset.id))).toBeNull();
  });

  it('an owner-listed Morpho market id is trusted only inside the canonical Morpho or a Morpho contract also listed: the same id in a copy of Morpho of anyone\'s is not', () => {
    const canonical = MORPHO_BLUE_DEPLOYMENTS[1]!;
    const copy: Address = '0x000000000000000000000000000000000000c0de';
    const id: Hex = `0x${'cd'.repeat(32)}`;
    const marketOf = (morpho: Address) => ({ morpho, id }) as MorphoMarket;
    const listing = (list: string[], morpho: Address) => morphoTopUp.ownerListing!(marketOf(morpho), { chainId: 1, listed: (key) => list.includes(key.toLowerCase()) }).trusted;
    expect(listing([id], canonical)).toBe(true);
    expect(listing([id], copy)).toBe(false);
    expect(listing([id, copy], copy)).toBe(true);
    // Listing a Morpho contract trusts none of its markets.
    expect(listing([canonical.toLowerCase()], canonical)).toBe(false);
    expect(listing([copy], copy)).toBe(false);
  });
});
