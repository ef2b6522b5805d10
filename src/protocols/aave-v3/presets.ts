import type { Address } from 'viem';

/*
 * The known Aave v3-family deployments, by their PoolAddressesProvider. A Pool is one of
 * these markets only when its provider's getPool() returns it, read on chain: the provider
 * is the governance-owned registry, while a Pool address (or anything a contract says about
 * itself) could be anyone's. Source: the bgd-labs aave-address-book (Aave) and Spark's
 * address registry (read 2026-11).
 */

export type AaveFamilyPreset = { chainId: number; protocol: 'aave-v3' | 'spark'; name: string; addressesProvider: Address };

export const AAVE_FAMILY_PRESETS: readonly AaveFamilyPreset[] = [
  { chainId: 1, protocol: 'aave-v3', name: 'Aave v3 Ethereum Core', addressesProvider: '0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e' },
  { chainId: 1, protocol: 'aave-v3', name: 'Aave v3 Ethereum Prime (Lido)', addressesProvider: '0xcfBf336fe147D643B9Cb705648500e101504B16d' },
  { chainId: 1, protocol: 'aave-v3', name: 'Aave v3 Ethereum EtherFi', addressesProvider: '0xeBa440B438Ad808101d1c451C1C5322c90BEFCdA' },
  { chainId: 10, protocol: 'aave-v3', name: 'Aave v3 Optimism', addressesProvider: '0xa97684ead0e402dC232d5A977953DF7ECBaB3CDb' },
  { chainId: 56, protocol: 'aave-v3', name: 'Aave v3 BNB Chain', addressesProvider: '0xff75B6da14FfbbfD355Daf7a2731456b3562Ba6D' },
  { chainId: 100, protocol: 'aave-v3', name: 'Aave v3 Gnosis', addressesProvider: '0x36616cf17557639614c1cdDb356b1B83fc0B2132' },
  { chainId: 137, protocol: 'aave-v3', name: 'Aave v3 Polygon', addressesProvider: '0xa97684ead0e402dC232d5A977953DF7ECBaB3CDb' },
  { chainId: 146, protocol: 'aave-v3', name: 'Aave v3 Sonic', addressesProvider: '0x5C2e738F6E27bCE0F7558051Bf90605dD6176900' },
  { chainId: 324, protocol: 'aave-v3', name: 'Aave v3 zkSync', addressesProvider: '0x2A3948BB219D6B2Fa83D64100006391a96bE6cb7' },
  { chainId: 1088, protocol: 'aave-v3', name: 'Aave v3 Metis', addressesProvider: '0xB9FABd7500B2C6781c35Dd48d54f81fc2299D7AF' },
  { chainId: 1868, protocol: 'aave-v3', name: 'Aave v3 Soneium', addressesProvider: '0x82405D1a189bd6cE4667809C35B37fBE136A4c5B' },
  { chainId: 8453, protocol: 'aave-v3', name: 'Aave v3 Base', addressesProvider: '0xe20fCBdBfFC4Dd138cE8b2E6FBb6CB49777ad64D' },
  { chainId: 42161, protocol: 'aave-v3', name: 'Aave v3 Arbitrum', addressesProvider: '0xa97684ead0e402dC232d5A977953DF7ECBaB3CDb' },
  { chainId: 42220, protocol: 'aave-v3', name: 'Aave v3 Celo', addressesProvider: '0x9F7Cf9417D5251C59fE94fB9147feEe1aAd9Cea5' },
  { chainId: 43114, protocol: 'aave-v3', name: 'Aave v3 Avalanche', addressesProvider: '0xa97684ead0e402dC232d5A977953DF7ECBaB3CDb' },
  { chainId: 59144, protocol: 'aave-v3', name: 'Aave v3 Linea', addressesProvider: '0x89502c3731F69DDC95B65753708A07F8Cd0373F4' },
  { chainId: 534352, protocol: 'aave-v3', name: 'Aave v3 Scroll', addressesProvider: '0x69850D0B276776781C063771b161bd8894BCdD04' },
  { chainId: 1, protocol: 'spark', name: 'SparkLend Ethereum', addressesProvider: '0x02C3eA4e34C0cBd694D2adFa2c690EECbC1793eE' },
  { chainId: 100, protocol: 'spark', name: 'SparkLend Gnosis', addressesProvider: '0xA98DaCB3fC964A6A0d2ce3B77294241585EAbA6d' },
];

export function presetsOnChain(chainId: number): AaveFamilyPreset[] {
  return AAVE_FAMILY_PRESETS.filter((preset) => preset.chainId === chainId);
}
