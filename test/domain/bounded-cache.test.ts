import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../src/lib/bounded-cache';

describe('BoundedCache', () => {
  it('holds at most its capacity, dropping the least recently used first', () => {
    const cache = new BoundedCache<string, number>(3);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('d', 4);
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([1, 3, 4]);
  });

  it('a million distinct keys leave it at its capacity', () => {
    const cache = new BoundedCache<string, number>(512);
    for (let i = 0; i < 1_000_000; i++) cache.set(`0x${i.toString(16)}`, i);
    expect(cache.size).toBe(512);
    expect(cache.get('0xf423f')).toBe(999_999);
    expect(cache.get('0x0')).toBeUndefined();
  });

  it('setting a key again replaces its value without growing, and delete removes it', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('a', 2);
    expect(cache.size).toBe(1);
    expect(cache.get('a')).toBe(2);
    expect(cache.delete('a')).toBe(true);
    expect(cache.get('a')).toBeUndefined();
  });
});
