import { z } from 'zod';
import { isAddress, type Address } from 'viem';
import { addressSetting } from './topup-env';

/*
 * USD_PRICE_FEEDS: the owner's USD price feeds for markets whose values are counted in a token
 * other than a dollar (a Morpho market lending WETH, a Comet priced in ETH). Positions and risk
 * figures on such markets get their USD from them, and live top-ups are valued with them against
 * the owner's USD budget. Only the owner configures feeds: no tenant can point a valuation at a
 * contract of its own.
 */

/** A Chainlink-style aggregator (latestRoundData, decimals) quoting one token in US dollars, and how old its answer may be. */
export type UsdPriceFeed = { feed: Address; maxAgeSeconds: number };
/** One chain's feeds, by token address in lowercase. */
export type UsdPriceFeeds = ReadonlyMap<string, UsdPriceFeed>;

/** Chainlink's ETH / USD and BTC / USD feeds on Ethereum update at least hourly (their heartbeat). */
export const DEFAULT_USD_FEED_MAX_AGE_SECONDS = 3_600;

/**
 * One chain's entry of USD_PRICE_FEEDS: {"0x<token>": "0x<feed>"} or
 * {"0x<token>": {"feed": "0x<feed>", "maxAgeSeconds": 86400}} (a feed with a longer heartbeat).
 */
export const usdPriceFeedsOfChain = z
  .record(
    z.string(),
    z.union([
      addressSetting.transform((feed): UsdPriceFeed => ({ feed, maxAgeSeconds: DEFAULT_USD_FEED_MAX_AGE_SECONDS })),
      z
        .object({ feed: addressSetting, maxAgeSeconds: z.number().int().min(60).max(7 * 86_400).optional() })
        .strict()
        .transform(({ feed, maxAgeSeconds }): UsdPriceFeed => ({ feed, maxAgeSeconds: maxAgeSeconds ?? DEFAULT_USD_FEED_MAX_AGE_SECONDS })),
    ]),
  )
  .superRefine((map, ctx) => {
    for (const token of Object.keys(map)) {
      if (!isAddress(token, { strict: false })) ctx.addIssue({ code: 'custom', path: [token], message: 'keys are token addresses (0x + 40 hex digits): the token the market counts its values in, e.g. WETH, or 0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE for native ETH' });
    }
  })
  .transform((map): UsdPriceFeeds => new Map(Object.entries(map).map(([token, feed]) => [token.toLowerCase(), feed])));
