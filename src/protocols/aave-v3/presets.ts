import type { Address } from 'viem';

/*
 * The known Aave v3-family deployments, by their PoolAddressesProvider. A Pool is one of
 * these markets only when its provider's getPool() returns it, read on chain: the provider
 * is the governance-owned registry, while a Pool address (or anything a contract says about
 * itself) could be anyone's. Source: the bgd-labs aave-address-book (Aave) and Spark's
 * address registry (read 2026-11). Spark Gnosis' Pool is from Spark's registry.
 */

/**
 * `pool` is what a watch names (from the same sources) and what GET /v1/markets lists;
 * trust never relies on it: the executor asks `addressesProvider` for its Pool on chain.
 */
export type AaveFamilyPreset = { chainId: number; protocol: 'aave-v3' | 'spark'; name: string; slug: string; pool: Address; addressesProvider: Address };

export const AAVE_FAMILY_PRESETS: readonly AaveFamilyPreset[] = [
  { chainId: 1, protocol: 'aave-v3', name: 'Aave v3 Ethereum Core', slug: 'core', pool: '0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2', addressesProvider: '0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e' },
  { chainId: 1, protocol: 'aave-v3', name: 'Aave v3 Ethereum Prime (Lido)', slug: 'prime', pool: '0x4e033931ad43597d96D6bcc25c280717730B58B1', addressesProvider: '0xcfBf336fe147D643B9Cb705648500e101504B16d' },
  { chainId: 1, protocol: 'aave-v3', name: 'Aave v3 Ethereum EtherFi', slug: 'etherfi', pool: '0x0AA97c284e98396202b6A04024F5E2c65026F3c0', addressesProvider: '0xeBa440B438Ad808101d1c451C1C5322c90BEFCdA' },
  { chainId: 10, protocol: 'aave-v3', name: 'Aave v3 Optimism', slug: 'core', pool: '0x794a61358D6845594F94dc1DB02A252b5b4814aD', addressesProvider: '0xa97684ead0e402dC232d5A977953DF7ECBaB3CDb' },
  { chainId: 56, protocol: 'aave-v3', name: 'Aave v3 BNB Chain', slug: 'core', pool: '0x6807dc923806fE8Fd134338EABCA509979a7e0cB', addressesProvider: '0xff75B6da14FfbbfD355Daf7a2731456b3562Ba6D' },
  { chainId: 100, protocol: 'aave-v3', name: 'Aave v3 Gnosis', slug: 'core', pool: '0xb50201558B00496A145fE76f7424749556E326D8', addressesProvider: '0x36616cf17557639614c1cdDb356b1B83fc0B2132' },
  { chainId: 137, protocol: 'aave-v3', name: 'Aave v3 Polygon', slug: 'core', pool: '0x794a61358D6845594F94dc1DB02A252b5b4814aD', addressesProvider: '0xa97684ead0e402dC232d5A977953DF7ECBaB3CDb' },
  { chainId: 146, protocol: 'aave-v3', name: 'Aave v3 Sonic', slug: 'core', pool: '0x5362dBb1e601abF3a4c14c22ffEdA64042E5eAA3', addressesProvider: '0x5C2e738F6E27bCE0F7558051Bf90605dD6176900' },
  { chainId: 324, protocol: 'aave-v3', name: 'Aave v3 zkSync', slug: 'core', pool: '0x78e30497a3c7527d953c6B1E3541b021A98Ac43c', addressesProvider: '0x2A3948BB219D6B2Fa83D64100006391a96bE6cb7' },
  { chainId: 1088, protocol: 'aave-v3', name: 'Aave v3 Metis', slug: 'core', pool: '0x90df02551bB792286e8D4f13E0e357b4Bf1D6a57', addressesProvider: '0xB9FABd7500B2C6781c35Dd48d54f81fc2299D7AF' },
  { chainId: 1868, protocol: 'aave-v3', name: 'Aave v3 Soneium', slug: 'core', pool: '0xDd3d7A7d03D9fD9ef45f3E587287922eF65CA38B', addressesProvider: '0x82405D1a189bd6cE4667809C35B37fBE136A4c5B' },
  { chainId: 8453, protocol: 'aave-v3', name: 'Aave v3 Base', slug: 'core', pool: '0xA238Dd80C259a72e81d7e4664a9801593F98d1c5', addressesProvider: '0xe20fCBdBfFC4Dd138cE8b2E6FBb6CB49777ad64D' },
  { chainId: 42161, protocol: 'aave-v3', name: 'Aave v3 Arbitrum', slug: 'core', pool: '0x794a61358D6845594F94dc1DB02A252b5b4814aD', addressesProvider: '0xa97684ead0e402dC232d5A977953DF7ECBaB3CDb' },
  { chainId: 42220, protocol: 'aave-v3', name: 'Aave v3 Celo', slug: 'core', pool: '0x3E59A31363E2ad014dcbc521c4a0d5757d9f3402', addressesProvider: '0x9F7Cf9417D5251C59fE94fB9147feEe1aAd9Cea5' },
  { chainId: 43114, protocol: 'aave-v3', name: 'Aave v3 Avalanche', slug: 'core', pool: '0x794a61358D6845594F94dc1DB02A252b5b4814aD', addressesProvider: '0xa97684ead0e402dC232d5A977953DF7ECBaB3CDb' },
  { chainId: 59144, protocol: 'aave-v3', name: 'Aave v3 Linea', slug: 'core', pool: '0xc47b8C00b0f69a36fa203Ffeac0334874574a8Ac', addressesProvider: '0x89502c3731F69DDC95B65753708A07F8Cd0373F4' },
  { chainId: 534352, protocol: 'aave-v3', name: 'Aave v3 Scroll', slug: 'core', pool: '0x11fCfe756c05AD438e312a7fd934381537D3cFfe', addressesProvider: '0x69850D0B276776781C063771b161bd8894BCdD04' },
  { chainId: 1, protocol: 'spark', name: 'SparkLend Ethereum', slug: 'core', pool: '0xC13e21B648A5Ee794902342038FF3aDAB66BE987', addressesProvider: '0x02C3eA4e34C0cBd694D2adFa2c690EECbC1793eE' },
  { chainId: 100, protocol: 'spark', name: 'SparkLend Gnosis', slug: 'core', pool: '0x2Dae5307c5E3FD1CF5A72Cb6F698f915860607e0', addressesProvider: '0xA98DaCB3fC964A6A0d2ce3B77294241585EAbA6d' },
];

export function presetsOnChain(chainId: number): AaveFamilyPreset[] {
  return AAVE_FAMILY_PRESETS.filter((preset) => preset.chainId === chainId);
}
