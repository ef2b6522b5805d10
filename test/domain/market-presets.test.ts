import { describe, expect, it } from 'vitest';
import { getAddress } from 'viem';
import { MARKET_PRESETS, presetByKey } from '../../src/protocols/presets';
import { SUPPORTED_PROTOCOLS, parseMarket } from '../../src/protocols';
import { createWatchSchema } from '../../src/config/api-schemas';

describe('built-in market presets', () => {
  it('have unique keys, known protocols and markets in each protocol\'s own form', () => {
    expect(new Set(MARKET_PRESETS.map((preset) => preset.key)).size).toBe(MARKET_PRESETS.length);
    for (const preset of MARKET_PRESETS) {
      expect(SUPPORTED_PROTOCOLS).toContain(preset.protocol);
      expect(parseMarket(preset.protocol, preset.market), preset.key).toEqual({ ok: true, market: preset.market });
      if (preset.protocolAddress) expect(getAddress(preset.protocolAddress)).toBe(preset.protocolAddress);
    }
    expect(presetByKey('COMPOUND-V3:ethereum:usdc')?.market).toBe('0xc3d688B66703497DAA19211EEdff47f25384cdc3');
    expect(presetByKey('morpho-blue:ethereum:wsteth-usdc-86')).toMatchObject({ loan: 'USDC', collateral: 'wstETH', lltv: '0.86', protocolAddress: '0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb' });
  });

  it('a watch may name a preset: it becomes the market (and Morpho contract) it stands for, on its own chain and protocol only', () => {
    const account = '0x1111111111111111111111111111111111111111';
    const parsed = createWatchSchema.parse({ chainId: 1, protocol: 'morpho-blue', market: 'morpho-blue:ethereum:wbtc-usdc-86', account });
    expect(parsed).toMatchObject({ market: '0x3a85e619751152991742810df6ec69ce473daef99e28a64ab2340d7b7ccfee49', protocolAddress: '0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb' });
    expect(createWatchSchema.parse({ chainId: 8453, protocol: 'aave-v3', market: 'aave-v3:base:core', account }).market).toBe('0xA238Dd80C259a72e81d7e4664a9801593F98d1c5');
    const wrongChain = createWatchSchema.safeParse({ chainId: 10, protocol: 'aave-v3', market: 'aave-v3:base:core', account });
    expect(wrongChain.success).toBe(false);
    expect(wrongChain.error?.issues[0]).toMatchObject({ path: ['market'], message: expect.stringContaining('chain 8453') });
    const unknown = createWatchSchema.safeParse({ chainId: 1, protocol: 'aave-v3', market: 'aave-v3:ethereum:nope', account });
    expect(unknown.error?.issues[0]?.message).toContain('GET /v1/markets');
    const idOnAave = createWatchSchema.safeParse({ chainId: 1, protocol: 'aave-v3', market: `0x${'ab'.repeat(32)}`, account });
    expect(idOnAave.error?.issues[0]?.path).toEqual(['market']);
  });
});
