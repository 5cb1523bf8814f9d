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

/**
 * The newest `maxSize` distinct keys, each an integer below 2^53, oldest dropped first; adding a key already held
 * changes nothing. What a `BoundedMap<number, 1>` used only through `add` is (its snapshot as entries `[key, 1]` in
 * eviction order), without a Map: the keys in a ring, their slots in an open-addressing table of typed arrays, so a
 * post's duplicate check allocates nothing and touches two arrays.
 */
export class BoundedKeySet {
  /** Keys in insertion order from `head`; `size` of them live. */
  private ring: Float64Array;
  private head = 0;
  private count = 0;
  /** Per table slot: 1 + the ring position of its key, or 0 (empty). Linear probing, deletion by backward shift. */
  private table: Int32Array;
  private mask: number;
  /** Keys dropped because the cap was reached. */
  evicted = 0;

  constructor(readonly maxSize: number) {
    this.ring = new Float64Array(Math.max(1, maxSize + 1));
    this.table = new Int32Array(tableSizeFor(this.ring.length));
    this.mask = this.table.length - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds the key when absent (true), dropping the oldest beyond the cap; false when it is held already. */
  add(key: number): boolean {
    const table = this.table;
    const ring = this.ring;
    let slot = hashKey(key) & this.mask;
    for (let at = table[slot]!; at !== 0; at = table[slot]!) {
      if (ring[at - 1] === key) return false;
      slot = (slot + 1) & this.mask;
    }
    const pos = (this.head + this.count) % ring.length;
    ring[pos] = key;
    table[slot] = pos + 1;
    this.count++;
    while (this.count > this.maxSize) this.dropOldest();
    return true;
  }

  private dropOldest(): void {
    const ring = this.ring;
    const table = this.table;
    const mask = this.mask;
    const pos = this.head;
    let slot = hashKey(ring[pos]!) & mask;
    while (table[slot] !== pos + 1) slot = (slot + 1) & mask;
    // Backward shift: later keys of the probe run move into the hole when their home slot allows it.
    for (let next = (slot + 1) & mask; table[next] !== 0; next = (next + 1) & mask) {
      const home = hashKey(ring[table[next]! - 1]!) & mask;
      if (((next - home) & mask) >= ((next - slot) & mask)) {
        table[slot] = table[next]!;
        slot = next;
      }
    }
    table[slot] = 0;
    this.head = (pos + 1) % ring.length;
    this.count--;
    this.evicted++;
  }

  /** Entries in eviction order, `[key, 1]`, for a snapshot. */
  toArray(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.count; i++) out.push([this.ring[(this.head + i) % this.ring.length]!, 1]);
    return out;
  }

  /** Replaces the keys (oldest first; a key repeated keeps its first place). Beyond the cap, the next add trims. */
  load(entries: Iterable<readonly [number, unknown]>): void {
    const keys: number[] = [];
    const distinct = new Set<number>();
    for (const [k] of entries) {
      if (distinct.has(k)) continue;
      distinct.add(k);
      keys.push(k);
    }
    this.ring = new Float64Array(Math.max(this.maxSize, keys.length) + 1);
    this.table = new Int32Array(tableSizeFor(this.ring.length));
    this.mask = this.table.length - 1;
    this.head = 0;
    this.count = 0;
    for (const k of keys) {
      let slot = hashKey(k) & this.mask;
      while (this.table[slot] !== 0) slot = (slot + 1) & this.mask;
      this.ring[this.count] = k;
      this.table[slot] = ++this.count;
    }
  }
}

/** A power of two at least twice `n`: probe runs stay short. */
function tableSizeFor(n: number): number {
  let size = 8;
  while (size < 2 * n) size *= 2;
  return size;
}

/** Mixes both 32-bit halves of an integer key below 2^53. */
function hashKey(key: number): number {
  const lo = key >>> 0;
  const hi = (key - lo) / 4294967296;
  const h = Math.imul(lo ^ Math.imul(hi | 0, 0x9e3779b1), 0x85ebca6b);
  return (h ^ (h >>> 15)) >>> 0;
}
