/*
 * A token's symbol as every surface shows it (positions, alerts, Telegram, the dashboard). A token
 * is anyone's contract, so its `symbol()` is hostile input like any other: a megabyte of text, a
 * newline that starts a fake line in a message, a right-to-left override that reverses what
 * follows. It is cut and cleaned once, where it is read.
 */

/** Real symbols are a few characters (the longest on Aave, Comet and Morpho markets are under 20). */
export const MAX_SYMBOL_LENGTH = 32;

/** Control, format (bidirectional overrides, zero-width) and line / paragraph separator characters. */
const UNSHOWABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * What `symbol()` answered, runs of white space (newlines too) made one space, unshowable
 * characters dropped, cut to MAX_SYMBOL_LENGTH characters; `fallback` (default: the address's
 * first bytes) when it answered no string (bytes32 symbols such as MKR's) or nothing showable.
 */
export function tokenSymbol(answer: unknown, address: string, fallback: string = address.slice(0, 10)): string {
  if (typeof answer !== 'string') return fallback;
  const cleaned = Array.from(answer.slice(0, MAX_SYMBOL_LENGTH * 8).replace(/\s+/g, ' ').replace(UNSHOWABLE, '').trim());
  return cleaned.length === 0 ? fallback : cleaned.slice(0, MAX_SYMBOL_LENGTH).join('').trim();
}
