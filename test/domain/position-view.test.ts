import { describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { positionView } from '../../src/domain/position-view';
import type { PositionSnapshot } from '../../src/domain/position';
import type { ValueUnit } from '../../src/domain/usd-unit';
import { alertMessage } from '../../src/notify/render';
import { moneyText } from '../../src/notify/money-text';
import { alertEventFixture } from '../helpers/fixtures';

/* What a position's `base` values are in (`baseCurrency`), and its `usd` beside them. */

const WETH: Address = '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2';
const E18 = 10n ** 18n;

function snapshot(input: { baseDecimals: number; baseUsdPrice?: bigint; valueUnit?: ValueUnit }): PositionSnapshot {
  return {
    chainId: 1, protocol: 'morpho-blue', market: WETH, account: WETH, blockNumber: 1n, blockTimestamp: 0n,
    baseDecimals: input.baseDecimals, baseUsdPrice: input.baseUsdPrice, ...(input.valueUnit ? { valueUnit: input.valueUnit } : {}),
    collateralBase: 12n * 10n ** BigInt(input.baseDecimals - 1), debtBase: 8n * 10n ** BigInt(input.baseDecimals - 1), liquidationThresholdBps: 8600n, ltvBps: 8600n, healthFactor: 129n * 10n ** 16n,
  };
}

describe('positionView: baseCurrency and usd', () => {
  it.each([
    ['values in dollars (Aave\'s base, a stablecoin loan at par)', { baseDecimals: 8, baseUsdPrice: 10n ** 8n }, 'USD', '1.2'],
    ['values in WETH, priced by the owner\'s feed at $2,000', { baseDecimals: 18, baseUsdPrice: 2_000n * E18, valueUnit: { token: WETH, symbol: 'WETH', perToken: E18 } }, 'WETH', '2400'],
    ['values in WETH, no feed', { baseDecimals: 18, valueUnit: { token: WETH, symbol: 'WETH', perToken: E18 } }, 'WETH', null],
    ['a Comet\'s feed quote where its base token is worth 1.2 units', { baseDecimals: 8, valueUnit: { token: WETH, symbol: 'wstETH', perToken: 120_000_000n } }, 'base', null],
    ['a unit nobody named', { baseDecimals: 18 }, 'base', null],
  ] as const)('%s', (_name, input, currency, collateralUsd) => {
    const view = positionView(snapshot(input), new Date(0));
    expect(view.baseCurrency).toBe(currency);
    expect(view.collateral).toEqual({ base: '1.2', usd: collateralUsd });
  });

  it('an alert on a WETH-counted position without USD names WETH, not "base"', () => {
    const position = positionView(snapshot({ baseDecimals: 18, valueUnit: { token: WETH, symbol: 'WETH', perToken: E18 } }), new Date(0));
    const message = alertMessage(alertEventFixture('weth loan', { position }));
    expect(message.facts).toContainEqual({ label: 'Collateral', value: '1.20 WETH' });
  });
});

describe('moneyText: one way to write an amount everywhere', () => {
  it.each([
    ['1240', 'USD', '$1,240.00'],
    ['0.005', 'USD', '$0.01'],
    ['1.2', 'WETH', '1.20 WETH'],
    ['0.00123456', 'WETH', '0.0012 WETH'],
    ['13000', 'base', '13,000.00 (base currency)'],
  ] as const)('%s %s → %s', (value, currency, expected) => {
    expect(moneyText(value, currency)).toBe(expected);
  });
});
