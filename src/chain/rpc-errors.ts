/*
 * What a JSON-RPC error envelope means for the caller. Nodes tell these apart only in their
 * message text (code -32000 covers most of them), so the text is read here, in one place, and
 * turned into a kind or an answer everything else switches on.
 */

export type RpcErrorKind = 'revert' | 'gas' | 'method' | 'endpoint';

/**
 * Codes for a method the node does not serve (its code says so, no text needed): -32601 method
 * not found (geth, Erigon, Nethermind), -32004 method not supported (EIP-1474).
 */
const METHOD_UNAVAILABLE_CODES: ReadonlySet<number> = new Set([-32601, -32004]);

/** "gas required exceeds allowance", "out of gas", geth's RPC gas cap, "exceeds block gas limit". */
const GAS_REFUSAL = /exceeds allowance|out of gas|gas cap|gas limit|gas required exceeds/i;

export function classifyRpcError(error: { code: number; message: string }): RpcErrorKind {
  if (METHOD_UNAVAILABLE_CODES.has(error.code)) return 'method';
  if (GAS_REFUSAL.test(error.message)) return 'gas';
  if (error.code === 3 || /revert/i.test(error.message)) return 'revert';
  return 'endpoint';
}

/**
 * Whether a node's refusal of a raw transaction means it has it already, or a transaction of
 * the same nonce (the intent is in a mempool or mined, receipts decide): geth, Erigon and
 * Nethermind answer every refusal with -32000 and say which in words.
 */
export function isAlreadySubmittedRefusal(text: string): boolean {
  return /already known|already imported|known transaction|nonce too low|nonce has already been used|replacement transaction underpriced/i.test(text);
}

/** `retry-after` in seconds or as an HTTP date, as milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
