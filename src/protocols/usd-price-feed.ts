import { parseAbi, type Address } from 'viem';
import type { UsdPriceFeeds } from '../config/usd-price-feeds';
import { baseUsdPriceFromRound, usdUnitFromRound, type FeedRound, type UsdUnit, type ValueUnit } from '../domain/usd-unit';
import type { PositionSnapshot } from '../domain/position';
import { multicallAt } from './batch';
import type { PinnedBlock, ReadContext } from './read-types';

/*
 * The owner's USD price feed for a market's value token (USD_PRICE_FEEDS), read at a pinned block
 * in one Multicall3 call: for the executor's valuation of an action (the decision's block) and for
 * the USD of positions (the tick's block). Only the owner configures feeds: a tenant cannot point
 * a valuation at a contract of its own.
 */

const feedAbi = parseAbi([
  'function decimals() view returns (uint8)',
  'function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)',
]);

export async function readUsdUnit(context: ReadContext, feeds: UsdPriceFeeds | undefined, unit: ValueUnit, block: PinnedBlock): Promise<UsdUnit> {
  const configured = feeds?.get(unit.token.toLowerCase());
  if (!configured) {
    return { ok: false, why: `the market's values are in ${unit.symbol} ${unit.token} and USD_PRICE_FEEDS names no USD price feed for it on chain ${context.chainId}` };
  }
  const round = await readFeedRound(context, configured.feed, block.number);
  if (!round) return { ok: false, why: `the USD price feed ${configured.feed} for ${unit.symbol} (USD_PRICE_FEEDS) does not answer decimals() and latestRoundData()` };
  return usdUnitFromRound({ unit, round, blockTimestamp: block.timestamp, maxAgeSeconds: configured.maxAgeSeconds, feed: configured.feed });
}

/** The feed's latest round at the block, in one Multicall3 call; undefined when it does not answer as an aggregator. */
export async function readFeedRound(context: ReadContext, feed: Address, blockNumber: bigint): Promise<FeedRound | undefined> {
  const [decimals, latest] = await multicallAt(
    context,
    [
      { address: feed, abi: feedAbi, functionName: 'decimals' },
      { address: feed, abi: feedAbi, functionName: 'latestRoundData' },
    ],
    blockNumber,
  );
  if (decimals?.status !== 'success' || latest?.status !== 'success') return undefined;
  const [, answer, , updatedAt] = latest.result as readonly [bigint, bigint, bigint, bigint, bigint];
  return { answer, decimals: Number(decimals.result), updatedAt };
}

/**
 * Gives positions counted in a token other than a dollar (`valueUnit`: a Morpho market lending
 * WETH, a Comet priced in ETH) their USD from the owner's feed for that token, at the read's block:
 * one Multicall3 call per such token (a market has one). Display and risk figures only. A token
 * without a feed stays without USD; a stale feed or one that does not answer too, with a log line.
 */
export async function priceInUsd(context: ReadContext, feeds: UsdPriceFeeds | undefined, snapshots: readonly PositionSnapshot[], block: PinnedBlock): Promise<void> {
  const byToken = new Map<string, PositionSnapshot[]>();
  for (const snapshot of snapshots) {
    const token = snapshot.valueUnit?.token.toLowerCase();
    if (token === undefined || snapshot.baseUsdPrice !== undefined || !feeds?.has(token)) continue;
    byToken.set(token, [...(byToken.get(token) ?? []), snapshot]);
  }
  for (const [token, priced] of byToken) {
    const configured = feeds!.get(token)!;
    const round = await readFeedRound(context, configured.feed, block.number);
    if (!round) {
      console.warn('USD price feed unusable', `${configured.feed} (USD_PRICE_FEEDS for ${token}) does not answer decimals() and latestRoundData()`);
      continue;
    }
    for (const snapshot of priced) {
      const result = baseUsdPriceFromRound({ unit: snapshot.valueUnit!, baseDecimals: snapshot.baseDecimals, round, blockTimestamp: block.timestamp, maxAgeSeconds: configured.maxAgeSeconds, feed: configured.feed });
      if (!result.ok) {
        console.warn('USD price feed unusable', result.why);
        break;
      }
      snapshot.baseUsdPrice = result.baseUsdPrice;
    }
  }
}
