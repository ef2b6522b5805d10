import { formatUnits, parseUnits, type Address } from 'viem';
import { BPS, WAD, type AssetPosition } from './position';

/*
 * The risk engine: health factor, distance to liquidation, liquidation prices and the
 * amounts that restore a target health factor. Pure bigint arithmetic, no I/O.
 *
 * The health factor replicates Aave v3.0.2 `GenericLogic.calculateUserAccountData`
 * bit for bit, rounding included, so a value computed here equals what the pool would
 * report for the same balances and prices. Per asset:
 *   value      = floor(amount * price / 10^decimals)                       (floor)
 * and for the account:
 *   collateral = Σ value of assets used as collateral whose threshold is > 0
 *   avgLT      = floor(Σ value_i * LT_i / collateral), 0 without collateral (floor)
 *   HF         = wadDiv(percentMul(collateral, avgLT), debt)
 *   percentMul(x, p) = (x * p + BPS/2) / BPS                               (half up)
 *   wadDiv(a, b)     = (a * WAD + b/2) / b                                 (half up)
 * Note: Aave skips collateral whose liquidation threshold is 0 entirely (it adds
 * neither value nor weight), because its condition is `liquidationThreshold != 0 &&
 * isUsingAsCollateral`. Liquidation thresholds are expected to be the effective ones
 * (e-mode already applied by the protocol adapter).
 */

/** Aggregate risk of an account, in the market's base currency (base decimals). */
export type AccountRisk = {
  collateralBase: bigint;
  debtBase: bigint;
  /** Collateral-weighted average liquidation threshold in basis points, floored as Aave does. */
  liquidationThresholdBps: bigint;
  /** WAD; null when the account has no debt (infinite health factor). */
  healthFactor: bigint | null;
};

/** How much to supply or repay to reach a target health factor. */
export type AmountToTarget = {
  /** Token units of the asset. */
  amount: bigint;
  /** False only when even the largest possible amount (the whole debt, for repayments) falls short. */
  reachesTarget: boolean;
};

/**
 * What the engine needs to know about an asset the account may not hold yet, so a top-up
 * can be simulated with a new collateral asset. Symbol and LTV only label the simulated entry.
 */
export type CollateralAssetParams = Pick<AssetPosition, 'asset' | 'decimals' | 'price' | 'liquidationThresholdBps'> &
  Partial<Pick<AssetPosition, 'symbol' | 'ltvBps'>>;

const HALF_BPS = BPS / 2n;

/** Value of `amount` token units in base currency: floor(amount * price / 10^decimals), as Aave rounds per reserve. */
export function assetValueBase(amount: bigint, price: bigint, decimals: number): bigint {
  return (amount * price) / tokenUnit(decimals);
}

/**
 * Health factor from aggregate values, same rounding as Aave: percentMul and wadDiv both
 * round half up. Null when there is no debt, since the health factor is then infinite.
 */
export function healthFactor(collateralBase: bigint, debtBase: bigint, liquidationThresholdBps: bigint): bigint | null {
  if (debtBase === 0n) return null;
  return wadDiv(percentMul(collateralBase, liquidationThresholdBps), debtBase);
}

/**
 * Account risk from per-asset balances, exactly as Aave v3.0.2 computes it (see the module
 * comment). Undefined when an asset whose value enters the computation has no known price:
 * a debt, or a collateral balance that counts. A price is not needed for a balance that
 * does not count (collateral not enabled, or with a zero threshold), as Aave ignores it too.
 */
export function healthFactorFromAssets(assets: readonly AssetPosition[]): AccountRisk | undefined {
  const sums = sumAccount(assets);
  if (sums === undefined) return undefined;
  const liquidationThresholdBps = averageThreshold(sums);
  return {
    collateralBase: sums.collateralBase,
    debtBase: sums.debtBase,
    liquidationThresholdBps,
    healthFactor: healthFactor(sums.collateralBase, sums.debtBase, liquidationThresholdBps),
  };
}

