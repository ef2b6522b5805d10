import type { Address, Hex } from 'viem';
import { AppError } from '../../lib/errors';
import type { AssetPosition } from '../../domain/position';
import type { AccountRead, MarketPrices, MarketRef, PinnedBlock, ReadContext } from '../read-types';
import { chunk, multicallAt, rethrowRpc, shortMessage, type CallResult } from '../batch';
import { BlockPin, multicallFor, pinnedOf, type ReadAt } from '../block-pin';
import { cdpManagerAbi, dogAbi, jugAbi, osmAbi, spotterAbi, vatAbi } from './abi';
import { makerContractsFor } from './deployments';
import { ilkName, ilkSymbol } from './ilk';
import { collateralPrice, makerSnapshot, type IlkState, type MakerMarket, type NextPrice } from './normalize';
import { makerAccountOf, vaultName } from './account';
import { OSM_NXT_SLOT, nextFromSlot, spotFromPrice } from './osm';
import { BoundedCache, MARKET_CACHE_ENTRIES } from '../../lib/bounded-cache';

const ZERO: Address = '0x0000000000000000000000000000000000000000';
const marketCache = new BoundedCache<string, MakerMarket>(MARKET_CACHE_ENTRIES);

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

/** The OSM's schedule where the ilk's pip is one (it answers `hop` and `zzz`; a plain price feed does not). */
type OsmSchedule = { hop: bigint; zzz: bigint; stopped: boolean };

/**
 * The ilk's state at the read's block: the Vat's rate and spot, the Jug's duty, rho and base, the
 * Spotter's mat and par; with `osm`, also whether the pip is an OSM and its schedule, in the same call.
 */
async function readIlkState(context: ReadContext, market: MakerMarket, at: ReadAt, options: { osm: boolean }): Promise<IlkState & { osm: OsmSchedule | null }> {
  const { vat, jug, spot } = market.contracts;
  const osmCalls = options.osm
    ? [
        { address: market.pip, abi: osmAbi, functionName: 'hop' },
        { address: market.pip, abi: osmAbi, functionName: 'zzz' },
        { address: market.pip, abi: osmAbi, functionName: 'stopped' },
      ]
    : [];
  const results = await multicallFor(
    context,
    [
      { address: vat, abi: vatAbi, functionName: 'ilks', args: [market.ilk] },
      { address: jug, abi: jugAbi, functionName: 'ilks', args: [market.ilk] },
      { address: jug, abi: jugAbi, functionName: 'base' },
      { address: spot, abi: spotterAbi, functionName: 'ilks', args: [market.ilk] },
      { address: spot, abi: spotterAbi, functionName: 'par' },
      ...osmCalls,
    ],
    at,
  );
  const own = results.slice(0, 5);
  const failed = own.find((result) => result.status !== 'success');
  if (failed) throw new AppError('read_failed', `Maker ilk ${market.name} read failed: ${shortMessage(failed.status === 'failure' ? failed.error : 'no answer')}`, { status: 502 });
  const [ilk, jugIlk, base, spotIlk, par] = own.map(success) as [readonly bigint[], readonly bigint[], bigint, readonly [Address, bigint], bigint];
  const [hop, zzz, stopped] = results.slice(5).map(success) as [number | undefined, bigint | undefined, bigint | undefined];
  // A pip that answers neither is no OSM (the local chain's plain feed): no next price, as before.
  const osm = hop !== undefined && zzz !== undefined ? { hop: BigInt(hop), zzz, stopped: stopped !== undefined && stopped !== 0n } : null;
  return { rate: ilk[1]!, spot: ilk[2]!, duty: jugIlk[0]!, rho: jugIlk[1]!, base, mat: spotIlk[1], par, osm };
}

/**
 * The OSM's next price at the block, from its `nxt` slot (one eth_getStorageAt), and the spot
 * `spotter.poke` will set from it; undefined when the OSM has none queued or is stopped (its
 * price then stays as it is).
 */
async function readNextPrice(context: ReadContext, market: MakerMarket, state: IlkState & { osm: OsmSchedule | null }, block: PinnedBlock): Promise<NextPrice | undefined> {
  if (!state.osm || state.osm.stopped) return undefined;
  const word = await context.client.getStorageAt({ address: market.pip, slot: OSM_NXT_SLOT, blockNumber: block.number }).catch(rethrowRpc);
  const price = word ? nextFromSlot(word) : undefined;
  if (price === undefined) return undefined;
  return { price, spot: spotFromPrice(price, state.par, state.mat), from: state.osm.zzz + state.osm.hop };
}

