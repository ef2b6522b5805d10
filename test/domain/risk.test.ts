import fc from 'fast-check';
import type { Address } from 'viem';
import { describe, expect, it } from 'vitest';
import { BPS, WAD, type AssetPosition } from '../../src/domain/position';
import {
  assetValueBase,
  decimalToWad,
  distanceToLiquidation,
  formatWad,
  healthFactor,
  healthFactorFromAssets,
  liquidationPrice,
  repayAmount,
  topUpAmount,
  withCollateralSupplied,
  withDebtRepaid,
  type CollateralAssetParams,
} from '../../src/domain/risk';

// Prices are Aave v3 style: USD with 8 decimals per whole token.
const USD = 10n ** 8n;
const WETH = '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2' as Address;
const WBTC = '0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599' as Address;
const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48' as Address;
const DAI = '0x6B175474E89094C44Da98b954EedeAC495271d0F' as Address;
const LINK = '0x514910771AF9Ca656af840dff83E8264EcF986CA' as Address;

function position(fields: Partial<AssetPosition> & Pick<AssetPosition, 'asset' | 'decimals'>): AssetPosition {
  return {
    symbol: '',
    price: USD,
    collateral: 0n,
    usedAsCollateral: false,
    debt: 0n,
    liquidationThresholdBps: 0n,
    ltvBps: 0n,
    ...fields,
  };
}

const wethCollateral = (amount: bigint, price = 2000n * USD) =>
  position({ asset: WETH, symbol: 'WETH', decimals: 18, price, collateral: amount, usedAsCollateral: true, liquidationThresholdBps: 8250n });
const wbtcCollateral = (amount: bigint, price = 60_000n * USD) =>
  position({ asset: WBTC, symbol: 'WBTC', decimals: 8, price, collateral: amount, usedAsCollateral: true, liquidationThresholdBps: 7800n });
const usdcDebt = (amount: bigint, price = USD) => position({ asset: USDC, symbol: 'USDC', decimals: 6, price, debt: amount });
const daiDebt = (amount: bigint, price = USD) => position({ asset: DAI, symbol: 'DAI', decimals: 18, price, debt: amount });

/** 10 WETH @ $2000 (LT 82.5%) against 10,000 USDC: the reference account, HF exactly 1.65. */
const referenceAccount = [wethCollateral(10n * 10n ** 18n), usdcDebt(10_000n * 10n ** 6n)];

function hfOf(assets: readonly AssetPosition[]): bigint | null | undefined {
  return healthFactorFromAssets(assets)?.healthFactor;
}

/** Null means no debt: infinite, above any target. */
function reaches(hf: bigint | null | undefined, target: bigint): boolean {
  if (hf === undefined) throw new Error('health factor unexpectedly undefined');
  return hf === null || hf >= target;
}

describe('assetValueBase', () => {
  it.each([
    // 10 WETH * 2000e8 / 1e18 = 20000e8
    { amount: 10n * 10n ** 18n, price: 2000n * USD, decimals: 18, expected: 20_000n * USD },
    // 0.5 WBTC = 5e7 sats; 5e7 * 60000e8 / 1e8 = 30000e8
    { amount: 5n * 10n ** 7n, price: 60_000n * USD, decimals: 8, expected: 30_000n * USD },
    // 1 micro-USDC at $0.9999: 1 * 99_990_000 / 1e6 = 99.99, floored to 99
    { amount: 1n, price: 99_990_000n, decimals: 6, expected: 99n },
    // dust below one base unit floors to 0: 1 wei * 2000e8 / 1e18
    { amount: 1n, price: 2000n * USD, decimals: 18, expected: 0n },
  ])('$amount units at $price with $decimals decimals → $expected', ({ amount, price, decimals, expected }) => {
    expect(assetValueBase(amount, price, decimals)).toBe(expected);
  });
});

describe('healthFactor (aggregate values)', () => {
  it.each([
    // 20000e8 * 8250 / 10000 = 16500e8; 16500e8 / 10000e8 = 1.65
    { collateral: 20_000n * USD, debt: 10_000n * USD, lt: 8250n, expected: 1_650_000_000_000_000_000n },
    // percentMul rounds half up: (1 * 5000 + 5000) / 10000 = 1, so HF = 1 / 1 (floor would give 0)
    { collateral: 1n, debt: 1n, lt: 5000n, expected: WAD },
    // wadDiv rounds half up: (2e18 + 3/2) / 3 = 666…666.67 → 666…667
    { collateral: 2n, debt: 3n, lt: 10_000n, expected: 666_666_666_666_666_667n },
    // no collateral, some debt: 0
    { collateral: 0n, debt: 5n, lt: 0n, expected: 0n },
  ])('C=$collateral D=$debt LT=$lt → $expected', ({ collateral, debt, lt, expected }) => {
    expect(healthFactor(collateral, debt, lt)).toBe(expected);
  });

  it('is null without debt', () => {
    expect(healthFactor(20_000n * USD, 0n, 8250n)).toBeNull();
    expect(healthFactor(0n, 0n, 0n)).toBeNull();
  });
});

