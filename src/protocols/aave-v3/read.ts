import type { Address } from 'viem';
import { AppError } from '../../lib/errors';
import { findAppError } from '../../lib/find-app-error';
import type { AssetPosition, PositionSnapshot } from '../../domain/position';
import { aaveAddressesProviderAbi, aaveOracleAbi, aavePoolAbi, erc20Abi } from './abi';
import {
  assetPositions,
  decodeReserveConfiguration,
  decimalsOfUnit,
  snapshotFromAccountData,
  type AccountBalances,
  type EModeCategoryData,
  type ReserveMeta,
  type ReserveState,
} from './normalize';

import type { AccountRead, MarketPrices, PinnedBlock, ReadContext } from '../read-types';
import { chunk, multicallAt, rethrowRpc, shortMessage } from '../batch';
import { multicallFor, pinnedOf, type ReadAt } from '../block-pin';
import { tokenSymbol } from '../token-symbol';
import { BoundedCache, MARKET_CACHE_ENTRIES } from '../../lib/bounded-cache';

export type MarketMeta = {
  chainId: number;
  pool: Address;
  addressesProvider: Address;
  oracle: Address;
  baseCurrencyUnit: bigint;
  reserves: ReserveMeta[];
};



const metaCache = new BoundedCache<string, MarketMeta>(MARKET_CACHE_ENTRIES);

/**
 * Static facts of a market (reserves, tokens, oracle), read once and cached per isolate.
 * Doubles as the check that an address really is an Aave v3 Pool.
 */
export async function loadMarketMeta(context: ReadContext, pool: Address, options: { refresh?: boolean } = {}): Promise<MarketMeta> {
  const key = `${context.chainId}:${pool.toLowerCase()}`;
  const cached = metaCache.get(key);
  if (cached && !options.refresh) return cached;
  const { client } = context;
  const notAPool = (detail: string, cause?: unknown) =>
    new AppError('invalid_market', `${pool} on chain ${context.chainId} does not answer as an Aave v3 Pool (${detail})`, { status: 400, issues: [{ path: 'market', message: 'not an Aave v3 Pool contract on this chain' }], cause });

  const code = await client.getCode({ address: pool }).catch(rethrowRpc);
  if (!code || code === '0x') throw notAPool('no contract at this address');
  const [providerResult, reservesResult] = await multicallAt(context, [
    { address: pool, abi: aavePoolAbi, functionName: 'ADDRESSES_PROVIDER' },
    { address: pool, abi: aavePoolAbi, functionName: 'getReservesList' },
  ]);
  if (providerResult?.status !== 'success' || reservesResult?.status !== 'success') throw notAPool('ADDRESSES_PROVIDER/getReservesList failed');
  const addressesProvider = providerResult.result as Address;
  const assets = reservesResult.result as readonly Address[];

  const oracle = await client
    .readContract({ address: addressesProvider, abi: aaveAddressesProviderAbi, functionName: 'getPriceOracle' })
    .catch((error: unknown) => {
      // A node that could not be asked is a 502 to retry, not a verdict on the market.
      if (findAppError(error)) rethrowRpc(error);
      throw notAPool('its addresses provider has no price oracle', error);
    });
  const results = await multicallAt(context, [
    { address: oracle, abi: aaveOracleAbi, functionName: 'BASE_CURRENCY_UNIT' },
    ...assets.flatMap((asset) => [
      { address: pool, abi: aavePoolAbi, functionName: 'getReserveData', args: [asset] },
      { address: asset, abi: erc20Abi, functionName: 'symbol' },
    ]),
  ]);
  const [unitResult, ...rest] = results;
  if (!unitResult || unitResult.status !== 'success') throw notAPool('its oracle has no BASE_CURRENCY_UNIT');
  const reserves: ReserveMeta[] = assets.map((asset, index) => {
    const data = rest[index * 2];
    const symbol = rest[index * 2 + 1];
    if (!data || data.status !== 'success') throw notAPool(`getReserveData(${asset}) failed`);
    const reserve = data.result as { configuration: { data: bigint }; id: number; aTokenAddress: Address; variableDebtTokenAddress: Address; stableDebtTokenAddress: Address };
    return {
      asset,
      id: Number(reserve.id),
      // Some tokens (MKR) return bytes32 symbols; fall back to the address rather than failing.
      symbol: tokenSymbol(symbol?.status === 'success' ? symbol.result : undefined, asset),
      decimals: decodeReserveConfiguration(reserve.configuration.data).decimals,
      liquidationBonusBps: decodeReserveConfiguration(reserve.configuration.data).liquidationBonusBps,
      aToken: reserve.aTokenAddress,
      variableDebtToken: reserve.variableDebtTokenAddress,
      stableDebtToken: reserve.stableDebtTokenAddress,
    };
  });
  const meta: MarketMeta = { chainId: context.chainId, pool, addressesProvider, oracle, baseCurrencyUnit: unitResult.result as bigint, reserves };
  metaCache.set(key, meta);
  return meta;
}

