import { formatUnits, type Address, type Hex } from 'viem';
import type { AssetPosition, PositionSnapshot, ProtocolFields } from '../../domain/position';
import type { MakerContracts } from './deployments';
import { vaultName } from './account';

/*
 * Maker vaults in the shared model, pure, with dss's own integer steps. A vault (urn) of an
 * ilk holds `ink` collateral and `art` normalized debt; the Vat lets the Dog bark it when
 *   ink × spot < art × rate,
 * where spot = price ÷ par ÷ mat (set by Spotter.poke) and rate is the ilk's accumulated
 * stability fee. The Vat's rate is only as fresh as the last `jug.drip`, and anyone may drip
 * before barking, so the rate is projected to the block with the Jug's own rpow (then it
 * equals what drip would store, to the wei). Values are US dollars with 18 decimals: the pip
 * prices collateral in USD and Maker counts DAI debt at par.
 */

export const MAKER = 'maker';
const WAD = 10n ** 18n;
export const RAY = 10n ** 27n;

/** The next price, the spot it gives, and the earliest time it can take effect (the OSM's zzz + hop, unix seconds). */
export type NextPrice = { price: bigint; spot: bigint; from: bigint };

export type MakerMarket = {
  chainId: number;
  contracts: MakerContracts;
  /** The ilk as the Vat keys it (bytes32), its name ("ETH-A") and the collateral's symbol ("ETH"). */
  ilk: Hex;
  name: string;
  symbol: string;
  /**
   * The Vat knows no token addresses: the collateral is named by the ilk's price source (the
   * Spotter's pip) and the DAI debt by the Vat itself.
   */
  pip: Address;
  clip: Address;
  /** The Dog's liquidation penalty, WAD (1.13e18 = 13%). */
  chop: bigint;
};

/** What one tick reads of the ilk: the Vat's rate and spot, the Jug's duty, rho and base, the Spotter's mat and par. */
export type IlkState = { rate: bigint; spot: bigint; duty: bigint; rho: bigint; base: bigint; mat: bigint; par: bigint };
export type Urn = { ink: bigint; art: bigint };

/** Jug.rpow: x^n in base b by squaring, each product rounded half up, as the Jug computes it. */
export function rpow(x: bigint, n: bigint, b: bigint): bigint {
  if (x === 0n) return n === 0n ? b : 0n;
  let z = n % 2n === 0n ? b : x;
  const half = b / 2n;
  for (n /= 2n; n > 0n; n /= 2n) {
    x = (x * x + half) / b;
    if (n % 2n === 1n) z = (z * x + half) / b;
  }
  return z;
}

/** The ilk's rate as `jug.drip` at `timestamp` would store it: rmul(rpow(base + duty, now − rho), rate). */
export function projectedRate(state: Pick<IlkState, 'rate' | 'duty' | 'rho' | 'base'>, timestamp: bigint): bigint {
  // rho 0: the Jug was never told about the ilk (jug.init sets it), so nothing accrues.
  if (state.rho === 0n || timestamp <= state.rho) return state.rate;
  return (rpow(state.base + state.duty, timestamp - state.rho, RAY) * state.rate) / RAY;
}

/** USD per whole collateral token, 18 decimals: spot × mat is the price over par, × par is the pip's price. */
export function collateralPrice(state: Pick<IlkState, 'spot' | 'mat' | 'par'>): bigint {
  return (state.spot * state.mat * state.par) / (RAY * RAY * 10n ** 9n);
}

/** The liquidation ratio as a threshold: 1 / mat in basis points (mat 1.45 → 6896). */
export function thresholdBps(mat: bigint): bigint {
  return mat === 0n ? 0n : (RAY * 10_000n) / mat;
}

/** The Dog's penalty as the shared rule states it: chop − 1, in basis points. */
export function penaltyBps(chop: bigint): bigint {
  return chop > WAD ? (chop - WAD) / 10n ** 14n : 0n;
}

/** ink × spot ÷ (art × rate) in WAD, floored so "below 1" is exactly the Dog's "ink × spot < art × rate"; null without debt. */
export function makerHealthFactor(urn: Urn, spot: bigint, rate: bigint): bigint | null {
  return urn.art === 0n ? null : (urn.ink * spot * WAD) / (urn.art * rate);
}

/**
 * `next`: the OSM's next price, when the ilk's pip is an OSM that has one (the health factor
 * at it counts for alerts now); `vault`: the CdpManager vault the watch named, with its urn.
 */
export function makerSnapshot(
  market: MakerMarket,
  input: { account: Address; urn: Urn; state: IlkState; block: { number: bigint; timestamp: bigint }; next?: NextPrice; vault?: { id: bigint; urn: Address } },
): PositionSnapshot & { assets: AssetPosition[] } {
  const { urn, state, next, vault } = input;
  const rate = projectedRate(state, input.block.timestamp);
  const price = collateralPrice(state);
  // What repaying everything takes: art × rate in DAI, rounded up as the Vat's integer DAI is.
  const debtDai = (urn.art * rate + RAY - 1n) / RAY;
  const daiPrice = state.par / 10n ** 9n;
  const lt = thresholdBps(state.mat);
  const assets: AssetPosition[] = [];
  if (urn.ink > 0n) assets.push({ asset: market.pip, symbol: market.symbol, decimals: 18, price, collateral: urn.ink, usedAsCollateral: true, debt: 0n, liquidationThresholdBps: lt, ltvBps: lt });
  if (urn.art > 0n) assets.push({ asset: market.contracts.vat, symbol: 'DAI', decimals: 18, price: daiPrice, collateral: 0n, usedAsCollateral: false, debt: debtDai, liquidationThresholdBps: 0n, ltvBps: 0n });
  return {
    chainId: market.chainId,
    protocol: MAKER,
    market: market.ilk,
    account: input.account,
    blockNumber: input.block.number,
    blockTimestamp: input.block.timestamp,
    baseDecimals: 18,
    baseUsdPrice: WAD,
    collateralBase: (urn.ink * price) / WAD,
    debtBase: (debtDai * daiPrice) / WAD,
    liquidationThresholdBps: lt,
    // Maker draws up to the liquidation ratio itself: no lower borrowing limit.
    ltvBps: lt,
    healthFactor: makerHealthFactor(urn, state.spot, rate),
    ...(next ? { nextHealthFactor: makerHealthFactor(urn, next.spot, rate) } : {}),
    assets,
    ...(next || vault ? { protocolFields: makerFields(next, vault) } : {}),
  };
}

function makerFields(next: NextPrice | undefined, vault: { id: bigint; urn: Address } | undefined): ProtocolFields {
  return {
    ...(vault ? { vault: vaultName(vault.id), urn: vault.urn } : {}),
    ...(next ? { nextPrice: formatUnits(next.price, 18), nextPriceAt: new Date(Number(next.from) * 1000).toISOString() } : {}),
  };
}
