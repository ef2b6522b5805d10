import type { Address } from 'viem';

/*
 * A market whose values are counted in a token (Morpho's loan token, Fluid's borrow token, a
 * Compound v3 market priced in ETH) can be valued in US dollars through a price feed the owner
 * trusts for that token. This turns the feed's latest round into the executor's `usdUnit` (how
 * many of the market's value units make one dollar), or says why it cannot.
 */

/** The token a market's values are counted in, and how many value units make one whole token (at the block read). */
export type ValueUnit = { token: Address; symbol: string; perToken: bigint };

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
