import type { Address } from 'viem';

/*
 * Euler v2's main borrow vaults (a preset is the controller vault a watch names), the
 * governed USDC and WETH vaults of the original Euler DAO clusters on Ethereum, Base and
 * Arbitrum. Curation of those clusters has since changed hands (Ethereum's "Euler Prime" is
 * now listed as K3 Capital Prime Market, Euler Base as AlphaGrowth Base, Euler Arbitrum as
 * K3 Capital Arbitrum Market); the vault contracts are the same ones.
 *
 * Provenance, read 2026-11:
 * - euler-xyz/euler-labels `<chainId>/products.json` at 8e6884c4ef04d7bf7b264450be38551153d07d8c
 *   (the clusters' vault lists) and `<chainId>/vaults.json` as it stood before its removal in
 *   8740e6a (the vault names: "Euler Prime USDC", "Euler Base WETH", "Euler Arbitrum USDC", …);
 * - cross-checked against almanak-co/sdk almanak/connectors/euler_v2/adapter.py
 *   (`_ETHEREUM_VAULTS` eUSDC-2 / eWETH-2, `_BASE_VAULTS` and `_ARBITRUM_VAULTS` eUSDC-1 /
 *   eWETH-1, with their underlying tokens, "verified on-chain 2026-06-26"), and for Ethereum
 *   and Base also 0xTwyne/twyne-contracts-v1 test/twyne/TwyneVaultTestBase.t.sol (eulerUSDC,
 *   eulerWETH per chain).
 * Whether a vault is really one of Euler's factory is still decided on chain by the adapter.
 */
export type EulerPreset = { chainId: number; slug: string; name: string; vault: Address };

export const EULER_PRESETS: readonly EulerPreset[] = [
  { chainId: 1, slug: 'prime-usdc', name: 'Euler Prime USDC (eUSDC-2)', vault: '0x797DD80692c3b2dAdabCe8e30C07fDE5307D48a9' },
  { chainId: 1, slug: 'prime-weth', name: 'Euler Prime WETH (eWETH-2)', vault: '0xD8b27CF359b7D15710a5BE299AF6e7Bf904984C2' },
  { chainId: 8453, slug: 'usdc', name: 'Euler Base USDC (eUSDC-1)', vault: '0x0A1a3b5f2041F33522C4efc754a7D096f880eE16' },
  { chainId: 8453, slug: 'weth', name: 'Euler Base WETH (eWETH-1)', vault: '0x859160DB5841E5cfB8D3f144C6b3381A85A4b410' },
  { chainId: 42161, slug: 'usdc', name: 'Euler Arbitrum USDC (eUSDC-1)', vault: '0x0a1eCC5Fe8C9be3C809844fcBe615B46A869b899' },
  { chainId: 42161, slug: 'weth', name: 'Euler Arbitrum WETH (eWETH-1)', vault: '0x78E3E051D32157AACD550fBB78458762d8f7edFF' },
];