/** A vault's urn and ilk: set when the CdpManager opens it and never changed after, so cached per isolate. */
type Vault = { urn: Address; ilk: Hex };
const vaultCache = new BoundedCache<string, Vault>(4 * MARKET_CACHE_ENTRIES);
const ZERO_ILK = `0x${'0'.repeat(64)}`;

/** What the CdpManager says of a vault id: the vault, none (never opened: its urn is 0), or no answer (that id's error only). */
type VaultLookup = Vault | { missing: true } | { error: string };

/** The urn and ilk of each vault id, from the cache or in one Multicall3 call at the read's block. */
async function resolveVaults(context: ReadContext, manager: Address, ids: readonly bigint[], at: ReadAt): Promise<Map<bigint, VaultLookup>> {
  const key = (id: bigint) => `${context.chainId}:${manager.toLowerCase()}:${id}`;
  const found = new Map<bigint, VaultLookup>();
  const missing = [...new Set(ids)].filter((id) => {
    const cached = vaultCache.get(key(id));
    if (cached) found.set(id, cached);
    return !cached;
  });
  if (missing.length === 0) return found;
  const results = await multicallFor(context, missing.flatMap((id) => [
    { address: manager, abi: cdpManagerAbi, functionName: 'urns', args: [id] },
    { address: manager, abi: cdpManagerAbi, functionName: 'ilks', args: [id] },
  ]), at);
  missing.forEach((id, index) => {
    const urn = success(results[index * 2]) as Address | undefined;
    const ilk = success(results[index * 2 + 1]) as Hex | undefined;
    const failed = [results[index * 2], results[index * 2 + 1]].find((result) => result?.status !== 'success');
    if (urn === undefined || ilk === undefined) {
      found.set(id, { error: `CdpManager ${manager} did not answer for vault ${vaultName(id)}: ${shortMessage(failed?.status === 'failure' ? failed.error : 'no answer')}` });
      return;
    }
    if (urn === ZERO || ilk === ZERO_ILK) {
      found.set(id, { missing: true });
      return;
    }
    const vault = { urn, ilk: ilk.toLowerCase() as Hex };
    vaultCache.set(key(id), vault);
    found.set(id, vault);
  });
  return found;
}

/** Why a vault id cannot be read in this market, or its urn. */
function vaultUrn(market: MakerMarket, id: bigint, vault: VaultLookup | undefined): { urn: Address } | { error: string } {
  if (!market.contracts.cdpManager || !vault) return { error: `vault ${vaultName(id)}: no CdpManager is known on chain ${market.chainId}` };
  if ('error' in vault) return vault;
  if ('missing' in vault) return { error: `the CdpManager ${market.contracts.cdpManager} has no vault ${vaultName(id)}` };
  if (vault.ilk !== market.ilk) return { error: `vault ${vaultName(id)} is a vault of ilk ${ilkName(vault.ilk)}, not ${market.name}` };
  return { urn: vault.urn };
}

/**
 * A vault id names a vault of this ilk in the deployment's CdpManager (a 400 at `account`
 * otherwise); an urn address needs no check (an urn without a vault reads as no debt).
 */
export async function checkMakerAccount(context: ReadContext, market: MakerMarket, account: Hex): Promise<void> {
  const ref = makerAccountOf(account);
  if (ref.kind === 'urn') return;
  const invalid = (message: string) => new AppError('invalid_account', `account: ${message}`, { status: 400, issues: [{ path: 'account', message }] });
  const manager = market.contracts.cdpManager;
  if (!manager) throw invalid(`a vault id needs the CdpManager of the Vat ${market.contracts.vat}, which is not known on chain ${context.chainId}: the operator lists it in PROTOCOL_CONTRACTS["${context.chainId}"].maker.cdpManager (or give the urn address)`);
  const [managerVat] = await multicallAt(context, [{ address: manager, abi: cdpManagerAbi, functionName: 'vat' }]);
  if (!sameAddress(success(managerVat), market.contracts.vat)) throw invalid(`the CdpManager ${manager} does not manage vaults of the Vat ${market.contracts.vat}`);
  const vaults = await resolveVaults(context, manager, [ref.id], new BlockPin(context, { chainId: context.chainId }));
  const found = vaultUrn(market, ref.id, vaults.get(ref.id));
  if ('error' in found) throw invalid(found.error);
}

export async function readMakerAccounts(context: ReadContext, market: MakerMarket, accounts: readonly Address[], at: ReadAt, batchSize: number): Promise<AccountRead[]> {
  return readUrns(context, market, accounts, at, batchSize, { next: true });
}

