import { toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/env';
import { createWatchSchema } from '../../src/config/api-schemas';
import { parseMarket, resolveProtocolAddress } from '../../src/protocols';
import { ilkName, ilkSymbol } from '../../src/protocols/maker/ilk';
import { collateralPrice, penaltyBps, rpow, thresholdBps, RAY } from '../../src/protocols/maker/normalize';
import { nextFromSlot, spotFromPrice } from '../../src/protocols/maker/osm';

const ETH_A = '0x4554482d41000000000000000000000000000000000000000000000000000000';
const VAT = '0x35D1b3F3D7966A1DFe207aa4514C12a259A0492B';
const account = '0x1111111111111111111111111111111111111111';

describe('Maker markets: ilks by name, the Vat as protocolAddress', () => {
  it('an ilk name or its bytes32 is the market; anything else is refused with the form it must take', () => {
    expect(parseMarket('maker', 'ETH-A')).toEqual({ ok: true, market: ETH_A });
    expect(parseMarket('maker', ETH_A.toUpperCase().replace('0X', '0x'))).toEqual({ ok: true, market: ETH_A });
    expect(parseMarket('maker', 'ETH A')).toMatchObject({ ok: false, message: expect.stringContaining('"ETH-A"') });
    expect(parseMarket('maker', 'X'.repeat(33))).toMatchObject({ ok: false });
    expect(ilkName(ETH_A)).toBe('ETH-A');
    expect(ilkSymbol('WSTETH-B')).toBe('WSTETH');
  });

  it('a watch accepts "ETH-A" for maker only; the preset names the ilk and the canonical Vat', () => {
    expect(createWatchSchema.parse({ chainId: 1, protocol: 'maker', market: 'ETH-A', account }).market).toBe(ETH_A);
    expect(createWatchSchema.parse({ chainId: 1, protocol: 'maker', market: 'maker:ethereum:eth-a', account })).toMatchObject({ market: ETH_A, protocolAddress: VAT });
    const onAave = createWatchSchema.safeParse({ chainId: 1, protocol: 'aave-v3', market: 'ETH-A', account });
    expect(onAave.error?.issues[0]).toMatchObject({ path: ['market'], message: expect.stringContaining('address of the market contract') });
  });

  it('the Vat is canonical on Ethereum and required elsewhere', () => {
    expect(resolveProtocolAddress('maker', 1, undefined)).toBe(VAT);
    expect(() => resolveProtocolAddress('maker', 10, undefined)).toThrow(expect.objectContaining({ status: 400, issues: [expect.objectContaining({ path: 'protocolAddress' })] }));
  });

  it('PROTOCOL_CONTRACTS gives a chain the contracts beside the Vat; a bad address is named', () => {
    const base = { RPC_URLS: '{"31337":"http://127.0.0.1:8545"}', ADMIN_TOKEN: 'x'.repeat(32) };
    const contracts = { vat: VAT, spot: VAT, jug: VAT, dog: VAT };
    expect(parseConfig({ ...base, PROTOCOL_CONTRACTS: JSON.stringify({ 31337: { maker: contracts } }) }).chains.get(31337)?.protocolContracts).toEqual({ maker: contracts });
    expect(() => parseConfig({ ...base, PROTOCOL_CONTRACTS: JSON.stringify({ 31337: { maker: { ...contracts, jug: '0x12' } } }) })).toThrow(/PROTOCOL_CONTRACTS\.31337\.maker\.jug/);
  });

  it('Jug.rpow, the price from spot × mat × par, the threshold 1 / mat and the penalty chop − 1, on hand-computed values', () => {
    expect(rpow(2n * RAY, 10n, RAY)).toBe(1024n * RAY);
    expect(rpow(0n, 0n, RAY)).toBe(RAY);
    expect(rpow(0n, 5n, RAY)).toBe(0n);
    // spot = $1,450 ÷ 1.45 = 1,000 (RAY): the price is $1,450.
    expect(collateralPrice({ spot: 1000n * RAY, mat: (145n * RAY) / 100n, par: RAY })).toBe(1450n * 10n ** 18n);
    expect(thresholdBps((145n * RAY) / 100n)).toBe(6896n);
    expect(penaltyBps(113n * 10n ** 16n)).toBe(1300n);
  });
});

describe("Maker's OSM word", () => {
  it('reads nxt as { uint128 val; uint128 has } with val in the low half, and none while has is 0', () => {
    const val = 1666n * 10n ** 18n + 25n;
    expect(nextFromSlot(toHex((1n << 128n) | val, { size: 32 }))).toBe(val);
    expect(nextFromSlot(toHex(val, { size: 32 }))).toBeUndefined();
    expect(nextFromSlot(toHex(0n, { size: 32 }))).toBeUndefined();
  });

  it("computes the spot as spotter.poke does: rdiv(rdiv(val × 1e9, par), mat), and the price back from it within the rounding", () => {
    const mat = (145n * RAY) / 100n;
    const spot = spotFromPrice(2000n * 10n ** 18n, RAY, mat);
    expect(spot).toBe((((2000n * 10n ** 18n * 10n ** 9n * RAY) / RAY) * RAY) / mat);
    expect(collateralPrice({ spot, mat, par: RAY })).toBeLessThanOrEqual(2000n * 10n ** 18n);
    expect(spotFromPrice(10n ** 18n, 0n, mat)).toBe(0n);
  });
});

describe('Maker vault ids in a watch', () => {
  it('a maker watch takes "cdp:12345" as its account (stored as 0x + 64 hex); another protocol refuses it at account', () => {
    expect(createWatchSchema.parse({ chainId: 1, protocol: 'maker', market: 'ETH-A', account: 'cdp:12345' }).account).toBe(`0x${'0'.repeat(60)}3039`);
    const other = createWatchSchema.safeParse({ chainId: 1, protocol: 'aave-v3', market: 'aave-v3:ethereum:core', account: 'cdp:12345' });
    expect(other.success).toBe(false);
    expect(other.error?.issues[0]?.path).toEqual(['account']);
  });
});
