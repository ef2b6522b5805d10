import { getAddress, type Address, type Hex } from 'viem';
import { AppError } from '../../lib/errors';
import type { AssetPosition } from '../../domain/position';
import type { AccountRead, MarketPrices, MarketRef, PinnedBlock, ReadContext } from '../read-types';
import { chunk, multicallAt, rethrowRpc, shortMessage, type CallResult } from '../batch';
import { multicallFor, pinnedOf, type ReadAt } from '../block-pin';
import { activePoolAbi, borrowerOperationsAbi, priceFeedAbi, tokenAbi, troveManagerAbi, troveNftAbi } from './abi';
import { liquityConditions } from './conditions';
import { TROVE_STATUS, liquityAccountOf, ownerTroves, troveIdText, troveSnapshot, weakestTrove, type BranchState, type LiquityMarket, type TroveData } from './normalize';
import { tokenSymbol } from '../token-symbol';
import { BoundedCache, MARKET_CACHE_ENTRIES } from '../../lib/bounded-cache';

const marketCache = new BoundedCache<string, LiquityMarket>(MARKET_CACHE_ENTRIES);

/**
 * Where TroveManager keeps its PriceFeed: LiquityBase's storage opens with activePool (slot 0),
 * defaultPool, priceFeed (slot 2). No getter exposes the feed, and liquidations price troves with
 * it, so it is read from storage; slot 0 is checked against activePool() before slot 2 is trusted.
 */
const ACTIVE_POOL_SLOT = '0x0';
const PRICE_FEED_SLOT = '0x2';

function success(result: CallResult | undefined): unknown {
  return result?.status === 'success' ? result.result : undefined;
}

function slotAddress(word: Hex | undefined): Address | undefined {
  if (!word || word.length !== 66 || !/^0x0{24}/.test(word)) return undefined;
  return getAddress(`0x${word.slice(26)}`);
}

