/**
 * A Map with a size cap that drops the least recently touched entry first. Iteration order is
 * insertion/touch order, so a snapshot of `entries()` restores the same eviction order.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  /** Entries dropped because the cap was reached. */
  evicted = 0;

  constructor(readonly maxSize: number, private readonly onEvict?: (key: K, value: V) => void) {}

  get size(): number {
    return this.map.size;
  }

  /** Reads without changing the eviction order. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Reads and marks the entry as recently used. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    if (this.map.has(key)) this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.maxSize) {
      const first = this.map.entries().next();
      if (first.done) break;
      this.map.delete(first.value[0]);
      this.evicted++;
      this.onEvict?.(first.value[0], first.value[1]);
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  /** Entries in eviction order, for a snapshot. */
  toArray(): [K, V][] {
    return [...this.map.entries()];
  }

  load(entries: Iterable<[K, V]>): void {
    this.map.clear();
    for (const [k, v] of entries) this.map.set(k, v);
  }
}
