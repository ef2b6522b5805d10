import { isDollarStablecoin } from '../../domain/usd-unit';
import type { Address, Hex } from 'viem';
import { AppError } from '../../lib/errors';
import type { AssetPosition } from '../../domain/position';
import type { AccountRead, MarketPrices, MarketRef, PinnedBlock, ReadContext } from '../read-types';
import { chunk, multicallAt, rethrowRpc, shortMessage, type CallResult } from '../batch';
import { multicallFor, pinnedOf, type ReadAt } from '../block-pin';
import { irmAbi, morphoAbi, oracleAbi, tokenAbi } from './abi';
import { accruedBorrowAssets, morphoSnapshot, type MorphoMarket, type MorphoMarketState } from './normalize';
import { tokenSymbol } from '../token-symbol';
import { BoundedCache, MARKET_CACHE_ENTRIES } from '../../lib/bounded-cache';

const ZERO: Address = '0x0000000000000000000000000000000000000000';
const marketCache = new BoundedCache<string, MorphoMarket>(MARKET_CACHE_ENTRIES);

function success(result: CallResult | undefined): unknown {
  return result?.status === 'success' ? result.result : undefined;
}

/** A Morpho Blue market's parameters and tokens, cached per isolate; doubles as the check that the id is a market of that Morpho. */
export async function loadMorphoMarket(context: ReadContext, ref: MarketRef): Promise<MorphoMarket> {
  const morpho = ref.protocolAddress;
  if (!morpho) throw new AppError('validation_failed', 'protocolAddress: is required for morpho-blue on this chain', { status: 400, issues: [{ path: 'protocolAddress', message: 'is required' }] });
  const id = ref.market.toLowerCase() as Hex;
  const key = `${context.chainId}:${morpho.toLowerCase()}:${id}`;
  const cached = marketCache.get(key);
  if (cached) return cached;
  const invalid = (path: 'market' | 'protocolAddress', detail: string) =>
    new AppError('invalid_market', `${detail} (chain ${context.chainId})`, { status: 400, issues: [{ path, message: detail }] });
  const code = await context.client.getCode({ address: morpho }).catch(rethrowRpc);
  if (!code || code === '0x') throw invalid('protocolAddress', `no contract at ${morpho}: not a Morpho Blue deployment`);
  const [paramsResult] = await multicallAt(context, [{ address: morpho, abi: morphoAbi, functionName: 'idToMarketParams', args: [id] }]);
  const params = success(paramsResult) as readonly [Address, Address, Address, Address, bigint] | undefined;
  if (!params) throw invalid('protocolAddress', `${morpho} does not answer as Morpho Blue (idToMarketParams failed)`);
  const [loanToken, collateralToken, oracle, irm, lltv] = params;
  if (loanToken === ZERO) throw invalid('market', `no Morpho Blue market with id ${id} at ${morpho}`);
  const facts = await multicallAt(context, [loanToken, collateralToken].flatMap((token) => [
    { address: token, abi: tokenAbi, functionName: 'symbol' },
    { address: token, abi: tokenAbi, functionName: 'decimals' },
  ]));
  const token = (asset: Address, index: number) => {
    return { asset, symbol: tokenSymbol(success(facts[index * 2]), asset), decimals: Number(success(facts[index * 2 + 1]) ?? 18) };
  };
  const market: MorphoMarket = { chainId: context.chainId, morpho, id, params: { loanToken, collateralToken, oracle, irm, lltv }, loan: token(loanToken, 0), collateral: token(collateralToken, 1) };
  marketCache.set(key, market);
  return market;
}

