import { z } from 'zod';
import { getAddress, isAddress, parseUnits, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

/*
 * The executor's settings. TOPUP_PRIVATE_KEY is validated here and turned into its address
 * at once: the parsed configuration carries the address only, so the key cannot leak through
 * anything that handles the config (responses, logs, errors). The key itself is read from
 * the raw env by the TopUp Durable Object alone (src/topup/signer.ts).
 */

/** secp256k1 group order: a private key must be in [1, n-1]. */
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Accepts the key with or without 0x (wrangler secret put users paste either); '' means unset. */
export function normalizePrivateKey(raw: string): Hex | undefined {
  const text = raw.trim();
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(text)) return undefined;
  const hex = (text.startsWith('0x') ? text : `0x${text}`).toLowerCase() as Hex;
  const value = BigInt(hex);
  return value > 0n && value < SECP256K1_ORDER ? hex : undefined;
}

// Deriving an address costs a curve multiplication; config is parsed on every request.
let cachedKey: string | undefined;
let cachedAddress: Address | undefined;

export function signerAddressOf(key: Hex): Address {
  if (cachedKey !== key || cachedAddress === undefined) {
    cachedAddress = privateKeyToAccount(key).address;
    cachedKey = key;
  }
  return cachedAddress;
}

/** Never echoes the value in its message: the value is a secret. */
export const topUpKeySchema = z
  .string()
  .transform((raw, ctx) => {
    if (raw.trim() === '') return null;
    const key = normalizePrivateKey(raw);
    if (key === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a 32-byte hex private key (64 hex digits, optionally 0x-prefixed, in the secp256k1 range)' });
      return z.NEVER;
    }
    return signerAddressOf(key);
  })
  .optional()
  .transform((address) => address ?? null);

export const DEFAULT_TOPUP_MAX_GAS_GWEI = '100';

/** A gwei amount ("30", "0.05" for L2s) as wei. */
export const topUpMaxGasSchema = z
  .union([z.number(), z.string()])
  .optional()
  .transform((value, ctx) => {
    const text = value === undefined || value === '' ? DEFAULT_TOPUP_MAX_GAS_GWEI : String(value).trim();
    if (!/^\d+(\.\d{1,9})?$/.test(text)) {
      ctx.addIssue({ code: 'custom', message: 'must be a positive number of gwei such as "50" or "0.05" (at most 9 decimals)' });
      return z.NEVER;
    }
    const wei = parseUnits(text, 9);
    if (wei <= 0n) {
      ctx.addIssue({ code: 'custom', message: 'must be greater than 0' });
      return z.NEVER;
    }
    return wei;
  });

export type TopUpSettings = {
  /** Address of the executor's signer; null when TOPUP_PRIVATE_KEY is not set (dry runs only). */
  signer: Address | null;
  /** Highest gas price (EIP-1559 max fee, or legacy gas price) the executor will pay, in wei. */
  maxGasWei: bigint;
  /** TOPUP_TRUSTED_MARKETS: per chain, the markets the owner lets the executor send to beyond the presets (contract addresses, or Morpho market ids). */
  trustedMarkets: ReadonlyMap<number, readonly TrustedMarketKey[]>;
};

/** A market contract's address, or a market id inside a contract (Morpho Blue: 0x + 64 hex digits, lowercase). */
export type TrustedMarketKey = Address | Hex;

/** A Morpho Blue market id as TOPUP_TRUSTED_MARKETS lists it. */
export const trustedMarketIdSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/)
  .transform((id) => id.toLowerCase() as Hex);

/** An address in a setting, any letter case, checksummed. */
export const addressSetting = z.string().refine((value) => isAddress(value, { strict: false }), 'must be a 0x-prefixed 20-byte address').transform((value) => getAddress(value));