describe('healthFactorFromAssets', () => {
  it('reference: 10 WETH @ $2000, LT 82.5%, 10,000 USDC debt → HF 1.65 exactly', () => {
    // collateral 20000e8, debt 10000e8 * 1 = 10000e8 (USDC: 1e10 units * 1e8 / 1e6), avgLT 8250
    expect(healthFactorFromAssets(referenceAccount)).toEqual({
      collateralBase: 20_000n * USD,
      debtBase: 10_000n * USD,
      liquidationThresholdBps: 8250n,
      healthFactor: 1_650_000_000_000_000_000n,
    });
  });

  it('mixed WETH + WBTC: weighted threshold is exact here', () => {
    // WETH 10 * 2000 = 20000e8 (LT 8250); WBTC 0.5 * 60000 = 30000e8 (LT 7800); total 50000e8
    // avgLT = (20000e8*8250 + 30000e8*7800) / 50000e8 = (1.65e16 + 2.34e16) / 5e12 = 7980
    // HF = 50000e8 * 0.798 / 25000e8 = 1.596
    const assets = [wethCollateral(10n * 10n ** 18n), wbtcCollateral(5n * 10n ** 7n), usdcDebt(25_000n * 10n ** 6n)];
    expect(healthFactorFromAssets(assets)).toEqual({
      collateralBase: 50_000n * USD,
      debtBase: 25_000n * USD,
      liquidationThresholdBps: 7980n,
      healthFactor: 1_596_000_000_000_000_000n,
    });
  });

  it('mixed with a floored average threshold and an 18-decimal debt at $0.9999', () => {
    // WETH 1 * 2000 = 2000e8 (LT 8250); WBTC 0.01 = 1e6 sats * 60000e8 / 1e8 = 600e8 (LT 7800)
    // avgLT = (2e11*8250 + 6e10*7800) / 2.6e11 = 2.118e15 / 2.6e11 = 8146.15… → 8146
    // DAI 1500e18 * 99_990_000 / 1e18 = 149_985_000_000
    // N = (2.6e11 * 8146 + 5000) / 10000 = 211_796_000_000
    // HF = (211_796_000_000e18 + 74_992_500_000) / 149_985_000_000 = 1_412_114_544_787_812_115 (floor)
    const assets = [wethCollateral(10n ** 18n), wbtcCollateral(10n ** 6n), daiDebt(1500n * 10n ** 18n, 99_990_000n)];
    expect(healthFactorFromAssets(assets)).toEqual({
      collateralBase: 2600n * USD,
      debtBase: 149_985_000_000n,
      liquidationThresholdBps: 8146n,
      healthFactor: 1_412_114_544_787_812_115n,
    });
  });

  it('is below 1 when under water: 20,000 USDC against the same WETH → 0.825', () => {
    expect(hfOf([wethCollateral(10n * 10n ** 18n), usdcDebt(20_000n * 10n ** 6n)])).toBe(825_000_000_000_000_000n);
  });

  it('skips collateral with a zero threshold entirely, as Aave v3.0.2 does (neither value nor weight)', () => {
    const link = position({ asset: LINK, decimals: 18, price: 15n * USD, collateral: 1000n * 10n ** 18n, usedAsCollateral: true });
    expect(healthFactorFromAssets([...referenceAccount, link])).toEqual(healthFactorFromAssets(referenceAccount));
  });

  it('ignores collateral not enabled, even with an unknown price', () => {
    const idle = position({ asset: LINK, decimals: 18, price: undefined, collateral: 10n ** 18n, liquidationThresholdBps: 7000n });
    expect(healthFactorFromAssets([...referenceAccount, idle])).toEqual(healthFactorFromAssets(referenceAccount));
  });

  it('reports null health factor without debt, and zeros for an empty account', () => {
    expect(healthFactorFromAssets([wethCollateral(10n ** 18n)])).toEqual({
      collateralBase: 2000n * USD,
      debtBase: 0n,
      liquidationThresholdBps: 8250n,
      healthFactor: null,
    });
    expect(healthFactorFromAssets([])).toEqual({ collateralBase: 0n, debtBase: 0n, liquidationThresholdBps: 0n, healthFactor: null });
  });

  it('is undefined when a counted balance has no price', () => {
    expect(healthFactorFromAssets([wethCollateral(10n ** 18n), { ...usdcDebt(1n), price: undefined }])).toBeUndefined();
    expect(healthFactorFromAssets([{ ...wethCollateral(10n ** 18n), price: undefined }, usdcDebt(1n)])).toBeUndefined();
  });
});

