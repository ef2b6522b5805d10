import { getAddress, type Address } from 'viem';
import type { AssetPosition, PositionSnapshot, SubPosition } from '../../domain/position';
import type { TokenInfo } from '../read-types';
import type { ValueUnit } from '../../domain/usd-unit';

/*
 * Euler v2 positions in the shared model, pure. A market is a controller (borrow) vault; an
 * account is an owner with its 256 sub-accounts (owner address XOR 0..255), or one sub-account.
 * The vault values an account in its unit of account:
 *   accountLiquidity(account, liquidation = true) → (Σ collateral value × liquidation LTV, liability value)
 * and lets it be liquidated when the first is below the second, so
 *   HF = ⌊Σ weighted collateral × 1e18 / liability⌋
 * is below 1 exactly when the vault's own check says so.
 */

export const EULER_V2 = 'euler-v2';
const WAD = 10n ** 18n;
const BPS = 10_000n;
/** Euler's unit of account for US dollars: ISO 4217 code 840 as an address (valued with 18 decimals). */
export const USD_UNIT: Address = '0x0000000000000000000000000000000000000348';
export const SUB_ACCOUNTS = 256;

export type EulerToken = TokenInfo;
export type EulerMarket = {
  chainId: number;
  evc: Address;
  /** The controller vault (the market). */
  vault: Address;
  /** What the vault lends. */
  asset: EulerToken;
  oracle: Address;
  unitOfAccount: Address;
  /** Decimals of values in the unit of account. */
  unitDecimals: number;
  /** "USD", or the unit of account token's symbol. */
  unitSymbol: string;
  quoteIsUsd: boolean;
  /** The collateral vaults the vault accepts (its LTVList when loaded): priced as vault shares. */
  collaterals: EulerToken[];
  maxLiquidationDiscountBps: bigint;
};

/** A collateral vault's LTVs at the block (they may ramp): liquidation and borrow, basis points. */
export type EulerLtv = { liquidationBps: bigint; borrowBps: bigint };
export type EulerLtvs = ReadonlyMap<string, EulerLtv>;

/** One sub-account controlled by the market's vault, as accountLiquidityFull(account, true) reports it. */
export type SubAccountLiquidity = { index: number; account: Address; collaterals: readonly Address[]; collateralValues: readonly bigint[]; liabilityValue: bigint };

/** The 256 sub-accounts sharing the account's 19-byte prefix, sub-account 0 (the account itself when it is an owner) first. */
export function subAccountGroup(account: Address): Address[] {
  const value = BigInt(account);
  return Array.from({ length: SUB_ACCOUNTS }, (_, index) => getAddress(`0x${(value ^ BigInt(index)).toString(16).padStart(40, '0')}`));
}

/** The sub-account index of `account` under `owner` (their last bytes XORed). */
export function subAccountIndex(owner: Address, account: Address): number {
  return Number((BigInt(owner) ^ BigInt(account)) & 0xffn);
}

/** HF in WAD; null without debt. */
export function subAccountHealthFactor(liquidity: Pick<SubAccountLiquidity, 'collateralValues' | 'liabilityValue'>): bigint | null {
  if (liquidity.liabilityValue === 0n) return null;
  const weighted = liquidity.collateralValues.reduce((sum, value) => sum + value, 0n);
  return (weighted * WAD) / liquidity.liabilityValue;
}

/** The sub-account with debt closest to liquidation (lowest HF; the lowest index on a tie), or undefined when none has debt. */
export function riskiestSubAccount(subAccounts: readonly SubAccountLiquidity[]): SubAccountLiquidity | undefined {
  let worst: { sub: SubAccountLiquidity; healthFactor: bigint } | undefined;
  for (const sub of subAccounts) {
    const healthFactor = subAccountHealthFactor(sub);
    if (healthFactor === null) continue;
    if (!worst || healthFactor < worst.healthFactor || (healthFactor === worst.healthFactor && sub.index < worst.sub.index)) worst = { sub, healthFactor };
  }
  return worst?.sub;
}

/**
 * A sub-account's collateral value before weighting, and its weighted borrow value, from the
 * weighted values the vault reports and each collateral's LTVs at the block. A collateral the
 * market's cached facts do not know makes this an error string (its LTV is unknown).
 */
function values(sub: SubAccountLiquidity, ltvs: EulerLtvs): { collateral: bigint; weighted: bigint; borrowWeighted: bigint } | string {
  let collateral = 0n;
  let weighted = 0n;
  let borrowWeighted = 0n;
  for (const [index, vault] of sub.collaterals.entries()) {
    const value = sub.collateralValues[index] ?? 0n;
    weighted += value;
    if (value === 0n) continue;
    const ltv = ltvs.get(vault.toLowerCase());
    if (!ltv || ltv.liquidationBps === 0n) return `collateral vault ${vault} is not among the market's known collaterals`;
    const unweighted = (value * BPS) / ltv.liquidationBps;
    collateral += unweighted;
    borrowWeighted += (unweighted * ltv.borrowBps) / BPS;
  }
  return { collateral, weighted, borrowWeighted };
}

