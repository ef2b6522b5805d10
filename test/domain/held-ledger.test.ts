import { describe, expect, it } from 'vitest';
import { usableHeld } from '../../src/topup/held-ledger';

describe('the share of the executor\'s held balance a tenant may use', () => {
  it.each([
    ['its whole credit when the balance holds every credit', { onChain: 10n, own: 3n, others: 7n }, 3n],
    ['nothing without a credit, however much the balance holds', { onChain: 10n, own: 0n, others: 0n }, 0n],
    ['nothing of money credited to others, even with a credit of its own left over', { onChain: 7n, own: 3n, others: 7n }, 0n],
    ['only what is left after the others\' credits when the operator took some out', { onChain: 8n, own: 3n, others: 7n }, 1n],
    ['never more than the chain shows', { onChain: 2n, own: 3n, others: 0n }, 2n],
    ['never below zero when the balance holds less than the others\' credits', { onChain: 1n, own: 3n, others: 7n }, 0n],
  ])('%s', (_name, input, expected) => {
    expect(usableHeld(input)).toBe(expected);
  });
});
