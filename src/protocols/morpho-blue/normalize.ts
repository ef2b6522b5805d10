import type { Address, Hex } from 'viem';
import type { AssetPosition, PositionSnapshot } from '../../domain/position';
import type { TokenInfo } from '../read-types';
import { countedInToken } from '../../domain/usd-unit';

/*
 * Morpho Blue positions in the shared model, pure, with Morpho's own integer steps: the
 * market's borrow total accrued to the block (wTaylorCompounded, as accrueInterest stores
 * it), shares to assets rounded up, and healthy iff
 *   collateral × price / 1e36 × lltv ≥ borrowed.
 * Values are in the loan token (Morpho's oracle prices collateral in loan-token units), so
 * USD figures are unknown (null) unless the loan token's USD price is known elsewhere.
 */

export const MORPHO_BLUE = 'morpho-blue';
const WAD = 10n ** 18n;
const ORACLE_PRICE_SCALE = 10n ** 36n;
const VIRTUAL_SHARES = 10n ** 6n;
const VIRTUAL_ASSETS = 1n;

export type MorphoToken = TokenInfo;
export type MorphoParams = { loanToken: Address; collateralToken: Address; oracle: Address; irm: Address; lltv: bigint };
export type MorphoMarket = { chainId: number; morpho: Address; id: Hex; params: MorphoParams; loan: MorphoToken; collateral: MorphoToken };
export type MorphoMarketState = { totalSupplyAssets: bigint; totalSupplyShares: bigint; totalBorrowAssets: bigint; totalBorrowShares: bigint; lastUpdate: bigint; fee: bigint };
export type MorphoPosition = { borrowShares: bigint; collateral: bigint };

function mulDivDown(x: bigint, y: bigint, d: bigint): bigint {
  return (x * y) / d;
}

function mulDivUp(x: bigint, y: bigint, d: bigint): bigint {
  return (x * y + (d - 1n)) / d;
}

/** Morpho's liquidation incentive factor LIF = min(1.15, 1 / (1 − 0.3 × (1 − LLTV))), in basis points (rounded down). */
export function liquidationIncentiveBps(lltv: bigint): bigint {
  const cursor = 3n * 10n ** 17n; // 0.3
  const denominator = WAD - (cursor * (WAD - lltv)) / WAD;
  const factor = (WAD * WAD) / denominator;
  const max = 115n * 10n ** 16n;
  return (factor < max ? factor : max) / 10n ** 14n;
}

/** MathLib.wTaylorCompounded: e^(x·n) − 1 to the third order, in WAD. */
export function wTaylorCompounded(x: bigint, n: bigint): bigint {
  const firstTerm = x * n;
  const secondTerm = mulDivDown(firstTerm, firstTerm, 2n * WAD);
  const thirdTerm = mulDivDown(secondTerm, firstTerm, 3n * WAD);
  return firstTerm + secondTerm + thirdTerm;
}

/** The borrow total after `_accrueInterest` at `timestamp`, given the IRM's rate for the stored state. */
export function accruedBorrowAssets(state: MorphoMarketState, borrowRate: bigint, timestamp: bigint): bigint {
  const elapsed = timestamp > state.lastUpdate ? timestamp - state.lastUpdate : 0n;
  if (elapsed === 0n || borrowRate === 0n) return state.totalBorrowAssets;
  return state.totalBorrowAssets + mulDivDown(state.totalBorrowAssets, wTaylorCompounded(borrowRate, elapsed), WAD);
}

/** SharesMathLib.toAssetsUp with the virtual shares and assets. */
export function borrowedAssets(borrowShares: bigint, totalBorrowAssets: bigint, totalBorrowShares: bigint): bigint {
  return mulDivUp(borrowShares, totalBorrowAssets + VIRTUAL_ASSETS, totalBorrowShares + VIRTUAL_SHARES);
}

/** The most the collateral allows to borrow at this price: ⌊⌊collateral × price / 1e36⌋ × lltv / 1e18⌋. */
export function maxBorrow(collateral: bigint, price: bigint, lltv: bigint): bigint {
  return mulDivDown(mulDivDown(collateral, price, ORACLE_PRICE_SCALE), lltv, WAD);
}

export function morphoSnapshot(
  market: MorphoMarket,
  input: { account: Address; position: MorphoPosition; price: bigint; totalBorrowAssets: bigint; totalBorrowShares: bigint; block: { number: bigint; timestamp: bigint } },
): PositionSnapshot & { assets: AssetPosition[] } {
  const { position, price } = input;
  const borrowed = borrowedAssets(position.borrowShares, input.totalBorrowAssets, input.totalBorrowShares);
  const collateralValue = mulDivDown(position.collateral, price, ORACLE_PRICE_SCALE);
  const lltvBps = market.params.lltv / 10n ** 14n;
  const loanUnit = 10n ** BigInt(market.loan.decimals);
  const assets: AssetPosition[] = [];
  if (position.collateral > 0n) {
    assets.push({
      asset: market.collateral.asset,
      symbol: market.collateral.symbol,
      decimals: market.collateral.decimals,
      // One whole collateral token in loan-token units.
      price: mulDivDown(10n ** BigInt(market.collateral.decimals), price, ORACLE_PRICE_SCALE),
      collateral: position.collateral,
      usedAsCollateral: true,
      debt: 0n,
      liquidationThresholdBps: lltvBps,
      ltvBps: lltvBps,
    });
  }
  if (position.borrowShares > 0n) {
    assets.push({ asset: market.loan.asset, symbol: market.loan.symbol, decimals: market.loan.decimals, price: loanUnit, collateral: 0n, usedAsCollateral: false, debt: borrowed, liquidationThresholdBps: 0n, ltvBps: 0n });
  }
  return {
    chainId: market.chainId,
    protocol: MORPHO_BLUE,
    market: market.id,
    account: input.account,
    blockNumber: input.block.number,
    blockTimestamp: input.block.timestamp,
    baseDecimals: market.loan.decimals,
    ...countedInToken(market.loan),
    collateralBase: collateralValue,
    debtBase: borrowed,
    liquidationThresholdBps: lltvBps,
    ltvBps: lltvBps,
    // Floor division keeps "HF < 1" identical to Morpho's "maxBorrow < borrowed".
    healthFactor: position.borrowShares === 0n ? null : (maxBorrow(position.collateral, price, market.params.lltv) * WAD) / borrowed,
    assets,
  };
}
