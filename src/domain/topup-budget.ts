import { formatUnits, parseUnits } from 'viem';
import { DAY_WINDOW_MS } from './topup-plan';

/*
 * The owner's per-tenant grant for live top-ups: a USD budget per rolling 24 hours, counted
 * over every live action of every watch of the tenant. Pure: amounts are bigint, USD in
 * units of 10^-8 (Aave's oracle base unit), times are inputs.
 */

export const USD_DECIMALS = 8;

export type TopUpGrant = { enabled: boolean; maxUsdPerDay: bigint };

/** One reservation of the budget, made just before an action's first transaction is sent. */
export type BudgetSpend = { usd: bigint; at: number; released: boolean };

export type BudgetSummary = { spent: bigint; remaining: bigint; oldestAt: number | null };

/** Released spends (the action provably moved nothing) do not count; the window rolls, it never resets at midnight. */
export function summarizeBudget(grant: TopUpGrant | null, spends: readonly BudgetSpend[], now: number): BudgetSummary {
  let spent = 0n;
  let oldestAt: number | null = null;
  for (const spend of spends) {
    if (spend.released || spend.at <= now - DAY_WINDOW_MS) continue;
    spent += spend.usd;
    if (oldestAt === null || spend.at < oldestAt) oldestAt = spend.at;
  }
  const max = grant?.enabled ? grant.maxUsdPerDay : 0n;
  return { spent, remaining: max > spent ? max - spent : 0n, oldestAt };
}

/**
 * The USD value of a token amount at the oracle's price (price per whole token in the
 * oracle's base currency, `baseCurrencyUnit` = 1 USD), rounded up: the budget never
 * undercounts what leaves the wallet.
 */
export function usdValue(amount: bigint, decimals: number, price: bigint, baseCurrencyUnit: bigint): bigint {
  const numerator = amount * price * 10n ** BigInt(USD_DECIMALS);
  const denominator = 10n ** BigInt(decimals) * baseCurrencyUnit;
  return (numerator + denominator - 1n) / denominator;
}

/** The most token units worth at most `usd` at this price (rounded down); usdValue of it never exceeds `usd`. */
export function amountWithinUsd(usd: bigint, decimals: number, price: bigint, baseCurrencyUnit: bigint): bigint {
  if (usd <= 0n || price <= 0n) return 0n;
  return (usd * 10n ** BigInt(decimals) * baseCurrencyUnit) / (price * 10n ** BigInt(USD_DECIMALS));
}

/** "5000" or "12.5" → USD units; the caller validated the text (digits, at most 8 decimals). */
export function parseUsd(text: string): bigint {
  return parseUnits(text, USD_DECIMALS);
}

export function formatUsd(value: bigint): string {
  return formatUnits(value, USD_DECIMALS);
}