/** A branch's static facts, cached per isolate; doubles as the check that `market` is a Liquity v2 TroveManager. */
export async function loadLiquityMarket(context: ReadContext, ref: MarketRef): Promise<LiquityMarket> {
  const troveManager = getAddress(ref.market);
  const key = `${context.chainId}:${troveManager.toLowerCase()}`;
  const cached = marketCache.get(key);
  if (cached) return cached;
  const notOne = (detail: string) =>
    new AppError('invalid_market', `${troveManager} on chain ${context.chainId} does not answer as a Liquity v2 TroveManager (${detail})`, { status: 400, issues: [{ path: 'market', message: 'not a Liquity v2 TroveManager on this chain' }] });
  const code = await context.client.getCode({ address: troveManager }).catch(rethrowRpc);
  if (!code || code === '0x') throw notOne('no contract at this address');
  const [activePool, borrowerOperations, troveNFT, ccr] = (
    await multicallAt(context, [
      { address: troveManager, abi: troveManagerAbi, functionName: 'activePool' },
      { address: troveManager, abi: troveManagerAbi, functionName: 'borrowerOperations' },
      { address: troveManager, abi: troveManagerAbi, functionName: 'troveNFT' },
      { address: troveManager, abi: troveManagerAbi, functionName: 'CCR' },
    ])
  ).map(success);
  if (typeof activePool !== 'string' || typeof borrowerOperations !== 'string' || typeof troveNFT !== 'string' || typeof ccr !== 'bigint') throw notOne('activePool/borrowerOperations/troveNFT/CCR failed');
  const [slot0, slot2] = await Promise.all([
    context.client.getStorageAt({ address: troveManager, slot: ACTIVE_POOL_SLOT }).catch(rethrowRpc),
    context.client.getStorageAt({ address: troveManager, slot: PRICE_FEED_SLOT }).catch(rethrowRpc),
  ]);
  const priceFeed = slotAddress(slot2);
  if (slotAddress(slot0) !== getAddress(activePool) || !priceFeed) throw notOne('its storage is not laid out as liquity/bold’s TroveManager');
  const [mcr, scr, collToken, boldToken, lastGoodPrice, poolOfOperations, managerOfPool, operationsOfPool] = (
    await multicallAt(context, [
      { address: borrowerOperations as Address, abi: borrowerOperationsAbi, functionName: 'MCR' },
      { address: borrowerOperations as Address, abi: borrowerOperationsAbi, functionName: 'SCR' },
      { address: activePool as Address, abi: activePoolAbi, functionName: 'collToken' },
      { address: activePool as Address, abi: activePoolAbi, functionName: 'boldToken' },
      { address: priceFeed, abi: priceFeedAbi, functionName: 'lastGoodPrice' },
      { address: borrowerOperations as Address, abi: borrowerOperationsAbi, functionName: 'activePool' },
      { address: activePool as Address, abi: activePoolAbi, functionName: 'troveManagerAddress' },
      { address: activePool as Address, abi: activePoolAbi, functionName: 'borrowerOperationsAddress' },
    ])
  ).map(success);
  if (typeof mcr !== 'bigint' || mcr === 0n || typeof scr !== 'bigint' || typeof collToken !== 'string' || typeof boldToken !== 'string' || typeof lastGoodPrice !== 'bigint') throw notOne('MCR/SCR/collToken/boldToken/the price feed failed');
  // The branch's contracts name each other: its BorrowerOperations's ActivePool is the TroveManager's, and names both back.
  // A contract posing as a TroveManager cannot borrow a real branch's BorrowerOperations (which the owner trusts) this way.
  const same = (a: unknown, b: string) => typeof a === 'string' && getAddress(a) === getAddress(b);
  if (!same(poolOfOperations, activePool) || !same(managerOfPool, troveManager) || !same(operationsOfPool, borrowerOperations)) {
    throw notOne('its BorrowerOperations and ActivePool do not name it as their TroveManager');
  }
  const facts = await multicallAt(context, [collToken as Address, boldToken as Address].flatMap((token) => [
    { address: token, abi: tokenAbi, functionName: 'symbol' },
    { address: token, abi: tokenAbi, functionName: 'decimals' },
  ]));
  const token = (asset: Address, index: number) => {
    return { asset, symbol: tokenSymbol(success(facts[index * 2]), asset), decimals: Number(success(facts[index * 2 + 1]) ?? 18) };
  };
  const market: LiquityMarket = {
    chainId: context.chainId,
    troveManager,
    borrowerOperations: borrowerOperations as Address,
    troveNFT: troveNFT as Address,
    priceFeed,
    collateral: token(collToken as Address, 0),
    bold: token(boldToken as Address, 1),
    mcr,
    ccr,
    scr,
  };
  marketCache.set(key, market);
  return market;
}

/** The branch at the pinned block: the liquidation price, its totals, shutdown, how many troves it holds, and its last zombie trove. */
async function readBranchHead(context: ReadContext, market: LiquityMarket, at: ReadAt): Promise<Omit<BranchState, 'activeRates'> & { troveCount: bigint }> {
  const tm = market.troveManager;
  const [priceResult, coll, debt, shutdownTime, count, lastZombie] = await multicallFor(
    context,
    [
      { address: market.priceFeed, abi: priceFeedAbi, functionName: 'fetchPrice' },
      { address: tm, abi: troveManagerAbi, functionName: 'getEntireBranchColl' },
      { address: tm, abi: troveManagerAbi, functionName: 'getEntireBranchDebt' },
      { address: tm, abi: troveManagerAbi, functionName: 'shutdownTime' },
      { address: tm, abi: troveManagerAbi, functionName: 'getTroveIdsCount' },
      { address: tm, abi: troveManagerAbi, functionName: 'lastZombieTroveId' },
    ],
    at,
  );
  const results = [coll, debt, shutdownTime, count, lastZombie];
  const values = results.map(success);
  if (values.some((value) => typeof value !== 'bigint')) throw new AppError('read_failed', `Liquity branch ${tm} did not answer its totals: ${shortMessage((results.find((result) => result?.status === 'failure') as { error?: unknown } | undefined)?.error ?? 'no answer')}`, { status: 502 });
  const priced = success(priceResult) as readonly [bigint, boolean] | undefined;
  return {
    // A zero price is a feed that does not know: unknown, never 0.
    price: priced && priced[0] > 0n ? priced[0] : undefined,
    oracleFailure: priced?.[1] ?? false,
    entireColl: values[0] as bigint,
    entireDebt: values[1] as bigint,
    shutdown: (values[2] as bigint) > 0n,
    troveCount: values[3] as bigint,
    lastZombieTroveId: values[4] as bigint,
  };
}