describe('distanceToLiquidation', () => {
  it.each([
    // 1 - 1/1.65 = 0.393939… floored at 18 decimals
    { hf: 1_650_000_000_000_000_000n, expected: 393_939_393_939_393_939n },
    // 1 - 1/2 = 0.5
    { hf: 2n * WAD, expected: WAD / 2n },
    { hf: WAD, expected: 0n },
    { hf: 825_000_000_000_000_000n, expected: 0n },
    { hf: 0n, expected: 0n },
  ])('HF $hf → $expected', ({ hf, expected }) => {
    expect(distanceToLiquidation(hf)).toBe(expected);
  });

  it('is null without debt', () => {
    expect(distanceToLiquidation(null)).toBeNull();
  });
});

describe('liquidationPrice', () => {
  it('collateral: WETH price where the reference account reaches HF 1, rounded up', () => {
    // P = 1e18 * (10000 * 10000e8 - 0) / (10e18 * 8250) = 1212.121212121212…e8 → ceil 121_212_121_213
    expect(liquidationPrice(referenceAccount, WETH)).toBe(121_212_121_213n);
  });

  it('debt: USDC price where the reference account reaches HF 1, rounded down', () => {
    // P = 1e6 * (20000e8 * 8250 - 0) / (10000 * 10000e6) = 1.65e8, exact
    expect(liquidationPrice(referenceAccount, USDC)).toBe(165_000_000n);
  });

  it('asset that is collateral and debt at once, net collateral: 10 WETH supplied, 5 WETH + 3000 DAI borrowed', () => {
    // exposure = 10e18 * 8250 - 10000 * 5e18 = 3.25e22; shortfall at 0 = 10000 * 3000e8 = 3e15
    // P = 1e18 * 3e15 / 3.25e22 = 92307.69…e6 → ceil 92_307_692_308 ($923.08)
    const assets = [{ ...wethCollateral(10n * 10n ** 18n), debt: 5n * 10n ** 18n }, daiDebt(3000n * 10n ** 18n)];
    expect(liquidationPrice(assets, WETH)).toBe(92_307_692_308n);
  });

  it('asset that is collateral and debt at once, net debt: liquidation when its price rises', () => {
    // 10 WETH supplied, 9 WETH borrowed, 10,000 USDC collateral at LT 87.5%
    // exposure = 10e18 * 8250 - 10000 * 9e18 = -7.5e21; rest weighted = 10000e8 * 8750 = 8.75e15
    // P = 1e18 * 8.75e15 / 7.5e21 = 1_166_666_666_666.67 → floor 1_166_666_666_666 ($11,666.67)
    const usdcCollateral = position({ asset: USDC, decimals: 6, collateral: 10_000n * 10n ** 6n, usedAsCollateral: true, liquidationThresholdBps: 8750n });
    const assets = [{ ...wethCollateral(10n * 10n ** 18n), debt: 9n * 10n ** 18n }, usdcCollateral];
    expect(liquidationPrice(assets, WETH)).toBe(1_166_666_666_666n);
  });

  it('is 0n for a debt when the rest of the account is already under water at any price', () => {
    // rest: 2000e8 * 8250 = 1.65e15 < 10000 * 2000e8 = 2e15
    const assets = [wethCollateral(10n ** 18n), daiDebt(2000n * 10n ** 18n), usdcDebt(100n * 10n ** 6n)];
    expect(liquidationPrice(assets, USDC)).toBe(0n);
  });

  it('is null when no price of the asset can liquidate the account', () => {
    expect(liquidationPrice([wethCollateral(10n ** 18n)], WETH)).toBeNull(); // no debt
    expect(liquidationPrice(referenceAccount, WBTC)).toBeNull(); // not held
    // WBTC alone covers the debt: no WETH price can liquidate (shortfall at WETH = 0 is negative)
    expect(liquidationPrice([...referenceAccount, wbtcCollateral(10n ** 8n)], WETH)).toBeNull();
    // held but not enabled as collateral, no debt in it: no exposure
    const idle = { ...wbtcCollateral(10n ** 8n), usedAsCollateral: false };
    expect(liquidationPrice([...referenceAccount, idle], WBTC)).toBeNull();
  });

  it('does not need the asset’s own price, but does need the others', () => {
    expect(liquidationPrice([{ ...wethCollateral(10n * 10n ** 18n), price: undefined }, usdcDebt(10_000n * 10n ** 6n)], WETH)).toBe(
      121_212_121_213n,
    );
    expect(liquidationPrice([wethCollateral(10n * 10n ** 18n), { ...usdcDebt(10_000n * 10n ** 6n), price: undefined }], WETH)).toBeUndefined();
  });

  it('matches addresses regardless of case', () => {
    expect(liquidationPrice(referenceAccount, WETH.toLowerCase() as Address)).toBe(121_212_121_213n);
  });
});

