import { parseAbi } from 'viem';

/** The subset of dss (Vat, Spotter, Jug, Dog), the OSM and the CdpManager that marginwatch reads. */
export const vatAbi = parseAbi([
  'function ilks(bytes32 ilk) view returns (uint256 Art, uint256 rate, uint256 spot, uint256 line, uint256 dust)',
  'function urns(bytes32 ilk, address urn) view returns (uint256 ink, uint256 art)',
]);

export const spotterAbi = parseAbi(['function ilks(bytes32 ilk) view returns (address pip, uint256 mat)', 'function par() view returns (uint256)', 'function vat() view returns (address)']);

export const jugAbi = parseAbi(['function ilks(bytes32 ilk) view returns (uint256 duty, uint256 rho)', 'function base() view returns (uint256)', 'function vat() view returns (address)']);

export const dogAbi = parseAbi(['function ilks(bytes32 ilk) view returns (address clip, uint256 chop, uint256 hole, uint256 dirt)', 'function vat() view returns (address)']);

/** An OSM's public schedule: `hop` seconds between prices, the last poke's hour (`zzz`), `stopped`. Its prices are whitelisted (`peek`, `peep`): `nxt` is read from storage. */
export const osmAbi = parseAbi(['function hop() view returns (uint16)', 'function zzz() view returns (uint64)', 'function stopped() view returns (uint256)']);

export const cdpManagerAbi = parseAbi(['function urns(uint256 cdp) view returns (address)', 'function ilks(uint256 cdp) view returns (bytes32)', 'function vat() view returns (address)']);

/** What a top-up calls and checks: the Vat's frob, wards and balances, the joins, and the IlkRegistry. */
export const vatTopUpAbi = parseAbi([
  'function frob(bytes32 i, address u, address v, address w, int256 dink, int256 dart)',
  'function wards(address usr) view returns (uint256)',
  'function live() view returns (uint256)',
  'function gem(bytes32 ilk, address usr) view returns (uint256)',
  'function dai(address usr) view returns (uint256)',
]);

export const gemJoinAbi = parseAbi([
  'function join(address usr, uint256 wad)',
  'function vat() view returns (address)',
  'function ilk() view returns (bytes32)',
  'function gem() view returns (address)',
  'function dec() view returns (uint256)',
  'function live() view returns (uint256)',
]);

export const daiJoinAbi = parseAbi(['function join(address usr, uint256 wad)', 'function vat() view returns (address)', 'function dai() view returns (address)', 'function live() view returns (uint256)']);

export const ilkRegistryAbi = parseAbi(['function join(bytes32 ilk) view returns (address)']);

export const tokenFactsAbi = parseAbi(['function symbol() view returns (string)', 'function decimals() view returns (uint8)']);
