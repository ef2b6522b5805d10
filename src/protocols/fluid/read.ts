import { isDollarStablecoin } from '../../domain/usd-unit';
import { getAddress, type Address } from 'viem';
import { AppError } from '../../lib/errors';
import type { AssetPosition } from '../../domain/position';
import type { AccountRead, MarketPrices, MarketRef, PinnedBlock, ReadContext } from '../read-types';
import { chunk, multicallAt, rethrowRpc, shortMessage, type CallResult } from '../batch';
import { multicallFor, pinnedOf, type ReadAt } from '../block-pin';
import { tokenAbi, vaultFactoryAbi, vaultResolverAbi, vaultT1Abi } from './abi';
import { fluidResolverFor } from './deployments';
import { NATIVE_TOKEN, ORACLE_SCALE, fluidAccountOf, fluidSnapshot, type FluidMarket, type FluidPosition, type FluidToken, type FluidVaultConfig } from './normalize';
import { tokenSymbol } from '../token-symbol';
import { BoundedCache, MARKET_CACHE_ENTRIES } from '../../lib/bounded-cache';

const marketCache = new BoundedCache<string, FluidMarket>(MARKET_CACHE_ENTRIES);

type ResolverPosition = { nftId: bigint; owner: Address; isLiquidated: boolean; isSupplyPosition: boolean; supply: bigint; borrow: bigint };
type ResolverVault = {
  vault: Address;
  configs: { collateralFactor: number; liquidationThreshold: number; liquidationMaxLimit: number; liquidationPenalty: number; oraclePriceLiquidate: bigint };
};

function success(result: CallResult | undefined): unknown {
  return result?.status === 'success' ? result.result : undefined;
}

function failure(result: CallResult | undefined): string {
  return shortMessage(result?.status === 'failure' ? result.error : 'no answer');
}

function configOf(vault: ResolverVault): FluidVaultConfig {
  const { configs } = vault;
  return {
    collateralFactorBps: BigInt(configs.collateralFactor),
    liquidationThresholdBps: BigInt(configs.liquidationThreshold),
    liquidationMaxLimitBps: BigInt(configs.liquidationMaxLimit),
    liquidationPenaltyBps: BigInt(configs.liquidationPenalty),
    oraclePriceLiquidate: configs.oraclePriceLiquidate,
  };
}

function positionOf(position: ResolverPosition): FluidPosition {
  return { nftId: position.nftId, owner: getAddress(position.owner), isLiquidated: position.isLiquidated, supply: position.supply, borrow: position.borrow };
}

/** A vault's static facts, cached per isolate; doubles as the check that `market` is a Fluid T1 vault its factory deployed. */
export async function loadFluidMarket(context: ReadContext, ref: MarketRef): Promise<FluidMarket> {
  const vault = getAddress(ref.market);
  const notOne = (detail: string) =>
    new AppError('invalid_market', `${vault} on chain ${context.chainId} does not answer as a Fluid T1 vault (${detail})`, { status: 400, issues: [{ path: 'market', message: 'not a Fluid T1 vault on this chain' }] });
  const found = fluidResolverFor(context);
  if (!found.ok) {
    throw new AppError('invalid_market', `Fluid's VaultResolver is not known on chain ${context.chainId}: the operator names it in ${found.missing}`, { status: 400, issues: [{ path: 'market', message: `no Fluid VaultResolver known on chain ${context.chainId}` }] });
  }
  const key = `${context.chainId}:${found.resolver.toLowerCase()}:${vault.toLowerCase()}`;
  const cached = marketCache.get(key);
  if (cached) return cached;
  const code = await context.client.getCode({ address: vault }).catch(rethrowRpc);
  if (!code || code === '0x') throw notOne('no contract at this address');
  const [constants] = (await multicallAt(context, [{ address: vault, abi: vaultT1Abi, functionName: 'constantsView' }])).map(success) as [
    { factory: Address; supplyToken: Address; borrowToken: Address; supplyDecimals: number; borrowDecimals: number; vaultId: bigint } | undefined,
  ];
  if (!constants) throw notOne('constantsView failed');
  const [registered, vaultData] = await multicallAt(context, [
    { address: constants.factory, abi: vaultFactoryAbi, functionName: 'getVaultAddress', args: [constants.vaultId] },
    { address: found.resolver, abi: vaultResolverAbi, functionName: 'getVaultEntireData', args: [vault] },
  ]);
  const registeredAt = success(registered);
  if (typeof registeredAt !== 'string' || getAddress(registeredAt) !== vault) throw notOne(`its factory ${constants.factory} does not list it as vault ${constants.vaultId}`);
  const data = success(vaultData) as ResolverVault | undefined;
  if (!data) throw notOne(`the VaultResolver ${found.resolver} does not read it: ${failure(vaultData)}`);
  const tokens = [constants.supplyToken, constants.borrowToken].map((token) => getAddress(token));
  const symbols = (await multicallAt(context, tokens.map((token) => ({ address: token, abi: tokenAbi, functionName: 'symbol' })))).map(success);
  const token = (index: 0 | 1, decimals: number): FluidToken => {
    const asset = tokens[index]!;
    const symbol = symbols[index];
    return { asset, symbol: asset === NATIVE_TOKEN ? 'ETH' : tokenSymbol(symbol, asset), decimals };
  };
  const market: FluidMarket = {
    chainId: context.chainId,
    vault,
    vaultId: constants.vaultId,
    factory: getAddress(constants.factory),
    resolver: found.resolver,
    collateral: token(0, Number(constants.supplyDecimals)),
    debt: token(1, Number(constants.borrowDecimals)),
    liquidationPenaltyBps: BigInt(data.configs.liquidationPenalty),
  };
  marketCache.set(key, market);
  return market;
}

