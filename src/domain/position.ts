import type { ValueUnit } from './usd-unit';
import type { Address } from 'viem';

/** 1.0 as a WAD fixed-point number (18 decimals), the unit for health factors. */
export const WAD = 10n ** 18n;
/** 100% in basis points, the unit for liquidation thresholds and LTVs. */
export const BPS = 10_000n;

/** One asset of an account, as the protocol values it at the snapshot's block. */
export type AssetPosition = {
  asset: Address;
  symbol: string;
  decimals: number;
  /** Price of one whole token in the market's base currency (base decimals); undefined when unknown. */
  price: bigint | undefined;
  /** Collateral balance in token units (only counted when usedAsCollateral). */
  collateral: bigint;
  usedAsCollateral: boolean;
  /** Debt balance in token units. */
  debt: bigint;
  /** Liquidation threshold of this asset in basis points (8250 = 82.5%). */
  liquidationThresholdBps: bigint;
  ltvBps: bigint;
};

/**
 * One of several positions a watched account holds in one market (an Euler owner's
 * sub-accounts): each with its own health factor, values in the snapshot's base currency.
 */
export type SubPosition = {
  id: string;
  account: Address;
  healthFactor: bigint | null;
  collateralBase: bigint;
  debtBase: bigint;
  /** Its collateral-weighted liquidation threshold in basis points. */
  liquidationThresholdBps: bigint;
};

/**
 * A position normalized across protocols. All amounts are bigints; values are in the
 * market's base currency with `baseDecimals` decimals (Aave v3: USD with 8 decimals).
 */
export type PositionSnapshot = {
  chainId: number;
  protocol: string;
  market: Address;
  account: Address;
  blockNumber: bigint;
  /** Block timestamp in seconds. */
  blockTimestamp: bigint;
  baseDecimals: number;
  /** USD price of one unit of the base currency (base decimals); undefined when the base is not USD and the price is unknown. */
  baseUsdPrice: bigint | undefined;
  /**
   * The token the values are counted in when it is not a dollar (Morpho's loan token, Fluid's
   * borrow token, an Euler unit of account, a Comet base priced in ETH): the read path fills
   * `baseUsdPrice` from the owner's USD feed for it (USD_PRICE_FEEDS) when there is one.
   */
  valueUnit?: ValueUnit;
  collateralBase: bigint;
  debtBase: bigint;
  /** Collateral-weighted liquidation threshold in basis points. */
  liquidationThresholdBps: bigint;
  ltvBps: bigint;
  /** Health factor in WAD; null when the account has no debt (infinite). */
  healthFactor: bigint | null;
  /**
   * The health factor at prices already published to take effect next (Maker's OSM shows its
   * next price an hour ahead), at this block's debt; absent where the protocol publishes none,
   * null without debt. The alert level takes the worse of this and `healthFactor`.
   */
  nextHealthFactor?: bigint | null;
  /** Per-asset breakdown, only for accounts read with detail. */
  assets?: AssetPosition[];
  /** Facts only one protocol has (Liquity's redemption rank, its branch's state), shown in the position as they are. */
  protocolFields?: ProtocolFields;
  /** Dangers of the protocol's own beside the health factor that hold at this block (see domain/conditions); absent when it has none. */
  conditions?: ProtocolCondition[];
  /**
   * When the watched account names several positions (an Euler owner and its sub-accounts):
   * each one with debt. The snapshot's own figures are then those of the riskiest of them.
   */
  subPositions?: SubPosition[];
  /** With `subPositions`: the id of the one whose figures the snapshot shows (the riskiest); absent when none has debt. */
  shownSubPosition?: string;
};

export type ProtocolFields = Readonly<Record<string, string | number | boolean | null>>;

/** Orders health factors lowest (riskiest) first; null (no debt) last. */
export function compareHealthFactors(a: bigint | null, b: bigint | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/** The lower of the health factor now and at the next published price (null: no debt at either). */
export function lowestHealthFactor(snapshot: Pick<PositionSnapshot, 'healthFactor' | 'nextHealthFactor'>): bigint | null {
  const known = [snapshot.healthFactor, snapshot.nextHealthFactor ?? null].filter((value): value is bigint => value !== null);
  return known.length === 0 ? null : known.reduce((low, value) => (value < low ? value : low));
}

export type ConditionSeverity = 'info' | 'warning' | 'critical';

/** What an adapter reports with a snapshot: one condition that holds (or nearly holds) at the snapshot's block. */
export type ProtocolCondition = {
  /** Stable for the protocol, snake_case (`branch_below_ccr`): it names the condition in event ids and in the API. */
  code: string;
  severity: ConditionSeverity;
  /** A short name: "Branch below its critical collateral ratio". */
  title: string;
  /** What it means for this position, with its numbers. */
  message: string;
  /** The figures behind it, as the position shows protocol fields. */
  facts: ProtocolFields;
  /**
   * true: the condition holds. false: it does not, but the position is within the condition's
   * hysteresis margin, so an open episode stays open and none is opened (no flapping on a line).
   */
  met: boolean;
};

/**
 * One of an account's positions as a snapshot of its own: its figures in the account's market
 * context, without the per-asset breakdown, the protocol's own fields or the next price (read
 * for the position the snapshot shows only).
 */
export function subPositionSnapshot(snapshot: PositionSnapshot, sub: SubPosition): PositionSnapshot {
  const { assets: _assets, protocolFields: _fields, conditions: _conditions, nextHealthFactor: _next, ...shared } = snapshot;
  return {
    ...shared,
    account: sub.account,
    healthFactor: sub.healthFactor,
    collateralBase: sub.collateralBase,
    debtBase: sub.debtBase,
    liquidationThresholdBps: sub.liquidationThresholdBps,
    shownSubPosition: sub.id,
  };
}
