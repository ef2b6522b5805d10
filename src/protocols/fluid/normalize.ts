import { getAddress, type Address, type Hex } from 'viem';
import { BPS, WAD, compareHealthFactors, type AssetPosition, type PositionSnapshot, type SubPosition } from '../../domain/position';
import type { TokenInfo } from '../read-types';
import { countedInToken } from '../../domain/usd-unit';

/*
 * Fluid T1 vault positions in the shared model, pure. A position is one NFT: collateral
 * (`supply`) in the vault's supply token and debt (`borrow`) in its borrow token, as Fluid's
 * VaultResolver computes them from the position's tick. The oracle's liquidation price is debt
 * per collateral × 1e27 with both tokens' decimals folded in, so
 * HF = supply × price / 1e27 × liquidationThreshold / borrow (floor). Values are in the borrow token.
 */

export const FLUID = 'fluid';
/** Fluid's oracle scale: debt-token units per collateral-token unit × 1e27. */
export const ORACLE_SCALE = 10n ** 27n;
const MAX_UINT256 = 2n ** 256n - 1n;
/** Fluid's stand-in for native ETH as a vault token. */
export const NATIVE_TOKEN: Address = '0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE';

export type FluidToken = TokenInfo;
export type FluidMarket = {
  chainId: number;
  vault: Address;
  vaultId: bigint;
  factory: Address;
  /** The VaultResolver every read goes through. */
  resolver: Address;
  collateral: FluidToken;
  debt: FluidToken;
  /** At load time, basis points: what a liquidator gains on the collateral it takes. */
  liquidationPenaltyBps: bigint;
};

/** The vault's risk settings at the block (basis points) and the price liquidations use. */
export type FluidVaultConfig = {
  collateralFactorBps: bigint;
  liquidationThresholdBps: bigint;
  liquidationMaxLimitBps: bigint;
  liquidationPenaltyBps: bigint;
  oraclePriceLiquidate: bigint;
};

export type FluidPosition = { nftId: bigint; owner: Address; isLiquidated: boolean; supply: bigint; borrow: bigint };

/** A watch's account: one position NFT, or every position an owner holds in the vault. */
export type FluidAccount = { kind: 'nft'; nftId: bigint } | { kind: 'owner'; owner: Address };

/** The canonical text of an NFT id: 0x and 64 lower-case hex digits (apart from a 40-digit owner address). */
export function nftIdText(nftId: bigint): Hex {
  return `0x${nftId.toString(16).padStart(64, '0')}`;
}

/**
 * A watch's `account` for Fluid: a position NFT id in decimal or as 0x + 64 hex digits, or an
 * owner's address (0x + 40 hex digits: all its positions in the vault). The canonical text or why not.
 */
export function parseFluidAccount(text: string): { ok: true; account: Hex } | { ok: false; message: string } {
  if (/^0x[0-9a-fA-F]{40}$/.test(text)) return /^0x0{40}$/.test(text) ? { ok: false, message: 'must not be the zero address' } : { ok: true, account: getAddress(text) };
  if (!/^0x[0-9a-fA-F]{64}$/.test(text) && !/^[0-9]{1,78}$/.test(text)) {
    return { ok: false, message: 'must be a position NFT id (decimal, or 0x followed by 64 hex digits) or the owner address (0x followed by 40 hex digits) of its positions' };
  }
  const id = BigInt(text);
  if (id === 0n || id > MAX_UINT256) return { ok: false, message: 'must be a position NFT id between 1 and 2^256 − 1' };
  return { ok: true, account: nftIdText(id) };
}

/** What a canonical account text names (it came through parseFluidAccount). */
export function fluidAccountOf(account: string): FluidAccount {
  return account.length === 42 ? { kind: 'owner', owner: getAddress(account) } : { kind: 'nft', nftId: BigInt(account) };
}

/** The collateral's value in borrow-token units at the liquidation price. */
export function collateralValue(supply: bigint, config: FluidVaultConfig): bigint {
  return (supply * config.oraclePriceLiquidate) / ORACLE_SCALE;
}

