import type { Address } from 'viem';
import { describe, expect, it } from 'vitest';
import type { AssetPosition } from '../../src/domain/position';
import { withCollateralSupplied, withDebtRepaid } from '../../src/domain/risk';
import { calibrationSchema } from '../../src/risk/calibration';
import calibrationJson from '../../src/risk/calibration.json';
import type { CovarianceMatrix } from '../../src/risk/ewma';
import { liquidationProbability24h, riskAssetsFromPositions, safeTopUp, type RiskMarket } from '../../src/risk/safe-top-up';

const USD = 10n ** 8n;
const WETH = '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2' as Address;
const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48' as Address;
const calibration = calibrationSchema.parse(calibrationJson);
// ETH at 0.0016 per day (76 %/yr); USDC is a stablecoin, held flat.
const covariance: CovarianceMatrix = { assets: [WETH.toLowerCase()], perDay: [[0.0016]], samples: 1000, from: 0, to: 0 };
const market: RiskMarket = { baseDecimals: 8, stable: new Set([USDC.toLowerCase()]), covariance, calibration };

/** 1 ETH at $2,000 (LT 82.5 %) against 1,500 USDC: HF 1.1, about 4.5 % 24 h liquidation risk at 76 %/yr. */
const account = (ethPrice: bigint | undefined): AssetPosition[] => [
  { asset: WETH, symbol: 'WETH', decimals: 18, price: ethPrice, collateral: 10n ** 18n, usedAsCollateral: true, debt: 0n, liquidationThresholdBps: 8250n, ltvBps: 8000n },
  { asset: USDC, symbol: 'USDC', decimals: 6, price: USD, collateral: 0n, usedAsCollateral: false, debt: 1500n * 10n ** 6n, liquidationThresholdBps: 8600n, ltvBps: 8100n },
];

describe('safe top-up', () => {
  it('converts domain balances to USD with the stablecoin flagged', () => {
    expect(riskAssetsFromPositions(account(2000n * USD), 8, market.stable)).toEqual([
      { id: WETH.toLowerCase(), collateralUsd: 2000, debtUsd: 0, liquidationThreshold: 0.825, stable: false },
      { id: USDC.toLowerCase(), collateralUsd: 0, debtUsd: 1500, liquidationThreshold: 0.86, stable: true },
    ]);
  });

  it('finds the smallest ETH supply that brings the 24 h liquidation probability to 1 % or less', () => {
    expect(liquidationProbability24h(account(2000n * USD), market)!).toBeGreaterThan(0.01);
    const result = safeTopUp(account(2000n * USD), { supply: WETH }, 0.01, market)!;
    expect(result.reachesTarget).toBe(true);
    const held = account(2000n * USD)[0]!;
    expect(liquidationProbability24h(withCollateralSupplied(account(2000n * USD), held, result.amount), market)!).toBeLessThanOrEqual(0.01);
    expect(liquidationProbability24h(withCollateralSupplied(account(2000n * USD), held, result.amount - 1n), market)!).toBeGreaterThan(0.01);
  });

  it('finds the smallest USDC repayment to the same target, and says when even the whole debt is not enough', () => {
    const result = safeTopUp(account(2000n * USD), { repay: USDC }, 0.01, market)!;
    expect(result.reachesTarget).toBe(true);
    expect(liquidationProbability24h(withDebtRepaid(account(2000n * USD), USDC, result.amount), market)!).toBeLessThanOrEqual(0.01);
    expect(liquidationProbability24h(withDebtRepaid(account(2000n * USD), USDC, result.amount - 1n), market)!).toBeGreaterThan(0.01);
    // The account owes no WETH: nothing to repay can reach the target.
    expect(safeTopUp(account(2000n * USD), { repay: WETH }, 0.01, market)).toEqual({ amount: 0n, reachesTarget: false });
  });

  it('answers 0 when already under the target, and null for an unknown price or volatility', () => {
    expect(safeTopUp(account(2000n * USD), { supply: WETH }, 0.99, market)).toEqual({ amount: 0n, reachesTarget: true });
    expect(safeTopUp(account(undefined), { supply: WETH }, 0.01, market)).toBeNull();
    expect(safeTopUp(account(2000n * USD), { supply: WETH }, 0.01, { ...market, covariance: null })).toBeNull();
  });
});