/**
 * How far all collateral prices may fall together (debt prices held) before the health
 * factor reaches 1, as a WAD fraction: 1 - 1/HF = (HF - WAD) * WAD / HF.
 * Floored, so the reported cushion is never larger than the real one.
 * Null without debt (the account cannot be liquidated); 0 when HF is already at or below 1.
 */
export function distanceToLiquidation(healthFactorWad: bigint | null): bigint | null {
  if (healthFactorWad === null) return null;
  if (healthFactorWad <= WAD) return 0n;
  return ((healthFactorWad - WAD) * WAD) / healthFactorWad;
}

/**
 * Price of one asset (base currency per whole token, base decimals) at which the health
 * factor reaches 1 with every other price held. The asset may be collateral and debt at
 * once; with a_i its counted collateral and b_i its debt in token units, u = 10^decimals,
 * S_c = Σ_{j≠i} value_j * LT_j and S_d = Σ_{j≠i} debt value_j, HF = 1 means
 *   S_c + a_i * P * LT_i / u = BPS * (S_d + b_i * P / u)
 *   P = u * (BPS * S_d - S_c) / (a_i * LT_i - BPS * b_i)
 * This is the exact real-number solution; Aave's own per-step rounding (in particular the
 * floored average threshold, up to 1 bps) moves the true boundary by about 1/avgLT relative.
 *
 * - Net collateral exposure (denominator > 0): liquidation happens when the price falls
 *   below the result. Rounded up, so the alert fires no later than the real boundary.
 * - Net debt exposure (denominator < 0): liquidation happens when the price rises above
 *   the result. Rounded down, for the same reason. 0n means every positive price
 *   liquidates (the rest of the account cannot carry this debt at all).
 * - Null when no price of this asset can make the account liquidatable: no debt, no
 *   exposure to this asset (or exposures that cancel), or collateral whose fall alone can
 *   never bring the account under 1. Also null when the asset is not in the account.
 * - Undefined when another counted asset has no price. The asset's own current price is
 *   not needed, since it is the unknown being solved for.
 */
export function liquidationPrice(assets: readonly AssetPosition[], assetAddress: Address): bigint | null | undefined {
  const index = assets.findIndex((position) => sameAddress(position.asset, assetAddress));
  const subject = assets[index];
  if (subject === undefined) return null;
  const rest = sumAccount(assets.filter((_, otherIndex) => otherIndex !== index));
  if (rest === undefined) return undefined;

  const unit = tokenUnit(subject.decimals);
  const countedCollateral = countsAsCollateral(subject) ? subject.collateral : 0n;
  // How the (threshold-weighted collateral − BPS·debt) balance moves per price unit, times u.
  const exposure = countedCollateral * subject.liquidationThresholdBps - BPS * subject.debt;
  // The same balance's shortfall with this asset priced at zero: positive means under water.
  const shortfallAtZeroPrice = BPS * rest.debtBase - rest.weightedCollateral;

  if (exposure > 0n) {
    if (shortfallAtZeroPrice <= 0n) return null;
    return ceilDiv(unit * shortfallAtZeroPrice, exposure);
  }
  if (exposure < 0n) {
    if (shortfallAtZeroPrice > 0n) return 0n;
    return (unit * -shortfallAtZeroPrice) / -exposure;
  }
  return null;
}

/**
 * The account as it would be after supplying `amount` of an asset as collateral. The asset
 * is taken as enabled as collateral afterwards: for a balance the account holds but has not
 * enabled, the existing balance then counts too (the account has to enable it, since Aave
 * only auto-enables on a first supply). An amount of 0 leaves the account unchanged.
 */
