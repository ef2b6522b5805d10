import { AppError } from '../lib/errors';
import { findAppError } from '../lib/find-app-error';
import type { ReadContext } from './read-types';

/* Helpers every adapter's batched reads share: Multicall3 with per-call failures, chunking, RPC errors as values. */

export type CallResult = { status: 'success'; result: unknown } | { status: 'failure'; error: unknown };

/** Multicall3 aggregate3 with allowFailure, in one eth_call; mixed-ABI call lists are typed loosely on purpose. */
export function multicallAt(context: ReadContext, contracts: readonly unknown[], blockNumber?: bigint): Promise<CallResult[]> {
  return context.client
    .multicall({ contracts: contracts as never, allowFailure: true, blockNumber, multicallAddress: context.multicall3, batchSize: 0 })
    .catch(rethrowRpc) as Promise<CallResult[]>;
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