type Lookup = { kind: 'vault' } | { kind: 'account'; index: number };

/**
 * At most this many positions per Multicall3 call, whatever READ_BATCH_SIZE says: each resolver
 * answer carries the vault's whole state (a few KB), and Multicall3 holds every answer in EVM
 * memory, whose cost grows quadratically. Measured (`npm run bench`, N = 200 on anvil): one call
 * of 200 took 633 ms, slower than 200 single calls (244 ms); calls of 25 took 323 ms.
 */
const FLUID_POSITIONS_PER_CALL = 25;

/**
 * Every watched account at one block through the VaultResolver: positionByNftId for an NFT,
 * positionsByUser for an owner (its positions in this vault only), and the vault's own settings
 * and liquidation price once, in the first batch.
 */
export async function readFluidAccounts(context: ReadContext, market: FluidMarket, accounts: readonly Address[], at: ReadAt, batchSize: number): Promise<AccountRead[]> {
  const parsed = accounts.map((account) => ({ account, ref: fluidAccountOf(account) }));
  const lookups: Lookup[] = [{ kind: 'vault' }, ...parsed.map((_, index) => ({ kind: 'account' as const, index }))];
  const call = (lookup: Lookup) => {
    if (lookup.kind === 'vault') return { address: market.resolver, abi: vaultResolverAbi, functionName: 'getVaultEntireData', args: [market.vault] };
    const { ref } = parsed[lookup.index]!;
    return ref.kind === 'nft'
      ? { address: market.resolver, abi: vaultResolverAbi, functionName: 'positionByNftId', args: [ref.nftId] }
      : { address: market.resolver, abi: vaultResolverAbi, functionName: 'positionsByUser', args: [ref.owner] };
  };
  // The vault's own read rides in the first batch, so N accounts still take ⌈N / batch⌉ calls.
  const [first = [], ...rest] = chunk(lookups.slice(1), Math.min(batchSize, FLUID_POSITIONS_PER_CALL));
  const batches = [[lookups[0]!, ...first], ...rest];
  const results = (await Promise.all(batches.map((batch) => multicallFor(context, batch.map(call), at)))).flat();
  const block = await pinnedOf(at);
  const vaultData = success(results[0]) as ResolverVault | undefined;
  if (!vaultData) throw new AppError('read_failed', `Fluid's VaultResolver ${market.resolver} did not read vault ${market.vault}: ${failure(results[0])}`, { status: 502 });
  const config = configOf(vaultData);
  return parsed.map(({ account, ref }, index): AccountRead => {
    const result = results[index + 1];
    const answer = success(result);
    if (answer === undefined) return { account, error: `Fluid position read failed: ${failure(result)}` };
    if (ref.kind === 'nft') {
      const [position, vault] = answer as readonly [ResolverPosition, ResolverVault];
      if (getAddress(vault.vault) !== market.vault) return { account, error: `position NFT ${ref.nftId} belongs to Fluid vault ${getAddress(vault.vault)}, not ${market.vault}` };
      return { account, snapshot: fluidSnapshot(market, { account, positions: [positionOf(position)], owner: false, config, block }) };
    }
    const [positions, vaults] = answer as readonly [readonly ResolverPosition[], readonly ResolverVault[]];
    const mine = positions.filter((_, at) => vaults[at] !== undefined && getAddress(vaults[at]!.vault) === market.vault).map(positionOf);
    if (mine.length === 0) return { account, error: `${ref.owner} holds no position in Fluid vault ${market.vault}` };
    return { account, snapshot: fluidSnapshot(market, { account, positions: mine, owner: true, config, block }) };
  });
}

export async function readFluidAssets(context: ReadContext, market: FluidMarket, accounts: readonly Address[], block: PinnedBlock, batchSize: number): Promise<Map<Address, AssetPosition[]>> {
  const reads = await readFluidAccounts(context, market, accounts, block, batchSize);
  return new Map(reads.flatMap((read) => ('snapshot' in read && read.snapshot.assets ? [[read.account, read.snapshot.assets] as const] : [])));
}

/**
 * The collateral's price in borrow-token units (its decimals) as liquidations take it at the
 * block; the borrow token is the quote. Fluid oracles combine feeds, so `feed` is null.
 */
export async function readFluidMarketPrices(context: ReadContext, market: FluidMarket, block: PinnedBlock): Promise<MarketPrices> {
  const [result] = await multicallAt(context, [{ address: market.resolver, abi: vaultResolverAbi, functionName: 'getVaultEntireData', args: [market.vault] }], block.number);
  const data = success(result) as ResolverVault | undefined;
  const rate = data?.configs.oraclePriceLiquidate;
  return {
    priceDecimals: market.debt.decimals,
    quoteIsUsd: isDollarStablecoin(market.debt.symbol),
    flat: [market.debt.asset],
    prices: [{ asset: market.collateral.asset, symbol: market.collateral.symbol, price: rate ? (10n ** BigInt(market.collateral.decimals) * rate) / ORACLE_SCALE : undefined, feed: null }],
  };
}