export function withCollateralSupplied(
  assets: readonly AssetPosition[],
  collateral: CollateralAssetParams,
  amount: bigint,
): AssetPosition[] {
  if (amount === 0n) return [...assets];
  const index = assets.findIndex((position) => sameAddress(position.asset, collateral.asset));
  if (index >= 0) {
    return assets.map((position, otherIndex) =>
      otherIndex === index ? { ...position, collateral: position.collateral + amount, usedAsCollateral: true } : position,
    );
  }
  return [
    ...assets,
    {
      asset: collateral.asset,
      symbol: collateral.symbol ?? '',
      decimals: collateral.decimals,
      price: collateral.price,
      collateral: amount,
      usedAsCollateral: true,
      debt: 0n,
      liquidationThresholdBps: collateral.liquidationThresholdBps,
      ltvBps: collateral.ltvBps ?? 0n,
    },
  ];
}

/** The account as it would be after repaying `amount` of a debt from the wallet (collateral untouched). */
export function withDebtRepaid(assets: readonly AssetPosition[], debtAsset: Address, amount: bigint): AssetPosition[] {
  return assets.map((position) =>
    sameAddress(position.asset, debtAsset) ? { ...position, debt: position.debt - amount } : position,
  );
}

/**
 * The smallest amount of `collateral` (token units) whose supply, simulated with
 * `withCollateralSupplied`, brings `healthFactorFromAssets` to at least `targetHealthFactor`
 * (WAD). Exact under Aave's rounding: the amount reaches the target and no smaller amount
 * does. `collateral` is an address of an asset the account holds, or the asset's
 * parameters when it may not hold it yet; an entry in `assets` wins over the parameters,
 * as it comes from the same snapshot.
 *
 * 0n when the account is already at or above the target (or has no debt). Undefined when
 * a price is unknown, or when supplying the asset cannot raise the health factor (zero
 * threshold or zero price), or when an address is given for an asset not in `assets`.
 */
export function topUpAmount(
  assets: readonly AssetPosition[],
  collateral: Address | CollateralAssetParams,
  targetHealthFactor: bigint,
): AmountToTarget | undefined {
  const params = resolveCollateralParams(assets, collateral);
  if (params === undefined || params.price === undefined) return undefined;
  if (params.price <= 0n || params.liquidationThresholdBps <= 0n) return undefined;
  const current = healthFactorFromAssets(assets);
  if (current === undefined) return undefined;
  if (meetsTarget(current.healthFactor, targetHealthFactor)) return { amount: 0n, reachesTarget: true };

  const amount = minimalCollateralToSupply(assets, { ...params, price: params.price }, targetHealthFactor);
  const reachesWith = (candidate: bigint) =>
    meetsTarget(healthFactorFromAssets(withCollateralSupplied(assets, params, candidate))?.healthFactor, targetHealthFactor);
  assertMinimal(amount, reachesWith, 'topUpAmount');
  return { amount, reachesTarget: true };
}

/**
 * The smallest amount of `debtAsset` (token units) whose repayment, simulated with
 * `withDebtRepaid`, brings `healthFactorFromAssets` to at least `targetHealthFactor` (WAD).
 * Exact under Aave's rounding (health factor only grows as debt shrinks, so the first
 * amount that reaches the target is the boundary). Capped at the account's debt of that
 * asset: when even repaying all of it falls short, returns the whole debt with
 * `reachesTarget: false`. 0n when already at or above the target; `reachesTarget: false`
 * with 0n when the account owes none of this asset. Undefined when a price is unknown.
 */
