import type { Address } from 'viem';

/**
 * Euler v2's Ethereum Vault Connector and EVault factory per chain, where verified: Ethereum
 * from ../shared/protocols/README.md; Base and Arbitrum from euler-xyz's euler-interfaces
 * addresses, agreeing with independent integrations (DefiLlama's adapters, almanak's SDK).
 * There, a market must be a vault of that factory on that EVC.
 */
export const EULER_V2_DEPLOYMENTS: Readonly<Record<number, { evc: Address; factory: Address }>> = {
  1: { evc: '0x0C9a3dd6b8F28529d72d7f9cE918D493519EE383', factory: '0x29a56a1b8214D9Cf7c5561811750D5cBDb45CC8e' },
  8453: { evc: '0x5301c7dD20bD945D2013b48ed0DEE3A284ca8989', factory: '0x7F321498A801A191a93C840750ed637149dDf8D0' },
  42161: { evc: '0x6302ef0F34100CDDFb5489fbcB6eE1AA95CD1066', factory: '0x78Df1CF5bf06a7f27f2ACc580B934238C1b80D50' },
};
