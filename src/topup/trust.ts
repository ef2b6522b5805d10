import type { TrustedMarketKey } from '../config/topup-env';
import type { ReadContext } from '../protocols/read-types';
import type { TopUpProtocol } from '../protocols/adapter';

/*
 * Which contracts the executor may approve and call. Money goes only to a market the
 * deployment trusts: a built-in deployment of its protocol (decided on chain where the
 * protocol has a registry: an Aave Pool is trusted when its known PoolAddressesProvider
 * returns it; a Morpho market by its id, since anyone can create one in the canonical contract)
 * or a market the owner listed in TOPUP_TRUSTED_MARKETS. Answering like a market is not trust:
 * a contract of an attacker's own can answer every call, and its oracle can say anything.
 */

export type MarketTrust = { trusted: true; via: 'owner' | 'preset'; name: string } | { trusted: false; message: string };

export function trustedByOwner(trustedMarkets: ReadonlyMap<number, readonly TrustedMarketKey[]>, chainId: number, key: TrustedMarketKey): boolean {
  return (trustedMarkets.get(chainId) ?? []).some((candidate) => candidate.toLowerCase() === key.toLowerCase());
}

/** `what` names the market ("market 0x…", "Morpho market 0x… in 0x…"). */
function untrustedMessage(chainId: number, what: string): string {
  return `${what} on chain ${chainId} is not one the executor sends money to: live top-ups go only to the built-in markets (GET /v1/markets) and to markets the owner lists in TOPUP_TRUSTED_MARKETS; keep dryRun true or ask the owner`;
}

/** Loads the market through its adapter (cached), then asks the owner's list and the protocol's own presets. */
export async function checkMarketTrust(context: ReadContext, protocol: TopUpProtocol, trustedMarkets: ReadonlyMap<number, readonly TrustedMarketKey[]>): Promise<MarketTrust> {
  const market = await protocol.adapter.loadMarket(context, protocol.ref);
  const spender = protocol.capability.spender(market);
  const listed = (key: TrustedMarketKey) => trustedByOwner(trustedMarkets, context.chainId, key);
  const listing = protocol.capability.ownerListing?.(market, { chainId: context.chainId, listed }) ?? { trusted: listed(spender), what: `market ${spender}` };
  if (listing.trusted) return { trusted: true, via: 'owner', name: 'TOPUP_TRUSTED_MARKETS' };
  const preset = await protocol.capability.trustedPreset(context, market);
  return preset ? { trusted: true, via: 'preset', name: preset } : { trusted: false, message: untrustedMessage(context.chainId, listing.what) };
}
