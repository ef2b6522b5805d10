import { describe, expect, it } from 'vitest';
import { getAddress, getContractAddress } from 'viem';
import { MARKET_PRESETS, presetByKey } from '../../src/protocols/presets';
import { FLUID_PRESETS } from '../../src/protocols/fluid/presets';
import { FLUID_VAULT_FACTORIES } from '../../src/protocols/fluid/deployments';
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

  it('Liquity v2, Euler v2 and Fluid presets name their market contract in checksummed form, with no protocolAddress, on the chains they are deployed on', () => {
    const byProtocol = (protocol: string) => MARKET_PRESETS.filter((preset) => preset.protocol === protocol);
    expect(byProtocol('liquity-v2').map((preset) => preset.key)).toEqual(['liquity-v2:ethereum:weth', 'liquity-v2:ethereum:wsteth', 'liquity-v2:ethereum:reth']);
    expect(new Set(byProtocol('euler-v2').map((preset) => preset.chainId))).toEqual(new Set([1, 8453, 42161]));
    expect(new Set(byProtocol('fluid').map((preset) => preset.chainId))).toEqual(new Set([1, 8453, 42161]));
    for (const preset of [...byProtocol('liquity-v2'), ...byProtocol('euler-v2'), ...byProtocol('fluid')]) {
      expect(getAddress(preset.market), preset.key).toBe(preset.market);
      expect(preset.protocolAddress, preset.key).toBeNull();
      expect(preset).not.toHaveProperty('lltv');
    }
    // The live (May 2025) Liquity deployment, not the January 2025 one Liquity now calls legacy.
    expect(presetByKey('liquity-v2:ethereum:weth')?.market).toBe('0x7bcb64B2c9206a5B699eD43363f6F98D4776Cf5A');
    expect(presetByKey('euler-v2:ethereum:prime-usdc')?.market).toBe('0x797DD80692c3b2dAdabCe8e30C07fDE5307D48a9');
    // One address, two chains: the same CREATE nonce of the same factory.
    expect(presetByKey('fluid:arbitrum:eth-usdc')?.market).toBe(presetByKey('fluid:base:eth-usdc')?.market);
  });

  it('every Fluid preset is the address the VaultFactory deploys at its vault id (CREATE from the factory, nonce = id)', () => {
    expect(FLUID_PRESETS.length).toBeGreaterThan(0);
    for (const preset of FLUID_PRESETS) {
      expect(getContractAddress({ from: FLUID_VAULT_FACTORIES[preset.chainId]!, nonce: BigInt(preset.vaultId) }), `${preset.chainId} ${preset.slug}`).toBe(preset.vault);
    }
  });

  it('a watch may name a Liquity, Euler or Fluid preset: it becomes that TroveManager or vault, with no protocolAddress', () => {
    const account = '0x1111111111111111111111111111111111111111';
    expect(createWatchSchema.parse({ chainId: 1, protocol: 'liquity-v2', market: 'liquity-v2:ethereum:wsteth', account })).toMatchObject({ market: '0xA2895d6A3bf110561Dfe4b71cA539d84e1928B22', protocolAddress: undefined });
    expect(createWatchSchema.parse({ chainId: 42161, protocol: 'euler-v2', market: 'euler-v2:arbitrum:usdc', account }).market).toBe('0x0a1eCC5Fe8C9be3C809844fcBe615B46A869b899');
    expect(createWatchSchema.parse({ chainId: 8453, protocol: 'fluid', market: 'fluid:base:wsteth-eth', account: '42' }).market).toBe('0xA0F83Fc5885cEBc0420ce7C7b139Adc80c4F4D91');
    const wrongProtocol = createWatchSchema.safeParse({ chainId: 1, protocol: 'euler-v2', market: 'fluid:ethereum:eth-usdc', account });
    expect(wrongProtocol.error?.issues[0]).toMatchObject({ path: ['market'], message: expect.stringContaining('is a fluid market') });
  });
});
