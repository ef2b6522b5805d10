import type { Hex } from 'viem';

/** Morpho Blue's main markets (ids in the canonical Morpho contract of the chain), read 2026-11. */
export type MorphoPreset = { chainId: number; slug: string; name: string; id: Hex; loan: string; collateral: string; lltv: string };

export const MORPHO_PRESETS: readonly MorphoPreset[] = [
  { chainId: 1, slug: 'wsteth-usdc-86', name: 'Morpho wstETH / USDC 86%', id: '0xb323495f7e4148be5643a4ea4a8221eef163e4bccfdedc2a6f4696baacbc86cc', loan: 'USDC', collateral: 'wstETH', lltv: '0.86' },
  { chainId: 1, slug: 'wbtc-usdc-86', name: 'Morpho WBTC / USDC 86%', id: '0x3a85e619751152991742810df6ec69ce473daef99e28a64ab2340d7b7ccfee49', loan: 'USDC', collateral: 'WBTC', lltv: '0.86' },
  { chainId: 1, slug: 'cbbtc-usdc-86', name: 'Morpho cbBTC / USDC 86%', id: '0x64d65c9a2d91c36d56fbc42d69e979335320169b3df63bf92789e2c8883fcc64', loan: 'USDC', collateral: 'cbBTC', lltv: '0.86' },
  { chainId: 1, slug: 'wsteth-weth-945', name: 'Morpho wstETH / WETH 94.5%', id: '0xc54d7acf14de29e0e5527cabd7a576506870346a78a11a6762e2cca66322ec41', loan: 'WETH', collateral: 'wstETH', lltv: '0.945' },
  { chainId: 8453, slug: 'weth-usdc-86', name: 'Morpho WETH / USDC 86% (Base)', id: '0x3b3769cfca57be2eaed03fcc5299c25691b77781a1e124e7a8d520eb9a7eabb5', loan: 'USDC', collateral: 'WETH', lltv: '0.86' },
];