/** supply × price / 1e27 × LT / borrow in WAD (floor); null without debt. */
export function fluidHealthFactor(position: Pick<FluidPosition, 'supply' | 'borrow'>, config: FluidVaultConfig): bigint | null {
  if (position.borrow === 0n) return null;
  return (position.supply * config.oraclePriceLiquidate * config.liquidationThresholdBps * WAD) / (ORACLE_SCALE * BPS * position.borrow);
}

/**
 * Past the liquidation max limit (debt over collateral value above it) Fluid no longer sells the
 * position to liquidators: the vault absorbs it whole, collateral and debt, as bad debt.
 */
export function beyondMaxLimit(position: FluidPosition, config: FluidVaultConfig): boolean {
  return position.borrow > 0n && position.borrow * BPS > collateralValue(position.supply, config) * config.liquidationMaxLimitBps;
}

/** The lowest health factor first; positions without debt last. */
export function riskiest(positions: readonly FluidPosition[], config: FluidVaultConfig): FluidPosition | undefined {
  const ranked = positions.map((position) => ({ position, hf: fluidHealthFactor(position, config) }));
  ranked.sort((a, b) => compareHealthFactors(a.hf, b.hf));
  return ranked[0]?.position;
}

function assetsOf(market: FluidMarket, position: FluidPosition, config: FluidVaultConfig): AssetPosition[] {
  const assets: AssetPosition[] = [];
  if (position.supply > 0n) {
    assets.push({
      ...market.collateral,
      // One whole collateral token in borrow-token units.
      price: (10n ** BigInt(market.collateral.decimals) * config.oraclePriceLiquidate) / ORACLE_SCALE,
      collateral: position.supply,
      usedAsCollateral: true,
      debt: 0n,
      liquidationThresholdBps: config.liquidationThresholdBps,
      ltvBps: config.collateralFactorBps,
    });
  }
  if (position.borrow > 0n) {
    assets.push({ ...market.debt, price: 10n ** BigInt(market.debt.decimals), collateral: 0n, usedAsCollateral: false, debt: position.borrow, liquidationThresholdBps: 0n, ltvBps: 0n });
  }
  return assets;
}

/**
 * The snapshot of a watched account: its position, or for an owner the riskiest of its
 * positions in the vault (each one with debt listed in `subPositions`).
 */
export function fluidSnapshot(
  market: FluidMarket,
  input: { account: Address; positions: readonly FluidPosition[]; owner: boolean; config: FluidVaultConfig; block: { number: bigint; timestamp: bigint } },
): PositionSnapshot & { assets: AssetPosition[] } {
  const { config } = input;
  const position = riskiest(input.positions, config) ?? { nftId: 0n, owner: input.account, isLiquidated: false, supply: 0n, borrow: 0n };
  const subPositions: SubPosition[] = input.positions
    .filter((each) => each.borrow > 0n)
    .map((each) => ({
      id: each.nftId.toString(),
      account: each.owner,
      healthFactor: fluidHealthFactor(each, config),
      collateralBase: collateralValue(each.supply, config),
      debtBase: each.borrow,
      liquidationThresholdBps: config.liquidationThresholdBps,
    }));
  return {
    chainId: market.chainId,
    protocol: FLUID,
    market: market.vault,
    account: input.account,
    blockNumber: input.block.number,
    blockTimestamp: input.block.timestamp,
    baseDecimals: market.debt.decimals,
    ...countedInToken(market.debt),
    collateralBase: collateralValue(position.supply, config),
    debtBase: position.borrow,
    liquidationThresholdBps: config.liquidationThresholdBps,
    ltvBps: config.collateralFactorBps,
    healthFactor: fluidHealthFactor(position, config),
    assets: assetsOf(market, position, config),
    protocolFields: {
      nftId: position.nftId === 0n ? null : position.nftId.toString(),
      ...(input.owner ? { ownerPositions: input.positions.length } : {}),
      // Fluid liquidates in part, tick by tick: a position once touched stays marked.
      liquidated: position.isLiquidated,
      liquidationMaxLimitBps: Number(config.liquidationMaxLimitBps),
      liquidationPenaltyBps: Number(config.liquidationPenaltyBps),
      beyondMaxLimit: beyondMaxLimit(position, config),
    },
    ...(input.owner ? { subPositions, ...(position.borrow > 0n ? { shownSubPosition: position.nftId.toString() } : {}) } : {}),
  };
}
