import type { Address } from 'viem';
import { AppError } from '../../lib/errors';
import type { AssetPosition } from '../../domain/position';
import type { AccountRead, MarketPrices, MarketRef, PinnedBlock, ReadContext } from '../read-types';
import { chunk, multicallAt, rethrowRpc, shortMessage, type CallResult } from '../batch';
import { multicallFor, pinnedOf, type ReadAt } from '../block-pin';
import { dogAbi, jugAbi, spotterAbi, vatAbi } from './abi';
import { makerContractsFor } from './deployments';
import { ilkName, ilkSymbol } from './ilk';
import { collateralPrice, makerSnapshot, type IlkState, type MakerMarket } from './normalize';

const ZERO: Address = '0x0000000000000000000000000000000000000000';
const marketCache = new Map<string, MakerMarket>();

function success(result: CallResult | undefined): unknown {
  return result?.status === 'success' ? result.result : undefined;
}

function sameAddress(left: unknown, right: Address): boolean {
  return typeof left === 'string' && left.toLowerCase() === right.toLowerCase();
}

/**
 * An ilk of a Maker deployment (the Vat in `protocolAddress`, its Spotter, Jug and Dog), cached
 * per isolate; doubles as the check that the Vat knows the ilk and the three belong to that Vat.
 */
export async function loadMakerMarket(context: ReadContext, ref: MarketRef): Promise<MakerMarket> {
  const vat = ref.protocolAddress;
  if (!vat) throw new AppError('validation_failed', 'protocolAddress: is required for maker on this chain: give the Vat', { status: 400, issues: [{ path: 'protocolAddress', message: 'is required' }] });
  const ilk = ref.market.toLowerCase() as `0x${string}`;
  const invalid = (path: 'market' | 'protocolAddress', detail: string) =>
    new AppError('invalid_market', `${detail} (chain ${context.chainId})`, { status: 400, issues: [{ path, message: detail }] });
  const found = makerContractsFor(context, vat);
  if (!found.ok) throw invalid('protocolAddress', `the Spotter, Jug and Dog of the Vat ${vat} are not known on this chain: the operator lists them in ${found.missing}`);
  const { contracts } = found;
  const key = `${context.chainId}:${Object.values(contracts).join(':').toLowerCase()}:${ilk}`;
  const cached = marketCache.get(key);
  if (cached) return cached;
  const name = ilkName(ilk);
  const code = await context.client.getCode({ address: vat }).catch(rethrowRpc);
  if (!code || code === '0x') throw invalid('protocolAddress', `no contract at ${vat}: not a Maker Vat`);
  const [ilkResult, spotVat, jugVat, dogVat, spotIlk, dogIlk] = await multicallAt(context, [
    { address: vat, abi: vatAbi, functionName: 'ilks', args: [ilk] },
    { address: contracts.spot, abi: spotterAbi, functionName: 'vat' },
    { address: contracts.jug, abi: jugAbi, functionName: 'vat' },
    { address: contracts.dog, abi: dogAbi, functionName: 'vat' },
    { address: contracts.spot, abi: spotterAbi, functionName: 'ilks', args: [ilk] },
    { address: contracts.dog, abi: dogAbi, functionName: 'ilks', args: [ilk] },
  ]);
  const ilkState = success(ilkResult) as readonly bigint[] | undefined;
  if (!ilkState) throw invalid('protocolAddress', `${vat} does not answer as a Maker Vat (ilks failed)`);
  for (const [role, answer, address] of [['Spotter', spotVat, contracts.spot], ['Jug', jugVat, contracts.jug], ['Dog', dogVat, contracts.dog]] as const) {
    if (!sameAddress(success(answer), vat)) throw invalid('protocolAddress', `the ${role} ${address} does not belong to the Vat ${vat}`);
  }
  // Vat.init sets an ilk's rate to 1 RAY; an ilk never initialised has rate 0.
  if (ilkState[1] === 0n) throw invalid('market', `the Vat ${vat} has no ilk "${name}"`);
  const spotter = success(spotIlk) as readonly [Address, bigint] | undefined;
  if (!spotter || spotter[0] === ZERO) throw invalid('market', `the Spotter ${contracts.spot} has no price source for ilk "${name}"`);
  const dog = success(dogIlk) as readonly [Address, bigint, bigint, bigint] | undefined;
  const market: MakerMarket = { chainId: context.chainId, contracts, ilk, name, symbol: ilkSymbol(name), pip: spotter[0], clip: dog?.[0] ?? ZERO, chop: dog?.[1] ?? 0n };
  marketCache.set(key, market);
  return market;
}

