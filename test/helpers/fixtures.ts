import type { AlertEventBody } from '../../src/notify/event-body';
import type { PositionView } from '../../src/domain/position-view';

/** Shared test data: one critical position and the alert event about it. */

export const FIXTURE_WETH = '0x4200000000000000000000000000000000000006';

export function positionFixture(overrides: Partial<PositionView> = {}): PositionView {
  return {
    healthFactor: '1.0725',
    baseCurrency: 'USD',
    collateral: { base: '13000', usd: '13000' },
    debt: { base: '10000', usd: '10000' },
    liquidationThreshold: '0.825',
    distanceToLiquidation: '0.0675',
    liquidationPrices: [{ asset: FIXTURE_WETH, symbol: 'WETH', price: '1212.12121213', currentPrice: '1300' }],
    blockNumber: '19000123',
    observedAt: '2026-11-25T03:12:09.120Z',
    ...overrides,
  };
}

export function alertEventFixture(label: string, overrides: Partial<AlertEventBody> = {}): AlertEventBody {
  return {
    id: 'evt_w_0123456789abcdef0123_000003',
    type: 'alert.escalated',
    createdAt: '2026-11-25T03:12:09.120Z',
    watch: { id: 'w_0123456789abcdef0123', label, chainId: 1, protocol: 'aave-v3', market: '0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2', account: '0x1234567890abcdef1234567890abcdef12345678' },
    level: 'critical',
    previousLevel: 'margin_call',
    position: positionFixture(),
    trigger: 'health_factor',
    recommendation: { action: 'supply', asset: FIXTURE_WETH, symbol: 'WETH', amount: '4.4271234567', targetHealthFactor: '1.5400' },
    risk: null,
    ...overrides,
  };
}
