import { formatUnits, getAddress, type Address, type Hex } from 'viem';
import type { AssetPosition, PositionSnapshot, SubPosition } from '../../domain/position';
import type { TokenInfo } from '../read-types';

/*
 * Liquity v2 troves in the shared model, pure. A trove is liquidatable when its ICR =
 * entireColl × price / entireDebt (floor) is below the branch's MCR; our health factor is
 * ICR × 1e18 / MCR (floor), so it is below 1 exactly when TroveManager would liquidate.
 * Values are in BOLD, which Liquity itself counts at $1 (18 decimals).
 */

export const LIQUITY_V2 = 'liquity-v2';
const WAD = 10n ** 18n;
const MAX_UINT256 = 2n ** 256n - 1n;

export type LiquityToken = TokenInfo;
export type LiquityMarket = {
  chainId: number;
  troveManager: Address;
  borrowerOperations: Address;
  troveNFT: Address;
  priceFeed: Address;
  collateral: LiquityToken;
  bold: LiquityToken;
  mcr: bigint;
  ccr: bigint;
  scr: bigint;
};

/** TroveManager's Status enum. */
export const TROVE_STATUS = ['nonExistent', 'active', 'closedByOwner', 'closedByLiquidation', 'zombie'] as const;
export type TroveStatus = (typeof TROVE_STATUS)[number];

export type TroveData = { troveId: bigint; status: TroveStatus; entireDebt: bigint; entireColl: bigint; annualInterestRate: bigint };

/** The branch at the block: the price liquidations use, its totals, whether it was shut down, and every trove's rate (for the redemption order). */
export type BranchState = {
  price: bigint | undefined;
  oracleFailure: boolean;
  entireColl: bigint;
  entireDebt: bigint;
  shutdown: boolean;
  /** The interest rate of every active trove of the branch. */
  activeRates: bigint[];
  /** TroveManager.lastZombieTroveId: the zombie trove the next redemption takes first (0n: none). */
  lastZombieTroveId: bigint;
};

/** A watch's account: one trove, or every trove of an owner on the branch. */
export type LiquityAccount = { kind: 'trove'; troveId: bigint } | { kind: 'owner'; owner: Address };

/** The canonical text of a trove id: 0x and 64 lower-case hex digits (apart from a 40-digit owner address). */
export function troveIdText(troveId: bigint): Hex {
  return `0x${troveId.toString(16).padStart(64, '0')}`;
}

/**
 * A watch's `account` for Liquity v2: a trove id in decimal or as 0x + 64 hex digits, or an owner's
 * address (0x + 40 hex digits: all its troves on the branch). Returns the canonical text or why not.
 */
export function parseLiquityAccount(text: string): { ok: true; account: Hex } | { ok: false; message: string } {
  const message = 'must be a trove id (decimal, or 0x followed by 64 hex digits) or the owner address (0x followed by 40 hex digits) of its troves';
  if (/^0x[0-9a-fA-F]{40}$/.test(text)) return /^0x0{40}$/.test(text) ? { ok: false, message: 'must not be the zero address' } : { ok: true, account: getAddress(text) };
  let id: bigint;
  if (/^0x[0-9a-fA-F]{64}$/.test(text) || /^[0-9]{1,78}$/.test(text)) id = BigInt(text);
  else return { ok: false, message };
  if (id === 0n || id > MAX_UINT256) return { ok: false, message: 'must be a trove id between 1 and 2^256 − 1' };
  return { ok: true, account: troveIdText(id) };
}

/** What a canonical account text names (it came through parseLiquityAccount). */
export function liquityAccountOf(account: string): LiquityAccount {
  return account.length === 42 ? { kind: 'owner', owner: getAddress(account) } : { kind: 'trove', troveId: BigInt(account) };
}

/** LiquityMath._computeCR: coll × price / debt, or the maximum when there is no debt. */
export function collateralRatio(coll: bigint, debt: bigint, price: bigint): bigint {
  return debt > 0n ? (coll * price) / debt : MAX_UINT256;
}

/**
 * Where a trove stands in the redemption order: redemptions take the lowest interest rates
 * first, so its rank is 1 + the number of active troves paying less (troves at one rate share a rank).
 */
export function redemptionRank(rate: bigint, activeRates: readonly bigint[]): number {
  return 1 + activeRates.filter((other) => other < rate).length;
}

/**
 * Whether the trove is the branch's last zombie trove. A redemption that leaves a trove under the
 * minimum debt (2,000 BOLD) but above zero makes it a zombie: out of the rate order, and pointed to
 * by TroveManager.lastZombieTroveId, which the next redemption takes first whatever its rate (and
 * clears once it has no debt left, or the trove is adjusted back to active or closed). Any other
 * zombie is out of the line of sequential redemptions.
 */