/**
 * Every account's vault at the read's block: vault ids resolved to their urns first (from the
 * cache after the first read), then the ilk and every urn in ⌈urns / batchSize⌉ calls, then
 * (with `next`, for an OSM-priced ilk) the OSM's next price: one storage read per market.
 */
async function readUrns(context: ReadContext, market: MakerMarket, accounts: readonly Address[], at: ReadAt, batchSize: number, options: { next: boolean }): Promise<AccountRead[]> {
  const refs = accounts.map(makerAccountOf);
  const ids = refs.flatMap((ref) => (ref.kind === 'vault' ? [ref.id] : []));
  const manager = market.contracts.cdpManager;
  const vaults = ids.length > 0 && manager ? await resolveVaults(context, manager, ids, at) : new Map<bigint, VaultLookup>();
  const targets = refs.map((ref) => (ref.kind === 'urn' ? { urn: ref.urn } : vaultUrn(market, ref.id, vaults.get(ref.id))));
  const urns = [...new Set(targets.flatMap((target) => ('urn' in target ? [target.urn] : [])))];
  const reading = readIlkState(context, market, at, { osm: options.next });
  // The storage read goes out as soon as the ilk's call has pinned the block, beside the urns' calls.
  const nextReading = reading.then(async (state) => (options.next ? readNextPrice(context, market, state, await pinnedOf(at)) : undefined));
  const [state, next, ...batches] = await Promise.all([
    reading,
    nextReading,
    ...chunk(urns, batchSize).map((batch) => multicallFor(context, batch.map((urn) => ({ address: market.contracts.vat, abi: vatAbi, functionName: 'urns', args: [market.ilk, urn] })), at)),
  ]);
  const block = await pinnedOf(at);
  const answers = batches.flat();
  const results = new Map(urns.map((urn, index) => [urn, answers[index]] as const));
  return accounts.map((account, index): AccountRead => {
    const target = targets[index]!;
    if ('error' in target) return { account, error: target.error };
    const result = results.get(target.urn);
    const urn = success(result) as readonly [bigint, bigint] | undefined;
    if (!urn) return { account, error: `Maker urns read failed: ${shortMessage(result?.status === 'failure' ? result.error : 'no answer')}` };
    // Spotter.poke writes spot 0 when its pip has no valid price: unknown, never 0.
    if (state.spot === 0n || state.mat === 0n) return { account, error: `the Spotter gives ilk ${market.name} no price (spot 0)` };
    const ref = refs[index]!;
    const vault = ref.kind === 'vault' ? { id: ref.id, urn: target.urn } : undefined;
    return { account, snapshot: makerSnapshot(market, { account, urn: { ink: urn[0], art: urn[1] }, state, block, ...(next ? { next } : {}), ...(vault ? { vault } : {}) }) };
  });
}

export async function readMakerAssets(context: ReadContext, market: MakerMarket, accounts: readonly Address[], block: PinnedBlock, batchSize: number): Promise<Map<Address, AssetPosition[]>> {
  // The breakdown needs no next price: it is the summary's (read this tick) to carry.
  const reads = await readUrns(context, market, accounts, block, batchSize, { next: false });
  return new Map(reads.flatMap((read) => ('snapshot' in read && read.snapshot.assets ? [[read.account, read.snapshot.assets] as const] : [])));
}

/**
 * The collateral's USD price as the Vat sees it (spot × mat × par), in one call; DAI is counted
 * at par and stays flat. The pip is an OSM on mainnet, no Chainlink-style aggregator: `feed` is null.
 */
export async function readMakerMarketPrices(context: ReadContext, market: MakerMarket, block: PinnedBlock): Promise<MarketPrices> {
  const state = await readIlkState(context, market, block, { osm: false });
  const price = collateralPrice(state);
  return {
    priceDecimals: 18,
    quoteIsUsd: true,
    flat: [market.contracts.vat],
    prices: [{ asset: market.pip, symbol: market.symbol, price: price === 0n ? undefined : price, feed: null }],
  };
}

/** The urn an account names: itself, or a vault id's urn from the CdpManager (a read_failed AppError when the id has none here). */
export async function makerUrnOf(context: ReadContext, market: MakerMarket, account: Address): Promise<Address> {
  const ref = makerAccountOf(account);
  if (ref.kind === 'urn') return ref.urn;
  const manager = market.contracts.cdpManager;
  const vaults = manager ? await resolveVaults(context, manager, [ref.id], new BlockPin(context, { chainId: context.chainId })) : new Map<bigint, VaultLookup>();
  const found = vaultUrn(market, ref.id, vaults.get(ref.id));
  if ('error' in found) throw new AppError('read_failed', found.error, { status: 502 });
  return found.urn;
}
