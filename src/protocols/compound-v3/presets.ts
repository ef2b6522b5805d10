import type { Address } from 'viem';

/** The live Comet markets (proxies), per chain: compound-finance/comet deployments, read 2026-11. */
export type CometPreset = { chainId: number; slug: string; name: string; comet: Address };

export const COMET_PRESETS: readonly CometPreset[] = [
  { chainId: 1, slug: 'usdc', name: 'Compound v3 Ethereum USDC', comet: '0xc3d688B66703497DAA19211EEdff47f25384cdc3' },
  { chainId: 1, slug: 'weth', name: 'Compound v3 Ethereum WETH', comet: '0xA17581A9E3356d9A858b789D68B4d866e593aE94' },
  { chainId: 1, slug: 'usdt', name: 'Compound v3 Ethereum USDT', comet: '0x3Afdc9BCA9213A35503b077a6072F3D0d5AB0840' },
  { chainId: 1, slug: 'wsteth', name: 'Compound v3 Ethereum wstETH', comet: '0x3D0bb1ccaB520A66e607822fC55BC921738fAFE3' },
  { chainId: 1, slug: 'usds', name: 'Compound v3 Ethereum USDS', comet: '0x5D409e56D886231aDAf00c8775665AD0f9897b56' },
  { chainId: 1, slug: 'wbtc', name: 'Compound v3 Ethereum WBTC', comet: '0xe85Dc543813B8c2CFEaAc371517b925a166a9293' },
  { chainId: 8453, slug: 'usdc', name: 'Compound v3 Base USDC', comet: '0xb125E6687d4313864e53df431d5425969c15Eb2F' },
  { chainId: 8453, slug: 'weth', name: 'Compound v3 Base WETH', comet: '0x46e6b214b524310239732D51387075E0e70970bf' },
  { chainId: 42161, slug: 'usdc', name: 'Compound v3 Arbitrum USDC', comet: '0x9c4ec768c28520B50860ea7a15bd7213a9fF58bf' },
  { chainId: 42161, slug: 'weth', name: 'Compound v3 Arbitrum WETH', comet: '0x6f7D514bbD4aFf3BcD1140B7344b32f063dEe486' },
  { chainId: 10, slug: 'usdc', name: 'Compound v3 Optimism USDC', comet: '0x2e44e174f7D53F0212823acC11C01A11d58c5bCB' },
  { chainId: 137, slug: 'usdc', name: 'Compound v3 Polygon USDC', comet: '0xF25212E676D1F7F89Cd72fFEe66158f541246445' },
];
