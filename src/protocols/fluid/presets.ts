import type { Address } from 'viem';

/*
 * Fluid's main T1 vaults (one collateral, one debt token) on Ethereum, Arbitrum and Base:
 * the v1.1.0 vaults. The v1.0.0 Ethereum vaults are deprecated and, because the factory
 * deploys each vault with CREATE at its vault id, share their addresses with unrelated
 * Arbitrum and Base vaults (0xeAbB…811C is ETH/USDC on Arbitrum and Base but the dead
 * v1.0.0 ETH/USDC on Ethereum): an address means nothing without its chain.
 *
 * `vaultId` is the factory's id for the vault; the vault's address is CREATE(VaultFactory
 * 0x324c5Dc1fC42c7a4D43d92df1eBA58a54d13Bf2d, nonce = vaultId) on every chain (the factory's
 * own getVaultAddress), which the tests recompute.
 *
 * Provenance, read 2026-11:
 * - Instadapp/fluid-contracts-public deployments/deployments.md ("Vaults v1.1.0") and
 *   deployments/<chain>/Vault_<coll>_<debt>.json (address, supply/borrow tokens and vaultId
 *   in the constructor args) at a9949b48ba1247d4f478cd0acb40896b5c8bf3f8;
 * - cross-checked against defisaver/defisaver-v3-contracts test/utils/fluid.js (`t1Vaults`:
 *   Ethereum wstETH/USDC, WBTC/USDC, ETH/USDC, wstETH/ETH; Arbitrum and Base ETH/USDC,
 *   wstETH/USDC). The Arbitrum and Base wstETH/ETH vaults have no second published source;
 *   they rest on Instadapp's record and the CREATE derivation.
 */

export type FluidPreset = { chainId: number; slug: string; name: string; vault: Address; vaultId: number };

export const FLUID_PRESETS: readonly FluidPreset[] = [
  { chainId: 1, slug: 'eth-usdc', name: 'Fluid ETH / USDC', vault: '0x0C8C77B7FF4c2aF7F6CEBbe67350A490E3DD6cB3', vaultId: 11 },
  { chainId: 1, slug: 'wsteth-eth', name: 'Fluid wstETH / ETH', vault: '0x82B27fA821419F5689381b565a8B0786aA2548De', vaultId: 13 },
  { chainId: 1, slug: 'wsteth-usdc', name: 'Fluid wstETH / USDC', vault: '0x1982CC7b1570C2503282d0A0B41F69b3B28fdcc3', vaultId: 14 },
  { chainId: 1, slug: 'wbtc-usdc', name: 'Fluid WBTC / USDC', vault: '0x6F72895Cf6904489Bcd862c941c3D02a3eE4f03e', vaultId: 21 },
  { chainId: 42161, slug: 'eth-usdc', name: 'Fluid ETH / USDC (Arbitrum)', vault: '0xeAbBfca72F8a8bf14C4ac59e69ECB2eB69F0811C', vaultId: 1 },
  { chainId: 42161, slug: 'wsteth-eth', name: 'Fluid wstETH / ETH (Arbitrum)', vault: '0x1c2bB46f36561bc4F05A94BD50916496aa501078', vaultId: 5 },
  { chainId: 42161, slug: 'wsteth-usdc', name: 'Fluid wstETH / USDC (Arbitrum)', vault: '0xA0F83Fc5885cEBc0420ce7C7b139Adc80c4F4D91', vaultId: 3 },
  { chainId: 8453, slug: 'eth-usdc', name: 'Fluid ETH / USDC (Base)', vault: '0xeAbBfca72F8a8bf14C4ac59e69ECB2eB69F0811C', vaultId: 1 },
  { chainId: 8453, slug: 'wsteth-eth', name: 'Fluid wstETH / ETH (Base)', vault: '0xA0F83Fc5885cEBc0420ce7C7b139Adc80c4F4D91', vaultId: 3 },
  { chainId: 8453, slug: 'wsteth-usdc', name: 'Fluid wstETH / USDC (Base)', vault: '0xbEC491FeF7B4f666b270F9D5E5C3f443cBf20991', vaultId: 2 },
];