describe('topUpAmount', () => {
  const two = 2n * WAD;

  it('reference account to HF 2 with more WETH', () => {
    // N_min = ceil(1e12 * (4e18 - 1) / 2e18) = 2e12; need C * 8250 >= 2e16 - 5000
    // C >= ceil((2e16 - 5000) / 8250) = 2_424_242_424_242; x = ceil(C * 1e18 / 2000e8) - 10e18
    //   = 12_121_212_121_210_000_000 - 10e18 = 2_121_212_121_210_000_000 (2.12121212121 WETH)
    expect(topUpAmount(referenceAccount, WETH, two)).toEqual({ amount: 2_121_212_121_210_000_000n, reachesTarget: true });
  });

  it('with a new asset the account does not hold yet (lower threshold drags the floored average)', () => {
    // The real-number estimate is 7_478_633 sats; the floored avgLT makes Aave need 7_481_328
    // (found by an independent brute-force scan: HF(7_481_328) = 2.000000034656, HF(7_481_327) = 1.999999985654).
    const wbtc: CollateralAssetParams = { asset: WBTC, decimals: 8, price: 60_000n * USD, liquidationThresholdBps: 7800n };
    expect(topUpAmount(referenceAccount, wbtc, two)).toEqual({ amount: 7_481_328n, reachesTarget: true });
    expect(hfOf(withCollateralSupplied(referenceAccount, wbtc, 7_481_328n))).toBe(2_000_000_034_656_000_000n);
  });

  it('is 0n when already at or above the target, or without debt', () => {
    expect(topUpAmount(referenceAccount, WETH, 1_650_000_000_000_000_000n)).toEqual({ amount: 0n, reachesTarget: true });
    expect(topUpAmount([wethCollateral(10n ** 18n)], WETH, two)).toEqual({ amount: 0n, reachesTarget: true });
  });

  it('is undefined when the asset cannot help or a price is unknown', () => {
    const zeroThreshold: CollateralAssetParams = { asset: LINK, decimals: 18, price: 15n * USD, liquidationThresholdBps: 0n };
    expect(topUpAmount(referenceAccount, zeroThreshold, two)).toBeUndefined();
    expect(topUpAmount(referenceAccount, { ...zeroThreshold, liquidationThresholdBps: 7000n, price: undefined }, two)).toBeUndefined();
    expect(topUpAmount(referenceAccount, LINK, two)).toBeUndefined(); // address of an asset not held, no parameters
    expect(topUpAmount([wethCollateral(10n ** 18n), { ...usdcDebt(1n), price: undefined }], WETH, two)).toBeUndefined();
  });
});

describe('repayAmount', () => {
  const two = 2n * WAD;

  it('reference account to HF 2 by repaying USDC', () => {
    // D_max = floor(2 * 16500e8 * 1e18 / (4e18 - 1)) = 8250e8; remaining <= floor(((8250e8 + 1) * 1e6 - 1) / 1e8) = 8250e6
    // repay 10000e6 - 8250e6 = 1750e6 (1,750 USDC)
    expect(repayAmount(referenceAccount, USDC, two)).toEqual({ amount: 1750n * 10n ** 6n, reachesTarget: true });
  });

  it('returns the whole debt, flagged, when repaying all of it falls short', () => {
    // 16500e8 / 9000e8 = 1.83 < 2 even with the 1,000 USDC gone
    const assets = [wethCollateral(10n * 10n ** 18n), daiDebt(9000n * 10n ** 18n), usdcDebt(1000n * 10n ** 6n)];
    expect(repayAmount(assets, USDC, two)).toEqual({ amount: 1000n * 10n ** 6n, reachesTarget: false });
  });

  it('repaying a debt down to dust whose value floors to zero leaves no debt (HF infinite)', () => {
    // 1 WETH wei of collateral is worth 0 base units, so only a debt worth 0 base units can meet the target.
    // 1e-8 USDC does not exist; 1 micro-USDC at $0.01 = 1e6 base / 1e6 → value 1; at $0.000099 (9_900) → 0.
    const assets = [usdcDebt(5n * 10n ** 6n, 9_900n)];
    // remaining <= floor(((0 + 1) * 1e6 - 1) / 9900) = 101 micro-USDC, repay 5_000_000 - 101
    expect(repayAmount(assets, USDC, two)).toEqual({ amount: 4_999_899n, reachesTarget: true });
    expect(hfOf(withDebtRepaid(assets, USDC, 4_999_899n))).toBeNull();
  });

  it('is 0n when already at the target or without debt, and flags an asset not owed', () => {
    expect(repayAmount(referenceAccount, USDC, WAD)).toEqual({ amount: 0n, reachesTarget: true });
    expect(repayAmount([wethCollateral(10n ** 18n)], USDC, two)).toEqual({ amount: 0n, reachesTarget: true });
    expect(repayAmount(referenceAccount, DAI, two)).toEqual({ amount: 0n, reachesTarget: false });
  });

  it('is undefined when a price is unknown', () => {
    expect(repayAmount([wethCollateral(10n ** 18n), { ...usdcDebt(10n ** 6n), price: undefined }], USDC, two)).toBeUndefined();
  });
});

