import type { Address } from 'viem';

/*
 * A market whose values are counted in a token (Morpho's loan token, Fluid's borrow token, a
 * Compound v3 market priced in ETH) can be valued in US dollars through a price feed the owner
 * trusts for that token. This turns the feed's latest round into the executor's `usdUnit` (how
 * many of the market's value units make one dollar), or says why it cannot.
 */

/** The token a market's values are counted in, and how many value units make one whole token (at the block read). */
export type ValueUnit = { token: Address; symbol: string; perToken: bigint };

/** Dollar stablecoins counted as one US dollar each, by symbol: the USD of positions and of the top-up budget on markets counted in them. */
const USD_PAR_STABLES = new Set(['USDC', 'USDT', 'USDS', 'DAI', 'PYUSD', 'USDC.E', 'USDBC', 'USDT0']);

export function isDollarStablecoin(symbol: string): boolean {
  return USD_PAR_STABLES.has(symbol.trim().toUpperCase());
}

/**
 * How a market counted in one token's units (10^decimals to one token) reaches dollars: a dollar
 * stablecoin at par (`baseUsdPrice`, in those units), any other token through the owner's USD
 * feed for it (`valueUnit`; `baseUsdPrice` stays unknown until a feed values it).
 */
export function countedInToken(token: { asset: Address; symbol: string; decimals: number }): { baseUsdPrice: bigint | undefined; valueUnit?: ValueUnit } {
  const one = 10n ** BigInt(token.decimals);
  return isDollarStablecoin(token.symbol) ? { baseUsdPrice: one } : { baseUsdPrice: undefined, valueUnit: { token: token.asset, symbol: token.symbol, perToken: one } };
}

/** A Chainlink-style aggregator's latest round, read at the decision's block. */
export type FeedRound = { answer: bigint; decimals: number; updatedAt: bigint };

export type UsdUnit = { ok: true; usdUnit: bigint } | { ok: false; why: string };

/**
 * What is wrong with a feed's round for valuing anything at `blockTimestamp`, or null: an answer
 * that is not a positive price, or a round older than `maxAgeSeconds` (a feed that stopped
 * updating would value a crash at the price before it).
 */
export function roundProblem(input: { round: FeedRound; blockTimestamp: bigint; maxAgeSeconds: number; feed: string; symbol: string }): string | null {
  const { round } = input;
  if (round.answer <= 0n) return `the USD price feed ${input.feed} for ${input.symbol} answers ${round.answer}, not a price`;
  const age = input.blockTimestamp - round.updatedAt;
  if (age > BigInt(input.maxAgeSeconds)) {
    return `the USD price feed ${input.feed} for ${input.symbol} last updated ${age} s before the block, more than its ${input.maxAgeSeconds} s limit (maxAgeSeconds in USD_PRICE_FEEDS)`;
  }
  return null;
}

/**
 * perToken × 10^decimals ÷ answer, rounded down: a smaller unit values every action a little
 * higher, so rounding can only spend less of the owner's budget, never more. Refused for a round
 * with a problem (roundProblem), or when the unit would round to 0 (the token is worth more
 * dollars than it has value units).
 */
export function usdUnitFromRound(input: { unit: ValueUnit; round: FeedRound; blockTimestamp: bigint; maxAgeSeconds: number; feed: string }): UsdUnit {
  const { unit, round } = input;
  const problem = roundProblem({ ...input, symbol: unit.symbol });
  if (problem) return { ok: false, why: problem };
  const usdUnit = (unit.perToken * 10n ** BigInt(round.decimals)) / round.answer;
  if (usdUnit === 0n) return { ok: false, why: `one US dollar is less than one value unit of ${unit.symbol} at the feed's price, too coarse to value an action` };
  return { ok: true, usdUnit };
}

/**
 * A position's `baseUsdPrice` (dollars per whole base unit, with the base's decimals) from the
 * owner's feed for its value token: 10^(2·baseDecimals) × answer ÷ (perToken × 10^feedDecimals),
 * rounded down. For display and risk figures only, never for spending; refused like
 * usdUnitFromRound (stale or non-positive round) and when it would round to 0.
 */
export function baseUsdPriceFromRound(input: { unit: ValueUnit; baseDecimals: number; round: FeedRound; blockTimestamp: bigint; maxAgeSeconds: number; feed: string }): { ok: true; baseUsdPrice: bigint } | { ok: false; why: string } {
  const { unit, round } = input;
  const problem = roundProblem({ ...input, symbol: unit.symbol });
  if (problem) return { ok: false, why: problem };
  const baseUsdPrice = (10n ** BigInt(2 * input.baseDecimals) * round.answer) / (unit.perToken * 10n ** BigInt(round.decimals));
  if (baseUsdPrice === 0n) return { ok: false, why: `one value unit of ${unit.symbol} is worth less than the smallest amount of dollars shown` };
  return { ok: true, baseUsdPrice };
}
