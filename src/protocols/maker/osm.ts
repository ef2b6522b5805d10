import { hexToBigInt, type Hex } from 'viem';
import { RAY, type NextPrice } from './normalize';

/*
 * Maker's oracle security module (OSM) holds each price of its source for one `hop` (an hour on
 * mainnet) before handing it on: `poke` makes the queued price (`nxt`) current, and the
 * Spotter's next `poke` puts it in the Vat. So the price that will judge a vault next is public
 * ahead of time. `peep()` would tell it, but only to whitelisted contracts; its storage slot is
 * public. The OSM's layout (makerdao/osm): wards 0, stopped 1, src + hop + zzz packed in 2,
 * cur 3, nxt 4, each Feed { uint128 val; uint128 has } with val in the low half.
 */

export const OSM_NXT_SLOT: Hex = '0x0000000000000000000000000000000000000000000000000000000000000004';
const LOW_128 = (1n << 128n) - 1n;

/** The price the OSM will hand on next (WAD, USD per gem), from the word in its `nxt` slot; undefined while it has none. */
export function nextFromSlot(word: Hex): bigint | undefined {
  const value = hexToBigInt(word);
  const has = value >> 128n;
  return has === 1n ? value & LOW_128 : undefined;
}

/** The ilk's spot as `spotter.poke` computes it from a pip price: rdiv(rdiv(val × 1e9, par), mat), in RAY. */
export function spotFromPrice(price: bigint, par: bigint, mat: bigint): bigint {
  if (par === 0n || mat === 0n) return 0n;
  return (((price * 10n ** 9n * RAY) / par) * RAY) / mat;
}

