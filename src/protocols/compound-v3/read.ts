import type { Address } from 'viem';
import { AppError } from '../../lib/errors';
import type { AssetPosition } from '../../domain/position';
import { isDollarStablecoin } from '../../domain/usd-unit';
import type { AccountRead, MarketPrices, PinnedBlock, ReadContext } from '../read-types';
import { chunk, multicallAt, rethrowRpc, shortMessage, type CallResult } from '../batch';
import { multicallFor, pinnedOf, type ReadAt } from '../block-pin';
import { cometAbi, priceFeedAbi, tokenAbi } from './abi';
import { cometAssetPositions, cometSnapshot, missingPrice, type CometAccount, type CometMarket, type CometPrices } from './normalize';
import { tokenSymbol } from '../token-symbol';
import { BoundedCache, MARKET_CACHE_ENTRIES } from '../../lib/bounded-cache';

const marketCache = new BoundedCache<string, CometMarket>(MARKET_CACHE_ENTRIES);

function success(result: CallResult | undefined): unknown {
  return result?.status === 'success' ? result.result : undefined;
}

/**
 * A Comet market's static facts (base token, collaterals with their factors and feeds),
 * cached per isolate. Doubles as the check that an address is a Comet.
 */
export async function loadCometMarket(context: ReadContext, comet: Address): Promise<CometMarket> {
  const key = `${context.chainId}:${comet.toLowerCase()}`;
  const cached = marketCache.get(key);
  if (cached) return cached;
  const notAComet = (detail: string) =>
    new AppError('invalid_market', `${comet} on chain ${context.chainId} does not answer as a Compound v3 Comet (${detail})`, { status: 400, issues: [{ path: 'market', message: 'not a Compound v3 Comet proxy on this chain' }] });
  const code = await context.client.getCode({ address: comet }).catch(rethrowRpc);
  if (!code || code === '0x') throw notAComet('no contract at this address');
  const [baseToken, baseFeed, baseScale, numAssets] = (
    await multicallAt(context, [
      { address: comet, abi: cometAbi, functionName: 'baseToken' },
      { address: comet, abi: cometAbi, functionName: 'baseTokenPriceFeed' },
      { address: comet, abi: cometAbi, functionName: 'baseScale' },
      { address: comet, abi: cometAbi, functionName: 'numAssets' },
    ])
  ).map(success);
  if (typeof baseToken !== 'string' || typeof baseFeed !== 'string' || typeof baseScale !== 'bigint' || typeof numAssets !== 'number') throw notAComet('baseToken/baseTokenPriceFeed/baseScale/numAssets failed');
  const infos = (await multicallAt(context, Array.from({ length: numAssets }, (_, i) => ({ address: comet, abi: cometAbi, functionName: 'getAssetInfo', args: [i] })))).map(success) as Array<
    { asset: Address; priceFeed: Address; scale: bigint; borrowCollateralFactor: bigint; liquidateCollateralFactor: bigint; liquidationFactor: bigint } | undefined
  >;
  if (infos.some((info) => info === undefined)) throw notAComet('getAssetInfo failed');
  const tokens = [baseToken as Address, ...infos.map((info) => info!.asset)];
  const tokenFacts = await multicallAt(context, [
    ...tokens.flatMap((token) => [
      { address: token, abi: tokenAbi, functionName: 'symbol' },
      { address: token, abi: tokenAbi, functionName: 'decimals' },
    ]),
    { address: baseFeed, abi: priceFeedAbi, functionName: 'description' },
  ]);
  const symbolOf = (index: number) => {
    return tokenSymbol(success(tokenFacts[index * 2]), tokens[index]!);
  };
  const decimalsOf = (index: number) => Number(success(tokenFacts[index * 2 + 1]) ?? 18);
  const description = success(tokenFacts[tokens.length * 2]);
  const basePrice = success((await multicallAt(context, [{ address: comet, abi: cometAbi, functionName: 'getPrice', args: [baseFeed] }]))[0]);
  const market: CometMarket = {
    chainId: context.chainId,
    comet,
    base: { asset: baseToken as Address, symbol: symbolOf(0), decimals: decimalsOf(0), priceFeed: baseFeed as Address, scale: baseScale },
    assets: infos.map((info, index) => ({
      asset: info!.asset,
      symbol: symbolOf(index + 1),
      decimals: decimalsOf(index + 1),
      priceFeed: info!.priceFeed,
      scale: info!.scale,
      borrowCollateralFactor: info!.borrowCollateralFactor,
      liquidateCollateralFactor: info!.liquidateCollateralFactor,
      liquidationFactor: info!.liquidationFactor,
    })),
    pricesInUsd: pricesInUsd(typeof description === 'string' ? description : undefined, symbolOf(0), typeof basePrice === 'bigint' ? basePrice : undefined),
  };
  marketCache.set(key, market);
  return market;
}

