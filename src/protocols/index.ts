import type { ProtocolAdapter } from './adapter';
import { aaveV3Adapter } from './aave-v3';
import { compoundV3Adapter } from './compound-v3';

/** Protocols marginwatch can read. One folder each under src/protocols/; Spark runs the Aave v3 adapter. */
export const SUPPORTED_PROTOCOLS = ['aave-v3', 'spark', 'compound-v3'] as const;
export type ProtocolName = (typeof SUPPORTED_PROTOCOLS)[number];

const ADAPTERS: Record<ProtocolName, ProtocolAdapter<unknown>> = {
  'aave-v3': aaveV3Adapter as ProtocolAdapter<unknown>,
  spark: aaveV3Adapter as ProtocolAdapter<unknown>,
  'compound-v3': compoundV3Adapter as ProtocolAdapter<unknown>,
};

export function adapterFor(protocol: ProtocolName): ProtocolAdapter<unknown> {
  return ADAPTERS[protocol];
}

export function isProtocolName(value: string): value is ProtocolName {
  return (SUPPORTED_PROTOCOLS as readonly string[]).includes(value);
}
