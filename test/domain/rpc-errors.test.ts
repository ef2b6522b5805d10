import { describe, expect, it } from 'vitest';
import { classifyRpcError, isAlreadySubmittedRefusal } from '../../src/chain/rpc-errors';

describe('what a JSON-RPC error envelope means', () => {
  it.each([
    [{ code: -32601, message: 'the method eth_simulateV1 does not exist/is not available' }, 'method'],
    [{ code: -32004, message: 'Method not supported' }, 'method'],
    [{ code: -32000, message: 'gas required exceeds allowance (30000000)' }, 'gas'],
    [{ code: 3, message: 'execution reverted' }, 'revert'],
    [{ code: -32000, message: 'execution reverted: 35' }, 'revert'],
    [{ code: -32000, message: 'header not found' }, 'endpoint'],
    // The method's name in the text decides nothing: only the code says the node lacks it.
    [{ code: -32000, message: 'eth_simulateV1: insufficient funds for gas * price + value' }, 'endpoint'],
  ] as const)('%j is a %s error', (error, kind) => {
    expect(classifyRpcError(error)).toBe(kind);
  });
});

describe('a refused raw transaction that is already submitted', () => {
  it.each([
    ['already known', true],
    ['Known transaction: 0xabc', true],
    ['nonce too low: next nonce 7, tx nonce 6', true],
    ['replacement transaction underpriced', true],
    ['Transaction with the same hash was already imported.', true],
    ['insufficient funds for gas * price + value', false],
    ['max fee per gas less than block base fee', false],
  ] as const)('%j → %s', (text, known) => {
    expect(isAlreadySubmittedRefusal(text)).toBe(known);
  });
});
