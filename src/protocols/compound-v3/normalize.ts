import type { Address } from 'viem';
import type { AssetPosition, PositionSnapshot } from '../../domain/position';
import type { ValueUnit } from '../../domain/usd-unit';

/*
 * Compound v3 (Comet) positions in the shared model, pure. Comet values everything in its
 * price feeds' unit with 8 decimals, and is liquidatable when
 *   Σ collateral × price / scale × liquidateCollateralFactor < borrow × basePrice / baseScale,
 * computed with the same integer steps (mulPrice, then mulFactor) so our health factor is
 * below 1 exactly when Comet's own check says so at the same borrow balance.
 */

export const COMPOUND_V3 = 'compound-v3';
export const PRICE_DECIMALS = 8;
const FACTOR_SCALE = 10n ** 18n;
const WAD = 10n ** 18n;

export type CometAsset = {
  asset: Address;
  symbol: string;
  decimals: number;
  priceFeed: Address;
  scale: bigint;
  borrowCollateralFactor: bigint;
  liquidateCollateralFactor: bigint;
  liquidationFactor: bigint;
};

export type CometMarket = {
  chainId: number;
  comet: Address;
  base: { asset: Address; symbol: string; decimals: number; priceFeed: Address; scale: bigint };
  assets: CometAsset[];
  /** Whether the base token's price feed quotes US dollars (then values are USD). */
  pricesInUsd: boolean;
};

/** Prices of the base token and each collateral (same order as `market.assets`), 8 decimals; undefined when the feed failed. */
export type CometPrices = { base: bigint | undefined; assets: Array<bigint | undefined> };

export type CometAccount = { borrow: bigint; collateral: bigint[] };

/** Comet's factors are 18-decimal; the shared model's thresholds are basis points. */
function toBps(factor: bigint): bigint {
  return factor / 10n ** 14n;
}

export function cometAssetPositions(market: CometMarket, prices: CometPrices, account: CometAccount): AssetPosition[] {
  const collaterals = market.assets.map((asset, index): AssetPosition => ({
    asset: asset.asset,
    symbol: asset.symbol,
    decimals: asset.decimals,
    price: prices.assets[index],
    collateral: account.collateral[index] ?? 0n,
    usedAsCollateral: true,
    debt: 0n,
    liquidationThresholdBps: toBps(asset.liquidateCollateralFactor),
    ltvBps: toBps(asset.borrowCollateralFactor),
  }));
  const base: AssetPosition = {
    asset: market.base.asset,
    symbol: market.base.symbol,
    decimals: market.base.decimals,
    price: prices.base,
    collateral: 0n,
    usedAsCollateral: false,
    debt: account.borrow,
    liquidationThresholdBps: 0n,
    ltvBps: 0n,
  };
  return [...collaterals.filter((position) => position.collateral > 0n), ...(account.borrow > 0n ? [base] : [])];
}

/**
 * The snapshot of one account. Undefined prices make the value unknowable: the health factor
 * is then reported as an error by the reader rather than guessed (see `missingPrice`).
 */
export function cometSnapshot(
  market: CometMarket,
  prices: CometPrices,
  account: Address,
  balances: CometAccount,
  block: { number: bigint; timestamp: bigint },
): PositionSnapshot {
  let collateralBase = 0n;
  let liquidationWeighted = 0n;
  let borrowWeighted = 0n;
  market.assets.forEach((asset, index) => {
    const balance = balances.collateral[index] ?? 0n;
    if (balance === 0n) return;
    const value = (balance * (prices.assets[index] ?? 0n)) / asset.scale;
    collateralBase += value;
    liquidationWeighted += (value * asset.liquidateCollateralFactor) / FACTOR_SCALE;
    borrowWeighted += (value * asset.borrowCollateralFactor) / FACTOR_SCALE;
  });
  const debtBase = (balances.borrow * (prices.base ?? 0n)) / market.base.scale;
  return {
    chainId: market.chainId,
    protocol: COMPOUND_V3,
    market: market.comet,
    account,
    blockNumber: block.number,
    blockTimestamp: block.timestamp,
    baseDecimals: PRICE_DECIMALS,
    baseUsdPrice: market.pricesInUsd ? 10n ** BigInt(PRICE_DECIMALS) : undefined,
    ...cometValueUnit(market, prices.base),
    collateralBase,
    debtBase,
    liquidationThresholdBps: collateralBase === 0n ? 0n : (liquidationWeighted * 10_000n) / collateralBase,
    ltvBps: collateralBase === 0n ? 0n : (borrowWeighted * 10_000n) / collateralBase,
    // Floor division keeps "HF < 1" identical to Comet's "weighted collateral < debt".
    healthFactor: debtBase === 0n ? null : (liquidationWeighted * WAD) / debtBase,
  };
}

/** The first price an account's value depends on that the feeds did not give; null when all are known. */
export function missingPrice(market: CometMarket, prices: CometPrices, balances: CometAccount): string | null {
  if (balances.borrow > 0n && prices.base === undefined) return market.base.symbol;
  const index = market.assets.findIndex((_, i) => (balances.collateral[i] ?? 0n) > 0n && prices.assets[i] === undefined);
  return index >= 0 ? market.assets[index]!.symbol : null;
}

/** A Comet priced in another unit (ETH): its base token, worth its price in that unit, to reach dollars through the owner's feed for it. */
export function cometValueUnit(market: CometMarket, basePrice: bigint | undefined): { valueUnit?: ValueUnit } {
  return !market.pricesInUsd && basePrice !== undefined ? { valueUnit: { token: market.base.asset, symbol: market.base.symbol, perToken: basePrice } } : {};
}
