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
