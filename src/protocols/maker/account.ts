import { getAddress, type Address, type Hex } from 'viem';

/*
 * A Maker vault is an urn in the Vat. Most vaults were opened through Maker's CdpManager, which
 * numbers them and gives each its own urn (`urns(cdpId)`, fixed for the vault's life), so people
 * know their vault by its number ("cdp:12345"). A watch's account is the urn address, or a vault
 * id, stored as 0x + 64 lower-case hex digits (as Liquity trove ids and Fluid NFT ids are) and
 * resolved to its urn on read.
 */

const MAX_UINT256 = (1n << 256n) - 1n;

/** A vault id as a watch stores it: 0x and 64 lower-case hex digits. */
export function vaultIdText(id: bigint): Hex {
  return `0x${id.toString(16).padStart(64, '0')}`;
}

/** A vault id as people write it. */
export function vaultName(id: bigint): string {
  return `cdp:${id}`;
}

/**
 * A watch's `account` for Maker: the urn address (0x + 40 hex), or a CdpManager vault id as
 * "cdp:12345" or as stored (0x + 64 hex). The canonical text, or why the text is neither.
 */
export function parseMakerAccount(text: string): { ok: true; account: Hex } | { ok: false; message: string } {
  if (/^0x[0-9a-fA-F]{40}$/.test(text)) return /^0x0{40}$/.test(text) ? { ok: false, message: 'must not be the zero address' } : { ok: true, account: getAddress(text) };
  const digits = /^cdp:([0-9]{1,78})$/.exec(text)?.[1];
  if (digits === undefined && !/^0x[0-9a-fA-F]{64}$/.test(text)) {
    return { ok: false, message: 'must be the urn address (0x followed by 40 hex digits) or a CdpManager vault id such as "cdp:12345"' };
  }
  const id = BigInt(digits ?? text);
  if (id === 0n || id > MAX_UINT256) return { ok: false, message: 'must be a vault id between 1 and 2^256 − 1 (CdpManager numbers vaults from 1)' };
  return { ok: true, account: vaultIdText(id) };
}

/** What a canonical account text names (it came through parseMakerAccount). */
export type MakerAccount = { kind: 'urn'; urn: Address } | { kind: 'vault'; id: bigint };

export function makerAccountOf(account: string): MakerAccount {
  return account.length === 42 ? { kind: 'urn', urn: getAddress(account) } : { kind: 'vault', id: BigInt(account) };
}
