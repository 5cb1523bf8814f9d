/**
 * A Map with a size cap that drops the least recently touched entry first. Iteration order is
 * insertion/touch order, so a snapshot of `entries()` restores the same eviction order.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  /**
   * One iterator kept across evictions. Every entry it has passed was evicted (deleted) at once, so it
   * always stands before the oldest live entry; a fresh `entries()` per eviction would rescan the
   * deleted slots at the front of the table each time (quadratic at the cap).
   */
  private oldest: IterableIterator<[K, V]> | undefined;
  /** The most recently set or touched key: touching it again changes nothing, so it costs no re-insert. */
  private newest: K | undefined;
  private hasNewest = false;
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
    if (value !== undefined && !(this.hasNewest && this.newest === key)) {
      this.map.delete(key);
      this.map.set(key, value);
      this.newest = key;
      this.hasNewest = true;
    }
    return value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    const before = this.map.size;
    this.map.set(key, value);
    // An existing key moves to the back (most recent), unless it is there already.
    if (this.map.size === before && !(this.hasNewest && this.newest === key)) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    this.newest = key;
    this.hasNewest = true;
    if (this.map.size > this.maxSize) this.evictOverflow();
  }

  /** Adds the key when absent (true) and evicts as `set` does; leaves a present key and its order alone (false). */
  add(key: K, value: V): boolean {
    const before = this.map.size;
    if (!this.map.has(key)) this.map.set(key, value);
    if (this.map.size === before) return false;
    this.newest = key;
    this.hasNewest = true;
    if (this.map.size > this.maxSize) this.evictOverflow();
    return true;
  }

  private evictOverflow(): void {
    while (this.map.size > this.maxSize) {
      this.oldest ??= this.map.entries();
      let first = this.oldest.next();
      if (first.done) {
        this.oldest = this.map.entries();
        first = this.oldest.next();
        if (first.done) break;
      }
      const [k, v] = first.value;
      this.map.delete(k);
      if (this.hasNewest && this.newest === k) this.hasNewest = false;
      this.evicted++;
      this.onEvict?.(k, v);
    }
  }

  delete(key: K): boolean {
    if (this.hasNewest && this.newest === key) this.hasNewest = false;
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
    this.oldest = undefined;
    this.hasNewest = false;
    this.newest = undefined;
    for (const [k, v] of entries) this.map.set(k, v);
  }
}
