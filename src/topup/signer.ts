import type { Address, LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { normalizePrivateKey } from '../config/topup-env';

/*
 * The only place the executor's private key is read. It comes from the raw env (a wrangler
 * secret), already validated by parseConfig, and lives on only inside the viem account's
 * closures: not in storage, not in a return value, not in an error message.
 */

let cached: { raw: string; account: LocalAccount } | undefined;

export function loadSigner(env: Env): LocalAccount | null {
  const raw = (env as unknown as { TOPUP_PRIVATE_KEY?: unknown }).TOPUP_PRIVATE_KEY;
  if (typeof raw !== 'string' || raw.trim() === '') return null;
  if (cached?.raw === raw) return cached.account;
  const key = normalizePrivateKey(raw);
  if (key === undefined) return null; // parseConfig reports it by name; never echo it here
  const account = privateKeyToAccount(key);
  cached = { raw, account };
  return account;
}

/** One executor per (chain, signer): nonces of one key on one chain are handed out by one object. */
export function topUpObjectName(chainId: number, signer: Address | null): string {
  return `${chainId}:${signer ? signer.toLowerCase() : 'dry-run'}`;
}
