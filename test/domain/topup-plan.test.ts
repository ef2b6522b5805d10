import { describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import type { AssetPosition } from '../../src/domain/position';
import { repayAmount, topUpAmount } from '../../src/domain/risk';
import { DAY_WINDOW_MS, planningTarget, planTopUp, summarizeHistory, type PastAction, type TopUpPlanInput, type TopUpPolicy } from '../../src/domain/topup-plan';

const WBTC = '0x0000000000000000000000000000000000000b7c' as Address;
const USDC = '0x00000000000000000000000000000000000005dc' as Address;
const WETH = '0x000000000000000000000000000000000000e7e0' as Address;
const WAD = 10n ** 18n;
const BTC = 10n ** 8n;
const DOLLAR = 10n ** 6n;
const NOW = 1_800_000_000_000;

/** 1 WBTC at $45,000 (threshold 78%) against 30,000 USDC: health factor 1.17. */
function account(overrides: { wbtcPrice?: bigint; usedAsCollateral?: boolean; usdcDebt?: bigint; usdcPrice?: bigint | undefined } = {}): AssetPosition[] {
  return [
    { asset: WBTC, symbol: 'WBTC', decimals: 8, price: overrides.wbtcPrice ?? 45_000n * 10n ** 8n, collateral: BTC, usedAsCollateral: overrides.usedAsCollateral ?? true, debt: 0n, liquidationThresholdBps: 7800n, ltvBps: 7300n },
    { asset: USDC, symbol: 'USDC', decimals: 6, price: 'usdcPrice' in overrides ? overrides.usdcPrice : 10n ** 8n, collateral: 0n, usedAsCollateral: false, debt: overrides.usdcDebt ?? 30_000n * DOLLAR, liquidationThresholdBps: 8000n, ltvBps: 7700n },
  ];
}

const HF_117 = 1_170_000_000_000_000_000n;

const supplyPolicy: TopUpPolicy = {
  enabled: true,
  mode: 'supply',
  asset: WBTC,
  triggerHealthFactor: (12n * WAD) / 10n,
  targetHealthFactor: (15n * WAD) / 10n,
  maxAmountPerAction: 10n * BTC,
  maxAmountPerDay: 20n * BTC,
  cooldownMs: 600_000,
  dryRun: false,
};
const repayPolicy: TopUpPolicy = { ...supplyPolicy, mode: 'repay', asset: USDC, maxAmountPerAction: 100_000n * DOLLAR, maxAmountPerDay: 200_000n * DOLLAR };

function input(overrides: Omit<Partial<TopUpPlanInput>, 'policy'> & { policy?: Partial<TopUpPolicy> } = {}): TopUpPlanInput {
  const { policy, ...rest } = overrides;
  return {
    position: { healthFactor: HF_117, assets: account() },
    spentInWindow: 0n,
    oldestInWindowAt: null,
    lastActionAt: null,
    walletBalance: 100n * BTC,
    now: NOW,
    ...rest,
    policy: { ...supplyPolicy, ...policy },
  };
}

// The risk engine's exact minimum, the planner's starting point (its own tests pin it against the real Pool).
const NEEDED_SUPPLY = topUpAmount(account(), WBTC, planningTarget(supplyPolicy.targetHealthFactor))!.amount;
const NEEDED_REPAY = repayAmount(account(), USDC, planningTarget(repayPolicy.targetHealthFactor))!.amount;

describe('planTopUp', () => {
  it('the fixture needs about 0.282 WBTC or 6,600 USDC (with the 0.01% headroom)', () => {
    expect(NEEDED_SUPPLY).toBeGreaterThan(28_200_000n);
    expect(NEEDED_SUPPLY).toBeLessThan(28_300_000n);
    expect(NEEDED_REPAY).toBeGreaterThan(6_599n * DOLLAR);
    expect(NEEDED_REPAY).toBeLessThan(6_603n * DOLLAR);
  });

  it.each<[string, TopUpPlanInput, ReturnType<typeof planTopUp>]>([
    ['disabled policy', input({ policy: { enabled: false } }), { action: 'skip', reason: 'disabled' }],
    ['no debt (infinite health factor)', input({ position: { healthFactor: null, assets: account({ usdcDebt: 0n }) } }), { action: 'skip', reason: 'above_trigger' }],
    ['health factor above the trigger', input({ position: { healthFactor: (13n * WAD) / 10n, assets: account() } }), { action: 'skip', reason: 'above_trigger' }],
    ['health factor exactly at the trigger (not below)', input({ position: { healthFactor: (12n * WAD) / 10n, assets: account() } }), { action: 'skip', reason: 'above_trigger' }],
    ['uncapped supply', input(), { action: 'send', amount: NEEDED_SUPPLY, amountNeeded: NEEDED_SUPPLY, reachesTarget: true, cappedBy: [] }],
    ['per-action cap', input({ policy: { maxAmountPerAction: BTC / 10n } }), { action: 'send', amount: BTC / 10n, amountNeeded: NEEDED_SUPPLY, reachesTarget: false, cappedBy: ['per_action'] }],
    ['what is left of the day cap', input({ policy: { maxAmountPerDay: BTC }, spentInWindow: BTC - BTC / 20n }), { action: 'send', amount: BTC / 20n, amountNeeded: NEEDED_SUPPLY, reachesTarget: false, cappedBy: ['per_day'] }],
    [
      'both caps: the smaller wins, both named',
      input({ policy: { maxAmountPerAction: BTC / 10n, maxAmountPerDay: BTC }, spentInWindow: BTC - BTC / 20n }),
      { action: 'send', amount: BTC / 20n, amountNeeded: NEEDED_SUPPLY, reachesTarget: false, cappedBy: ['per_action', 'per_day'] },
    ],
    ['the wallet holds less', input({ walletBalance: BTC / 100n }), { action: 'send', amount: BTC / 100n, amountNeeded: NEEDED_SUPPLY, reachesTarget: false, cappedBy: ['wallet_balance'] }],
    ['the wallet is empty', input({ walletBalance: 0n }), { action: 'skip', reason: 'no_balance', proposal: { amount: NEEDED_SUPPLY, amountNeeded: NEEDED_SUPPLY, reachesTarget: true, cappedBy: [] } }],
    ['no signer (balance unknown) in a live policy', input({ walletBalance: undefined }), { action: 'skip', reason: 'no_balance', proposal: { amount: NEEDED_SUPPLY, amountNeeded: NEEDED_SUPPLY, reachesTarget: true, cappedBy: [] } }],
    ['dry run: the exact amount it would send, wallet aside', input({ policy: { dryRun: true }, walletBalance: 0n }), { action: 'skip', reason: 'dry_run', proposal: { amount: NEEDED_SUPPLY, amountNeeded: NEEDED_SUPPLY, reachesTarget: true, cappedBy: [] } }],
    ['dry run with a cap', input({ policy: { dryRun: true, maxAmountPerAction: BTC / 10n } }), { action: 'skip', reason: 'dry_run', proposal: { amount: BTC / 10n, amountNeeded: NEEDED_SUPPLY, reachesTarget: false, cappedBy: ['per_action'] } }],
    [
      'cooldown: says when, and what it would send',
      input({ lastActionAt: NOW - 100_000 }),
      { action: 'skip', reason: 'cooldown', retryAt: NOW + 500_000, proposal: { amount: NEEDED_SUPPLY, amountNeeded: NEEDED_SUPPLY, reachesTarget: true, cappedBy: [] } },
    ],
    ['cooldown just over', input({ lastActionAt: NOW - 600_000 }), { action: 'send', amount: NEEDED_SUPPLY, amountNeeded: NEEDED_SUPPLY, reachesTarget: true, cappedBy: [] }],
    [
      'day cap used up: waits for the oldest spend to leave the window',
      input({ policy: { maxAmountPerDay: BTC }, spentInWindow: BTC, oldestInWindowAt: NOW - 3_600_000 }),
      { action: 'skip', reason: 'day_cap_reached', retryAt: NOW - 3_600_000 + DAY_WINDOW_MS, proposal: { amount: NEEDED_SUPPLY, amountNeeded: NEEDED_SUPPLY, reachesTarget: true, cappedBy: [] } },
    ],
    ['cooldown is checked before the day cap', input({ lastActionAt: NOW - 1000, spentInWindow: 20n * BTC }), expect.objectContaining({ action: 'skip', reason: 'cooldown' })],
    ['no per-asset breakdown (the cheap gate)', input({ position: { healthFactor: HF_117 } }), { action: 'skip', reason: 'no_breakdown' }],
    ['cooldown on the cheap gate: no proposal without a breakdown', input({ position: { healthFactor: HF_117 }, lastActionAt: NOW - 1000 }), { action: 'skip', reason: 'cooldown', retryAt: NOW - 1000 + 600_000 }],
    ['collateral turned off by the owner', input({ position: { healthFactor: HF_117, assets: account({ usedAsCollateral: false }) } }), { action: 'skip', reason: 'collateral_not_enabled' }],
    ['a supply asset the account does not hold, without its parameters', input({ policy: { asset: WETH } }), { action: 'skip', reason: 'unknown_price' }],
    ['an unknown debt price', input({ position: { healthFactor: HF_117, assets: account({ usdcPrice: undefined }) } }), { action: 'skip', reason: 'unknown_price' }],
    ['repay', input({ policy: repayPolicy, walletBalance: 1_000_000n * DOLLAR }), { action: 'send', amount: NEEDED_REPAY, amountNeeded: NEEDED_REPAY, reachesTarget: true, cappedBy: [] }],
    ['repay an asset the account does not owe', input({ policy: { ...repayPolicy, asset: WBTC }, walletBalance: 1_000_000n * DOLLAR }), { action: 'skip', reason: 'no_debt' }],
  ])('%s', (_name, planInput, expected) => {
    expect(planTopUp(planInput)).toEqual(expected);
  });

  it('supplies an asset the account does not hold yet, from its parameters', () => {
    const plan = planTopUp(
      input({
        policy: { asset: WETH, maxAmountPerAction: 100n * WAD, maxAmountPerDay: 100n * WAD },
        collateralParams: { asset: WETH, decimals: 18, price: 3_000n * 10n ** 8n, liquidationThresholdBps: 8250n },
        walletBalance: 1_000n * WAD,
      }),
    );
    // (30,000 × 1.5 − 45,000 × 0.78) / (3,000 × 0.825) ≈ 4.0 WETH
    expect(plan).toMatchObject({ action: 'send', reachesTarget: true });
    const amount = (plan as { amount: bigint }).amount;
    expect(amount).toBeGreaterThan(4n * WAD - WAD / 100n);
    expect(amount).toBeLessThan(4n * WAD + WAD / 100n);
  });

  it('repaying the whole debt falls short: the debt is the cap and the plan says so', () => {
    // 1 WBTC at $10,000 carries 7,800 of debt; 15,000 of WETH debt remains even with all USDC repaid.
    const tiny = account({ wbtcPrice: 10_000n * 10n ** 8n });
    const withOtherDebt: AssetPosition[] = [...tiny, { asset: WETH, symbol: 'WETH', decimals: 18, price: 3_000n * 10n ** 8n, collateral: 0n, usedAsCollateral: false, debt: 5n * WAD, liquidationThresholdBps: 8250n, ltvBps: 8000n }];
    const plan = planTopUp(input({ policy: { ...repayPolicy, maxAmountPerAction: 10n ** 12n, maxAmountPerDay: 10n ** 12n }, position: { healthFactor: 173_333_333_333_333_333n, assets: withOtherDebt }, walletBalance: 10n ** 12n }));
    expect(plan).toEqual({ action: 'send', amount: 30_000n * DOLLAR, amountNeeded: 30_000n * DOLLAR, reachesTarget: false, cappedBy: ['debt'] });
  });

  it('never proposes more than either cap, whatever the need (exhaustive over a grid)', () => {
    for (const price of [5_000n, 20_000n, 38_000n, 45_000n]) {
      for (const perAction of [BTC / 1000n, BTC / 10n, BTC]) {
        for (const spent of [0n, BTC / 2n, BTC - 1n]) {
          const plan = planTopUp(input({ policy: { maxAmountPerAction: perAction, maxAmountPerDay: BTC }, spentInWindow: spent, position: { healthFactor: 10n ** 17n, assets: account({ wbtcPrice: price * 10n ** 8n }) } }));
          if (plan.action !== 'send') continue;
          expect(plan.amount).toBeGreaterThan(0n);
          expect(plan.amount).toBeLessThanOrEqual(perAction);
          expect(plan.amount + spent).toBeLessThanOrEqual(BTC);
        }
      }
    }
  });
});

describe('summarizeHistory', () => {
  const action = (overrides: Partial<PastAction>): PastAction => ({ asset: WBTC, amount: BTC / 10n, at: NOW - 1000, dryRun: false, spends: true, ...overrides });

  it('sums what the policy asset spent in the rolling 24 hours and finds the last action', () => {
    const history = [
      action({ at: NOW - DAY_WINDOW_MS - 1 }), // out of the window
      action({ at: NOW - DAY_WINDOW_MS }), // exactly 24 h old: out (the window is (now − 24 h, now])
      action({ at: NOW - 5_000, amount: BTC / 4n }),
      action({ at: NOW - 2_000, asset: USDC, amount: 500n * DOLLAR }), // another asset: not summed, but it is an action
      action({ at: NOW - 3_000, spends: false }), // reverted: moved nothing
      action({ at: NOW - 1_000, dryRun: true, amount: BTC }), // a dry run: not live
    ];
    expect(summarizeHistory(history, { asset: WBTC, dryRun: false, now: NOW })).toEqual({ spentInWindow: BTC / 4n, oldestInWindowAt: NOW - 5_000, lastActionAt: NOW - 2_000 });
    expect(summarizeHistory(history, { asset: WBTC, dryRun: true, now: NOW })).toEqual({ spentInWindow: BTC, oldestInWindowAt: NOW - 1_000, lastActionAt: NOW - 1_000 });
    expect(summarizeHistory([], { asset: WBTC, dryRun: false, now: NOW })).toEqual({ spentInWindow: 0n, oldestInWindowAt: null, lastActionAt: null });
  });

  it('addresses compare case-insensitively', () => {
    const upper = WBTC.toUpperCase().replace('0X', '0x') as Address;
    expect(summarizeHistory([action({ asset: upper })], { asset: WBTC, dryRun: false, now: NOW }).spentInWindow).toBe(BTC / 10n);
  });
});

describe('planningTarget', () => {
  it('aims 0.01% above the target, so interest accrued before the transaction lands cannot leave the account under it', () => {
    expect(planningTarget(15n * 10n ** 17n)).toBe(1_500_150_000_000_000_000n);
  });
});
