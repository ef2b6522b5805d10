import { getAddress, isAddress, type Address } from 'viem';
import { multicallAt, type CallResult } from '../batch';
import type { ReadContext } from '../read-types';
import { invalidTopUpAsset } from '../topup-capability';
import { daiJoinAbi, gemJoinAbi, ilkRegistryAbi, vatTopUpAbi } from './abi';
import { MAKER_VATS } from './deployments';
import type { MakerMarket } from './normalize';
import { BoundedCache, MARKET_CACHE_ENTRIES } from '../../lib/bounded-cache';

/*
 * The two adapters a Maker top-up moves money through: the ilk's GemJoin (its token into the
 * Vat) and the DaiJoin (DAI into the Vat). The Vat knows neither. On Ethereum the IlkRegistry
 * names each ilk's join and the DaiJoin is fixed (both from Sky's chainlog); elsewhere the
 * operator names them in PROTOCOL_CONTRACTS["<chainId>"].maker: "daiJoin", and per ilk
 * "join:ETH-A" (or an "ilkRegistry"). Whoever names them, they are trusted only once the chain
 * says so: each answers vat() = this Vat (and the GemJoin ilk() = this ilk), and the Vat has
 * relied on it (wards = 1) — only Maker governance can do that, so a contract of an attacker's
 * own that merely answers like a join is refused.
 */

export const MAKER_ILK_REGISTRIES: Readonly<Record<number, Address>> = { 1: '0x5a464C28D19848f44199D003BeF5ecc87d090F87' };
export const MAKER_DAI_JOINS: Readonly<Record<number, Address>> = { 1: '0x9759A6Ac90977b93B58547b4A71c78317f391A28' };

export type MakerJoins = { gemJoin: Address; gem: Address; gemDecimals: number; daiJoin: Address; dai: Address };

const joinCache = new BoundedCache<string, MakerJoins>(MARKET_CACHE_ENTRIES);
const ZERO = '0x0000000000000000000000000000000000000000';

function ok(result: CallResult | undefined): unknown {
  return result?.status === 'success' ? result.result : undefined;
}

function same(left: unknown, right: string): boolean {
  return typeof left === 'string' && left.toLowerCase() === right.toLowerCase();
}

/** An address the operator gave under PROTOCOL_CONTRACTS maker.<key>, when it is one. */
function given(context: ReadContext, key: string): Address | undefined {
  const value = context.protocolContracts?.maker?.[key];
  return value && isAddress(value, { strict: false }) ? getAddress(value) : undefined;
}

/** The ilk's GemJoin and the DaiJoin of the market's Vat, found and checked on chain (cached per isolate); a 400 at topUp.asset saying what is missing or wrong. */
export async function makerJoins(context: ReadContext, market: MakerMarket): Promise<MakerJoins> {
  const vat = market.contracts.vat;
  const key = `${context.chainId}:${vat.toLowerCase()}:${market.ilk}`;
  const cached = joinCache.get(key);
  if (cached) return cached;
  const canonical = same(MAKER_VATS[context.chainId] ?? '', vat);
  const where = `PROTOCOL_CONTRACTS["${context.chainId}"].maker`;
  const daiJoin = given(context, 'daiJoin') ?? (canonical ? MAKER_DAI_JOINS[context.chainId] : undefined);
  if (!daiJoin) throw invalidTopUpAsset(`the DaiJoin of the Vat ${vat} is not known on chain ${context.chainId}: the operator lists it in ${where}.daiJoin`);
  let gemJoin = given(context, `join:${market.name}`);
  const registry = given(context, 'ilkRegistry') ?? (canonical ? MAKER_ILK_REGISTRIES[context.chainId] : undefined);
  if (!gemJoin && registry) {
    const [found] = await multicallAt(context, [{ address: registry, abi: ilkRegistryAbi, functionName: 'join', args: [market.ilk] }]);
    const answer = ok(found);
    if (typeof answer === 'string' && !same(answer, ZERO)) gemJoin = getAddress(answer);
  }
  if (!gemJoin) throw invalidTopUpAsset(`the GemJoin of ilk ${market.name} is not known on chain ${context.chainId}: the operator lists it in ${where}["join:${market.name}"] (or an "ilkRegistry" that names it)`);
  const [gemVat, gemIlk, gem, dec, gemWard, daiVat, dai, daiWard] = (
    await multicallAt(context, [
      { address: gemJoin, abi: gemJoinAbi, functionName: 'vat' },
      { address: gemJoin, abi: gemJoinAbi, functionName: 'ilk' },
      { address: gemJoin, abi: gemJoinAbi, functionName: 'gem' },
      { address: gemJoin, abi: gemJoinAbi, functionName: 'dec' },
      { address: vat, abi: vatTopUpAbi, functionName: 'wards', args: [gemJoin] },
      { address: daiJoin, abi: daiJoinAbi, functionName: 'vat' },
      { address: daiJoin, abi: daiJoinAbi, functionName: 'dai' },
      { address: vat, abi: vatTopUpAbi, functionName: 'wards', args: [daiJoin] },
    ])
  ).map(ok);
  if (!same(gemVat, vat) || !same(gemIlk, market.ilk) || gemWard !== 1n) {
    throw invalidTopUpAsset(`${gemJoin} is not the GemJoin of ilk ${market.name} in the Vat ${vat} (its vat() and ilk() must name them, and the Vat must have relied on it)`);
  }
  if (typeof gem !== 'string' || typeof dec !== 'bigint' || dec > 18n) throw invalidTopUpAsset(`the GemJoin ${gemJoin} of ilk ${market.name} does not answer gem() and dec() as dss's joins do`);
  if (!same(daiVat, vat) || daiWard !== 1n || typeof dai !== 'string') throw invalidTopUpAsset(`${daiJoin} is not the DaiJoin of the Vat ${vat} (its vat() must name it, and the Vat must have relied on it)`);
  const joins: MakerJoins = { gemJoin, gem: getAddress(gem), gemDecimals: Number(dec), daiJoin, dai: getAddress(dai) };
  joinCache.set(key, joins);
  return joins;
}
