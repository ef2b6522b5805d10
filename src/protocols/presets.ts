import type { Address, Hex } from 'viem';
import { AAVE_FAMILY_PRESETS } from './aave-v3/presets';
import { COMET_PRESETS } from './compound-v3/presets';
import { MORPHO_BLUE_DEPLOYMENTS } from './morpho-blue/deployments';
import { MORPHO_PRESETS } from './morpho-blue/presets';
import { MAKER_DEPLOYMENTS } from './maker/deployments';
import { ilkBytes32 } from './maker/ilk';
import { MAKER_PRESETS } from './maker/presets';
import { LIQUITY_PRESETS } from './liquity-v2/presets';
import { EULER_PRESETS } from './euler-v2/presets';
import { FLUID_PRESETS } from './fluid/presets';
import type { ProtocolName } from './index';

/*
 * The built-in markets of known deployments, listed by GET /v1/markets and usable by name
 * in a watch (`"market": "compound-v3:ethereum:usdc"`). Pure data: whether a market is
 * trusted for money is decided on chain (src/topup/trust.ts), never from this list alone.
 */

export type MarketPreset = {
  /** `<protocol>:<chain>:<market>`, e.g. "aave-v3:ethereum:core". */
  key: string;
  chainId: number;
  protocol: ProtocolName;
  name: string;
  market: Hex;
  protocolAddress: Address | null;
  /** Morpho Blue only: the loan and collateral symbols and the LLTV. */
  loan?: string;
  collateral?: string;
  lltv?: string;
};

const CHAIN_SLUGS: Readonly<Record<number, string>> = {
  1: 'ethereum', 10: 'optimism', 56: 'bnb', 100: 'gnosis', 137: 'polygon', 146: 'sonic', 324: 'zksync', 1088: 'metis', 1868: 'soneium',
  8453: 'base', 42161: 'arbitrum', 42220: 'celo', 43114: 'avalanche', 59144: 'linea', 534352: 'scroll',
};

function key(protocol: ProtocolName, chainId: number, slug: string): string {
  return `${protocol}:${CHAIN_SLUGS[chainId] ?? chainId}:${slug}`;
}

export const MARKET_PRESETS: readonly MarketPreset[] = [
  ...AAVE_FAMILY_PRESETS.map((preset) => ({ key: key(preset.protocol, preset.chainId, preset.slug), chainId: preset.chainId, protocol: preset.protocol, name: preset.name, market: preset.pool, protocolAddress: null })),
  ...COMET_PRESETS.map((preset) => ({ key: key('compound-v3', preset.chainId, preset.slug), chainId: preset.chainId, protocol: 'compound-v3' as const, name: preset.name, market: preset.comet, protocolAddress: null })),
  ...MORPHO_PRESETS.map((preset) => ({
    key: key('morpho-blue', preset.chainId, preset.slug),
    chainId: preset.chainId,
    protocol: 'morpho-blue' as const,
    name: preset.name,
    market: preset.id,
    protocolAddress: MORPHO_BLUE_DEPLOYMENTS[preset.chainId]!,
    loan: preset.loan,
    collateral: preset.collateral,
    lltv: preset.lltv,
  })),
  ...MAKER_PRESETS.map((preset) => ({
    key: key('maker', preset.chainId, preset.ilk.toLowerCase()),
    chainId: preset.chainId,
    protocol: 'maker' as const,
    name: `Maker ${preset.ilk}`,
    market: ilkBytes32(preset.ilk),
    protocolAddress: MAKER_DEPLOYMENTS[preset.chainId]!.vat,
  })),
  // These three name the market contract itself (TroveManager, controller vault, T1 vault): no protocolAddress.
  ...LIQUITY_PRESETS.map((preset) => ({ key: key('liquity-v2', preset.chainId, preset.slug), chainId: preset.chainId, protocol: 'liquity-v2' as const, name: preset.name, market: preset.troveManager, protocolAddress: null })),
  ...EULER_PRESETS.map((preset) => ({ key: key('euler-v2', preset.chainId, preset.slug), chainId: preset.chainId, protocol: 'euler-v2' as const, name: preset.name, market: preset.vault, protocolAddress: null })),
  ...FLUID_PRESETS.map((preset) => ({ key: key('fluid', preset.chainId, preset.slug), chainId: preset.chainId, protocol: 'fluid' as const, name: preset.name, market: preset.vault, protocolAddress: null })),
];

export const PRESET_KEY_PATTERN = /^[a-z0-9-]+:[a-z0-9-]+:[a-z0-9.-]+$/;

export function presetByKey(text: string): MarketPreset | undefined {
  return MARKET_PRESETS.find((preset) => preset.key === text.toLowerCase());
}
