import type { Address } from 'viem';
import type { ReadContext } from '../protocols/read-types';
import type { TopUpProtocol } from '../protocols/adapter';

/*
 * Which contracts the executor may approve and call. Money goes only to a market the
 * deployment trusts: a built-in deployment of its protocol (decided on chain where the
 * protocol has a registry: an Aave Pool is trusted when its known PoolAddressesProvider
 * returns it) or a contract the owner listed in TOPUP_TRUSTED_MARKETS. Answering like a
 * market is not trust: a contract of an attacker's own can answer every call.
 */

export type MarketTrust = { trusted: true; via: 'owner' | 'preset'; name: string } | { trusted: false; message: string };

export function trustedByOwner(trustedMarkets: ReadonlyMap<number, readonly Address[]>, chainId: number, contract: Address): boolean {
  return (trustedMarkets.get(chainId) ?? []).some((candidate) => candidate.toLowerCase() === contract.toLowerCase());
}

export function untrustedMessage(chainId: number, contract: Address): string {
  return `market ${contract} on chain ${chainId} is not one the executor sends money to: live top-ups go only to the built-in markets (GET /v1/markets) and to contracts the owner lists in TOPUP_TRUSTED_MARKETS; keep dryRun true or ask the owner`;
}

/** Loads the market through its adapter (cached), then asks the owner's list and the protocol's own presets. */
export async function checkMarketTrust(context: ReadContext, protocol: TopUpProtocol, trustedMarkets: ReadonlyMap<number, readonly Address[]>): Promise<MarketTrust> {
  const market = await protocol.adapter.loadMarket(context, protocol.ref);
  const spender = protocol.capability.spender(market);
  if (trustedByOwner(trustedMarkets, context.chainId, spender)) return { trusted: true, via: 'owner', name: 'TOPUP_TRUSTED_MARKETS' };
  const preset = await protocol.capability.trustedPreset(context, market);
  return preset ? { trusted: true, via: 'preset', name: preset } : { trusted: false, message: untrustedMessage(context.chainId, spender) };
}