/**
 * Whether the market's price unit is the US dollar: the base feed says so ("USDC / USD"), or
 * the base token is a dollar stablecoin priced at 1.00 ± 5% in that unit (then the unit is USD).
 */
export function pricesInUsd(description: string | undefined, baseSymbol: string, basePrice: bigint | undefined): boolean {
  if (description !== undefined && /\/\s*USD$/i.test(description.trim())) return true;
  if (basePrice === undefined || !isDollarStablecoin(baseSymbol)) return false;
  return basePrice >= 95_000_000n && basePrice <= 105_000_000n;
}

async function readPrices(context: ReadContext, market: CometMarket, at: ReadAt): Promise<CometPrices> {
  const results = await multicallFor(
    context,
    [market.base.priceFeed, ...market.assets.map((asset) => asset.priceFeed)].map((feed) => ({ address: market.comet, abi: cometAbi, functionName: 'getPrice', args: [feed] })),
    at,
  );
  // A zero price is a feed that does not know: unknown, never 0.
  const price = (result: CallResult | undefined) => {
    const value = success(result);
    return typeof value === 'bigint' && value > 0n ? value : undefined;
  };
  return { base: price(results[0]), assets: market.assets.map((_, index) => price(results[index + 1])) };
}

/** borrowBalanceOf and every collateral balance per account: one Multicall3 call per batch of accounts. */
async function readBalances(context: ReadContext, market: CometMarket, accounts: readonly Address[], at: ReadAt, batchSize: number): Promise<Map<Address, CometAccount | string>> {
  const perAccount = 1 + market.assets.length;
  const balances = new Map<Address, CometAccount | string>();
  await Promise.all(
    chunk(accounts, batchSize).map(async (batch) => {
      const results = await multicallFor(
        context,
        batch.flatMap((account) => [
          { address: market.comet, abi: cometAbi, functionName: 'borrowBalanceOf', args: [account] },
          ...market.assets.map((asset) => ({ address: market.comet, abi: cometAbi, functionName: 'userCollateral', args: [account, asset.asset] })),
        ]),
        at,
      );
      batch.forEach((account, accountIndex) => {
        const slice = results.slice(accountIndex * perAccount, (accountIndex + 1) * perAccount);
        const failed = slice.find((result) => result.status !== 'success');
        if (failed && failed.status === 'failure') {
          balances.set(account, `Comet read failed: ${shortMessage(failed.error)}`);
          return;
        }
        balances.set(account, {
          borrow: success(slice[0]) as bigint,
          collateral: slice.slice(1).map((result) => (success(result) as readonly [bigint, bigint])[0]),
        });
      });
    }),
  );
  return balances;
}

/** Every account's snapshot, with its per-asset breakdown (Comet's balances are the breakdown). */
export async function readCometAccounts(context: ReadContext, market: CometMarket, accounts: readonly Address[], at: ReadAt, batchSize: number): Promise<AccountRead[]> {
  const [prices, balances] = await Promise.all([readPrices(context, market, at), readBalances(context, market, accounts, at, batchSize)]);
  const block = await pinnedOf(at);
  return accounts.map((account): AccountRead => {
    const balance = balances.get(account);
    if (balance === undefined || typeof balance === 'string') return { account, error: balance ?? 'no answer' };
    const missing = missingPrice(market, prices, balance);
    if (missing) return { account, error: `the price feed of ${missing} gave no price` };
    const snapshot = cometSnapshot(market, prices, account, balance, block);
    return { account, snapshot: { ...snapshot, assets: cometAssetPositions(market, prices, balance) } };
  });
}

export async function readCometAssets(context: ReadContext, market: CometMarket, accounts: readonly Address[], block: PinnedBlock, batchSize: number): Promise<Map<Address, AssetPosition[]>> {
  const reads = await readCometAccounts(context, market, accounts, block, batchSize);
  return new Map(reads.flatMap((read) => ('snapshot' in read && read.snapshot.assets ? [[read.account, read.snapshot.assets] as const] : [])));
}

/** The base token's and every collateral's price (Comet.getPrice of its feed, 8 decimals), in one call. Each feed is a Chainlink-style aggregator. */
export async function readCometMarketPrices(context: ReadContext, market: CometMarket, block: PinnedBlock): Promise<MarketPrices> {
  const prices = await readPrices(context, market, block);
  return {
    priceDecimals: 8,
    quoteIsUsd: market.pricesInUsd,
    flat: [],
    prices: [
      { asset: market.base.asset, symbol: market.base.symbol, price: prices.base, feed: market.base.priceFeed },
      ...market.assets.map((asset, index) => ({ asset: asset.asset, symbol: asset.symbol, price: prices.assets[index], feed: asset.priceFeed })),
    ],
  };
}
