/**
 * Aho–Corasick over UTF-16 units: every keyword found in one pass, whatever their number. Written here rather
 * than taken from npm because the matcher needs only "which keywords occur" (no positions, no replacement), which
 * fits in a few dozen lines with typed arrays and no allocation per scan.
 *
 * Units are first mapped to a small alphabet (the units keywords hold; 0 for every other, which sends the scan
 * back to the root at once). When states × alphabet is small enough (a few hundred schemes), the transitions are
 * a dense table with the failure links folded in: one array read per character.
 */
export class KeywordAutomaton {
  private readonly next: Map<number, number>[] = [new Map()];
  /** Pattern id ending at a node, or -1. */
  private readonly terminal: number[] = [-1];
  private fail = new Int32Array(0);
  /** Nearest proper suffix node that ends a pattern (0 when none). */
  private outLink = new Int32Array(0);
  /** First node to report at a state: itself if it ends a pattern, else its `outLink` (0: nothing). */
  private firstOut = new Int32Array(0);
  private readonly ids = new Map<string, number>();
  /** Alphabet index of each UTF-16 unit; 0 for units no keyword holds. */
  private readonly classOf = new Uint16Array(0x10000);
  private classes = 0;
  /** states × (classes + 1) transitions with failure links resolved, or undefined when too large. */
  private dense: Int32Array | undefined;

  /** Length of each keyword, by id. */
  readonly lengths: number[] = [];

  get size(): number {
    return this.ids.size;
  }

  /** Adds a keyword (already in normal form) and returns its id; the same keyword gets the same id. */
  add(keyword: string): number {
    const known = this.ids.get(keyword);
    if (known !== undefined) return known;
    let node = 0;
    for (let i = 0; i < keyword.length; i++) {
      const unit = keyword.charCodeAt(i);
      if (this.classOf[unit] === 0) this.classOf[unit] = ++this.classes;
      const c = this.classOf[unit]!;
      let child = this.next[node]!.get(c);
      if (child === undefined) {
        child = this.next.length;
        this.next.push(new Map());
        this.terminal.push(-1);
        this.next[node]!.set(c, child);
      }
      node = child;
    }
    const id = this.ids.size;
    this.terminal[node] = id;
    this.ids.set(keyword, id);
    this.lengths.push(keyword.length);
    return id;
  }

  /** Computes failure and output links (and the dense table), breadth first. Call once after the last `add`. */
  build(maxDenseEntries: number): void {
    const count = this.next.length;
    this.fail = new Int32Array(count);
    this.outLink = new Int32Array(count);
    this.firstOut = new Int32Array(count);
    const order: number[] = [0];
    for (let head = 0; head < order.length; head++) {
      const node = order[head]!;
      for (const [c, child] of this.next[node]!) {
        let suffix = 0;
        if (node !== 0) {
          let f = this.fail[node]!;
          let target = this.next[f]!.get(c);
          while (target === undefined && f !== 0) {
            f = this.fail[f]!;
            target = this.next[f]!.get(c);
          }
          suffix = target ?? 0;
        }
        this.fail[child] = suffix;
        this.outLink[child] = this.terminal[suffix]! >= 0 ? suffix : this.outLink[suffix]!;
        order.push(child);
      }
    }
    for (let node = 1; node < count; node++) this.firstOut[node] = this.terminal[node]! >= 0 ? node : this.outLink[node]!;
    const width = this.classes + 1;
    if (count * width > maxDenseEntries) return;
    const dense = new Int32Array(count * width);
    // Breadth-first, so a node's failure state (shallower) is complete before the node copies its row.
    for (const node of order) {
      const row = node * width;
      const failRow = this.fail[node]! * width;
      for (let c = 1; c < width; c++) dense[row + c] = this.next[node]!.get(c) ?? (node === 0 ? 0 : dense[failRow + c]!);
    }
    this.dense = dense;
  }

  /** Calls `found(id)` for each keyword occurrence in `text` (ASCII folded to lower case on the fly). */
  scan(text: string, found: (id: number) => void): void {
    const classOf = this.classOf;
    const terminal = this.terminal;
    const outLink = this.outLink;
    const firstOut = this.firstOut;
    const dense = this.dense;
    const width = this.classes + 1;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      let unit = text.charCodeAt(i);
      if (unit >= 65 && unit <= 90) unit += 32;
      const c = classOf[unit]!;
      // A unit no keyword holds has no transition from anywhere: back to the root, no lookups.
      if (c === 0) {
        state = 0;
        continue;
      }
      if (dense !== undefined) state = dense[state * width + c]!;
      else state = this.step(state, c);
      for (let node = firstOut[state]!; node !== 0; node = outLink[node]!) found(terminal[node]!);
    }
  }

  private step(from: number, c: number): number {
    let state = from;
    let target = this.next[state]!.get(c);
    while (target === undefined && state !== 0) {
      state = this.fail[state]!;
      target = this.next[state]!.get(c);
    }
    return target ?? 0;
  }
}
