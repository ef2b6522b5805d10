/*
 * Maker's main vault types on Ethereum (ilks of the canonical Vat). Maker vaults exist on
 * Ethereum only: Sky on L2s is the bridged USDS/sUSDS, with no Vat. A preset names the ilk;
 * GET /v1/markets shows its bytes32 as `market` and the Vat as `protocolAddress`.
 */
export type MakerPreset = { chainId: number; ilk: string };

export const MAKER_PRESETS: readonly MakerPreset[] = ['ETH-A', 'ETH-B', 'ETH-C', 'WSTETH-A', 'WSTETH-B', 'WBTC-A', 'WBTC-B', 'WBTC-C'].map((ilk) => ({ chainId: 1, ilk }));
