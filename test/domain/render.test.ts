import { describe, expect, it } from 'vitest';
import { alertMessage } from '../../src/notify/render';
import { alertEventFixture, positionFixture } from '../helpers/fixtures';

describe('alertMessage', () => {
  it('puts the level, the label and the numbers first', () => {
    const message = alertMessage(alertEventFixture('main vault'));
    expect(message.title).toBe('CRITICAL · main vault');
    expect(message.headline).toBe('Health factor 1.0725 — collateral can fall 6.75% before liquidation');
    expect(message.facts[0]).toEqual({ label: 'Health factor', value: '1.0725' });
    expect(message.link?.url).toBe('https://etherscan.io/address/0x1234567890abcdef1234567890abcdef12345678');
  });

  it('says a liquidatable position can be liquidated now, not that it can fall 0%', () => {
    const message = alertMessage(alertEventFixture('v', { level: 'liquidatable', position: positionFixture({ healthFactor: '0.9467', distanceToLiquidation: '0' }) }));
    expect(message.title).toBe('LIQUIDATABLE · v');
    expect(message.headline).toBe('Health factor 0.9467 — below 1: the position can be liquidated now');
  });

  it('rounds the recommended amount up at 6 decimals, never down', () => {
    const amount = (value: string) => alertMessage(alertEventFixture('v', { recommendation: { action: 'supply', asset: '0x0000000000000000000000000000000000000001', symbol: 'WETH', amount: value, targetHealthFactor: '1.5400' } })).action;
    expect(amount('4.4271234567')).toBe('Supply 4.427124 WETH to bring the health factor back to 1.5400.');
    expect(amount('4.427123')).toBe('Supply 4.427123 WETH to bring the health factor back to 1.5400.');
    expect(amount('0.0000001')).toBe('Supply 0.000001 WETH to bring the health factor back to 1.5400.');
    expect(amount('2.5')).toBe('Supply 2.5 WETH to bring the health factor back to 1.5400.');
  });

  it('leaves the explorer link out on chains without a known explorer', () => {
    const event = alertEventFixture('v');
    expect(alertMessage({ ...event, watch: { ...event.watch, chainId: 31337 } }).link).toBeNull();
  });

  it('links a trove-id watch to its market contract, never to /address/ of the 32-byte id', () => {
    const event = alertEventFixture('trove');
    const troveId = '0x00000000000000000000000000000000000000000000000000000000000004d2' as `0x${string}`;
    const market = '0x5c52cb7b8e56c1f0d58a3a22fd9e08c5c1a7d3e1' as `0x${string}`;
    expect(alertMessage({ ...event, watch: { ...event.watch, account: troveId, market } }).link).toEqual({ text: 'View market on explorer', url: `https://etherscan.io/address/${market}` });
  });

  it('a next_price alert leads with the health factor at the next price, already published, and lists it beside the one now', () => {
    const message = alertMessage(alertEventFixture('v', { level: 'margin_call', trigger: 'next_price', position: positionFixture({ healthFactor: '1.7241', nextHealthFactor: '1.1206' }) }));
    expect(message.headline).toBe('Health factor 1.1206 at the next price, already published (1.7241 now): a margin call before that price takes effect');
    expect(message.facts.slice(0, 2)).toEqual([{ label: 'Health factor', value: '1.7241' }, { label: 'Health factor at the next price', value: '1.1206' }]);
  });
});
