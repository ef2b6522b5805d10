/**
 * A per-isolate cache of at most `capacity` entries, the least recently used dropped first.
 * Module-level caches are keyed by what tenants name (markets, accounts, vaults): unbounded, a
 * tenant naming new ones at its request rate fills the isolate's 128 MB, which serves every
 * tenant. A dropped entry is only read again from the chain.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Markets an isolate keeps the static facts of: far more than one deployment's shards poll at once. */
export const MARKET_CACHE_ENTRIES = 512;