describe('decimalToWad', () => {
  it.each([
    { input: '1.5', expected: 1_500_000_000_000_000_000n },
    { input: 1.5, expected: 1_500_000_000_000_000_000n },
    { input: '2', expected: 2n * WAD },
    { input: 0.1, expected: WAD / 10n }, // via "0.1", not the binary 0.1000000000000000055…
    { input: 1e-7, expected: 100_000_000_000n }, // String gives "1e-7"
    { input: 1.5e21, expected: 1_500n * 10n ** 18n * 10n ** 18n },
    { input: ' 1.000000000000000000000 ', expected: WAD },
    { input: '0.000000000000000001', expected: 1n },
    { input: '-1.25', expected: -1_250_000_000_000_000_000n },
  ])('$input → $expected', ({ input, expected }) => {
    expect(decimalToWad(input)).toBe(expected);
  });

  it.each(['0.0000000000000000001', 'abc', '1.2.3', '', '1e5', Number.NaN, Number.POSITIVE_INFINITY])('rejects %s', (input) => {
    expect(() => decimalToWad(input)).toThrow(RangeError);
  });
});

describe('formatWad', () => {
  it.each([
    { value: 1_650_000_000_000_000_000n, digits: 4, expected: '1.6500' },
    { value: 1_203_499_999_999_999_999n, digits: 4, expected: '1.2034' },
    { value: 1_999_999_999_999_999_999n, digits: 2, expected: '1.99' }, // never rounds up to "2.00"
    { value: 1_999_999_999_999_999_999n, digits: 0, expected: '1' },
    { value: 0n, digits: 4, expected: '0.0000' },
    { value: 12n * WAD, digits: 1, expected: '12.0' },
    { value: -1_234_560_000_000_000_000n, digits: 4, expected: '-1.2346' }, // floor, not toward zero
  ])('$value with $digits digits → $expected', ({ value, digits, expected }) => {
    expect(formatWad(value, digits)).toBe(expected);
  });

  it('defaults to 4 digits and shows no debt as infinity', () => {
    expect(formatWad(1_412_114_544_787_812_115n)).toBe('1.4121');
    expect(formatWad(null)).toBe('∞');
  });
});

// ---- properties ----

const address = (index: number): Address => `0x${(index + 1).toString(16).padStart(40, '0')}`;

/** Token amount between 0 and 100,000 whole tokens, with arbitrary low digits for 18-decimal tokens. */
function tokenAmountArb(decimals: number, maxWhole = 100_000n): fc.Arbitrary<bigint> {
  const unit = 10n ** BigInt(decimals);
  return fc.bigInt({ min: 0n, max: maxWhole * unit });
}

type AssetSpec = { decimals: number; price: bigint; collateral: bigint; debt: bigint; usedAsCollateral: boolean; lt: bigint };

const assetSpecArb: fc.Arbitrary<AssetSpec> = fc.constantFrom(6, 8, 18).chain((decimals) =>
  fc.record({
    decimals: fc.constant(decimals),
    price: fc.bigInt({ min: 10n ** 6n, max: 10n ** 12n }), // $0.01 … $10,000
    collateral: fc.oneof(fc.constant(0n), tokenAmountArb(decimals)),
    debt: fc.oneof(fc.constant(0n), fc.constant(0n), tokenAmountArb(decimals, 20_000n)),
    usedAsCollateral: fc.boolean(),
    lt: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 9500n })),
  }),
);

function toPositions(specs: readonly AssetSpec[], firstIndex = 0): AssetPosition[] {
  return specs.map((spec, index) =>
    position({
      asset: address(firstIndex + index),
      decimals: spec.decimals,
      price: spec.price,
      collateral: spec.collateral,
      debt: spec.debt,
      usedAsCollateral: spec.usedAsCollateral,
      liquidationThresholdBps: spec.lt,
    }),
  );
}

const accountArb = fc.array(assetSpecArb, { minLength: 1, maxLength: 4 }).map((specs) => toPositions(specs));
/** Target health factors between 1.0 and 4.0 with arbitrary low digits. */
const targetArb = fc.bigInt({ min: WAD, max: 4n * WAD });