export function repayAmount(
  assets: readonly AssetPosition[],
  debtAsset: Address,
  targetHealthFactor: bigint,
): AmountToTarget | undefined {
  const current = healthFactorFromAssets(assets);
  if (current === undefined) return undefined;
  if (meetsTarget(current.healthFactor, targetHealthFactor)) return { amount: 0n, reachesTarget: true };
  const debt = assets.find((position) => sameAddress(position.asset, debtAsset));
  if (debt === undefined || debt.debt === 0n) return { amount: 0n, reachesTarget: false };
  // A debt that counts has a price, or healthFactorFromAssets would have returned undefined.
  const price = debt.price ?? 0n;

  // Collateral does not move, so the condition is a ceiling on total debt (see maxDebtForTarget).
  const adjustedCollateral = percentMul(current.collateralBase, current.liquidationThresholdBps);
  const maxDebt = maxDebtForTarget(adjustedCollateral, targetHealthFactor);
  const otherDebt = current.debtBase - assetValueBase(debt.debt, price, debt.decimals);
  const maxRemainingValue = maxDebt - otherDebt;
  if (maxRemainingValue < 0n || price === 0n) return { amount: debt.debt, reachesTarget: false };

  // Largest remaining balance whose floored value stays within the ceiling:
  // floor(rest * P / u) <= R  <=>  rest * P <= (R + 1) * u - 1.
  const unit = tokenUnit(debt.decimals);
  const maxRemainingTokens = ((maxRemainingValue + 1n) * unit - 1n) / price;
  const amount = maxBigint(0n, debt.debt - maxRemainingTokens);
  const reachesWith = (candidate: bigint) =>
    meetsTarget(healthFactorFromAssets(withDebtRepaid(assets, debtAsset, candidate))?.healthFactor, targetHealthFactor);
  assertMinimal(amount, reachesWith, 'repayAmount');
  return { amount, reachesTarget: true };
}

/**
 * Parses a user-facing decimal ("1.5", or the number 1.5) into WAD. Exact for strings;
 * numbers go through their shortest decimal representation (String(1.1) is "1.1", not the
 * binary approximation). Rejects what WAD cannot hold exactly (more than 18 decimals).
 */
export function decimalToWad(value: string | number): bigint {
  const text = typeof value === 'number' ? numberToPlainDecimal(value) : value.trim();
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (match === null) throw new RangeError(`Not a decimal number: "${String(value)}"`);
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  if (fraction.length > 18) throw new RangeError(`More than 18 decimal places: "${String(value)}"`);
  return parseUnits(`${match[1] ?? ''}${match[2] ?? '0'}${fraction === '' ? '' : `.${fraction}`}`, 18);
}

/**
 * Displays a WAD value with a fixed number of decimals ("1.2034"), rounding toward
 * negative infinity so a displayed health factor never looks safer than it is.
 * Null (no debt, infinite health factor) displays as "∞".
 */
export function formatWad(value: bigint | null, digits = 4): string {
  if (value === null) return '∞';
  if (!Number.isInteger(digits) || digits < 0 || digits > 18) throw new RangeError(`digits must be 0..18, got ${digits}`);
  const step = 10n ** BigInt(18 - digits);
  const floored = value >= 0n ? value / step : -ceilDiv(-value, step);
  const [whole, fraction = ''] = formatUnits(floored, digits).split('.');
  return digits === 0 ? `${whole}` : `${whole}.${fraction.padEnd(digits, '0')}`;
}

// ---- internals ----

type AccountSums = {
  collateralBase: bigint;
  /** Σ value_i * LT_i over counted collateral, in base units times basis points. */
  weightedCollateral: bigint;
  debtBase: bigint;
};

function sumAccount(assets: readonly AssetPosition[]): AccountSums | undefined {
  let collateralBase = 0n;
  let weightedCollateral = 0n;
  let debtBase = 0n;
  for (const position of assets) {
    const collateralCounts = countsAsCollateral(position) && position.collateral !== 0n;
    if (!collateralCounts && position.debt === 0n) continue;
    if (position.price === undefined) return undefined;
    if (collateralCounts) {
      const value = assetValueBase(position.collateral, position.price, position.decimals);
      collateralBase += value;
      weightedCollateral += value * position.liquidationThresholdBps;
    }
    debtBase += assetValueBase(position.debt, position.price, position.decimals);
  }
  return { collateralBase, weightedCollateral, debtBase };
}

function averageThreshold(sums: AccountSums): bigint {
  return sums.collateralBase === 0n ? 0n : sums.weightedCollateral / sums.collateralBase;
}

/** Aave's condition for a balance to count as collateral (GenericLogic, v3.0.2). */
function countsAsCollateral(position: AssetPosition): boolean {
  return position.usedAsCollateral && position.liquidationThresholdBps !== 0n;
}

