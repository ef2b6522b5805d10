import { describe, expect, it } from 'vitest';
import { parseUnits, type Address } from 'viem';
import { liquityConditions, redemptionFront, REDEMPTION_CLEAR_BPS, REDEMPTION_FRONT_BPS } from '../../src/protocols/liquity-v2/conditions';
import type { BranchState, LiquityMarket, TroveData } from '../../src/protocols/liquity-v2/normalize';

/* The Liquity v2 branch dangers as conditions (pure): CCR and SCR with their margin, shutdown, and the redemption rule. */

const ratio = (value: string) => parseUnits(value, 18);
const market: LiquityMarket = {
  chainId: 1,
  troveManager: '0x0000000000000000000000000000000000000001' as Address,
  borrowerOperations: '0x0000000000000000000000000000000000000002' as Address,
  troveNFT: '0x0000000000000000000000000000000000000003' as Address,
  priceFeed: '0x0000000000000000000000000000000000000004' as Address,
  collateral: { asset: '0x0000000000000000000000000000000000000005' as Address, symbol: 'WETH', decimals: 18 },
  bold: { asset: '0x0000000000000000000000000000000000000006' as Address, symbol: 'BOLD', decimals: 18 },
  mcr: ratio('1.1'),
  ccr: ratio('1.5'),
  scr: ratio('1.1'),
};
/** A branch of 1,000 WETH at `price` against 100,000 BOLD: TCR = price / 100. */
const branch = (price: string, overrides: Partial<BranchState> = {}): BranchState & { price: bigint } => ({
  price: ratio(price),
  oracleFailure: false,
  entireColl: ratio('1000'),
  entireDebt: ratio('100000'),
  shutdown: false,
  activeRates: [ratio('0.05'), ratio('0.06')],
  lastZombieTroveId: 0n,
  ...overrides,
});
const trove = (rate: string, overrides: Partial<TroveData> = {}): TroveData => ({ troveId: 7n, status: 'active', entireDebt: ratio('2000'), entireColl: ratio('2'), annualInterestRate: ratio(rate), ...overrides });
const codes = (input: Parameters<typeof liquityConditions>[1]) => liquityConditions(market, input).map((condition) => [condition.code, condition.met]);

