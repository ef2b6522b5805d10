/*
 * Pure checks the executor runs before it signs anything: are the RPC endpoints on the
 * right chain, fresh and in agreement; is gas within the cap; how to price a replacement.
 * Each failure is a value with a stable code, reported in a `topup.failed` event.
 */

export type GuardCode = 'wrong_chain' | 'rpc_unavailable' | 'rpc_disagree' | 'rpc_stale' | 'gas_price_above_cap';
export type GuardFailure = { ok: false; code: GuardCode; message: string };

/** What one RPC endpoint answered when asked directly (not through failover). */
export type EndpointProbe =
  | { label: string; ok: true; chainId: number; blockNumber: bigint; healthFactor: bigint | null }
  | { label: string; ok: false; error: string };

/**
 * Endpoints may disagree on the account's health factor by this much (relative, basis
 * points) at their own latest blocks. Interest moves it by far less per block; a larger gap
 * means one node misses a price update or a transaction, and acting on either view is a guess.
 */
export const HEALTH_FACTOR_TOLERANCE_BPS = 10n;

/**
 * Decides whether the chain can be read for a decision that moves money, and at which block.
 * - any endpoint on another chain: refused (a misconfigured URL could make us sign for the wrong chain);
 * - endpoints that disagree on the account's health factor beyond the tolerance: refused;
 * - the block every answering endpoint has (the lowest latest) must not be older than
 *   `minBlock` (the block the trigger was seen at, or our own last mined transaction): a
 *   lagging node would show a position from before the trigger or before our last top-up.
 * Endpoints that do not answer are skipped: failover covers them; at least one must answer.
 */
export function checkEndpoints(
  probes: readonly EndpointProbe[],
  options: { chainId: number; minBlock: bigint; toleranceBps?: bigint },
): { ok: true; blockNumber: bigint } | GuardFailure {
  const answered = probes.filter((probe): probe is Extract<EndpointProbe, { ok: true }> => probe.ok);
  const wrong = answered.find((probe) => probe.chainId !== options.chainId);
  if (wrong) {
    return { ok: false, code: 'wrong_chain', message: `${wrong.label} serves chain ${wrong.chainId}, but the watch is on chain ${options.chainId}; nothing is signed for a chain we cannot confirm` };
  }
  if (answered.length === 0) {
    const reasons = probes.map((probe) => (probe.ok ? probe.label : `${probe.label}: ${probe.error}`)).join('; ');
    return { ok: false, code: 'rpc_unavailable', message: `no RPC endpoint of chain ${options.chainId} answered (${reasons})` };
  }
  const tolerance = options.toleranceBps ?? HEALTH_FACTOR_TOLERANCE_BPS;
  for (const other of answered.slice(1)) {
    const first = answered[0]!;
    if (!healthFactorsAgree(first.healthFactor, other.healthFactor, tolerance)) {
      return {
        ok: false,
        code: 'rpc_disagree',
        message: `RPC endpoints disagree on the account: ${first.label} sees health factor ${show(first.healthFactor)} at block ${first.blockNumber}, ${other.label} sees ${show(other.healthFactor)} at block ${other.blockNumber}`,
      };
    }
  }
  const lowest = answered.reduce((min, probe) => (probe.blockNumber < min.blockNumber ? probe : min));
  if (lowest.blockNumber < options.minBlock) {
    return { ok: false, code: 'rpc_stale', message: `${lowest.label} is at block ${lowest.blockNumber}, behind block ${options.minBlock} already seen: the node is lagging, nothing is decided on old data` };
  }
  return { ok: true, blockNumber: lowest.blockNumber };
}

function healthFactorsAgree(left: bigint | null, right: bigint | null, toleranceBps: bigint): boolean {
  if (left === null || right === null) return left === right;
  const difference = left > right ? left - right : right - left;
  const reference = left < right ? left : right;
  return difference * 10_000n <= reference * toleranceBps;
}

function show(healthFactor: bigint | null): string {
  if (healthFactor === null) return '∞ (no debt)';
  const whole = healthFactor / 10n ** 18n;
  const fraction = ((healthFactor % 10n ** 18n) / 10n ** 14n).toString().padStart(4, '0');
  return `${whole}.${fraction}`;
}

// ---- fees ----