describe('properties', () => {
  it('(a) topUpAmount reaches the target and no smaller amount does', () => {
    const newAssetArb = fc.record({
      decimals: fc.constantFrom(6, 8, 18),
      price: fc.bigInt({ min: 10n ** 6n, max: 10n ** 12n }),
      lt: fc.bigInt({ min: 1n, max: 9500n }),
    });
    fc.assert(
      fc.property(accountArb, fc.nat(), newAssetArb, targetArb, fc.bigInt({ min: 0n, max: WAD }), (assets, pick, fresh, target, probe) => {
        const current = hfOf(assets);
        fc.pre(current !== undefined && current !== null);
        const eligible = assets.filter((asset) => asset.liquidationThresholdBps > 0n);
        const collateral: CollateralAssetParams =
          eligible.length > 0 && pick % 3 !== 0
            ? (eligible[pick % eligible.length] as AssetPosition)
            : { asset: address(99), decimals: fresh.decimals, price: fresh.price, liquidationThresholdBps: fresh.lt };
        const result = topUpAmount(assets, collateral, target);
        expect(result?.reachesTarget).toBe(true);
        const amount = result?.amount ?? 0n;
        const hfAfter = (supplied: bigint) => hfOf(withCollateralSupplied(assets, collateral, supplied));
        expect(reaches(hfAfter(amount), target)).toBe(true);
        if (amount > 0n) {
          expect(reaches(hfAfter(amount - 1n), target)).toBe(false);
          // Global minimality, sampled: a smaller amount falls short too (HF is not monotone under Aave's rounding).
          const smaller = (amount * probe) / WAD;
          if (smaller < amount) expect(reaches(hfAfter(smaller), target)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('(a′) topUpAmount equals a brute-force scan on tiny accounts where the floored average jumps often', () => {
    const tinyAssetArb = fc.record({
      decimals: fc.integer({ min: 0, max: 2 }),
      price: fc.bigInt({ min: 1n, max: 500n }),
      collateral: fc.bigInt({ min: 0n, max: 300n }),
      debt: fc.bigInt({ min: 0n, max: 300n }),
      usedAsCollateral: fc.boolean(),
      lt: fc.bigInt({ min: 0n, max: 10_000n }),
    });
    fc.assert(
      fc.property(fc.array(tinyAssetArb, { minLength: 1, maxLength: 3 }), tinyAssetArb, fc.nat(), targetArb, (specs, fresh, pick, target) => {
        const assets = toPositions(specs);
        fc.pre(typeof hfOf(assets) === 'bigint');
        const eligible = assets.filter((asset) => asset.liquidationThresholdBps > 0n);
        const collateral: CollateralAssetParams =
          eligible.length > 0 && pick % 2 === 0
            ? (eligible[pick % eligible.length] as AssetPosition)
            : { asset: address(99), decimals: fresh.decimals, price: fresh.price, liquidationThresholdBps: fresh.lt };
        const result = topUpAmount(assets, collateral, target);
        if (collateral.liquidationThresholdBps === 0n || collateral.price === 0n) {
          expect(result).toBeUndefined();
          return;
        }
        const amount = result?.amount ?? -1n;
        fc.pre(amount <= 20_000n);
        let first = 0n;
        while (!reaches(hfOf(withCollateralSupplied(assets, collateral, first)), target)) first += 1n;
        expect(amount).toBe(first);
      }),
      { numRuns: 300 },
    );
  });

  it('(b) repayAmount reaches the target and no smaller amount does, or repays everything and says so', () => {
    fc.assert(
      fc.property(accountArb, fc.nat(), targetArb, (assets, pick, target) => {
        const current = hfOf(assets);
        fc.pre(current !== undefined && current !== null);
        const debts = assets.filter((asset) => asset.debt > 0n);
        const debt = debts[pick % debts.length] as AssetPosition;
        const result = repayAmount(assets, debt.asset, target);
        expect(result).toBeDefined();
        const { amount, reachesTarget } = result ?? { amount: -1n, reachesTarget: false };
        expect(amount >= 0n && amount <= debt.debt).toBe(true);
        const hfAfter = (repaid: bigint) => hfOf(withDebtRepaid(assets, debt.asset, repaid));
        expect(reaches(hfAfter(amount), target)).toBe(reachesTarget);
        if (reachesTarget && amount > 0n) expect(reaches(hfAfter(amount - 1n), target)).toBe(false);
        if (!reachesTarget) expect(amount).toBe(debt.debt);
      }),
      { numRuns: 500 },
    );
  });

  it('(b′) repayAmount equals a brute-force scan on tiny accounts', () => {
    const tinyAssetArb = fc.record({
      decimals: fc.integer({ min: 0, max: 2 }),
      price: fc.bigInt({ min: 0n, max: 500n }),
      collateral: fc.bigInt({ min: 0n, max: 300n }),
      debt: fc.bigInt({ min: 0n, max: 300n }),
      usedAsCollateral: fc.boolean(),
      lt: fc.bigInt({ min: 0n, max: 10_000n }),
    });
    fc.assert(
      fc.property(fc.array(tinyAssetArb, { minLength: 1, maxLength: 3 }), targetArb, (specs, target) => {
        const assets = toPositions(specs);
        fc.pre(typeof hfOf(assets) === 'bigint');
        const debt = assets.filter((asset) => asset.debt > 0n)[0] as AssetPosition;
        const result = repayAmount(assets, debt.asset, target);
        let first = 0n;
        while (first <= debt.debt && !reaches(hfOf(withDebtRepaid(assets, debt.asset, first)), target)) first += 1n;
        const expected = first <= debt.debt ? { amount: first, reachesTarget: true } : { amount: debt.debt, reachesTarget: false };
        expect(result).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  /** Collateral-only and debt-only assets with values of at least $1, so per-asset floors are tiny next to each value. */
  const collateralSpecArb = fc.constantFrom(6, 8, 18).chain((decimals) =>
    fc.record({
      decimals: fc.constant(decimals),
      price: fc.bigInt({ min: 10n ** 8n, max: 10n ** 12n }),
      collateral: fc.bigInt({ min: 10n ** BigInt(decimals), max: 100_000n * 10n ** BigInt(decimals) }),
      debt: fc.constant(0n),
      usedAsCollateral: fc.constant(true),
      lt: fc.bigInt({ min: 1000n, max: 9500n }),
    }),
  );
  const debtSpecArb = fc.constantFrom(6, 8, 18).chain((decimals) =>
    fc.record({
      decimals: fc.constant(decimals),
      price: fc.bigInt({ min: 10n ** 8n, max: 10n ** 12n }),
      collateral: fc.constant(0n),
      debt: fc.bigInt({ min: 10n ** BigInt(decimals), max: 100_000n * 10n ** BigInt(decimals) }),
      usedAsCollateral: fc.constant(false),
      lt: fc.constant(0n),
    }),
  );

  it('(c) scaling every collateral price by (1 - distance) brings HF to 1 within rounding', () => {
    fc.assert(
      fc.property(
        fc.array(collateralSpecArb, { minLength: 1, maxLength: 3 }),
        fc.array(debtSpecArb, { minLength: 1, maxLength: 2 }),
        (collateralSpecs, debtSpecs) => {
          const assets = [...toPositions(collateralSpecs), ...toPositions(debtSpecs, 10)];
          const before = healthFactorFromAssets(assets);
          const hf = before?.healthFactor;
          fc.pre(typeof hf === 'bigint' && hf > WAD);
          const distance = distanceToLiquidation(hf ?? null) ?? 0n;
          const keep = WAD - distance;
          const scaled = assets.map((asset) => (asset.collateral > 0n ? { ...asset, price: ((asset.price ?? 0n) * keep) / WAD } : asset));
          const after = healthFactorFromAssets(scaled);
          const hfAfter = after?.healthFactor ?? 0n;
          const threshold = before?.liquidationThresholdBps ?? 1n;
          const adjustedBefore = (before!.collateralBase * threshold) / BPS;
          const adjustedAfter = (after!.collateralBase * (after?.liquidationThresholdBps ?? 1n)) / BPS;
          // Flooring each scaled price and value loses at most (whole tokens + 1) base units per asset.
          const flooringLoss = scaled
            .filter((asset) => asset.collateral > 0n)
            .reduce((sum, asset) => sum + asset.collateral / 10n ** BigInt(asset.decimals) + 2n, 0n);
          // Tolerance, relative to 1: the floored average threshold can land 1 bps either side of
          // its old value (1/avgLT); value flooring (flooringLoss / collateral); half-unit roundings
          // in percentMul before and after (1/N each); doubled for second-order cross terms; plus wei.
          const tolerance =
            WAD / threshold +
            (2n * WAD * flooringLoss) / after!.collateralBase +
            (2n * WAD) / adjustedBefore +
            (2n * WAD) / adjustedAfter +
            10n;
          expect(hfAfter - WAD <= tolerance && WAD - hfAfter <= tolerance).toBe(true);
          // With a single collateral threshold the average cannot move, so HF lands far closer.
          if (new Set(collateralSpecs.map((spec) => spec.lt)).size === 1) {
            expect(hfAfter - WAD <= tolerance - WAD / threshold && WAD - hfAfter <= tolerance - WAD / threshold).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('(d) liquidationPrice is the boundary: the real-number equation holds there, Aave’s HF is ~1, and a rounding band away it is clearly on either side', () => {
    const subjectArb = fc.oneof(collateralSpecArb.filter((spec) => spec.lt >= 2n), debtSpecArb);
    fc.assert(
      fc.property(
        fc.array(collateralSpecArb, { minLength: 0, maxLength: 3 }),
        fc.array(debtSpecArb, { minLength: 0, maxLength: 2 }),
        subjectArb,
        (collateralSpecs, debtSpecs, subjectSpec) => {
          const rest = [...toPositions(collateralSpecs), ...toPositions(debtSpecs, 10)];
          const [subject] = toPositions([subjectSpec], 20) as [AssetPosition];
          const assets = [...rest, subject];
          const price = liquidationPrice(assets, subject.asset);
          const restSums = healthFactorFromAssets(rest)!;
          const unit = 10n ** BigInt(subject.decimals);
          const isCollateral = subject.collateral > 0n;
          // Σ C_j·LT_j of the rest, recomputed here: the account's average threshold is floored.
          const exactRestWeighted = rest.reduce(
            (sum, asset) => sum + assetValueBase(asset.collateral, asset.price ?? 0n, asset.decimals) * asset.liquidationThresholdBps,
            0n,
          );
          const shortfall = BPS * restSums.debtBase - exactRestWeighted;
          if (isCollateral ? shortfall <= 0n : shortfall > 0n) {
            expect(price).toBe(isCollateral ? null : 0n);
            return;
          }
          expect(typeof price).toBe('bigint');
          const p = price as bigint;
          const exposure = isCollateral ? subject.collateral * subject.liquidationThresholdBps : -BPS * subject.debt;
          const magnitude = exposure < 0n ? -exposure : exposure;
          // (d1) Residual of the exact equation, times u: on the safe side and within one price unit.
          const residual = (price: bigint) => unit * exactRestWeighted + exposure * price - BPS * unit * restSums.debtBase;
          expect(residual(p) >= 0n && residual(p) < magnitude).toBe(true);

          const hfAt = (candidate: bigint) => {
            const risk = healthFactorFromAssets([...rest, { ...subject, price: candidate }])!;
            // No debt at that price (a lone debt priced at 0): infinitely healthy.
            return { hf: risk.healthFactor ?? WAD * WAD, debt: risk.debtBase };
          };
          // (d2) Aave HF at the price: at most a hair above 1. B(N − D) < residual/u + 1.5B, so
          // HF ≤ WAD + WAD·(|exposure|/(u·B) + 2)/D + 1. It may sit below 1 by the floored-average band.
          const atPrice = hfAt(p);
          if (atPrice.debt > 0n) expect(atPrice.hf <= WAD + (WAD * (magnitude / (unit * BPS) + 2n)) / atPrice.debt + 1n).toBe(true);

          // (d3) Toward danger by δ′ = 1 + ⌈2.5·B·u/|exposure|⌉ the residual is ≤ −2.5B, so N ≤ D − 1 and HF < 1.
          const dangerStep = 1n + (5n * BPS * unit + 2n * magnitude - 1n) / (2n * magnitude);
          const dangerPrice = isCollateral ? p - dangerStep : p + dangerStep;
          if (dangerPrice >= 0n) expect(hfAt(dangerPrice).hf < WAD).toBe(true);

          // (d4) Toward safety by δ the worst-case Aave shortfall (floored average costs up to C,
          // the subject's value floor up to LT_i) is covered with B to spare, so N ≥ D + 1 and HF > 1.
          // Collateral: δ(|exposure| − a) ≥ u(LT_i + C_rest + 1.5B) + a·P, as C grows with the price.
          // Debt: δ·B·b ≥ u(C + 1.5B).
          const safetyStep = isCollateral
            ? ceil(
                unit * (subject.liquidationThresholdBps + restSums.collateralBase) + (3n * BPS * unit) / 2n + 1n + subject.collateral * p,
                magnitude - subject.collateral,
              )
            : ceil(unit * (2n * restSums.collateralBase + 3n * BPS), 2n * magnitude);
          const safePrice = isCollateral ? p + safetyStep : p - safetyStep;
          if (safePrice >= 0n) expect(hfAt(safePrice).hf > WAD).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('with known prices nothing is undefined, and without debt everything is null or zero', () => {
    fc.assert(
      fc.property(accountArb, targetArb, (assets, target) => {
        const risk = healthFactorFromAssets(assets);
        expect(risk).toBeDefined();
        const noDebt = assets.map((asset) => ({ ...asset, debt: 0n }));
        expect(hfOf(noDebt)).toBeNull();
        expect(distanceToLiquidation(hfOf(noDebt) ?? null)).toBeNull();
        for (const asset of noDebt) {
          expect(liquidationPrice(noDebt, asset.asset)).toBeNull();
          expect(repayAmount(noDebt, asset.asset, target)).toEqual({ amount: 0n, reachesTarget: true });
          if (asset.liquidationThresholdBps > 0n) expect(topUpAmount(noDebt, asset.asset, target)).toEqual({ amount: 0n, reachesTarget: true });
        }
      }),
      { numRuns: 200 },
    );
  });
});

function ceil(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}