describe('Liquity v2 branch conditions', () => {
  it('a branch under its CCR is branch_below_ccr (warning); within 2 % above it stays open without opening; above that, nothing', () => {
    const below = liquityConditions(market, { troves: [trove('0.06')], branch: branch('149') });
    expect(below).toEqual([
      expect.objectContaining({ code: 'branch_below_ccr', severity: 'warning', met: true, facts: { branchCollateralRatio: '1.49', criticalCollateralRatio: '1.5' }, message: expect.stringContaining('149.00%, under its CCR of 150.00%') }),
    ]);
    expect(codes({ troves: [trove('0.06')], branch: branch('152.99') })).toEqual([['branch_below_ccr', false]]);
    expect(codes({ troves: [trove('0.06')], branch: branch('153') })).toEqual([]);
  });

  it('under the SCR it is also branch_below_scr (critical); after a shutdown both only hold open episodes, and redemption risk ends', () => {
    expect(liquityConditions(market, { troves: [trove('0.06')], branch: branch('105') }).map((condition) => [condition.code, condition.severity, condition.met])).toEqual([
      ['branch_below_ccr', 'warning', true],
      ['branch_below_scr', 'critical', true],
    ]);
    const shut = liquityConditions(market, { troves: [trove('0.01')], branch: branch('105', { shutdown: true, oracleFailure: true }) });
    expect(shut.map((condition) => [condition.code, condition.met])).toEqual([
      ['branch_below_ccr', false],
      ['branch_below_scr', false],
      ['branch_shutdown', true],
    ]);
    expect(shut[2]).toMatchObject({ severity: 'critical', facts: { branchShutdown: true, oracleFailure: true } });
    expect(codes({ troves: [trove('0.01')], branch: branch('2000', { shutdown: true }) })).toEqual([['branch_shutdown', true]]);
  });

  it('a branch without debt has no ratio to be under', () => {
    expect(codes({ troves: [trove('0.06')], branch: branch('1', { entireDebt: 0n }) })).toEqual([]);
  });

  it('the redemption front is the lowest 10 % of the active troves (at least rank 1); the episode ends past the lowest 15 %', () => {
    expect([1, 2, 9, 10, 11, 20, 100, 1234].map((troves) => redemptionFront(troves, REDEMPTION_FRONT_BPS))).toEqual([1, 1, 1, 1, 2, 2, 10, 124]);
    expect([1, 2, 20, 100].map((troves) => redemptionFront(troves, REDEMPTION_CLEAR_BPS))).toEqual([1, 1, 3, 15]);
  });

  it('redemption_risk: raised at rank 1 of 2, not at rank 2 of 2; on a branch of 20 troves rank 2 raises and rank 3 only holds', () => {
    expect(liquityConditions(market, { troves: [trove('0.04')], branch: branch('2000') })).toEqual([
      expect.objectContaining({ code: 'redemption_risk', severity: 'warning', met: true, facts: { troveId: `0x${'0'.repeat(63)}7`, interestRate: '0.04', redemptionRank: 1, branchTroves: 2, redemptionFront: 1 } }),
    ]);
    expect(codes({ troves: [trove('0.06')], branch: branch('2000') })).toEqual([]);
    const twenty = Array.from({ length: 20 }, (_, index) => ratio(String(0.01 + index / 100)));
    expect(codes({ troves: [trove('0.02')], branch: branch('2000', { activeRates: twenty }) })).toEqual([['redemption_risk', true]]);
    expect(codes({ troves: [trove('0.03')], branch: branch('2000', { activeRates: twenty }) })).toEqual([['redemption_risk', false]]);
    expect(codes({ troves: [trove('0.04')], branch: branch('2000', { activeRates: twenty }) })).toEqual([]);
  });

  it('an owner\'s troves: the one first in line is named; troves no longer active are not in line', () => {
    const safe = trove('0.2', { troveId: 1n });
    const cheap = trove('0.01', { troveId: 2n });
    expect(liquityConditions(market, { troves: [safe, cheap], branch: branch('2000') })[0]!.facts).toMatchObject({ troveId: `0x${'0'.repeat(63)}2`, redemptionRank: 1 });
    expect(codes({ troves: [trove('0.01', { status: 'closedByOwner' })], branch: branch('2000') })).toEqual([]);
  });

  it('the branch\'s last zombie trove is redemption_risk (met) whatever its rate, with facts saying why; any other zombie raises nothing', () => {
    const zombie = trove('0.2', { status: 'zombie', entireDebt: ratio('1000') });
    expect(liquityConditions(market, { troves: [zombie], branch: branch('2000', { lastZombieTroveId: 7n }) })).toEqual([
      expect.objectContaining({
        code: 'redemption_risk',
        severity: 'warning',
        met: true,
        facts: { troveId: `0x${'0'.repeat(63)}7`, troveStatus: 'zombie', nextRedeemedZombie: true, debt: '1000', interestRate: '0.2' },
        message: expect.stringContaining('last zombie trove'),
      }),
    ]);
    // Another trove is the last zombie: this one is out of the line, rate or not.
    expect(codes({ troves: [zombie], branch: branch('2000', { lastZombieTroveId: 8n }) })).toEqual([]);
    expect(codes({ troves: [trove('0.01', { status: 'zombie' })], branch: branch('2000', { lastZombieTroveId: 0n }) })).toEqual([]);
    // Adjusted back to active (the pointer reset): the rank rule again.
    expect(codes({ troves: [trove('0.2')], branch: branch('2000', { lastZombieTroveId: 0n }) })).toEqual([]);
  });

  it('an owner\'s last zombie trove is named before its trove at rank 1; after a shutdown it raises no redemption risk', () => {
    const cheap = trove('0.01', { troveId: 2n });
    const zombie = trove('0.3', { troveId: 3n, status: 'zombie', entireDebt: ratio('500') });
    expect(liquityConditions(market, { troves: [cheap, zombie], branch: branch('2000', { lastZombieTroveId: 3n }) })[0]!.facts).toMatchObject({ troveId: `0x${'0'.repeat(63)}3`, nextRedeemedZombie: true });
    expect(codes({ troves: [zombie], branch: branch('2000', { lastZombieTroveId: 3n, shutdown: true }) })).toEqual([['branch_shutdown', true]]);
  });
});
