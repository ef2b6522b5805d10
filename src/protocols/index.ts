import { getAddress, isAddress, type Address, type Hex } from 'viem';
import { AppError } from '../lib/errors';
import type { ProtocolAdapter, TopUpProtocol } from './adapter';
import { aaveV3Adapter } from './aave-v3';
import { compoundV3Adapter } from './compound-v3';
import { eulerV2Adapter } from './euler-v2';
import { fluidAdapter, parseFluidAccount } from './fluid';
import { MORPHO_BLUE_DEPLOYMENTS, morphoBlueAdapter } from './morpho-blue';
import { liquityV2Adapter, parseLiquityAccount } from './liquity-v2';
import { MAKER_VATS, makerAdapter, parseIlk, parseMakerAccount } from './maker';

/*
 * The registry: every protocol marginwatch reads, keyed by the `protocol` string of the API.
 * One folder each under src/protocols/; Spark runs the Aave v3 adapter.
 */

export const SUPPORTED_PROTOCOLS = ['aave-v3', 'spark', 'compound-v3', 'morpho-blue', 'liquity-v2', 'maker', 'euler-v2', 'fluid'] as const;
export type ProtocolName = (typeof SUPPORTED_PROTOCOLS)[number];

type ProtocolEntry = {
  adapter: ProtocolAdapter<unknown>;
  /** A market is a contract address, or an id inside one contract (`protocolAddress`). */
  market: 'address' | 'id';
  /** For `id` markets: the contract per chain where the protocol has a canonical deployment. */
  canonicalProtocolAddress?: Readonly<Record<number, Address>>;
  /** How an account is named where it is not just the borrower's address (a Liquity trove id): its canonical text, or why not. */
  parseAccount?: (text: string) => { ok: true; account: Hex } | { ok: false; message: string };
  /** For `id` markets named otherwise than by a 32-byte hex id (Maker's ilk name): the canonical form, or why the text is not one. */
  parseMarket?: (text: string) => { ok: true; market: Hex } | { ok: false; message: string };
};

const PROTOCOLS: Record<ProtocolName, ProtocolEntry> = {
  'aave-v3': { adapter: aaveV3Adapter as ProtocolAdapter<unknown>, market: 'address' },
  spark: { adapter: aaveV3Adapter as ProtocolAdapter<unknown>, market: 'address' },
  'compound-v3': { adapter: compoundV3Adapter as ProtocolAdapter<unknown>, market: 'address' },
  'morpho-blue': { adapter: morphoBlueAdapter as ProtocolAdapter<unknown>, market: 'id', canonicalProtocolAddress: MORPHO_BLUE_DEPLOYMENTS },
  'liquity-v2': { adapter: liquityV2Adapter as ProtocolAdapter<unknown>, market: 'address', parseAccount: parseLiquityAccount },
  // The ilk inside the Vat; the Vat is `protocolAddress`. An account is an urn or a vault id ("cdp:12345").
  maker: { adapter: makerAdapter as ProtocolAdapter<unknown>, market: 'id', canonicalProtocolAddress: MAKER_VATS, parseMarket: parseIlk, parseAccount: parseMakerAccount },
  'euler-v2': { adapter: eulerV2Adapter as ProtocolAdapter<unknown>, market: 'address' },
  fluid: { adapter: fluidAdapter as ProtocolAdapter<unknown>, market: 'address', parseAccount: parseFluidAccount },
};

export function adapterFor(protocol: ProtocolName): ProtocolAdapter<unknown> {
  return PROTOCOLS[protocol].adapter;
}

/** Protocols whose adapter can top up (supply / repay on behalf of an account). */
export function topUpProtocols(): ProtocolName[] {
  return SUPPORTED_PROTOCOLS.filter((protocol) => PROTOCOLS[protocol].adapter.topUp !== undefined);
}

/** The adapter, its top-up capability and the market of a watch; an AppError when the protocol cannot top up. */
export function topUpProtocolOf(watch: { protocol: string; market: Hex; protocolAddress?: Address | null }): TopUpProtocol {
  const entry = isProtocolName(watch.protocol) ? PROTOCOLS[watch.protocol] : undefined;
  const capability = entry?.adapter.topUp;
  if (!entry || !capability) {
    throw new AppError('topup_not_supported', `auto-top-up is available for ${topUpProtocols().join(', ')} markets; ${watch.protocol} watches alert only`, { status: 400, issues: [{ path: 'topUp', message: `not available for ${watch.protocol}` }] });
  }
  return { adapter: entry.adapter, capability, ref: { market: watch.market, protocolAddress: watch.protocolAddress ?? null } };
}

export function isProtocolName(value: string): value is ProtocolName {
  return (SUPPORTED_PROTOCOLS as readonly string[]).includes(value);
}

/** The protocol's own reading of an account (canonical text, or why not); null where an account is the borrower's address. */
export function parseAccount(protocol: ProtocolName, text: string): { ok: true; account: Hex } | { ok: false; message: string } | null {
  return PROTOCOLS[protocol].parseAccount?.(text) ?? null;
}

/** The canonical form of a market as the protocol names it (a checksummed address, or a lower-case 32-byte id), or why the text is not one. */
export function parseMarket(protocol: ProtocolName, text: string): { ok: true; market: Hex } | { ok: false; message: string } {
  const own = PROTOCOLS[protocol].parseMarket;
  if (own) return own(text);
  if (PROTOCOLS[protocol].market === 'id') {
    return /^0x[0-9a-fA-F]{64}$/.test(text)
      ? { ok: true, market: text.toLowerCase() as Hex }
      : { ok: false, message: `must be the ${protocol} market id: 0x followed by 64 hex characters` };
  }
  return isAddress(text, { strict: false }) ? { ok: true, market: getAddress(text) } : { ok: false, message: 'must be the 0x… address of the market contract (40 hex characters)' };
}

/**
 * The contract that holds a market: given, or the protocol's canonical deployment on the
 * chain; null for protocols whose market is itself a contract. A 400 naming the field otherwise.
 */
export function resolveProtocolAddress(protocol: ProtocolName, chainId: number, given: Address | undefined): Address | null {
  const entry = PROTOCOLS[protocol];
  if (entry.market === 'address') {
    if (given) throw new AppError('validation_failed', `protocolAddress: is only used by protocols whose markets live in one contract (${SUPPORTED_PROTOCOLS.filter((name) => PROTOCOLS[name].market === 'id').join(', ')}); ${protocol} names the market contract itself`, { status: 400, issues: [{ path: 'protocolAddress', message: `not used by ${protocol}` }] });
    return null;
  }
  const address = given ?? entry.canonicalProtocolAddress?.[chainId];
  if (!address) {
    throw new AppError('validation_failed', `protocolAddress: is required for ${protocol} on chain ${chainId}, which has no canonical deployment: give the ${protocol} contract address`, { status: 400, issues: [{ path: 'protocolAddress', message: `required on chain ${chainId}` }] });
  }
  return getAddress(address);
}
