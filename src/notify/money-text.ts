/*
 * Amounts as people read them in alerts, Telegram replies and the dashboard: dollars as "$1,240.00",
 * a token a market counts in as "0.9302 WETH", a unit with no name as "… (base currency)". One
 * place, so no surface shows a "$" on an amount that is not in dollars.
 */

/** `value` (a decimal string) in `currency`, a position's `baseCurrency` or "USD". */
export function moneyText(value: string, currency: string): string {
  const number = Number(value);
  if (!Number.isFinite(number)) return currency === 'USD' ? `$${value}` : `${value} ${currency}`;
  if (currency === 'USD') return `$${number.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const text = number.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 });
  return currency === 'base' ? `${text} (base currency)` : `${text} ${currency}`;
}

/** A position's collateral or debt: in dollars when its USD is known, else in its base currency. */
export function valueText(value: { base: string; usd: string | null }, baseCurrency: string): string {
  return value.usd !== null ? moneyText(value.usd, 'USD') : moneyText(value.base, baseCurrency);
}
