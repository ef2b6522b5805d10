import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/env';
import { baseUsdPriceFromRound, countedInToken, usdUnitFromRound, type ValueUnit } from '../../src/domain/usd-unit';
import { amountWithinUsd, usdValue } from '../../src/domain/topup-budget';

const WETH: ValueUnit = { token: '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2', symbol: 'WETH', perToken: 10n ** 18n };
const FEED = '0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419';
const NOW = 1_700_000_000n;
const USD = 10n ** 8n; // usdValue's scale: 8-decimal dollars

function unitAt(answer: bigint, options: { decimals?: number; updatedAt?: bigint; maxAgeSeconds?: number; unit?: ValueUnit } = {}) {
  return usdUnitFromRound({ unit: options.unit ?? WETH, round: { answer, decimals: options.decimals ?? 8, updatedAt: options.updatedAt ?? NOW }, blockTimestamp: NOW, maxAgeSeconds: options.maxAgeSeconds ?? 3_600, feed: FEED });
}

describe('usdUnitFromRound: a value token priced by the owner USD feed', () => {
  it.each([
    ['ETH at $2,000 (8 decimals): 1e18 wei ÷ 2,000', 2_000n * 10n ** 8n, 8, WETH, 5n * 10n ** 14n],
    ['ETH at $3,000 rounds the unit down', 3_000n * 10n ** 8n, 8, WETH, 333_333_333_333_333n],
    ['an 18-decimal feed gives the same unit', 2_000n * 10n ** 18n, 18, WETH, 5n * 10n ** 14n],
    ['a Comet unit of 1e8 per WETH at $2,000', 2_000n * 10n ** 8n, 8, { ...WETH, perToken: 10n ** 8n }, 50_000n],
  ] as const)('%s', (_name, answer, decimals, unit, expected) => {
    expect(unitAt(answer, { decimals, unit })).toEqual({ ok: true, usdUnit: expected });
  });

  it('values 0.5 WETH at $1,000 and fits $1,000 of budget into at most 0.5 WETH', () => {
    const result = unitAt(2_000n * 10n ** 8n);
    if (!result.ok) throw new Error(result.why);
    // A WETH repayment on a WETH-loan market: price is one whole token in value units.
    expect(usdValue(5n * 10n ** 17n, 18, 10n ** 18n, result.usdUnit)).toBe(1_000n * USD);
    expect(amountWithinUsd(1_000n * USD, 18, 10n ** 18n, result.usdUnit)).toBe(5n * 10n ** 17n);
  });

  it('the rounded-down unit never values an action below its worth at the feed price', () => {
    const result = unitAt(3_000n * 10n ** 8n);
    if (!result.ok) throw new Error(result.why);
    const amount = 10n ** 18n;
    // 1 WETH at $3,000 exactly; the unit's rounding may only value it higher.
    expect(usdValue(amount, 18, 10n ** 18n, result.usdUnit)).toBeGreaterThanOrEqual(3_000n * USD);
    expect(amountWithinUsd(3_000n * USD, 18, 10n ** 18n, result.usdUnit)).toBeLessThanOrEqual(amount);
  });

  it('refuses an answer that is not a positive price', () => {
    expect(unitAt(0n)).toMatchObject({ ok: false, why: expect.stringContaining('not a price') });
    expect(unitAt(-1n)).toMatchObject({ ok: false, why: expect.stringContaining('answers -1') });
  });

  it('refuses a round older than maxAgeSeconds at the block, and takes one exactly that old', () => {
    expect(unitAt(2_000n * 10n ** 8n, { updatedAt: NOW - 3_600n })).toMatchObject({ ok: true });
    const stale = unitAt(2_000n * 10n ** 8n, { updatedAt: NOW - 3_601n });
    expect(stale).toMatchObject({ ok: false });
    expect(!stale.ok && stale.why).toContain('3601 s before the block, more than its 3600 s limit');
    expect(unitAt(2_000n * 10n ** 8n, { updatedAt: NOW - 80_000n, maxAgeSeconds: 86_400 })).toMatchObject({ ok: true });
  });

  it('refuses a unit that would round to 0 (a token worth more dollars than it has value units)', () => {
    expect(unitAt(2n * 10n ** 8n, { unit: { ...WETH, perToken: 1n } })).toMatchObject({ ok: false, why: expect.stringContaining('too coarse') });
  });
});