function troveCalls(market: LiquityMarket, troveId: bigint) {
  return [
    { address: market.troveManager, abi: troveManagerAbi, functionName: 'getLatestTroveData', args: [troveId] },
    { address: market.troveManager, abi: troveManagerAbi, functionName: 'getTroveStatus', args: [troveId] },
  ];
}

/** Each trove's latest data (interest and redistribution gains to the block) and status: one Multicall3 call per batch. */
async function readTroves(context: ReadContext, market: LiquityMarket, troveIds: readonly bigint[], at: ReadAt, batchSize: number): Promise<Map<bigint, TroveData | string>> {
  const troves = new Map<bigint, TroveData | string>();
  await Promise.all(
    chunk(troveIds, batchSize).map(async (batch) => {
      const results = await multicallFor(context, batch.flatMap((troveId) => troveCalls(market, troveId)), at);
      batch.forEach((troveId, index) => {
        const [data, status] = [results[index * 2], results[index * 2 + 1]];
        const failed = [data, status].find((result) => result?.status !== 'success');
        if (failed) {
          troves.set(troveId, `Liquity trove read failed: ${shortMessage(failed.status === 'failure' ? failed.error : 'no answer')}`);
          return;
        }
        const latest = success(data) as { entireDebt: bigint; entireColl: bigint; annualInterestRate: bigint };
        troves.set(troveId, { troveId, status: TROVE_STATUS[Number(success(status))] ?? 'nonExistent', entireDebt: latest.entireDebt, entireColl: latest.entireColl, annualInterestRate: latest.annualInterestRate });
      });
    }),
  );
  return troves;
}

/**
 * Every trove of the branch with its rate and status (and its owner, when owners are watched):
 * the redemption order and an owner's troves need the whole branch, at ⌈troves / batch⌉ calls for
 * the ids and as many for their rates.
 */
async function readCensus(context: ReadContext, market: LiquityMarket, count: bigint, withOwners: boolean, at: ReadAt, batchSize: number) {
  const indexes = Array.from({ length: Number(count) }, (_, index) => BigInt(index));
  const idResults = (await Promise.all(chunk(indexes, batchSize).map((batch) => multicallFor(context, batch.map((index) => ({ address: market.troveManager, abi: troveManagerAbi, functionName: 'getTroveFromTroveIdsArray', args: [index] })), at)))).flat();
  const ids = idResults.map(success).filter((id): id is bigint => typeof id === 'bigint');
  const perTrove = withOwners ? 3 : 2;
  const results = (
    await Promise.all(
      chunk(ids, batchSize).map((batch) =>
        multicallFor(
          context,
          batch.flatMap((troveId) => [
            { address: market.troveManager, abi: troveManagerAbi, functionName: 'getTroveStatus', args: [troveId] },
            { address: market.troveManager, abi: troveManagerAbi, functionName: 'getTroveAnnualInterestRate', args: [troveId] },
            ...(withOwners ? [{ address: market.troveNFT, abi: troveNftAbi, functionName: 'ownerOf', args: [troveId] }] : []),
          ]),
          at,
        ),
      ),
    )
  ).flat();
  return ids.map((troveId, index) => ({
    troveId,
    status: TROVE_STATUS[Number(success(results[index * perTrove]) ?? 0)] ?? 'nonExistent',
    rate: (success(results[index * perTrove + 1]) as bigint | undefined) ?? 0n,
    owner: withOwners ? (success(results[index * perTrove + 2]) as Address | undefined) : undefined,
  }));
}

/**
 * Every watched account at one block: trove ids read directly, owners through the branch's
 * census (their weakest trove stands for them), each with the branch's state and its redemption rank.
 */
