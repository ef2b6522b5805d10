import { formatUnits, type Address } from 'viem';
import { BPS, WAD, compareHealthFactors, type AssetPosition, type PositionSnapshot, type SubPosition } from './position';
import type { AlertLevel } from './alert-machine';
import { distanceToLiquidation, formatWad, liquidationPrice, topUpAmount } from './risk';

/** The JSON face of a position: decimal strings, never raw bigints as JSON numbers; a protocol's own fields (`protocolFields`) beside them. */
export type PositionView = {
  healthFactor: string | null;
  /** The health factor at the next price already published (Maker's OSM); absent where the protocol publishes none. */
  nextHealthFactor?: string | null;
  baseCurrency: string;
  collateral: { base: string; usd: string | null };
  debt: { base: string; usd: string | null };
  liquidationThreshold: string;
  distanceToLiquidation: string | null;
  liquidationPrices: Array<{ asset: Address; symbol: string; price: string | null; currentPrice: string | null }>;
  assets?: Array<{ asset: Address; symbol: string; collateral: string; debt: string; usedAsCollateral: boolean; price: string | null; liquidationThreshold: string }>;
  /**
   * Each position of an account that names several (Euler sub-accounts with debt, Fluid position
   * NFTs); the figures above are the riskiest one's. `level`: its own alert level, once the watch
   * has judged it.
   */
  subPositions?: Array<{ id: string; account: Address; healthFactor: string | null; collateral: { base: string; usd: string | null }; debt: { base: string; usd: string | null }; level?: AlertLevel }>;
  /** How many positions the account has when more than `subPositions` lists (its MAX_SUB_POSITIONS_SHOWN riskiest). */
  subPositionCount?: number;
  blockNumber: string;
  observedAt: string;
};

export type Recommendation = {
  action: 'supply' | 'repay';
  asset: Address;
  symbol: string;
  amount: string;
  targetHealthFactor: string;
  reachesTarget: boolean;
};

function usdOf(valueBase: bigint, snapshot: PositionSnapshot): string | null {
  if (snapshot.baseUsdPrice === undefined) return null;
  const usd = (valueBase * snapshot.baseUsdPrice) / 10n ** BigInt(snapshot.baseDecimals);
  return formatUnits(usd, snapshot.baseDecimals);
}

/**
 * What `base` values are in: "USD"; the token's symbol where values are whole units of one token
 * (Morpho's loan token, even when a feed gives their USD beside them); else "base" (a unit with
 * no name of its own, e.g. a Comet's feed quote).
 */
function baseCurrencyOf(snapshot: PositionSnapshot): string {
  const unit = snapshot.valueUnit;
  if (unit) return unit.perToken === 10n ** BigInt(snapshot.baseDecimals) ? unit.symbol : 'base';
  return snapshot.baseUsdPrice === undefined ? 'base' : 'USD';
}

function valueOf(asset: AssetPosition, amount: bigint): bigint {
  return asset.price === undefined ? 0n : (amount * asset.price) / 10n ** BigInt(asset.decimals);
}

