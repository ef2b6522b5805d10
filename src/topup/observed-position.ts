import type { Address } from 'viem';
import type { AssetPosition, PositionSnapshot } from '../domain/position';

/*
 * The position a shard observed, carried in a top-up request as JSON (bigints as decimal
 * strings), so a dry run is planned on what the shard already read instead of reading the
 * account again. Live actions never use it: they read fresh from every endpoint.
 */

type Serialized<T> = { [K in keyof T]: T[K] extends bigint ? string : T[K] extends bigint | undefined ? string | null : T[K] extends bigint | null ? string | null : T[K] };

export type ObservedAsset = Serialized<AssetPosition>;
export type ObservedPosition = Omit<Serialized<PositionSnapshot>, 'assets'> & { assets: ObservedAsset[] };

/** Only a snapshot with its per-asset breakdown can be planned on; null otherwise. */
export function observePosition(snapshot: PositionSnapshot): ObservedPosition | null {
  if (!snapshot.assets) return null;
  return {
    chainId: snapshot.chainId,
    protocol: snapshot.protocol,
    market: snapshot.market,
    account: snapshot.account,
    blockNumber: snapshot.blockNumber.toString(),
    blockTimestamp: snapshot.blockTimestamp.toString(),
    baseDecimals: snapshot.baseDecimals,
    baseUsdPrice: snapshot.baseUsdPrice === undefined ? null : snapshot.baseUsdPrice.toString(),
    collateralBase: snapshot.collateralBase.toString(),
    debtBase: snapshot.debtBase.toString(),
    liquidationThresholdBps: snapshot.liquidationThresholdBps.toString(),
    ltvBps: snapshot.ltvBps.toString(),
    healthFactor: snapshot.healthFactor === null ? null : snapshot.healthFactor.toString(),
    assets: snapshot.assets.map((asset) => ({
      asset: asset.asset,
      symbol: asset.symbol,
      decimals: asset.decimals,
      price: asset.price === undefined ? null : asset.price.toString(),
      collateral: asset.collateral.toString(),
      usedAsCollateral: asset.usedAsCollateral,
      debt: asset.debt.toString(),
      liquidationThresholdBps: asset.liquidationThresholdBps.toString(),
      ltvBps: asset.ltvBps.toString(),
    })),
  };
}

export function snapshotOf(observed: ObservedPosition): PositionSnapshot & { assets: AssetPosition[] } {
  return {
    chainId: observed.chainId,
    protocol: observed.protocol,
    market: observed.market as Address,
    account: observed.account as Address,
    blockNumber: BigInt(observed.blockNumber),
    blockTimestamp: BigInt(observed.blockTimestamp),
    baseDecimals: observed.baseDecimals,
    baseUsdPrice: observed.baseUsdPrice === null ? undefined : BigInt(observed.baseUsdPrice),
    collateralBase: BigInt(observed.collateralBase),
    debtBase: BigInt(observed.debtBase),
    liquidationThresholdBps: BigInt(observed.liquidationThresholdBps),
    ltvBps: BigInt(observed.ltvBps),
    healthFactor: observed.healthFactor === null ? null : BigInt(observed.healthFactor),
    assets: observed.assets.map((asset) => ({
      asset: asset.asset as Address,
      symbol: asset.symbol,
      decimals: asset.decimals,
      price: asset.price === null ? undefined : BigInt(asset.price),
      collateral: BigInt(asset.collateral),
      usedAsCollateral: asset.usedAsCollateral,
      debt: BigInt(asset.debt),
      liquidationThresholdBps: BigInt(asset.liquidationThresholdBps),
      ltvBps: BigInt(asset.ltvBps),
    })),
  };
}
