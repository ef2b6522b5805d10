import type { Address } from 'viem';

/*
 * Liquity v2's three branches on Ethereum (it has no other deployment of its own: BOLD on
 * L2s is bridged, with no troves). A preset names a branch by its TroveManager.
 *
 * These are the May 2025 redeployment, the live one. The January 2025 launch addresses
 * (TroveManagers 0x81d7…de66, 0xb47e…0046, 0xde02…0fca) are what Liquity's docs now call
 * "Legacy V2" and must not be offered here.
 *
 * Provenance, read 2026-11:
 * - liquity/bold contracts/addresses/1.json, `branches[].troveManager`, as committed in
 *   b40fa9b909efd34a1b1ae2bab5d240b77f86d3a4 ("Deploy rest of contracts", 2025-05-19) and
 *   unchanged through 405f91227f9981a82a7c7ca6540221b30cab51c4 (2026-03-09);
 * - cross-checked against deficollective/defiscan
 *   src/content/protocols/liquity-v2/ethereum.md (its contract table: WETHTroveManager,
 *   WSTETHTroveManager, RETHTroveManager), an independent review of the same deployment.
 */
export type LiquityPreset = { chainId: number; slug: string; name: string; troveManager: Address };

export const LIQUITY_PRESETS: readonly LiquityPreset[] = [
  { chainId: 1, slug: 'weth', name: 'Liquity v2 WETH branch', troveManager: '0x7bcb64B2c9206a5B699eD43363f6F98D4776Cf5A' },
  { chainId: 1, slug: 'wsteth', name: 'Liquity v2 wstETH branch', troveManager: '0xA2895d6A3bf110561Dfe4b71cA539d84e1928B22' },
  { chainId: 1, slug: 'reth', name: 'Liquity v2 rETH branch', troveManager: '0xb2B2ABEb5C357a234363FF5D180912D319e3e19e' },
];