function percentMul(value: bigint, bps: bigint): bigint {
  return (value * bps + HALF_BPS) / BPS;
}

function wadDiv(numerator: bigint, denominator: bigint): bigint {
  return (numerator * WAD + denominator / 2n) / denominator;
}

/**
 * Largest total debt D with wadDiv(N, D) >= T, for T >= 1 wei.
 * wadDiv(N, D) >= T  <=>  N*WAD + floor(D/2) >= T*D  <=>  ceil(D*(2T-1)/2) <= N*WAD
 *                    <=>  D <= 2*N*WAD / (2T-1), floored as D is an integer.
 */
function maxDebtForTarget(adjustedCollateral: bigint, target: bigint): bigint {
  return (2n * adjustedCollateral * WAD) / (2n * target - 1n);
}

/**
 * Smallest N with wadDiv(N, D) >= T: by the same algebra as maxDebtForTarget,
 * N*WAD >= ceil(D*(2T-1)/2), so N = ceil(D*(2T-1) / (2*WAD)).
 */
function minAdjustedCollateralForTarget(debtBase: bigint, target: bigint): bigint {
  return maxBigint(0n, ceilDiv(debtBase * (2n * target - 1n), 2n * WAD));
}

/**
 * The top-up search. With debt fixed, the target is a floor on N = percentMul(C, avgLT),
 * which holds iff C * avgLT >= Q with Q = BPS * N_min - BPS/2. Adding c base units of the
 * asset (threshold LT) to other collateral C0 with weight W0 gives
 *   f(c) = (C0 + c) * floor((W0 + c*LT) / (C0 + c)).
 * f is not monotone: when LT is below the account's average, the floored average steps
 * down by 1 bps now and then and f drops by C0 + c. But between steps the average is a
 * constant m and f = (C0 + c) * m grows, so the smallest c on each such piece is
 * ceil(Q/m) - C0. Walking the pieces in order (at most one per basis point between the
 * starting average and LT) finds the globally smallest achievable c, hence amount:
 * amounts map to values by floor((a + x) * P / u), which skips values when a token unit is
 * worth more than one base unit, so each candidate is checked against its piece's end.
 */
function minimalCollateralToSupply(
  assets: readonly AssetPosition[],
  params: CollateralAssetParams & { price: bigint },
  target: bigint,
): bigint {
  const existing = assets.find((position) => sameAddress(position.asset, params.asset));
  const held = existing?.collateral ?? 0n;
  const others = sumAccount(
    assets.map((position) => (position === existing ? { ...position, collateral: 0n } : position)),
  );
  // Callers checked that every counted price is known.
  if (others === undefined) throw new Error('minimalCollateralToSupply: unknown price');

  const threshold = params.liquidationThresholdBps;
  const valueOf = (amount: bigint) => assetValueBase(held + amount, params.price, params.decimals);
  const amountFor = (value: bigint) =>
    maxBigint(1n, ceilDiv(value * tokenUnit(params.decimals), params.price) - held);
  const required = BPS * minAdjustedCollateralForTarget(others.debtBase, target) - HALF_BPS;
  const baseCollateral = others.collateralBase;
  const baseWeight = others.weightedCollateral;
  // Sign of how the average threshold moves as this asset's value grows.
  const drift = threshold * baseCollateral - baseWeight;

  let value = valueOf(1n);
  for (;;) {
    const total = baseCollateral + value;
    if (total === 0n) {
      value += 1n;
      continue;
    }
    const average = (baseWeight + value * threshold) / total;
    const pieceEnd = averagePieceEnd(average, threshold, baseCollateral, baseWeight, drift);
    const needed = average === 0n ? undefined : maxBigint(value, ceilDiv(required, average) - baseCollateral);
    if (needed !== undefined && (pieceEnd === undefined || needed <= pieceEnd)) {
      const amount = amountFor(needed);
      const reached = valueOf(amount);
      if (pieceEnd === undefined || reached <= pieceEnd) return amount;
      value = reached; // values in between cannot be reached with whole token units
      continue;
    }
    if (pieceEnd === undefined) throw new Error('minimalCollateralToSupply: no solution on the last piece');
    value = pieceEnd + 1n;
  }
}