export async function readLiquityAccounts(context: ReadContext, market: LiquityMarket, accounts: readonly Address[], at: ReadAt, batchSize: number): Promise<AccountRead[]> {
  const parsed = accounts.map((account) => ({ account, ref: liquityAccountOf(account) }));
  const directIds = [...new Set(parsed.flatMap(({ ref }) => (ref.kind === 'trove' ? [ref.troveId] : [])))];
  const owners = new Set(parsed.flatMap(({ ref }) => (ref.kind === 'owner' ? [ref.owner.toLowerCase()] : [])));
  const [head, direct] = await Promise.all([readBranchHead(context, market, at), readTroves(context, market, directIds, at, batchSize)]);
  const census = await readCensus(context, market, head.troveCount, owners.size > 0, at, batchSize);
  const ownedIds = census.filter((entry) => entry.owner !== undefined && owners.has(entry.owner.toLowerCase())).map((entry) => entry.troveId);
  const owned = ownedIds.length > 0 ? await readTroves(context, market, ownedIds, at, batchSize) : new Map<bigint, TroveData | string>();
  const block = await pinnedOf(at);
  const branch: BranchState = { ...head, activeRates: census.filter((entry) => entry.status === 'active').map((entry) => entry.rate) };
  const price = branch.price;
  return parsed.map(({ account, ref }): AccountRead => {
    if (price === undefined) return { account, error: `the price feed ${market.priceFeed} gave no price` };
    const priced = { ...branch, price };
    if (ref.kind === 'trove') {
      const trove = direct.get(ref.troveId);
      if (trove === undefined || typeof trove === 'string') return { account, error: trove ?? 'no answer' };
      if (trove.status === 'nonExistent') return { account, error: `no trove ${account} on the branch of TroveManager ${market.troveManager}` };
      return { account, snapshot: { ...troveSnapshot(market, { account, trove, branch: priced, block }), conditions: liquityConditions(market, { troves: [trove], branch: priced }) } };
    }
    const mine = census.filter((entry) => entry.owner?.toLowerCase() === ref.owner.toLowerCase()).map((entry) => owned.get(entry.troveId));
    const failed = mine.find((trove) => trove === undefined || typeof trove === 'string');
    if (failed !== undefined || mine.some((trove) => trove === undefined)) return { account, error: typeof failed === 'string' ? failed : 'no answer' };
    const troves = mine as TroveData[];
    const weakest = weakestTrove(troves, price);
    if (!weakest) return { account, error: `${ref.owner} owns no open trove on the branch of TroveManager ${market.troveManager}` };
    // The weakest trove stands for the owner; the branch's dangers (redemption risk: the one first in line) count all of them.
    const subPositions = ownerTroves(market, ref.owner, troves, price);
    const shown = weakest.entireDebt > 0n ? { shownSubPosition: troveIdText(weakest.troveId) } : {};
    return { account, snapshot: { ...troveSnapshot(market, { account, trove: weakest, branch: priced, troves: troves.length, block }), conditions: liquityConditions(market, { troves, branch: priced }), subPositions, ...shown } };
  });
}

export async function readLiquityAssets(context: ReadContext, market: LiquityMarket, accounts: readonly Address[], block: PinnedBlock, batchSize: number): Promise<Map<Address, AssetPosition[]>> {
  const reads = await readLiquityAccounts(context, market, accounts, block, batchSize);
  return new Map(reads.flatMap((read) => ('snapshot' in read && read.snapshot.assets ? [[read.account, read.snapshot.assets] as const] : [])));
}

/**
 * The collateral's price in USD (18 decimals) as liquidations would take it at the block; BOLD is
 * the quote, counted at $1 as Liquity does. The branch's PriceFeed wraps Chainlink with its own
 * fallbacks, so no single aggregator stands for it: `feed` is null.
 */
export async function readLiquityMarketPrices(context: ReadContext, market: LiquityMarket, block: PinnedBlock): Promise<MarketPrices> {
  const [result] = await multicallAt(context, [{ address: market.priceFeed, abi: priceFeedAbi, functionName: 'fetchPrice' }], block.number);
  const priced = success(result) as readonly [bigint, boolean] | undefined;
  return {
    priceDecimals: 18,
    quoteIsUsd: true,
    flat: [market.bold.asset],
    prices: [{ asset: market.collateral.asset, symbol: market.collateral.symbol, price: priced && priced[0] > 0n ? priced[0] : undefined, feed: null }],
  };
}
