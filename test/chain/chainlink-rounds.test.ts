import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAbi, parseUnits, type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { sendContractTx } from '../../tools/chain/actions';
import { deployRoundAggregator, pushRounds } from '../../tools/chain/round-aggregator';
import { seedLiquidity } from '../helpers/control-server';
import { createChainClient } from '../../src/chain/client';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { aaveV3Adapter } from '../../src/protocols/aave-v3';
import { readPositions } from '../../src/protocols/read-positions';
import { readRoundHistory } from '../../src/protocols/chainlink-rounds';
import { closes, parsePriceCsv } from '../../src/risk/price-history';
import { firstSeed } from '../../src/risk/market-volatility';
import { COMMITTED_CALIBRATION } from '../../src/risk/committed-calibration';
import { variancePerDayFromAnnual } from '../../src/risk/ewma';

/*
 * Cold start of an asset's volatility from its Chainlink-style feed: a real aggregator contract
 * (test/fixtures/RoundAggregator.sol) holding 200 real hourly ETH closes of March 2020 as rounds,
 * set as AaveOracle's source for WETH on the local Aave v3 market, read through the production path.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const ROUNDS = 200;
/** Rounds live in phase 3: the walk back must stop at its first round. */
const FIRST_ROUND_ID = (3n << 64n) + 1n;

const oracleAbi = parseAbi(['function setAssetSources(address[] assets, address[] sources)', 'function getSourceOfAsset(address asset) view returns (address)']);

let chain: LocalChain;
let aggregator: Address;
let path: { time: number; price: number }[];

function context() {
  const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
  return { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 };
}

beforeAll(async () => {
  chain = await startLocalChain();
  await seedLiquidity(chain);
  const bars = parsePriceCsv(readFileSync(resolve(ROOT, '../shared/data/prices/ETHUSDT-1h-2017-2020.csv'), 'utf8'));
  const from = Date.parse('2020-03-05T00:00:00Z');
  path = closes(bars.filter((bar) => bar.time >= from)).slice(0, ROUNDS);

  const admin = chain.accounts[0]!;
  aggregator = await deployRoundAggregator(chain.clients, admin, { decimals: 8, firstRoundId: FIRST_ROUND_ID });
  await pushRounds(chain.clients, admin, aggregator, path.map((point) => ({ answer: parseUnits(point.price.toFixed(8), 8), updatedAt: BigInt(point.time / 1000) })));
  await sendContractTx(chain.clients, admin, { address: chain.market.oracle, abi: oracleAbi, functionName: 'setAssetSources', args: [[chain.market.reserves.WETH.asset], [aggregator]] });
}, 180_000);

afterAll(async () => {
  await chain?.stop();
});

describe('Chainlink round history seeds volatility (cold start)', () => {
  it("the market's price read names WETH's source feed and gives its latest answer", async () => {
    const account = privateKeyToAccount(generatePrivateKey()).address;
    const { prices } = await readPositions(aaveV3Adapter, { context: context(), market: { market: chain.market.pool, protocolAddress: null }, accounts: [account], batchSize: 300, withPrices: true });
    const weth = prices!.prices.find((price) => price.symbol === 'WETH')!;
    expect(weth.feed).toBe(aggregator);
    expect(weth.price).toBe(parseUnits(path[path.length - 1]!.price.toFixed(8), 8));
    expect(prices!.quoteIsUsd).toBe(true);
  });

  it('reads every round of the phase, oldest first, with its update time and answer', async () => {
    const ctx = context();
    const block = await ctx.client.getBlock();
    const history = await readRoundHistory(ctx, [aggregator], { number: block.number, timestamp: block.timestamp }, { rounds: ROUNDS, batchSize: 64 });
    const points = history.get(aggregator)!;
    expect(points).toHaveLength(ROUNDS);
    expect(points.map((point) => point.time)).toEqual(path.map((point) => point.time));
    points.forEach((point, index) => expect(point.price / 1e8).toBeCloseTo(path[index]!.price, 6));
  });

  it('stops at the first round of the phase when asked for more rounds than it holds', async () => {
    const ctx = context();
    const block = await ctx.client.getBlock();
    const history = await readRoundHistory(ctx, [aggregator], { number: block.number, timestamp: block.timestamp }, { rounds: 1_000, batchSize: 300 });
    expect(history.get(aggregator)).toHaveLength(ROUNDS);
  });

  it('a source that is not an aggregator (no latestRoundData) gives no rounds, and the seed falls back to the class default', async () => {
    const ctx = context();
    const usdcFeed = await ctx.client.readContract({ address: chain.market.oracle, abi: oracleAbi, functionName: 'getSourceOfAsset', args: [chain.market.reserves.USDC.asset] });
    const block = await ctx.client.getBlock();
    const history = await readRoundHistory(ctx, [usdcFeed], { number: block.number, timestamp: block.timestamp }, { rounds: ROUNDS, batchSize: 300 });
    expect(history.get(usdcFeed)).toEqual([]);
    expect(firstSeed([], 'eth', COMMITTED_CALIBRATION)).toEqual({ variancePerDay: variancePerDayFromAnnual(COMMITTED_CALIBRATION.defaultVolatility.eth), source: 'asset_class_default', samples: 0 });
  });

  it('the seed is the realised variance per day of the rounds read (Σ r² over the days they span), from the real March 2020 path', async () => {
    const ctx = context();
    const block = await ctx.client.getBlock();
    const points = (await readRoundHistory(ctx, [aggregator], { number: block.number, timestamp: block.timestamp }, { rounds: ROUNDS, batchSize: 300 })).get(aggregator)!;
    let sum = 0;
    for (let i = 1; i < path.length; i++) sum += Math.log(path[i]!.price / path[i - 1]!.price) ** 2;
    const expected = sum / ((path[path.length - 1]!.time - path[0]!.time) / 86_400_000);
    const seed = firstSeed(points, 'eth', COMMITTED_CALIBRATION)!;
    expect(seed.source).toBe('chainlink_rounds');
    expect(seed.samples).toBe(ROUNDS - 1);
    expect(seed.variancePerDay).toBeCloseTo(expected, 10);
    // The crash week runs far above the calm default: the seed says so instead of the default's 88 %/yr.
    expect(Math.sqrt(seed.variancePerDay * 365)).toBeGreaterThan(COMMITTED_CALIBRATION.defaultVolatility.eth);
  });
});
