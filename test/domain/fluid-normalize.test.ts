import { describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { beyondMaxLimit, fluidHealthFactor, fluidSnapshot, riskiest, type FluidMarket, type FluidPosition, type FluidVaultConfig } from '../../src/protocols/fluid/normalize';

/* Fluid's health factor and position rules, pure: a WETH (18) / USDC (6) vault at 2,000 USDC per WETH. */

const owner: Address = '0x00000000000000000000000000000000000000aa';
const market: FluidMarket = {
  chainId: 1,
  vault: '0x00000000000000000000000000000000000000bb',
  vaultId: 11n,
  factory: '0x00000000000000000000000000000000000000cc',
  resolver: '0x00000000000000000000000000000000000000dd',
  collateral: { asset: '0x00000000000000000000000000000000000000e1', symbol: 'WETH', decimals: 18 },
  debt: { asset: '0x00000000000000000000000000000000000000e2', symbol: 'USDC', decimals: 6 },
  liquidationPenaltyBps: 100n,
};
// 2,000 USDC per WETH: 2000 × 1e6 / 1e18 × 1e27.
const config: FluidVaultConfig = { collateralFactorBps: 8_000n, liquidationThresholdBps: 8_500n, liquidationMaxLimitBps: 9_000n, liquidationPenaltyBps: 100n, oraclePriceLiquidate: 2_000n * 10n ** 15n };
const position = (nftId: bigint, weth: bigint, usdc: bigint): FluidPosition => ({ nftId, owner, isLiquidated: false, supply: weth * 10n ** 18n, borrow: usdc * 10n ** 6n });

describe('Fluid normalization', () => {
  it('health factor = supply × price ÷ 1e27 × LT ÷ borrow in WAD, null without debt', () => {
    expect(fluidHealthFactor(position(1n, 1n, 1_000n), config)).toBe(1_700_000_000_000_000_000n);
    expect(fluidHealthFactor(position(1n, 1n, 1_700n), config)).toBe(10n ** 18n);
    expect(fluidHealthFactor(position(1n, 1n, 0n), config)).toBeNull();
  });

  it('beyond the max limit exactly when debt exceeds max limit × collateral value', () => {
    expect(beyondMaxLimit(position(1n, 1n, 1_800n), config)).toBe(false);
    expect(beyondMaxLimit(position(1n, 1n, 1_801n), config)).toBe(true);
  });

  it('the riskiest position is the lowest health factor; positions without debt come last', () => {
    const positions = [position(1n, 1n, 0n), position(2n, 1n, 1_000n), position(3n, 1n, 1_500n)];
    expect(riskiest(positions, config)?.nftId).toBe(3n);
  });

  it('an owner snapshot shows the riskiest position and lists each one with debt; an NFT snapshot has no list', () => {
    const positions = [position(7n, 2n, 1_000n), position(9n, 1n, 1_500n), position(12n, 1n, 0n)];
    const whole = fluidSnapshot(market, { account: owner, positions, owner: true, config, block: { number: 5n, timestamp: 6n } });
    expect(whole).toMatchObject({ protocol: 'fluid', baseDecimals: 6, collateralBase: 2_000n * 10n ** 6n, debtBase: 1_500n * 10n ** 6n, protocolFields: { nftId: '9', ownerPositions: 3 } });
    expect(whole.subPositions?.map((sub) => [sub.id, sub.debtBase])).toEqual([
      ['7', 1_000n * 10n ** 6n],
      ['9', 1_500n * 10n ** 6n],
    ]);
    const single = fluidSnapshot(market, { account: owner, positions: [positions[0]!], owner: false, config, block: { number: 5n, timestamp: 6n } });
    expect(single.subPositions).toBeUndefined();
    expect(single.protocolFields).not.toHaveProperty('ownerPositions');
  });

  it('a vault lending USDC counts its values at $1; one lending native ETH names it for the owner\'s ETH / USD feed', () => {
    const at = (debt: FluidMarket['debt']) => fluidSnapshot({ ...market, debt }, { account: owner, positions: [position(7n, 2n, 1_000n)], owner: false, config, block: { number: 5n, timestamp: 6n } });
    const usdc = at(market.debt);
    expect(usdc.baseUsdPrice).toBe(10n ** 6n);
    expect(usdc).not.toHaveProperty('valueUnit');
    const native = at({ asset: '0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE', symbol: 'ETH', decimals: 18 });
    expect(native.baseUsdPrice).toBeUndefined();
    expect(native.valueUnit).toEqual({ token: '0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE', symbol: 'ETH', perToken: 10n ** 18n });
  });
});
