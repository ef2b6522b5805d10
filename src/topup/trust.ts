import type { Address, PublicClient } from 'viem';
import { AppError } from '../lib/errors';
import { aaveAddressesProviderAbi } from '../protocols/aave-v3/abi';
import { presetsOnChain } from '../protocols/aave-v3/presets';

/*
 * Which markets the executor may approve and call. Money goes only to a market the
 * deployment trusts: a built-in preset (the Pool its known PoolAddressesProvider returns
 * right now) or one the owner listed in TOPUP_TRUSTED_MARKETS. Answering like a Pool is not
 * trust: a contract of an attacker's own can answer every Pool call.
 */

export type MarketTrust = { trusted: true; via: 'owner' | 'preset'; name: string } | { trusted: false; message: string };

export function trustedByOwner(trustedMarkets: ReadonlyMap<number, readonly Address[]>, chainId: number, market: Address): boolean {
  return (trustedMarkets.get(chainId) ?? []).some((candidate) => candidate.toLowerCase() === market.toLowerCase());
}

export function untrustedMessage(chainId: number, market: Address): string {
  return `market ${market} on chain ${chainId} is not one the executor sends money to: live top-ups go only to the built-in Aave v3 / Spark markets and to markets the owner lists in TOPUP_TRUSTED_MARKETS; keep dryRun true or ask the owner`;
}

/** One Multicall3 call asks every preset provider of the chain for its Pool; a provider absent on this chain simply does not match. */
export async function checkMarketTrust(
  client: PublicClient,
  input: { chainId: number; market: Address; multicall3: Address; trustedMarkets: ReadonlyMap<number, readonly Address[]> },
): Promise<MarketTrust> {
  if (trustedByOwner(input.trustedMarkets, input.chainId, input.market)) return { trusted: true, via: 'owner', name: 'TOPUP_TRUSTED_MARKETS' };
  const presets = presetsOnChain(input.chainId);
  if (presets.length === 0) return { trusted: false, message: untrustedMessage(input.chainId, input.market) };
  let results: Array<{ status: 'success' | 'failure'; result?: unknown }>;
  try {
    results = (await client.multicall({
      contracts: presets.map((preset) => ({ address: preset.addressesProvider, abi: aaveAddressesProviderAbi, functionName: 'getPool' as const })),
      allowFailure: true,
      multicallAddress: input.multicall3,
      batchSize: 0,
    })) as typeof results;
  } catch (error) {
    throw new AppError('rpc_failed', `could not ask the known markets' addresses providers on chain ${input.chainId} whether ${input.market} is theirs; try again`, { status: 502, cause: error });
  }
  const index = results.findIndex((result) => result.status === 'success' && typeof result.result === 'string' && result.result.toLowerCase() === input.market.toLowerCase());
  if (index >= 0) return { trusted: true, via: 'preset', name: presets[index]!.name };
  return { trusted: false, message: untrustedMessage(input.chainId, input.market) };
}
