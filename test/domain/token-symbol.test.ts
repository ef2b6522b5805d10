import { describe, expect, it } from 'vitest';
import { MAX_SYMBOL_LENGTH, tokenSymbol } from '../../src/protocols/token-symbol';

/* A token's symbol() is anyone's text: what every surface shows of it. */

const ADDRESS = '0x1234567890abcdef1234567890abcdef12345678';

describe('tokenSymbol', () => {
  it.each([
    ['a plain symbol as it is', 'WETH', 'WETH'],
    ['surrounding spaces trimmed, inner runs made one', '  Aave  Ethereum WETH ', 'Aave Ethereum WETH'],
    ['a newline (a fake second line in a message) becomes a space', 'USDC\nCRITICAL', 'USDC CRITICAL'],
    ['a right-to-left override and zero-width characters dropped', 'W\u200BE\u202ET\u200DH\uFEFF', 'WETH'],
    ['a NUL and other controls dropped', 'DAI\u0000\u0007', 'DAI'],
    ['an emoji kept whole (no half surrogate pair)', '🦄UNI', '🦄UNI'],
  ] as const)('%s', (_name, answer, shown) => {
    expect(tokenSymbol(answer, ADDRESS)).toBe(shown);
  });

  it('cuts a megabyte to MAX_SYMBOL_LENGTH characters, counting an emoji as one', () => {
    expect(tokenSymbol('A'.repeat(1_000_000), ADDRESS)).toBe('A'.repeat(MAX_SYMBOL_LENGTH));
    expect(Array.from(tokenSymbol('🦄'.repeat(100), ADDRESS))).toHaveLength(MAX_SYMBOL_LENGTH);
  });

  it('falls back to the address\'s first bytes, or the caller\'s fallback, when nothing showable was answered', () => {
    expect(tokenSymbol(undefined, ADDRESS)).toBe('0x12345678');
    expect(tokenSymbol('0x4d4b520000', ADDRESS)).toBe('0x4d4b520000'); // a string is shown as it is
    expect(tokenSymbol(123n, ADDRESS)).toBe('0x12345678'); // a bytes32 symbol decodes to no string
    expect(tokenSymbol('\u202E\u200B\n', ADDRESS)).toBe('0x12345678');
    expect(tokenSymbol(undefined, ADDRESS, 'DAI')).toBe('DAI');
  });
});
