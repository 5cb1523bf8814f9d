import { describe, expect, it } from 'vitest';
import { BoundedKeySet, BoundedMap } from './lru.js';

/** The plain LRU the BoundedMap must match: delete and re-insert on every touch, evict from the front. */
class ReferenceLru {
  readonly map = new Map<number, number>();
  evicted: number[] = [];
  constructor(private readonly max: number) {}
  touch(k: number, v?: number): void {
    const value = v ?? this.map.get(k);
    if (value === undefined) return;
    this.map.delete(k);
    this.map.set(k, value);
    while (this.map.size > this.max) {
      const first = this.map.keys().next().value as number;
      this.map.delete(first);
      this.evicted.push(first);
    }
  }
}

describe('BoundedMap', () => {
  it('evicts and iterates exactly as an LRU that re-inserts on every touch, whatever the mix of operations', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const evicted: number[] = [];
    const map = new BoundedMap<number, number>(50, (k) => evicted.push(k));
    const ref = new ReferenceLru(50);
    for (let i = 0; i < 20_000; i++) {
      const k = rand(120);
      const op = rand(10);
      if (op < 3) {
        map.set(k, i);
        ref.touch(k, i);
      } else if (op < 5) {
        expect(map.get(k)).toBe(ref.map.get(k));
        ref.touch(k);
      } else if (op < 7) {
        const added = map.add(k, i);
        expect(added).toBe(!ref.map.has(k));
        if (added) ref.touch(k, i);
      } else if (op < 8) {
        expect(map.delete(k)).toBe(ref.map.delete(k));
      } else if (op < 9) {
        expect(map.peek(k)).toBe(ref.map.get(k));
      } else if (i % 97 === 0) {
        map.load(map.toArray());
      }
      if (i % 500 === 0) expect(map.toArray()).toEqual([...ref.map.entries()]);
    }
    expect(map.toArray()).toEqual([...ref.map.entries()]);
    expect(evicted).toEqual(ref.evicted);
    expect(map.evicted).toBe(ref.evicted.length);
  });
});

describe('BoundedKeySet', () => {
  it('holds, drops and snapshots exactly as a BoundedMap<number, 1> used through add', () => {
    let seed = 11;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    // Keys of 52 bits drawn from a small pool, so that repeats, probe runs and wrap-around all occur.
    const pool = Array.from({ length: 300 }, (_, i) => (rand(0xfffff) * 0x100000000 + rand(0x7fffffff) * 2 + (i & 1)));
    for (const max of [0, 1, 7, 64]) {
      const set = new BoundedKeySet(max);
      const map = new BoundedMap<number, number>(max);
      for (let i = 0; i < 5_000; i++) {
        if (i === 2_500) {
          // A snapshot taken with a larger cap, restored: the next add trims it.
          const bigger = new BoundedMap<number, number>(max + 40);
          for (const [k, v] of map.toArray()) bigger.add(k, v);
          for (let j = 0; j < 60; j++) bigger.add(pool[rand(pool.length)]!, 1);
          set.load(bigger.toArray());
          map.load(bigger.toArray());
          expect(set.toArray()).toEqual(map.toArray());
        }
        const k = pool[rand(pool.length)]!;
        expect(set.add(k)).toBe(map.add(k, 1));
        expect(set.size).toBe(map.size);
      }
      expect(set.toArray()).toEqual(map.toArray());
      expect(set.evicted).toBe(map.evicted);
    }
  });
});