export type Fees = { type: 'eip1559'; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { type: 'legacy'; gasPrice: bigint };

/** What the chain asks right now: latest base fee (null on pre-London chains), a tip, the legacy gas price. */
export type FeeMarket = { baseFeePerGas: bigint | null; priorityFee: bigint; gasPrice: bigint };

/**
 * Fees for a new transaction. EIP-1559: it needs base fee + tip to be included; if that is
 * above the cap we refuse rather than underpay into a transaction that never lands. The max
 * fee leaves room for the base fee to double (two full blocks) but never exceeds the cap,
 * so the cap is a hard ceiling on the price paid.
 */
export function quoteFees(market: FeeMarket, capWei: bigint): { ok: true; fees: Fees; price: bigint } | GuardFailure {
  if (market.baseFeePerGas === null) {
    if (market.gasPrice > capWei) return aboveCap(market.gasPrice, capWei);
    return { ok: true, fees: { type: 'legacy', gasPrice: market.gasPrice }, price: market.gasPrice };
  }
  const needed = market.baseFeePerGas + market.priorityFee;
  if (needed > capWei) return aboveCap(needed, capWei);
  const maxFeePerGas = min(market.baseFeePerGas * 2n + market.priorityFee, capWei);
  return { ok: true, fees: { type: 'eip1559', maxFeePerGas, maxPriorityFeePerGas: min(market.priorityFee, maxFeePerGas) }, price: needed };
}

/** Nodes accept a same-nonce replacement only when both fee fields rise by at least 10%; we ask 12.5% at least. */
const MIN_BUMP_NUM = 1125n;
/** A replacement offers 25% more (or the current market, if higher). */
const BUMP_NUM = 1250n;
const BUMP_DEN = 1000n;

/**
 * Fees for a replacement of a stuck transaction (same nonce): previous fees raised by 25%,
 * or the current market if that is higher, capped. Undefined when the cap leaves no room
 * for the minimum bump nodes require: the stuck transaction then keeps waiting.
 */
export function bumpFees(previous: Fees, market: FeeMarket, capWei: bigint): Fees | undefined {
  if (previous.type === 'legacy') {
    const wanted = min(max(ceilMul(previous.gasPrice, BUMP_NUM), market.gasPrice), capWei);
    return wanted >= ceilMul(previous.gasPrice, MIN_BUMP_NUM) && wanted > previous.gasPrice ? { type: 'legacy', gasPrice: wanted } : undefined;
  }
  const current = market.baseFeePerGas === null ? market.gasPrice * 2n : market.baseFeePerGas * 2n + market.priorityFee;
  const maxFeePerGas = min(max(ceilMul(previous.maxFeePerGas, BUMP_NUM), current), capWei);
  // A zero tip bumped by a percentage stays zero; one wei more satisfies "strictly higher".
  const maxPriorityFeePerGas = min(max(ceilMul(previous.maxPriorityFeePerGas, BUMP_NUM), previous.maxPriorityFeePerGas + 1n, market.priorityFee), maxFeePerGas);
  const enough =
    maxFeePerGas >= ceilMul(previous.maxFeePerGas, MIN_BUMP_NUM) &&
    maxFeePerGas > previous.maxFeePerGas &&
    maxPriorityFeePerGas >= ceilMul(previous.maxPriorityFeePerGas, MIN_BUMP_NUM) &&
    maxPriorityFeePerGas > previous.maxPriorityFeePerGas;
  return enough ? { type: 'eip1559', maxFeePerGas, maxPriorityFeePerGas } : undefined;
}

/** The most a transaction with these fees can cost in gas (wei). */
export function maxGasCost(fees: Fees, gas: bigint): bigint {
  return gas * (fees.type === 'legacy' ? fees.gasPrice : fees.maxFeePerGas);
}

function aboveCap(price: bigint, capWei: bigint): GuardFailure {
  return { ok: false, code: 'gas_price_above_cap', message: `gas costs ${gwei(price)} gwei now, above TOPUP_MAX_GAS_GWEI (${gwei(capWei)} gwei); nothing is sent until it falls` };
}

/** Wei as gwei with up to 9 decimals, trailing zeros trimmed. */
export function gwei(wei: bigint): string {
  const whole = wei / 1_000_000_000n;
  const fraction = (wei % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

function ceilMul(value: bigint, numerator: bigint): bigint {
  return (value * numerator + BUMP_DEN - 1n) / BUMP_DEN;
}

function min(...values: bigint[]): bigint {
  return values.reduce((a, b) => (b < a ? b : a));
}

function max(...values: bigint[]): bigint {
  return values.reduce((a, b) => (b > a ? b : a));
}
