import { describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { cometSnapshot, type CometMarket } from '../../src/protocols/compound-v3/normalize';

/* What a Comet's values are counted in: USD when its feeds quote dollars, else its base token at the base price. */

const WETH: Address = '0x00000000000000000000000000000000000000e1';
const WSTETH: Address = '0x00000000000000000000000000000000000000e2';
const ACCOUNT: Address = '0x00000000000000000000000000000000000000aa';
const market: CometMarket = {
  chainId: 1,
  comet: '0x00000000000000000000000000000000000000cc',
  base: { asset: WETH, symbol: 'WETH', decimals: 18, priceFeed: '0x00000000000000000000000000000000000000f1', scale: 10n ** 18n },
  assets: [{ asset: WSTETH, symbol: 'wstETH', decimals: 18, priceFeed: '0x00000000000000000000000000000000000000f2', scale: 10n ** 18n, borrowCollateralFactor: 9n * 10n ** 17n, liquidateCollateralFactor: 93n * 10n ** 16n, liquidationFactor: 975n * 10n ** 15n }],
  pricesInUsd: false,
};
const block = { number: 1n, timestamp: 2n };
const balances = { borrow: 10n ** 18n, collateral: [2n * 10n ** 18n] };

describe('Compound v3 snapshot: the unit of its values', () => {
  it('a Comet priced in ETH names its base token, worth the base price in value units, for the owner\'s USD feed', () => {
    // WETH at 1.0 ETH, wstETH at 1.2 ETH (8 decimals).
    const snapshot = cometSnapshot(market, { base: 10n ** 8n, assets: [120_000_000n] }, ACCOUNT, balances, block);
    expect(snapshot).toMatchObject({ baseDecimals: 8, baseUsdPrice: undefined, valueUnit: { token: WETH, symbol: 'WETH', perToken: 10n ** 8n }, debtBase: 10n ** 8n, collateralBase: 240_000_000n });
  });

  it('names no unit when the base price is unknown, and none for a Comet priced in USD', () => {
    expect(cometSnapshot(market, { base: undefined, assets: [120_000_000n] }, ACCOUNT, balances, block)).not.toHaveProperty('valueUnit');
    const usd = cometSnapshot({ ...market, pricesInUsd: true }, { base: 10n ** 8n, assets: [120_000_000n] }, ACCOUNT, balances, block);
    expect(usd.baseUsdPrice).toBe(10n ** 8n);
    expect(usd).not.toHaveProperty('valueUnit');
  });
});
