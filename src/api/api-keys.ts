import type { AppConfig } from '../config/env';
import { randomBytes, toBase64Url, toHex } from '../lib/crypto';

/**
 * Tenant API keys: `mwk_<16 hex tenant id>_<43 base64url>`, where the 32 bytes after the
 * second underscore are 16 random bytes and a 16-byte HMAC-SHA256 tag over the tenant id
 * and those bytes. The tag is checked before any Durable Object is touched, so a forged
 * or guessed key costs one HMAC and never wakes (or creates) a tenant object.
 *
 * Keys issued before tags existed have the same shape but no valid tag: they are refused,
 * and the owner issues a new key for the same tenant (`POST /v1/keys {tenantId}`), which
 * keeps all its data.
 */

const KEY_PATTERN = /^mwk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const RANDOM_BYTES = 16;
const TAG_BYTES = 16;
/** Separates the derived tagging key from any other use of ADMIN_TOKEN. */
const DERIVATION_LABEL = 'marginwatch api key tags v1';

const tagKeys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key: API_KEY_SECRET as given, or HMAC(ADMIN_TOKEN, label) so the admin token itself never tags keys. Cached per isolate. */
function tagKey(secret: AppConfig['apiKeySecret']): Promise<CryptoKey> {
  const cacheKey = `${secret.source}\n${secret.value}`;
  let key = tagKeys.get(cacheKey);
  if (!key) {
    key = (async () => {
      const raw = secret.source === 'API_KEY_SECRET' ? new TextEncoder().encode(secret.value) : await hmac(await importHmacKey(new TextEncoder().encode(secret.value)), DERIVATION_LABEL);
      return importHmacKey(raw);
    })();
    tagKeys.set(cacheKey, key);
  }
  return key;
}

function importHmacKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

async function hmac(key: CryptoKey, message: string | Uint8Array): Promise<Uint8Array> {
  const data = typeof message === 'string' ? new TextEncoder().encode(message) : message;
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, data));
}

function tagInput(tenantHex: string, random: Uint8Array): Uint8Array {
  return labelled(`mwk|${tenantHex}|`, random);
}

/** `label` (UTF-8) followed by `data`: the input of a purpose-bound tag. */
export function labelled(label: string, data: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(label);
  const input = new Uint8Array(prefix.length + data.length);
  input.set(prefix);
  input.set(data, prefix.length);
  return input;
}

/**
 * A tag over `data` under a purpose `label`, with the same deployment secret as API keys:
 * other tokens that name a tenant (Telegram link codes) use it so that a forged one is
 * refused before that tenant's object is woken.
 */
export async function deploymentTag(secret: AppConfig['apiKeySecret'], label: string, data: Uint8Array, length: number): Promise<Uint8Array> {
  return (await hmac(await tagKey(secret), labelled(`${label}|`, data))).slice(0, length);
}


export function newTenantId(): string {
  return `t_${toHex(randomBytes(8))}`;
}

export async function newTenantKey(secret: AppConfig['apiKeySecret'], tenantId: string): Promise<string> {
  const tenantHex = tenantId.slice(2);
  const random = randomBytes(RANDOM_BYTES);
  const tag = (await hmac(await tagKey(secret), tagInput(tenantHex, random))).slice(0, TAG_BYTES);
  const body = new Uint8Array(RANDOM_BYTES + TAG_BYTES);
  body.set(random);
  body.set(tag, RANDOM_BYTES);
  return `mwk_${tenantHex}_${toBase64Url(body)}`;
}

/** The tenant id a key belongs to when its tag is genuine; null for anything else (no I/O). */
export async function tenantOfKey(secret: AppConfig['apiKeySecret'], key: string): Promise<string | null> {
  const match = KEY_PATTERN.exec(key);
  if (!match) return null;
  const body = fromBase64Url(match[2]!);
  if (body.length !== RANDOM_BYTES + TAG_BYTES) return null;
  const expected = (await hmac(await tagKey(secret), tagInput(match[1]!, body.slice(0, RANDOM_BYTES)))).slice(0, TAG_BYTES);
  return constantTimeEqual(expected, body.slice(RANDOM_BYTES)) ? `t_${match[1]}` : null;
}

/** Only called on text a pattern matched (base64url alphabet, length not 1 mod 4), which atob always decodes. */
export function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let index = 0; index < a.length; index++) diff |= a[index]! ^ b[index]!;
  return diff === 0;
}

/** A key's public id names its tenant, so the admin can revoke it by id alone: `key_<16 hex tenant>_<16 hex>`. */
export function newKeyId(tenantId: string): string {
  return `key_${tenantId.slice(2)}_${toHex(randomBytes(8))}`;
}

export function tenantOfKeyId(id: string): string | null {
  const match = /^key_([0-9a-f]{16})_[0-9a-f]{16}$/.exec(id);
  return match ? `t_${match[1]}` : null;
}
