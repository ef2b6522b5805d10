import { AppError } from '../lib/errors';
import { findAppError } from '../lib/find-app-error';
import type { ReadContext } from './read-types';

/* Helpers every adapter's batched reads share: Multicall3 with per-call failures, chunking, RPC errors as values. */

export type CallResult = { status: 'success'; result: unknown } | { status: 'failure'; error: unknown };

/**
 * Multicall3 aggregate3 with allowFailure, in one eth_call; mixed-ABI call lists are typed
 * loosely on purpose. A sub-call's revert is that call's failure; the eth_call itself failing
 * (every endpoint down, stale, rate limited) throws, so it is never mistaken for accounts that
 * failed one by one. A call pinned to a block that the node refuses for its gas is split in
 * halves and retried (results stay in call order), down to single calls.
 */
export async function multicallAt(context: ReadContext, contracts: readonly unknown[], blockNumber?: bigint): Promise<CallResult[]> {
  const results = (await context.client
    .multicall({ contracts: contracts as never, allowFailure: true, blockNumber, multicallAddress: context.multicall3, batchSize: 0 })
    .catch(rethrowRpc)) as CallResult[];
  const transportError = wholeCallError(results);
  if (!transportError) return results;
  // Halves at `latest` could land on different blocks: only a call pinned to a block is split.
  if (transportError.code !== 'rpc_call_too_large' || contracts.length < 2 || blockNumber === undefined) throw transportError;
  const half = Math.ceil(contracts.length / 2);
  const [first, second] = await Promise.all([multicallAt(context, contracts.slice(0, half), blockNumber), multicallAt(context, contracts.slice(half), blockNumber)]);
  return [...first, ...second];
}

/**
 * viem's multicall with allowFailure reports an eth_call that failed as a whole by giving
 * every call that same error object; sub-call reverts each get their own. The first is ours
 * to act on when our transport raised it.
 */
function wholeCallError(results: CallResult[]): AppError | undefined {
  const first = results[0];
  if (!first || first.status !== 'failure') return undefined;
  if (!results.every((result) => result.status === 'failure' && result.error === first.error)) return undefined;
  return findAppError(first.error);
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += Math.max(1, size)) chunks.push(items.slice(start, start + Math.max(1, size)));
  return chunks;
}

export function rethrowRpc(error: unknown): never {
  throw findAppError(error) ?? new AppError('rpc_failed', `RPC request failed: ${shortMessage(error)}`, { status: 502, cause: error });
}

export function shortMessage(error: unknown): string {
  const message = (error as { shortMessage?: string }).shortMessage ?? (error instanceof Error ? error.message : String(error));
  return message.split('\n')[0]!.slice(0, 200);
}
