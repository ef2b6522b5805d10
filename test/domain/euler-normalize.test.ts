import { describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { liquidationCostByRule } from '../../src/risk/liquidation-cost';
import { eulerSnapshot, maxLiquidationGainBps, riskiestSubAccount, subAccountGroup, subAccountIndex, type EulerMarket, type SubAccountLiquidity } from '../../src/protocols/euler-v2/normalize';

/* Euler v2's pure steps: sub-account addresses, the riskiest sub-account, the snapshot from the vault's weighted values. */

const E18 = 10n ** 18n;
const OWNER: Address = '0x1111111111111111111111111111111111111100';
const WETH_VAULT: Address = '0x2222222222222222222222222222222222222222';
const UNKNOWN_VAULT: Address = '0x3333333333333333333333333333333333333333';
const market: EulerMarket = {
  chainId: 1,
  evc: '0x0C9a3dd6b8F28529d72d7f9cE918D493519EE383',
  vault: '0x4444444444444444444444444444444444444444',
  asset: { asset: '0x5555555555555555555555555555555555555555', symbol: 'USDC', decimals: 6 },
  oracle: '0x6666666666666666666666666666666666666666',
  unitOfAccount: '0x0000000000000000000000000000000000000348',
  unitDecimals: 18,
  unitSymbol: 'USD',
  quoteIsUsd: true,
  collaterals: [{ asset: WETH_VAULT, symbol: 'eWETH-1', decimals: 18 }],
  maxLiquidationDiscountBps: 1500n,
};
const ltvs = new Map([[WETH_VAULT.toLowerCase(), { liquidationBps: 8300n, borrowBps: 8000n }]]);
const block = { number: 100n, timestamp: 1_700_000_000n };

function sub(index: number, weighted: bigint, liability: bigint, collateral: Address = WETH_VAULT): SubAccountLiquidity {
  return { index, account: subAccountGroup(OWNER)[index]!, collaterals: [collateral], collateralValues: [weighted], liabilityValue: liability };
}

describe('Euler v2 sub-accounts', () => {
  it('an owner\'s group is 256 distinct addresses sharing its 19-byte prefix, the owner first, each with its index', () => {
    const group = subAccountGroup(OWNER);
    expect(group).toHaveLength(256);
    expect(new Set(group).size).toBe(256);
    expect(group[0]).toBe(OWNER);
    expect(group[255]).toBe('0x11111111111111111111111111111111111111FF');
    expect(group.every((account) => account.toLowerCase().startsWith(OWNER.slice(0, 40).toLowerCase()))).toBe(true);
    expect(group.map((account) => subAccountIndex(OWNER, account))).toEqual(Array.from({ length: 256 }, (_, index) => index));
  });

  it('the riskiest sub-account is the one with the lowest health factor, the lower index on a tie, never one without debt', () => {
    expect(riskiestSubAccount([sub(0, 2000n * E18, 1000n * E18), sub(4, 1300n * E18, 1000n * E18), sub(7, 5n * E18, 0n)])?.index).toBe(4);
    expect(riskiestSubAccount([sub(9, 1300n * E18, 1000n * E18), sub(2, 1300n * E18, 1000n * E18)])?.index).toBe(2);
    expect(riskiestSubAccount([sub(1, 5n * E18, 0n)])).toBeUndefined();
  });
});

describe('Euler v2 snapshot', () => {
  it('an owner\'s snapshot is its riskiest sub-account\'s (values before weighting, LTVs from the weights) and lists every sub-account with debt', () => {
    // Sub-account 3: $10,000 of WETH × 0.83 = 8,300 weighted against $5,000: HF 1.66.
    const snapshot = eulerSnapshot(market, { watched: OWNER, owner: OWNER, subAccounts: [sub(0, 16_600n * E18, 5_000n * E18), sub(3, 8_300n * E18, 5_000n * E18), sub(5, 830n * E18, 0n)], ltvs, block });
    expect(snapshot).toMatchObject({
      protocol: 'euler-v2',
      account: subAccountGroup(OWNER)[3],
      baseDecimals: 18,
      baseUsdPrice: E18,
      collateralBase: 10_000n * E18,
      debtBase: 5_000n * E18,
      liquidationThresholdBps: 8300n,
      ltvBps: 8000n,
      healthFactor: 166n * 10n ** 16n,
    });
    expect(typeof snapshot !== 'string' && snapshot.subPositions?.map((position) => [position.id, position.healthFactor, position.collateralBase])).toEqual([
      ['0', 332n * 10n ** 16n, 20_000n * E18],
      ['3', 166n * 10n ** 16n, 10_000n * E18],
    ]);
  });

  it('a vault whose unit of account is WETH has no USD of its own and names WETH for the owner\'s USD feed', () => {
    const weth: Address = '0x7777777777777777777777777777777777777777';
    const inWeth: EulerMarket = { ...market, asset: { asset: weth, symbol: 'WETH', decimals: 18 }, unitOfAccount: weth, unitSymbol: 'WETH', quoteIsUsd: false };
    const snapshot = eulerSnapshot(inWeth, { watched: OWNER, owner: OWNER, subAccounts: [sub(3, 8_300n * E18, 5_000n * E18)], ltvs, block });
    expect(typeof snapshot !== 'string' && [snapshot.baseUsdPrice, snapshot.valueUnit]).toEqual([undefined, { token: weth, symbol: 'WETH', perToken: E18 }]);
    const usd = eulerSnapshot(market, { watched: OWNER, owner: OWNER, subAccounts: [sub(3, 8_300n * E18, 5_000n * E18)], ltvs, block });
    expect(usd).not.toHaveProperty('valueUnit');
  });

  it('a single sub-account\'s snapshot has no sub-positions; one without debt has no health factor', () => {
    const three = subAccountGroup(OWNER)[3]!;
    const single = eulerSnapshot(market, { watched: three, owner: OWNER, subAccounts: [sub(3, 8_300n * E18, 5_000n * E18)], ltvs, block });
    expect(single).toMatchObject({ account: three, healthFactor: 166n * 10n ** 16n });
    expect(typeof single !== 'string' && single.subPositions).toBeUndefined();
    expect(eulerSnapshot(market, { watched: OWNER, owner: null, subAccounts: [], ltvs, block })).toMatchObject({ account: OWNER, healthFactor: null, collateralBase: 0n, debtBase: 0n });
  });

  it('the health factor is floored, so it is below 1 exactly when the weighted collateral is below the liability', () => {
    const at = (weighted: bigint) => eulerSnapshot(market, { watched: OWNER, owner: OWNER, subAccounts: [sub(0, weighted, 3n * E18)], ltvs, block });
    expect(at(3n * E18)).toMatchObject({ healthFactor: E18 });
    expect(at(3n * E18 - 1n)).toMatchObject({ healthFactor: E18 - 1n });
  });

  it('a collateral the market\'s facts do not know is an error, not a guess', () => {
    expect(eulerSnapshot(market, { watched: OWNER, owner: OWNER, subAccounts: [sub(0, 100n * E18, 50n * E18, UNKNOWN_VAULT)], ltvs, block })).toContain(UNKNOWN_VAULT);
  });

  it('the liquidator\'s most gain is discount ÷ (1 − discount): 15% off is 17.64% on what it repays', () => {
    expect([0n, 1500n, 2000n, 10_000n].map(maxLiquidationGainBps)).toEqual([0n, 1764n, 2500n, 99_990_000n]);
  });

  it('the risk engine costs an Euler liquidation like Morpho\'s: all of the debt repaid, the collateral seized at the capped gain', () => {
    const cost = liquidationCostByRule('euler-v2', { collaterals: [{ asset: WETH_VAULT, value: 10_000, penaltyBps: 1764 }], debt: 5_000, healthFactor: 0.95 })!;
    expect(cost.debtRepaid).toBe(5_000);
    expect(cost.collateralSeized).toBeCloseTo(5_882, 0);
    expect(cost.cost).toBeCloseTo(882, 0);
  });
});
