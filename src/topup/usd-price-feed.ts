import { parseAbi, type Address } from 'viem';
import type { UsdPriceFeeds } from '../config/topup-env';
import { usdUnitFromRound, type FeedRound, type UsdUnit, type ValueUnit } from '../domain/usd-unit';
import { multicallAt } from '../protocols/batch';
import type { PinnedBlock, ReadContext } from '../protocols/read-types';

/*
 * The owner's USD price feed for a market's value token (USD_PRICE_FEEDS), read at the block the
 * decision is made on, in one Multicall3 call. Only the owner configures feeds: a tenant cannot
 * point the executor's valuation at a contract of its own.
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