/**
 * The snapshot of a watched account: the riskiest of its sub-accounts with debt (all of them
 * listed in `subPositions` when the watch names an owner), or an empty position when none has
 * debt on this vault. An error string when a value cannot be known.
 */
export function eulerSnapshot(
  market: EulerMarket,
  input: { watched: Address; owner: Address | null; subAccounts: readonly SubAccountLiquidity[]; ltvs: EulerLtvs; block: { number: bigint; timestamp: bigint } },
): PositionSnapshot | string {
  const withDebt = input.subAccounts.filter((sub) => sub.liabilityValue > 0n);
  const subPositions: SubPosition[] = [];
  for (const sub of withDebt) {
    const counted = values(sub, input.ltvs);
    if (typeof counted === 'string') return counted;
    subPositions.push({
      id: String(sub.index),
      account: sub.account,
      healthFactor: subAccountHealthFactor(sub),
      collateralBase: counted.collateral,
      debtBase: sub.liabilityValue,
      liquidationThresholdBps: counted.collateral === 0n ? 0n : (counted.weighted * BPS) / counted.collateral,
    });
  }
  const riskiest = riskiestSubAccount(withDebt);
  const counted = riskiest ? (values(riskiest, input.ltvs) as Exclude<ReturnType<typeof values>, string>) : { collateral: 0n, weighted: 0n, borrowWeighted: 0n };
  return {
    chainId: market.chainId,
    protocol: EULER_V2,
    market: market.vault,
    account: riskiest?.account ?? input.watched,
    blockNumber: input.block.number,
    blockTimestamp: input.block.timestamp,
    baseDecimals: market.unitDecimals,
    baseUsdPrice: market.quoteIsUsd ? 10n ** BigInt(market.unitDecimals) : undefined,
    ...(market.quoteIsUsd ? {} : { valueUnit: eulerValueUnit(market) }),
    collateralBase: counted.collateral,
    debtBase: riskiest?.liabilityValue ?? 0n,
    liquidationThresholdBps: counted.collateral === 0n ? 0n : (counted.weighted * BPS) / counted.collateral,
    ltvBps: counted.collateral === 0n ? 0n : (counted.borrowWeighted * BPS) / counted.collateral,
    healthFactor: riskiest ? subAccountHealthFactor(riskiest) : null,
    // An owner's watch lists every sub-account with debt; a single sub-account's is the snapshot itself.
    ...(input.owner !== null && input.owner.toLowerCase() === input.watched.toLowerCase() ? { subPositions, ...(riskiest ? { shownSubPosition: String(riskiest.index) } : {}) } : {}),
  };
}

/** Prices of one whole token in the unit of account (unit decimals): each collateral vault's share, and the lent asset. */
export type EulerPrices = ReadonlyMap<string, bigint | undefined>;

/**
 * One sub-account's per-asset breakdown: each collateral vault's shares it holds (priced as
 * the vault prices them, by share) and its debt in the lent asset.
 */
export function eulerAssetPositions(
  market: EulerMarket,
  input: { sub: SubAccountLiquidity; balances: ReadonlyMap<string, bigint>; debt: bigint; ltvs: EulerLtvs; prices: EulerPrices },
): AssetPosition[] {
  const enabled = new Set(input.sub.collaterals.map((vault) => vault.toLowerCase()));
  const collaterals = market.collaterals.flatMap((token): AssetPosition[] => {
    const key = token.asset.toLowerCase();
    const balance = input.balances.get(key) ?? 0n;
    if (balance === 0n) return [];
    const ltv = input.ltvs.get(key) ?? { liquidationBps: 0n, borrowBps: 0n };
    return [{ ...token, price: input.prices.get(key), collateral: balance, usedAsCollateral: enabled.has(key), debt: 0n, liquidationThresholdBps: ltv.liquidationBps, ltvBps: ltv.borrowBps }];
  });
  if (input.debt === 0n) return collaterals;
  const debt: AssetPosition = { ...market.asset, price: input.prices.get(market.asset.asset.toLowerCase()), collateral: 0n, usedAsCollateral: false, debt: input.debt, liquidationThresholdBps: 0n, ltvBps: 0n };
  return [...collaterals, debt];
}

/**
 * What a liquidator gains on the collateral it seizes, at the most: Euler discounts the seized
 * collateral by 1 − HF at the moment of liquidation, capped at the vault's maxLiquidationDiscount;
 * repaying r buys collateral worth r / (1 − discount). The cap is the bound a risk figure can rely on.
 */
export function maxLiquidationGainBps(maxDiscountBps: bigint): bigint {
  // The kit refuses a discount of 100%; clamping keeps the division defined for any value read.
  const discount = maxDiscountBps < BPS ? maxDiscountBps : BPS - 1n;
  return (discount * BPS) / (BPS - discount);
}

/** A vault whose unit of account is a token (e.g. WETH), not USD: that token, to reach dollars through the owner's USD feed for it. */
export function eulerValueUnit(market: EulerMarket): ValueUnit {
  return { token: market.unitOfAccount, symbol: market.unitSymbol, perToken: 10n ** BigInt(market.unitDecimals) };
}
