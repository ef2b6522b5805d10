/**
 * Keyset paging over rows ordered by (created_at, id): a page ends at a key, the next page
 * starts after it. Clients get the key as an opaque cursor (base64url of JSON), so the
 * encoding can change without breaking them; a cursor that does not decode is refused.
 */
export type PageKey = { createdAt: number; id: string };

export type Page<T> = { data: T[]; next: PageKey | null };

export function encodePageCursor(key: PageKey): string {
  const bytes = new TextEncoder().encode(JSON.stringify([key.createdAt, key.id]));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodePageCursor(cursor: string): PageKey | null {
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) return null;
  try {
    const binary = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    const value = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)))) as unknown;
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [createdAt, id] = value as [unknown, unknown];
    if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || typeof id !== 'string' || id.length === 0 || id.length > 64) return null;
    return { createdAt, id };
  } catch {
    // Not base64 or not JSON: the caller answers 400 naming the cursor.
    return null;
  }
}