/**
 * getUserAccountData for many accounts: one Multicall3 aggregate3 call per `batchSize`
 * accounts, all at the pinned block. A failing account does not fail its batch.
 */
export async function readAccountSummaries(
  context: ReadContext,
  meta: MarketMeta,
  accounts: readonly Address[],
  at: ReadAt,
  batchSize: number,
): Promise<AccountRead[]> {
  const batches = await Promise.all(
    chunk(accounts, Math.max(1, batchSize)).map(async (batch) => {
      const results = await multicallFor(
        context,
        batch.map((account) => ({ address: meta.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [account] })),
        at,
      );
      const block = await pinnedOf(at);
      const snapshotContext = { chainId: context.chainId, market: meta.pool, blockNumber: block.number, blockTimestamp: block.timestamp, baseCurrencyUnit: meta.baseCurrencyUnit };
      return batch.map((account, index): AccountRead => {
        const result = results[index];
        if (!result || result.status !== 'success') return { account, error: `getUserAccountData failed: ${shortMessage(result?.error)}` };
        return { account, snapshot: snapshotFromAccountData(snapshotContext, account, result.result as Parameters<typeof snapshotFromAccountData>[2]) };
      });
    }),
  );
  return batches.flat();
}

/**
 * Per-asset breakdown (balances, prices, thresholds) for the accounts that need it, batched:
 * the reserves' prices and configuration once (in the first batch), and 2 + 3·reserves calls per account.
 */