describe('baseUsdPriceFromRound: a position\'s dollars per whole base unit from the owner USD feed', () => {
  const at = (answer: bigint, options: { decimals?: number; baseDecimals?: number; unit?: ValueUnit; updatedAt?: bigint } = {}) =>
    baseUsdPriceFromRound({ unit: options.unit ?? WETH, baseDecimals: options.baseDecimals ?? 18, round: { answer, decimals: options.decimals ?? 8, updatedAt: options.updatedAt ?? NOW }, blockTimestamp: NOW, maxAgeSeconds: 3_600, feed: FEED });

  it.each([
    ['values in WETH (18 decimals) at $2,000: 2,000 with 18 decimals', 2_000n * 10n ** 8n, 8, 18, WETH, 2_000n * 10n ** 18n],
    ['an 18-decimal feed gives the same price', 2_000n * 10n ** 18n, 18, 18, WETH, 2_000n * 10n ** 18n],
    ['a cent-exact price keeps its cents', 1_999_99n * 10n ** 6n, 8, 18, WETH, 1_999_99n * 10n ** 16n],
    ['a Comet priced in ETH (8 decimals), WETH worth 1.0 ETH there, at $2,000', 2_000n * 10n ** 8n, 8, 8, { ...WETH, perToken: 10n ** 8n }, 2_000n * 10n ** 8n],
    ['a Comet whose base is worth 1.25 units of its feeds\' quote: a unit is $1,600', 2_000n * 10n ** 8n, 8, 8, { ...WETH, perToken: 125_000_000n }, 1_600n * 10n ** 8n],
    ['a 6-decimal token at $0.50: 0.5 with 6 decimals', 50_000_000n, 8, 6, { ...WETH, perToken: 10n ** 6n }, 500_000n],
  ] as const)('%s', (_name, answer, decimals, baseDecimals, unit, expected) => {
    expect(at(answer, { decimals, baseDecimals, unit })).toEqual({ ok: true, baseUsdPrice: expected });
  });

  it('refuses what usdUnitFromRound refuses: a stale round, an answer that is no price', () => {
    expect(at(2_000n * 10n ** 8n, { updatedAt: NOW - 3_601n })).toMatchObject({ ok: false, why: expect.stringContaining('more than its 3600 s limit') });
    expect(at(0n)).toMatchObject({ ok: false, why: expect.stringContaining('not a price') });
  });

  it('refuses a price that rounds to 0 rather than show $0', () => {
    expect(at(1n, { decimals: 18, baseDecimals: 0, unit: { ...WETH, perToken: 1n } })).toMatchObject({ ok: false });
  });
});

describe('countedInToken: how a market counted in one token reaches dollars', () => {
  it('counts a dollar stablecoin at par and names any other token for a feed', () => {
    const usdc = { asset: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', symbol: 'USDC', decimals: 6 } as const;
    expect(countedInToken(usdc)).toEqual({ baseUsdPrice: 10n ** 6n });
    expect(countedInToken({ ...usdc, symbol: 'usdc.e' })).toEqual({ baseUsdPrice: 10n ** 6n });
    expect(countedInToken({ asset: WETH.token, symbol: 'WETH', decimals: 18 })).toEqual({ baseUsdPrice: undefined, valueUnit: WETH });
    // Yield-bearing dollars are not one dollar each.
    expect(countedInToken({ ...usdc, symbol: 'sDAI', decimals: 18 }).baseUsdPrice).toBeUndefined();
  });
});

describe('USD_PRICE_FEEDS', () => {
  const base = { RPC_URLS: '{"1":"http://127.0.0.1:8545"}', ADMIN_TOKEN: 'x'.repeat(32) };

  it('is parsed per chain, keyed by the token in lowercase, with a default max age of one hour', () => {
    const config = parseConfig({ ...base, USD_PRICE_FEEDS: JSON.stringify({ '1': { [WETH.token]: FEED, '0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE': { feed: FEED, maxAgeSeconds: 86_400 } } }) });
    const feeds = config.usdPriceFeeds.get(1)!;
    expect(feeds.get(WETH.token.toLowerCase())).toEqual({ feed: FEED, maxAgeSeconds: 3_600 });
    expect(feeds.get('0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee')).toEqual({ feed: FEED, maxAgeSeconds: 86_400 });
    expect(parseConfig(base).usdPriceFeeds.size).toBe(0);
  });

  it.each([
    ['a key that is no token address', { '1': { WETH: FEED } }, /USD_PRICE_FEEDS\.1\.WETH: keys are token addresses/],
    ['a feed that is no address', { '1': { [WETH.token]: 'chainlink' } }, /USD_PRICE_FEEDS\.1/],
    ['a max age under a minute', { '1': { [WETH.token]: { feed: FEED, maxAgeSeconds: 5 } } }, /USD_PRICE_FEEDS\.1/],
    ['an unknown field', { '1': { [WETH.token]: { feed: FEED, heartbeat: 60 } } }, /USD_PRICE_FEEDS\.1/],
    ['a key that is no chain id', { mainnet: { [WETH.token]: FEED } }, /USD_PRICE_FEEDS\.mainnet: keys are chain ids/],
  ])('refuses %s, naming the setting and the entry', (_name, value, message) => {
    expect(() => parseConfig({ ...base, USD_PRICE_FEEDS: JSON.stringify(value) })).toThrow(message);
  });
});
