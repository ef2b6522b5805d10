import { getAddress, isAddress, type Address } from 'viem';
import type { ReadContext } from '../read-types';

/*
 * Positions of a Fluid vault are kept as ticks and branches; only Fluid's VaultResolver turns
 * them into supply and borrow amounts, so every read goes through it. Its address on Ethereum,
 * Base and Arbitrum is from ../shared/protocols/README.md; on any other chain the operator
 * names it in PROTOCOL_CONTRACTS: {"<chainId>": {"fluid": {"vaultResolver": "0x…"}}}.
 */

const VAULT_RESOLVER: Address = '0xA5C3E16523eeeDDcC34706b0E6bE88b4c6EA95cC';

export const FLUID_VAULT_RESOLVERS: Readonly<Record<number, Address>> = { 1: VAULT_RESOLVER, 8453: VAULT_RESOLVER, 42161: VAULT_RESOLVER };

/** The operator's resolver for the chain, else the built-in one; `missing` names the setting when neither exists. */
export function fluidResolverFor(context: ReadContext): { ok: true; resolver: Address } | { ok: false; missing: string } {
  const given = context.protocolContracts?.fluid?.vaultResolver;
  if (given && isAddress(given, { strict: false })) return { ok: true, resolver: getAddress(given) };
  const builtIn = FLUID_VAULT_RESOLVERS[context.chainId];
  return builtIn ? { ok: true, resolver: builtIn } : { ok: false, missing: `PROTOCOL_CONTRACTS["${context.chainId}"].fluid.vaultResolver` };
}

/** Fluid's VaultFactory on Ethereum, Base and Arbitrum (../shared/protocols/README.md): a vault it lists is one of Fluid's own. */
const VAULT_FACTORY: Address = '0x324c5Dc1fC42c7a4D43d92df1eBA58a54d13Bf2d';

export const FLUID_VAULT_FACTORIES: Readonly<Record<number, Address>> = { 1: VAULT_FACTORY, 8453: VAULT_FACTORY, 42161: VAULT_FACTORY };
