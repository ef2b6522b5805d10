import { hexToString, stringToHex, type Hex } from 'viem';

/*
 * A Maker market is an ilk: a collateral type named by up to 32 bytes of text ("ETH-A"),
 * which the Vat keys as bytes32. Watches store the bytes32 (lower-case hex, like a Morpho id)
 * so every part of the system that keys markets by hex keeps working; the name is for people.
 */

const ILK_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const ILK_BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/** The canonical form of an ilk given by name ("ETH-A") or as its bytes32, or why the text is neither. */
export function parseIlk(text: string): { ok: true; market: Hex } | { ok: false; message: string } {
  if (ILK_BYTES32.test(text)) return { ok: true, market: text.toLowerCase() as Hex };
  if (ILK_NAME.test(text)) return { ok: true, market: ilkBytes32(text) };
  return { ok: false, message: 'must be the ilk name, e.g. "ETH-A" (letters, digits and -, at most 32 characters), or its bytes32 (0x followed by 64 hex characters)' };
}

/** The ilk as the Vat keys it: the name's bytes, left-aligned in 32. */
export function ilkBytes32(name: string): Hex {
  return stringToHex(name, { size: 32 });
}

/** The ilk's name: its bytes32 read as text up to the first zero byte. */
export function ilkName(ilk: Hex): string {
  return hexToString(ilk, { size: 32 }).replace(/\0+$/, '');
}

/** The collateral's symbol as the ilk's name gives it: "ETH-A" → "ETH", "WSTETH-B" → "WSTETH". */
export function ilkSymbol(name: string): string {
  const dash = name.lastIndexOf('-');
  return dash > 0 ? name.slice(0, dash) : name;
}
