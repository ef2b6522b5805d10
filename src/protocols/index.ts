/** Protocols marginwatch can read. One folder each under src/protocols/. */
export const SUPPORTED_PROTOCOLS = ['aave-v3'] as const;
export type ProtocolName = (typeof SUPPORTED_PROTOCOLS)[number];
