/** Small wrappers over Web Crypto (available in workerd and Node 22). */

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return toHex(new Uint8Array(digest));
}

/**
 * Constant-time comparison of two secrets. Both sides are hashed first so the comparison
 * runs over equal lengths and leaks neither content nor length.
 */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [left, right] = await Promise.all([
    crypto.subtle.digest('SHA-256', new TextEncoder().encode(a)),
    crypto.subtle.digest('SHA-256', new TextEncoder().encode(b)),
  ]);
  const x = new Uint8Array(left);
  const y = new Uint8Array(right);
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean };
  if (typeof subtle.timingSafeEqual === 'function') return subtle.timingSafeEqual(x, y);
  let diff = 0;
  for (let index = 0; index < x.length; index++) diff |= x[index]! ^ y[index]!;
  return diff === 0;
}

/** Prefixed random identifiers: `wch_k3j...`, readable in logs and unguessable. */
export function newId(prefix: string, bytes = 10): string {
  return `${prefix}_${toHex(randomBytes(bytes))}`;
}
