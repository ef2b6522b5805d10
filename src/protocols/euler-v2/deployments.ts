import type { Address } from 'viem';

/**
 * Euler v2's Ethereum Vault Connector and EVault factory per chain, where verified
 * (../shared/protocols/README.md). There, a market must be a vault of that factory on that EVC.
 */
export const EULER_V2_DEPLOYMENTS: Readonly<Record<number, { evc: Address; factory: Address }>> = {
  1: { evc: '0x0C9a3dd6b8F28529d72d7f9cE918D493519EE383', factory: '0x29a56a1b8214D9Cf7c5561811750D5cBDb45CC8e' },
};