/** The market's totals accrued to the block (Morpho stores them as of its last interaction) and the oracle's price. */
async function readMarketState(context: ReadContext, market: MorphoMarket, at: ReadAt): Promise<{ price: bigint | undefined; totalBorrowAssets: bigint; totalBorrowShares: bigint }> {
  const [stateResult, priceResult] = await multicallFor(
    context,
    [
      { address: market.morpho, abi: morphoAbi, functionName: 'market', args: [market.id] },
      { address: market.params.oracle, abi: oracleAbi, functionName: 'price' },
    ],
    at,
  );
  const block = await pinnedOf(at);
  const raw = success(stateResult) as readonly bigint[] | undefined;
  if (!raw) throw new AppError('read_failed', `Morpho market(${market.id}) failed: ${shortMessage(stateResult?.status === 'failure' ? stateResult.error : 'no answer')}`, { status: 502 });
  const [totalSupplyAssets, totalSupplyShares, totalBorrowAssets, totalBorrowShares, lastUpdate, fee] = raw as [bigint, bigint, bigint, bigint, bigint, bigint];
  const state: MorphoMarketState = { totalSupplyAssets, totalSupplyShares, totalBorrowAssets, totalBorrowShares, lastUpdate, fee };
  let borrowRate = 0n;
  if (market.params.irm !== ZERO && block.timestamp > lastUpdate && totalBorrowAssets > 0n) {
    // The IRM's rate for the stored state: what accrueInterest would apply now.
    borrowRate = await context.client
      .readContract({ address: market.params.irm, abi: irmAbi, functionName: 'borrowRateView', args: [market.params, state], blockNumber: block.number })
      .catch(rethrowRpc);
  }
  const price = success(priceResult);
  return {
    // A zero price is an oracle that does not know: unknown, never 0.
    price: typeof price === 'bigint' && price > 0n ? price : undefined,
    totalBorrowAssets: accruedBorrowAssets(state, borrowRate, block.timestamp),
    totalBorrowShares,
  };
}

export async function readMorphoAccounts(context: ReadContext, market: MorphoMarket, accounts: readonly Address[], at: ReadAt, batchSize: number): Promise<AccountRead[]> {
  const [state, ...batches] = await Promise.all([
    readMarketState(context, market, at),
    ...chunk(accounts, batchSize).map((batch) =>
      multicallFor(context, batch.map((account) => ({ address: market.morpho, abi: morphoAbi, functionName: 'position', args: [market.id, account] })), at),
    ),
  ]);
  const block = await pinnedOf(at);
  const results = batches.flat();
  return accounts.map((account, index): AccountRead => {
    const result = results[index];
    const position = success(result) as readonly [bigint, bigint, bigint] | undefined;
    if (!position) return { account, error: `Morpho position read failed: ${shortMessage(result?.status === 'failure' ? result.error : 'no answer')}` };
    if (state.price === undefined) return { account, error: `the oracle ${market.params.oracle} gave no price` };
    const snapshot = morphoSnapshot(market, { account, position: { borrowShares: position[1], collateral: position[2] }, price: state.price, totalBorrowAssets: state.totalBorrowAssets, totalBorrowShares: state.totalBorrowShares, block });
    return { account, snapshot };
  });
}

export async function readMorphoAssets(context: ReadContext, market: MorphoMarket, accounts: readonly Address[], block: PinnedBlock, batchSize: number): Promise<Map<Address, AssetPosition[]>> {
  const reads = await readMorphoAccounts(context, market, accounts, block, batchSize);
  return new Map(reads.flatMap((read) => ('snapshot' in read && read.snapshot.assets ? [[read.account, read.snapshot.assets] as const] : [])));
}

/**
 * The collateral's price in loan tokens (the oracle's price(), scaled 1e36 per base unit) at the
 * block; the loan token is the quote and stays flat. Morpho oracles combine feeds, so no single
 * aggregator's round history stands for the price: `feed` is null.
 */
export async function readMorphoMarketPrices(context: ReadContext, market: MorphoMarket, block: PinnedBlock): Promise<MarketPrices> {
  const [result] = await multicallAt(context, [{ address: market.params.oracle, abi: oracleAbi, functionName: 'price' }], block.number);
  const raw = success(result);
  // Loan-token base units per whole collateral token.
  const price = typeof raw === 'bigint' && raw > 0n ? (raw * 10n ** BigInt(market.collateral.decimals)) / 10n ** 36n : undefined;
  return {
    priceDecimals: market.loan.decimals,
    // A dollar stablecoin loan token is a dollar quote (as positions count it); WETH is not.
    quoteIsUsd: isDollarStablecoin(market.loan.symbol),
    flat: [market.loan.asset],
    prices: [{ asset: market.collateral.asset, symbol: market.collateral.symbol, price: price === 0n ? undefined : price, feed: null }],
  };
}
