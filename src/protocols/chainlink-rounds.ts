/*
 * Round history of Chainlink-style aggregators (AggregatorV3Interface): the cold start of an
 * asset's volatility when the market's price source is such a feed. Reads latestRoundData, then
 * walks round ids back within the current phase (a proxy's id is phase << 64 | round, so
 * id − 1 is the round before until the phase's first), all batched through Multicall3.
 */
import { parseAbi, type Address } from 'viem';
import type { PricePoint } from '../risk/ewma';
import { chunk, multicallAt, type CallResult } from './batch';
import type { PinnedBlock, ReadContext } from './read-types';

const aggregatorAbi = parseAbi([
  'function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)',
  'function getRoundData(uint80 roundId) view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)',
]);

type RoundData = readonly [bigint, bigint, bigint, bigint, bigint];

/** The lowest 64 bits of a round id: the round within its phase. */
const PHASE_ROUND_MASK = (1n << 64n) - 1n;

/**
 * Up to `rounds` most recent answers of each feed, oldest first, as (updatedAt in ms, answer)
 * points with strictly increasing times. A feed that is not an aggregator (its call reverts)
 * gets an empty list, so the caller falls back to a default.
 */
export async function readRoundHistory(
  context: ReadContext,
  feeds: readonly Address[],
  block: PinnedBlock,
  options: { rounds: number; batchSize: number },
): Promise<Map<Address, PricePoint[]>> {
  const history = new Map<Address, PricePoint[]>(feeds.map((feed) => [feed, []]));
  if (feeds.length === 0) return history;
  const latest = await multicallAt(context, feeds.map((feed) => ({ address: feed, abi: aggregatorAbi, functionName: 'latestRoundData' })), block.number);
  const wanted: { feed: Address; roundId: bigint }[] = [];
  const newest = new Map<Address, RoundData>();
  feeds.forEach((feed, index) => {
    const round = roundOf(latest[index]);
    if (!round) return;
    newest.set(feed, round);
    const [roundId] = round;
    const inPhase = roundId & PHASE_ROUND_MASK;
    for (let back = 1n; back < BigInt(options.rounds) && back < inPhase; back++) wanted.push({ feed, roundId: roundId - back });
  });
  const results = (
    await Promise.all(
      chunk(wanted, options.batchSize).map((batch) =>
        multicallAt(context, batch.map(({ feed, roundId }) => ({ address: feed, abi: aggregatorAbi, functionName: 'getRoundData', args: [roundId] })), block.number),
      ),
    )
  ).flat();
  const rounds = new Map<Address, RoundData[]>([...newest].map(([feed, round]) => [feed, [round]]));
  wanted.forEach(({ feed }, index) => {
    const round = roundOf(results[index]);
    if (round) rounds.get(feed)!.push(round);
  });
  for (const [feed, list] of rounds) history.set(feed, pricePoints(list));
  return history;
}

function roundOf(result: CallResult | undefined): RoundData | null {
  if (result?.status !== 'success') return null;
  const round = result.result as RoundData;
  // A round that was never answered (updatedAt 0) or a non-positive answer is no price.
  return round[3] > 0n && round[1] > 0n ? round : null;
}

/** Oldest first, one point per distinct update time (a round carried over repeats its time). */
function pricePoints(rounds: readonly RoundData[]): PricePoint[] {
  const byTime = new Map<number, number>();
  for (const [, answer, , updatedAt] of rounds) byTime.set(Number(updatedAt) * 1000, Number(answer));
  return [...byTime].sort(([a], [b]) => a - b).map(([time, price]) => ({ time, price }));
}
