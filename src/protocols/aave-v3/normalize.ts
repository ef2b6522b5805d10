import type { Address } from 'viem';
import type { AssetPosition, PositionSnapshot } from '../../domain/position';
import { MAX_UINT256 } from './abi';

export const AAVE_V3 = 'aave-v3';

/** The tuple Pool.getUserAccountData returns, in order. */
export type AaveAccountData = readonly [bigint, bigint, bigint, bigint, bigint, bigint];

export type SnapshotContext = {
  chainId: number;
  market: Address;
  blockNumber: bigint;
  blockTimestamp: bigint;
  /** 10^baseDecimals; Aave v3 markets price in USD with 8 decimals. */
  baseCurrencyUnit: bigint;
};

export function decimalsOfUnit(unit: bigint): number {
  let decimals = 0;
  for (let value = unit; value > 1n; value /= 10n) decimals += 1;
  return decimals;
}

/** Pure: one getUserAccountData answer → a PositionSnapshot. */
export function snapshotFromAccountData(context: SnapshotContext, account: Address, data: AaveAccountData): PositionSnapshot {
  const [collateralBase, debtBase, , liquidationThreshold, ltv, healthFactor] = data;
  const baseDecimals = decimalsOfUnit(context.baseCurrencyUnit);
  return {
    chainId: context.chainId,
    protocol: AAVE_V3,
    market: context.market,
    account,
    blockNumber: context.blockNumber,
    blockTimestamp: context.blockTimestamp,
    baseDecimals,
    // Aave v3's base currency is USD when BASE_CURRENCY_UNIT is 1e8 (the AaveOracle convention).
    baseUsdPrice: baseDecimals === 8 ? context.baseCurrencyUnit : undefined,
    collateralBase,
    debtBase,
    liquidationThresholdBps: liquidationThreshold,
    ltvBps: ltv,
    healthFactor: debtBase === 0n || healthFactor === MAX_UINT256 ? null : healthFactor,
  };
}

/** Reserve configuration bitmap fields (Aave v3 ReserveConfiguration library layout). */
export function decodeReserveConfiguration(data: bigint) {
  return {
    ltvBps: data & 0xffffn,
    liquidationThresholdBps: (data >> 16n) & 0xffffn,
    liquidationBonusBps: (data >> 32n) & 0xffffn,
    decimals: Number((data >> 48n) & 0xffn),
    eModeCategory: Number((data >> 168n) & 0xffn),
  };
}

/** UserConfiguration bitmap: bit 2·id is "borrowing", bit 2·id+1 is "using as collateral". */
export function decodeUserConfiguration(data: bigint, reserveId: number) {
  return {
    borrowing: ((data >> BigInt(reserveId * 2)) & 1n) === 1n,
    usingAsCollateral: ((data >> BigInt(reserveId * 2 + 1)) & 1n) === 1n,
  };
}

export type ReserveMeta = {
  asset: Address;
  id: number;
  symbol: string;
  decimals: number;
  /** What a liquidator receives on seized collateral, in basis points of it (10500 = 5% bonus). */
  liquidationBonusBps: bigint;
  aToken: Address;
  variableDebtToken: Address;
  stableDebtToken: Address;
};

export type ReserveState = {
  price: bigint | undefined;
  ltvBps: bigint;
  liquidationThresholdBps: bigint;
  eModeCategory: number;
};

export type AccountBalances = {
  userConfiguration: bigint;
  eModeCategory: number;
  /** Per reserve (same order as the market's reserves): aToken, variable debt, stable debt balances. */
  balances: ReadonlyArray<{ supplied: bigint; variableDebt: bigint; stableDebt: bigint }>;
};

export type EModeCategoryData = { ltvBps: bigint; liquidationThresholdBps: bigint };

/**
 * Pure: per-asset breakdown of one account. An account in an e-mode category uses the
 * category's LTV and liquidation threshold for the reserves of that category, as the Pool does.
 */
export function assetPositions(
  reserves: ReadonlyArray<ReserveMeta>,
  states: ReadonlyArray<ReserveState>,
  account: AccountBalances,
  eMode: EModeCategoryData | undefined,
): AssetPosition[] {
  const positions: AssetPosition[] = [];
  reserves.forEach((reserve, index) => {
    const balance = account.balances[index];
    const state = states[index];
    if (!balance || !state) return;
    const debt = balance.variableDebt + balance.stableDebt;
    if (balance.supplied === 0n && debt === 0n) return;
    const flags = decodeUserConfiguration(account.userConfiguration, reserve.id);
    const inEMode = eMode !== undefined && account.eModeCategory !== 0 && state.eModeCategory === account.eModeCategory;
    positions.push({
      asset: reserve.asset,
      symbol: reserve.symbol,
      decimals: reserve.decimals,
      price: state.price,
      collateral: balance.supplied,
      usedAsCollateral: flags.usingAsCollateral,
      debt,
      liquidationThresholdBps: inEMode ? eMode.liquidationThresholdBps : state.liquidationThresholdBps,
      ltvBps: inEMode ? eMode.ltvBps : state.ltvBps,
    });
  });
  return positions;
}