export async function readAccountAssets(
  context: ReadContext,
  meta: MarketMeta,
  accounts: readonly Address[],
  block: PinnedBlock,
  batchSize: number,
): Promise<Map<Address, AssetPosition[]>> {
  const multicall = (contracts: readonly unknown[]) => multicallAt(context, contracts, block.number);

  const assets = meta.reserves.map((reserve) => reserve.asset);
  const marketCalls = [
    { address: meta.oracle, abi: aaveOracleAbi, functionName: 'getAssetsPrices', args: [assets] },
    ...assets.map((asset) => ({ address: meta.pool, abi: aavePoolAbi, functionName: 'getReserveData', args: [asset] })),
  ];
  const perAccount = 2 + meta.reserves.length * 3;
  const accountCalls = (account: Address) => [
    { address: meta.pool, abi: aavePoolAbi, functionName: 'getUserConfiguration', args: [account] },
    { address: meta.pool, abi: aavePoolAbi, functionName: 'getUserEMode', args: [account] },
    ...meta.reserves.flatMap((reserve) => [
      { address: reserve.aToken, abi: erc20Abi, functionName: 'balanceOf', args: [account] },
      { address: reserve.variableDebtToken, abi: erc20Abi, functionName: 'balanceOf', args: [account] },
      { address: reserve.stableDebtToken, abi: erc20Abi, functionName: 'balanceOf', args: [account] },
    ]),
  ];
  const accountBatchSize = Math.max(1, Math.floor(batchSize / Math.max(1, perAccount / 2)));
  const batches = accounts.length > 0 ? chunk(accounts, accountBatchSize) : [[]];
  // The market's prices and configuration ride in the first account batch: one request for a few accounts.
  const [first = [], ...rest] = await Promise.all(batches.map((batch, index) => multicall([...(index === 0 ? marketCalls : []), ...batch.flatMap(accountCalls)])));
  const [pricesResult, ...reserveResults] = first.slice(0, marketCalls.length);
  const batchResults = [first.slice(marketCalls.length), ...rest];
  const prices = pricesResult?.status === 'success' ? (pricesResult.result as readonly bigint[]) : undefined;
  const states: ReserveState[] = meta.reserves.map((_, index) => {
    const data = reserveResults[index];
    const configuration = data?.status === 'success' ? decodeReserveConfiguration((data.result as { configuration: { data: bigint } }).configuration.data) : undefined;
    const price = prices?.[index];
    return {
      // A zero price is the oracle saying it does not know: unknown, never 0.
      price: price === undefined || price === 0n ? undefined : price,
      ltvBps: configuration?.ltvBps ?? 0n,
      liquidationThresholdBps: configuration?.liquidationThresholdBps ?? 0n,
      eModeCategory: configuration?.eModeCategory ?? 0,
    };
  });

  const balances = new Map<Address, AccountBalances>();
  batches.forEach((batch, batchIndex) => {
    const results = batchResults[batchIndex]!;
    batch.forEach((account, accountIndex) => {
      const base = accountIndex * perAccount;
      const value = (offset: number): bigint | undefined => {
        const result = results[base + offset];
        return result?.status === 'success' ? (result.result as bigint) : undefined;
      };
      const configuration = results[base];
      if (configuration?.status !== 'success') return;
      balances.set(account, {
        userConfiguration: (configuration.result as { data: bigint }).data,
        eModeCategory: Number(value(1) ?? 0n),
        balances: meta.reserves.map((_, reserveIndex) => ({
          supplied: value(2 + reserveIndex * 3) ?? 0n,
          variableDebt: value(3 + reserveIndex * 3) ?? 0n,
          stableDebt: value(4 + reserveIndex * 3) ?? 0n,
        })),
      });
    });
  });

  const categories = [...new Set([...balances.values()].map((b) => b.eModeCategory).filter((id) => id !== 0))];
  const eModes = new Map<number, EModeCategoryData>();
  if (categories.length > 0) {
    const results = await multicall(categories.map((id) => ({ address: meta.pool, abi: aavePoolAbi, functionName: 'getEModeCategoryData', args: [id] })));
    categories.forEach((id, index) => {
      const result = results[index];
      if (result?.status !== 'success') return;
      const data = result.result as { ltv: number; liquidationThreshold: number };
      eModes.set(id, { ltvBps: BigInt(data.ltv), liquidationThresholdBps: BigInt(data.liquidationThreshold) });
    });
  }

  const positions = new Map<Address, AssetPosition[]>();
  for (const [account, accountBalances] of balances) {
    positions.set(account, assetPositions(meta.reserves, states, accountBalances, eModes.get(accountBalances.eModeCategory)));
  }
  return positions;
}

/** Every reserve's price (AaveOracle.getAssetsPrices) and its source (the Chainlink aggregator behind it), in one call. */
export async function readAaveMarketPrices(context: ReadContext, meta: MarketMeta, block: PinnedBlock): Promise<MarketPrices> {
  const assets = meta.reserves.map((reserve) => reserve.asset);
  const [pricesResult, ...sourceResults] = await multicallAt(
    context,
    [
      { address: meta.oracle, abi: aaveOracleAbi, functionName: 'getAssetsPrices', args: [assets] },
      ...assets.map((asset) => ({ address: meta.oracle, abi: aaveOracleAbi, functionName: 'getSourceOfAsset', args: [asset] })),
    ],
    block.number,
  );
  const prices = pricesResult?.status === 'success' ? (pricesResult.result as readonly bigint[]) : undefined;
  const priceDecimals = decimalsOfUnit(meta.baseCurrencyUnit);
  return {
    priceDecimals,
    quoteIsUsd: priceDecimals === 8,
    flat: [],
    prices: meta.reserves.map((reserve, index) => {
      const price = prices?.[index];
      const source = sourceResults[index];
      const feed = source?.status === 'success' && source.result !== ZERO_ADDRESS ? (source.result as Address) : null;
      // A zero price is the oracle saying it does not know: unknown, never 0.
      return { asset: reserve.asset, symbol: reserve.symbol, price: price === undefined || price === 0n ? undefined : price, feed };
    }),
  };
}

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';
