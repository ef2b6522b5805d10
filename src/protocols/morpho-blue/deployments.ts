import type { Address } from 'viem';

/** The canonical Morpho Blue contract per chain (from @morpho-org/morpho-ts); elsewhere a watch names it (`protocolAddress`). */
export const MORPHO_BLUE_DEPLOYMENTS: Readonly<Record<number, Address>> = {
  1: '0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb',
  8453: '0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb',
  42161: '0x6c247b1F6182318877311737BaC0844bAa518F5e',
  10: '0xce95AfbB8EA029495c66020883F87aaE8864AF92',
  137: '0x1bF0c2541F820E775182832f06c0B7Fc27A25f67',
};