export function positionView(snapshot: PositionSnapshot, observedAt: Date): PositionView {
  const priceText = (price: bigint | undefined | null) => (price === undefined || price === null ? null : formatUnits(price, snapshot.baseDecimals));
  const distance = distanceToLiquidation(snapshot.healthFactor);
  const collateralAssets = (snapshot.assets ?? []).filter((asset) => asset.usedAsCollateral && asset.collateral > 0n);
  return {
    // First, so a protocol's own field can never stand in for a shared one of the same name.
    ...snapshot.protocolFields,
    healthFactor: snapshot.healthFactor === null ? null : formatWad(snapshot.healthFactor, 4),
    ...(snapshot.nextHealthFactor !== undefined ? { nextHealthFactor: snapshot.nextHealthFactor === null ? null : formatWad(snapshot.nextHealthFactor, 4) } : {}),
    baseCurrency: baseCurrencyOf(snapshot),
    collateral: { base: formatUnits(snapshot.collateralBase, snapshot.baseDecimals), usd: usdOf(snapshot.collateralBase, snapshot) },
    debt: { base: formatUnits(snapshot.debtBase, snapshot.baseDecimals), usd: usdOf(snapshot.debtBase, snapshot) },
    liquidationThreshold: formatUnits(snapshot.liquidationThresholdBps, 4),
    distanceToLiquidation: distance === null ? null : formatWad(distance, 4),
    liquidationPrices: snapshot.assets
      ? collateralAssets.map((asset) => {
          const price = liquidationPrice(snapshot.assets!, asset.asset);
          return { asset: asset.asset, symbol: asset.symbol, price: priceText(price), currentPrice: priceText(asset.price) };
        })
      : [],
    ...(snapshot.assets
      ? {
          assets: snapshot.assets.map((asset) => ({
            asset: asset.asset,
            symbol: asset.symbol,
            collateral: formatUnits(asset.collateral, asset.decimals),
            debt: formatUnits(asset.debt, asset.decimals),
            usedAsCollateral: asset.usedAsCollateral,
            price: priceText(asset.price),
            liquidationThreshold: formatUnits(asset.liquidationThresholdBps, 4),
          })),
        }
      : {}),
    ...(snapshot.subPositions
      ? {
          ...(snapshot.subPositions.length > MAX_SUB_POSITIONS_SHOWN ? { subPositionCount: snapshot.subPositions.length } : {}),
          subPositions: riskiestInOrder(snapshot.subPositions, MAX_SUB_POSITIONS_SHOWN).map((position) => ({
            id: position.id,
            account: position.account,
            healthFactor: position.healthFactor === null ? null : formatWad(position.healthFactor, 4),
            collateral: { base: formatUnits(position.collateralBase, snapshot.baseDecimals), usd: usdOf(position.collateralBase, snapshot) },
            debt: { base: formatUnits(position.debtBase, snapshot.baseDecimals), usd: usdOf(position.debtBase, snapshot) },
          })),
        }
      : {}),
    blockNumber: snapshot.blockNumber.toString(),
    observedAt: observedAt.toISOString(),
  };
}

/**
 * Positions listed in a view: an account may hold any number (anyone may open a Liquity trove for
 * any owner), and a view is stored and sent whole; Euler's 256 sub-accounts fit.
 */
export const MAX_SUB_POSITIONS_SHOWN = 256;

/** The `limit` riskiest (lowest health factor) of the positions, in their own order. */
function riskiestInOrder(positions: readonly SubPosition[], limit: number): SubPosition[] {
  if (positions.length <= limit) return [...positions];
  const ranked = [...positions].sort((a, b) => compareHealthFactors(a.healthFactor, b.healthFactor));
  const kept = new Set(ranked.slice(0, limit));
  return positions.filter((position) => kept.has(position));
}

/** The view with each sub-position's own alert level (a position without a judged state keeps none). */
export function withSubPositionLevels(view: PositionView, levels: ReadonlyMap<string, AlertLevel>): PositionView {
  if (!view.subPositions) return view;
  return { ...view, subPositions: view.subPositions.map((position) => (levels.has(position.id) ? { ...position, level: levels.get(position.id)! } : position)) };
}

/**
 * What to do about a position below target: supply more of the collateral it already
 * holds most of (the asset the user is most likely to have at hand), enough to bring the
 * health factor back to `target`. Undefined when the breakdown or a price is unknown.
 */
export function recommendTopUp(snapshot: PositionSnapshot, target: bigint): Recommendation | undefined {
  if (!snapshot.assets || snapshot.healthFactor === null || snapshot.healthFactor >= target) return undefined;
  const candidates = snapshot.assets
    .filter((asset) => asset.usedAsCollateral && asset.liquidationThresholdBps > 0n && asset.price !== undefined)
    .sort((a, b) => (valueOf(b, b.collateral) > valueOf(a, a.collateral) ? 1 : -1));
  const best = candidates[0];
  if (!best) return undefined;
  const result = topUpAmount(snapshot.assets, best.asset, target);
  if (!result) return undefined;
  return {
    action: 'supply',
    asset: best.asset,
    symbol: best.symbol,
    amount: formatUnits(result.amount, best.decimals),
    targetHealthFactor: formatWad(target, 4),
    reachesTarget: result.reachesTarget,
  };
}

/** The target an alert recommends: just above the warning threshold's recovery line. */
export function recoveryTarget(warningThreshold: bigint, hysteresisBps: number): bigint {
  return (warningThreshold * (BPS + BigInt(hysteresisBps))) / BPS + WAD / 100n;
}