/** The ilk's state at the read's block: the Vat's rate and spot, the Jug's duty, rho and base, the Spotter's mat and par. */
async function readIlkState(context: ReadContext, market: MakerMarket, at: ReadAt): Promise<IlkState> {
  const { vat, jug, spot } = market.contracts;
  const results = await multicallFor(
    context,
    [
      { address: vat, abi: vatAbi, functionName: 'ilks', args: [market.ilk] },
      { address: jug, abi: jugAbi, functionName: 'ilks', args: [market.ilk] },
      { address: jug, abi: jugAbi, functionName: 'base' },
      { address: spot, abi: spotterAbi, functionName: 'ilks', args: [market.ilk] },
      { address: spot, abi: spotterAbi, functionName: 'par' },
    ],
    at,
  );
  const failed = results.find((result) => result.status !== 'success');
  if (failed) throw new AppError('read_failed', `Maker ilk ${market.name} read failed: ${shortMessage(failed.status === 'failure' ? failed.error : 'no answer')}`, { status: 502 });
  const [ilk, jugIlk, base, spotIlk, par] = results.map(success) as [readonly bigint[], readonly bigint[], bigint, readonly [Address, bigint], bigint];
  return { rate: ilk[1]!, spot: ilk[2]!, duty: jugIlk[0]!, rho: jugIlk[1]!, base, mat: spotIlk[1], par };
}

export async function readMakerAccounts(context: ReadContext, market: MakerMarket, accounts: readonly Address[], at: ReadAt, batchSize: number): Promise<AccountRead[]> {
  const [state, ...batches] = await Promise.all([
    readIlkState(context, market, at),
    ...chunk(accounts, batchSize).map((batch) => multicallFor(context, batch.map((urn) => ({ address: market.contracts.vat, abi: vatAbi, functionName: 'urns', args: [market.ilk, urn] })), at)),
  ]);
  const block = await pinnedOf(at);
  const results = batches.flat();
  return accounts.map((account, index): AccountRead => {
    const result = results[index];
    const urn = success(result) as readonly [bigint, bigint] | undefined;
    if (!urn) return { account, error: `Maker urns read failed: ${shortMessage(result?.status === 'failure' ? result.error : 'no answer')}` };
    // Spotter.poke writes spot 0 when its pip has no valid price: unknown, never 0.
    if (state.spot === 0n || state.mat === 0n) return { account, error: `the Spotter gives ilk ${market.name} no price (spot 0)` };
    return { account, snapshot: makerSnapshot(market, { account, urn: { ink: urn[0], art: urn[1] }, state, block }) };
  });
}

export async function readMakerAssets(context: ReadContext, market: MakerMarket, accounts: readonly Address[], block: PinnedBlock, batchSize: number): Promise<Map<Address, AssetPosition[]>> {
  const reads = await readMakerAccounts(context, market, accounts, block, batchSize);
  return new Map(reads.flatMap((read) => ('snapshot' in read && read.snapshot.assets ? [[read.account, read.snapshot.assets] as const] : [])));
}

/**
 * The collateral's USD price as the Vat sees it (spot × mat × par), in one call; DAI is counted
 * at par and stays flat. The pip is an OSM on mainnet, no Chainlink-style aggregator: `feed` is null.
 */
export async function readMakerMarketPrices(context: ReadContext, market: MakerMarket, block: PinnedBlock): Promise<MarketPrices> {
  const state = await readIlkState(context, market, block);
  const price = collateralPrice(state);
  return {
    priceDecimals: 18,
    quoteIsUsd: true,
    flat: [market.contracts.vat],
    prices: [{ asset: market.pip, symbol: market.symbol, price: price === 0n ? undefined : price, feed: null }],
  };
}