/**
 * Last value c (of the supplied asset, base units) for which the floored average
 * threshold stays at `average`; undefined when it stays there forever.
 * floor((W0 + c*LT) / (C0 + c)) >= m  <=>  c * (LT - m) >= m*C0 - W0.
 */
function averagePieceEnd(
  average: bigint,
  threshold: bigint,
  baseCollateral: bigint,
  baseWeight: bigint,
  drift: bigint,
): bigint | undefined {
  if (drift === 0n) return undefined;
  if (drift < 0n) {
    // Average falls toward LT and never below it; it stays >= m while c <= (W0 - m*C0) / (m - LT).
    if (average <= threshold) return undefined;
    return (baseWeight - average * baseCollateral) / (average - threshold);
  }
  // Average rises toward LT without reaching it; the next step m+1 starts at ceil(((m+1)*C0 - W0) / (LT - m - 1)).
  const next = average + 1n;
  if (next >= threshold) return undefined;
  return ceilDiv(next * baseCollateral - baseWeight, threshold - next) - 1n;
}

/**
 * Guards the closed forms against healthFactorFromAssets, the single source of truth:
 * the amount must reach the target and one unit less must not. A failure is a bug in
 * this module, not a property of the input, so it throws rather than return a wrong amount.
 */
function assertMinimal(amount: bigint, reachesWith: (amount: bigint) => boolean, name: string): void {
  if (!reachesWith(amount) || (amount > 0n && reachesWith(amount - 1n))) {
    throw new Error(`${name}: closed form disagrees with healthFactorFromAssets at ${amount}`);
  }
}

function resolveCollateralParams(
  assets: readonly AssetPosition[],
  collateral: Address | CollateralAssetParams,
): CollateralAssetParams | undefined {
  const address = typeof collateral === 'string' ? collateral : collateral.asset;
  const existing = assets.find((position) => sameAddress(position.asset, address));
  if (existing !== undefined) return existing;
  return typeof collateral === 'string' ? undefined : collateral;
}

/** Null health factor means no debt: infinite, so it meets any target. */
function meetsTarget(healthFactorWad: bigint | null | undefined, target: bigint): boolean {
  if (healthFactorWad === undefined) return false;
  return healthFactorWad === null || healthFactorWad >= target;
}

/** Addresses arrive checksummed from some sources and lowercase from others. */
function sameAddress(left: Address, right: Address): boolean {
  return left.toLowerCase() === right.toLowerCase();
}

function tokenUnit(decimals: number): bigint {
  if (!Number.isInteger(decimals) || decimals < 0) throw new RangeError(`Invalid token decimals: ${decimals}`);
  return 10n ** BigInt(decimals);
}

/** Ceiling division for a positive denominator (bigint division truncates toward zero, which is already the ceiling for n <= 0). */
function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  return numerator <= 0n ? -(-numerator / denominator) : (numerator + denominator - 1n) / denominator;
}

function maxBigint(left: bigint, right: bigint): bigint {
  return left > right ? left : right;
}

/** "1e-7" → "0.0000001", "1.5e+21" → "1500000000000000000000"; plain forms pass through. */
function numberToPlainDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`Not a finite number: ${value}`);
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (match === null) return text;
  const [, sign = '', whole = '', fraction = '', exponentText = '0'] = match;
  const digits = whole + fraction;
  const pointAt = whole.length + Number(exponentText);
  if (pointAt <= 0) return `${sign}0.${'0'.repeat(-pointAt)}${digits}`;
  if (pointAt >= digits.length) return `${sign}${digits}${'0'.repeat(pointAt - digits.length)}`;
  return `${sign}${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
}