export function isNextRedeemedZombie(trove: Pick<TroveData, 'troveId' | 'status'>, lastZombieTroveId: bigint): boolean {
  return lastZombieTroveId !== 0n && trove.status === 'zombie' && trove.troveId === lastZombieTroveId;
}

function ratioText(value: bigint): string {
  return formatUnits(value, 18);
}

export function troveSnapshot(
  market: LiquityMarket,
  input: { account: Address; trove: TroveData; branch: BranchState & { price: bigint }; troves?: number; block: { number: bigint; timestamp: bigint } },
): PositionSnapshot & { assets: AssetPosition[] } {
  const { trove, branch } = input;
  const icr = collateralRatio(trove.entireColl, trove.entireDebt, branch.price);
  const tcr = collateralRatio(branch.entireColl, branch.entireDebt, branch.price);
  // 1 / MCR as a liquidation threshold (110% → 90.90%); the health factor itself is ICR / MCR, unrounded by it.
  const thresholdBps = (WAD * 10_000n) / market.mcr;
  const assets: AssetPosition[] = [];
  if (trove.entireColl > 0n) {
    assets.push({ ...market.collateral, price: branch.price, collateral: trove.entireColl, usedAsCollateral: true, debt: 0n, liquidationThresholdBps: thresholdBps, ltvBps: thresholdBps });
  }
  if (trove.entireDebt > 0n) {
    assets.push({ ...market.bold, price: WAD, collateral: 0n, usedAsCollateral: false, debt: trove.entireDebt, liquidationThresholdBps: 0n, ltvBps: 0n });
  }
  const active = trove.status === 'active' || trove.status === 'zombie';
  return {
    chainId: market.chainId,
    protocol: LIQUITY_V2,
    market: market.troveManager,
    account: input.account,
    blockNumber: input.block.number,
    blockTimestamp: input.block.timestamp,
    baseDecimals: 18,
    baseUsdPrice: WAD,
    collateralBase: (trove.entireColl * branch.price) / WAD,
    debtBase: trove.entireDebt,
    liquidationThresholdBps: thresholdBps,
    ltvBps: thresholdBps,
    healthFactor: trove.entireDebt === 0n ? null : (icr * WAD) / market.mcr,
    assets,
    protocolFields: {
      troveId: troveIdText(trove.troveId),
      troveStatus: trove.status,
      ...(input.troves !== undefined ? { ownerTroves: input.troves } : {}),
      interestRate: ratioText(trove.annualInterestRate),
      redemptionRank: trove.status === 'active' ? redemptionRank(trove.annualInterestRate, branch.activeRates) : null,
      nextRedeemedZombie: isNextRedeemedZombie(trove, branch.lastZombieTroveId),
      branchTroves: branch.activeRates.length,
      collateralRatio: active && trove.entireDebt > 0n ? ratioText(icr) : null,
      minimumCollateralRatio: ratioText(market.mcr),
      branchCollateralRatio: branch.entireDebt > 0n ? ratioText(tcr) : null,
      criticalCollateralRatio: ratioText(market.ccr),
      // Under CCR the branch restricts borrowing; under SCR anyone may shut it down.
      branchBelowCcr: branch.entireDebt > 0n && tcr < market.ccr,
      branchBelowScr: branch.entireDebt > 0n && tcr < market.scr,
      branchShutdown: branch.shutdown,
      oracleFailure: branch.oracleFailure,
    },
  };
}

/** An owner's troves with debt, each a position of its own (each trove is liquidated on its own), by trove id. */
export function ownerTroves(market: LiquityMarket, owner: Address, troves: readonly TroveData[], price: bigint): SubPosition[] {
  const thresholdBps = (WAD * 10_000n) / market.mcr;
  return troves
    .filter((trove) => trove.entireDebt > 0n)
    .map((trove) => ({
      id: troveIdText(trove.troveId),
      account: owner,
      healthFactor: (collateralRatio(trove.entireColl, trove.entireDebt, price) * WAD) / market.mcr,
      collateralBase: (trove.entireColl * price) / WAD,
      debtBase: trove.entireDebt,
      liquidationThresholdBps: thresholdBps,
    }));
}

/** An owner's position on the branch: its weakest trove (each trove is liquidated on its own), or none. */
export function weakestTrove(troves: readonly TroveData[], price: bigint): TroveData | undefined {
  const open = troves.filter((trove) => trove.entireDebt > 0n);
  const pool = open.length > 0 ? open : troves;
  return [...pool].sort((a, b) => {
    const left = collateralRatio(a.entireColl, a.entireDebt, price);
    const right = collateralRatio(b.entireColl, b.entireDebt, price);
    return left < right ? -1 : left > right ? 1 : 0;
  })[0];
}
