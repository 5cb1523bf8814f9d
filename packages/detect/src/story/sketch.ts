import type { ResolvedConfig } from '../config.js';
import { fromBase64, toBase64, type StorySnapshot } from './snapshot.js';

/** Longest run of empty buckets replayed one by one when the watermark jumps; older ones only decay further. */
const MAX_CATCH_UP_BUCKETS = 2 * 288;

/**
 * A baseline whose mean falls below MEAN_REST and variance below VARIANCE_REST (documents per bucket, squared) is set
 * to exactly 0, where empty buckets then leave it. No score can tell it from 0 (√VARIANCE_REST = 1e-12 against β), and
 * without the floor a float32 takes ~1,000 empty buckets to come to rest in the denormals, which a sparse history
 * (weeks between posts) made every post pay for each of its cells.
 */
const MEAN_REST = 1e-12;
const VARIANCE_REST = 1e-24;

/** Steps covered by a {@link RestBound} table; longer gaps use its last entry (a larger bound: still sound). */
const REST_TABLE_STEPS = 2048;

/**
 * Whether `n` empty steps (mean·keep, variance·keep + the mean's share; see catchUp) surely bring (m, v) under the
 * rest floor: then the step-by-step replay would end at exactly (0, 0), and it need not be run. The bound
 * m_k ≤ m·q^k, v_k ≤ q^k·(v + m²) holds with q = keep·(1 + 1e-6), far above float32 rounding's 2^-24 per operation.
 */
class RestBound {
  private readonly decay: Float64Array;

  constructor(keep: number) {
    const q = keep * (1 + 1e-6);
    this.decay = new Float64Array(REST_TABLE_STEPS);
    for (let n = 0; n < REST_TABLE_STEPS; n++) this.decay[n] = q < 1 ? q ** n : 1;
  }

  within(m: number, v: number, n: number): boolean {
    const decay = this.decay[Math.min(n, REST_TABLE_STEPS - 1)]!;
    return m * decay < MEAN_REST && (v + m * m) * decay < VARIANCE_REST;
  }
}

/** The {@link DecayMemo} holds 2^DECAY_MEMO_BITS entries. */
const DECAY_MEMO_BITS = 14;
const DECAY_MEMO_SIZE = 1 << DECAY_MEMO_BITS;

/**
 * Remembers where n empty buckets take a cell's (mean, variance): the replay is a pure function of the three, and on a
 * real history most cells that wake after a gap start from one of few states (counted once or twice, then idle), so
 * the same replays recur (in the dev file, 5.7 M of the 6.9 M catch-ups that replay start from a triple seen before).
 * Direct mapped; a miss costs one probe, and floats are compared exactly, so a hit is the replay's result to the bit.
 */
class DecayMemo {
  private readonly keyMean = new Float32Array(DECAY_MEMO_SIZE);
  private readonly keyVariance = new Float32Array(DECAY_MEMO_SIZE);
  private readonly keySteps = new Int32Array(DECAY_MEMO_SIZE).fill(-1);
  private readonly outMean = new Float32Array(DECAY_MEMO_SIZE);
  private readonly outVariance = new Float32Array(DECAY_MEMO_SIZE);
  private readonly outRest = new Uint8Array(DECAY_MEMO_SIZE);
  /** The entry the last {@link find} probed, where {@link keep} writes. */
  private slot = 0;
  mean = 0;
  variance = 0;
  atRest = false;

  /** Whether (m, v, n) was replayed before; then `mean`, `variance` and `atRest` hold the outcome. */
  find(m: number, v: number, n: number): boolean {
    const i = (Math.imul((m * 1e9) | 0, 0x9e3779b1) ^ Math.imul((v * 1e9) | 0, 0x85ebca6b) ^ Math.imul(n, 0xc2b2ae35)) >>> (32 - DECAY_MEMO_BITS);
    this.slot = i;
    if (this.keySteps[i] !== n || this.keyMean[i] !== m || this.keyVariance[i] !== v) return false;
    this.mean = this.outMean[i]!;
    this.variance = this.outVariance[i]!;
    this.atRest = this.outRest[i] === 1;
    return true;
  }

  /** Records the outcome of the (m, v, n) that {@link find} just missed. */
  keep(m: number, v: number, n: number, outM: number, outV: number, atRest: boolean): void {
    const i = this.slot;
    this.keySteps[i] = n;
    this.keyMean[i] = m;
    this.keyVariance[i] = v;
    this.outMean[i] = outM;
    this.outVariance[i] = outV;
    this.outRest[i] = atRest ? 1 : 0;
  }
}

/** A bucket still open: its counts and the cells it touched (in first-touch order). */
interface OpenBucket {
  counts: Float32Array;
  touched: Int32Array;
  touchedCount: number;
}

/** The tables of a {@link StorySnapshot}: everything but the stories. */
export type SketchSnapshot = Omit<StorySnapshot, 'stories'>;

/**
 * The counting half of the story detector, in the style of SigniTrend: per-term and per-term-pair document counts
 * per bucket in count-min hashed tables of fixed size, with exponentially weighted mean and variance per cell.
 * Significance is (x − max(mean, β)) / (√var + β) with x the count in the open bucket, so a burst is seen while its
 * bucket is still filling. Time of day: each cell also keeps, per time-of-day slot, an EW mean/variance of that
 * slot's peak bucket count across days; the expectation is the larger of the two baselines, so a peak that recurs
 * at the same hour is expected from its second day on.
 *
 * Lazy decay: `applied[c]` is the first bucket whose close cell c has not seen yet. Closing a bucket updates only the
 * cells counted in it; a cell's empty buckets are replayed when it is next read or written ({@link catchUp}), step by
 * step as the eager update did, so the floats are the same.
 */
export class BurstSketch {
  private readonly size: number;
  private readonly mask: number;
  private mean: Float32Array;
  private variance: Float32Array;
  /**
   * Per cell and time-of-day slot, cell-major (`c * slots + slot`): a cell's slots sit side by side, so catching one
   * cell up over a day (every slot folds) reads two cache lines, not 24 table rows apart. Snapshots keep the
   * slot-major layout they always had ({@link snapshot}, {@link restore} transpose).
   */
  private slotMean: Float32Array;
  private slotVariance: Float32Array;
  private readonly slots: number;
  private slotMax: Float32Array;
  private applied: Int32Array;
  /**
   * When the day is a whole number of buckets: per cell and slot (cell-major, as `slotMean`), the first bucket whose
   * end-of-slot fold that baseline has not seen. Folds of a zero peak are owed lazily, slot by slot: a slot's baseline
   * is brought up to date only when it is read (the post's own slot, in {@link measure}) or folds a real peak, so a
   * cell that wakes after a day catches up one or two of its 24 slots, not all of them. Each slot still gets the same
   * folds in the same order, so the floats are those of the eager update.
   */
  private slotApplied: Int32Array;
  /** Per cell and slot: zero folds owed from before a skipped silence ({@link closeUpTo}), on top of `slotApplied`'s. */
  private slotOwed: Int32Array;
  /**
   * 1 when cell c is at rest: an empty bucket changes neither its mean nor its variance, and it has no peak to fold,
   * so catching it up over any gap only moves `applied[c]` (its slot baselines keep what they owe, `slotApplied`; with
   * a day that is not a whole number of buckets, never set). Cleared when a bucket counts it.
   */
  private resting: Uint8Array;
  private readonly meanRest: RestBound;
  private readonly slotRest: RestBound;
  private readonly decayMemo = new DecayMemo();
  private open = new Map<number, OpenBucket>();
  /** Zeroed count arrays of closed buckets, reused by the next ones. */
  private spare: OpenBucket[] = [];
  /** Buckets per day when a day is a whole number of buckets (the slot pattern repeats), else 0. */
  private period: number;
  /** Per bucket offset in the day (bucket mod period): the slot that ends with it, or -1. */
  private readonly slotEndAt: Int16Array;
  /** Per bucket offset in the day: the index in `slotEnds` of the first slot end at or after it (wrapping). */
  private readonly firstEndFrom: Int16Array;
  /** `slotEnds` as two arrays, for the replay loop. */
  private readonly slotEndOffsets: Int32Array;
  private readonly slotEndSlots: Int32Array;
  /** Per slot, the offset in the day of the bucket that ends it. */
  private readonly slotEndOffsetOf: Int32Array;
  /** [offset in the day, slot] of every slot end, in offset order. */
  private readonly slotEnds: [number, number][] = [];
  private nextCloseBucket: number | null = null;
  private closedBuckets = 0;
  private foldedLate = 0;
  /** The post being counted ({@link begin}): its open bucket, time-of-day slot, and the first bucket not yet closed. */
  private current: OpenBucket | undefined;
  private slot = 0;
  private closedBefore = 0;
  /** The least inflated cell of the last key measured: its significance, count and expectation. */
  score = 0;
  count = 0;
  expected = 0;

  constructor(private readonly cfg: ResolvedConfig) {
    this.size = cfg.storyTableSize;
    this.mask = this.size - 1;
    this.mean = new Float32Array(this.size);
    this.variance = new Float32Array(this.size);
    this.slots = cfg.storySeasonSlots;
    this.slotMean = new Float32Array(this.size * cfg.storySeasonSlots);
    this.slotVariance = new Float32Array(this.size * cfg.storySeasonSlots);
    this.slotMax = new Float32Array(this.size);
    this.applied = new Int32Array(this.size);
    this.slotApplied = new Int32Array(this.size * cfg.storySeasonSlots);
    this.slotOwed = new Int32Array(this.size * cfg.storySeasonSlots);
    this.resting = new Uint8Array(this.size);
    this.meanRest = new RestBound(1 - cfg.storyAlpha);
    this.slotRest = new RestBound(1 - cfg.storySeasonAlpha);
    const perDay = 86_400_000 / cfg.storyBucketMs;
    this.period = Number.isInteger(perDay) ? perDay : 0;
    this.slotEndAt = new Int16Array(this.period).fill(-1);
    for (let b = 0; b < this.period; b++) {
      const slot = this.slotOf(b);
      if (this.slotOf(b + 1) !== slot) {
        this.slotEndAt[b] = slot;
        this.slotEnds.push([b, slot]);
      }
    }
    this.slotEndOffsets = Int32Array.from(this.slotEnds, (e) => e[0]);
    this.slotEndSlots = Int32Array.from(this.slotEnds, (e) => e[1]);
    this.slotEndOffsetOf = new Int32Array(this.slots);
    for (const [offset, slot] of this.slotEnds) this.slotEndOffsetOf[slot] = offset;
    this.firstEndFrom = new Int16Array(this.period);
    for (let b = 0, k = 0; b < this.period; b++) {
      while (k < this.slotEnds.length && this.slotEnds[k]![0] < b) k++;
      this.firstEndFrom[b] = k % Math.max(1, this.slotEnds.length);
    }
    // Replaying a long gap slot by slot assumes each slot ends once a day.
    if (new Set(this.slotEnds.map((e) => e[1])).size !== this.slotEnds.length) this.period = 0;
  }

  private slotOf(bucket: number): number {
    const localMinutes = Math.floor((bucket * this.cfg.storyBucketMs) / 60_000) + this.cfg.utcOffsetMinutes;
    const minuteOfDay = ((localMinutes % 1440) + 1440) % 1440;
    return Math.floor(minuteOfDay / (1440 / this.cfg.storySeasonSlots));
  }

  /**
   * Opens the count of one post at event time `createdAtMs`: the keys {@link measure}d next go to its bucket (a late
   * post's, whose bucket is closed, to the oldest open one, so statistics still see it). True once the baselines
   * have seen `storyWarmupBuckets` closed buckets (before that nothing may burst).
   */
  begin(createdAtMs: number): boolean {
    let bucket = Math.floor(createdAtMs / this.cfg.storyBucketMs);
    if (this.nextCloseBucket === null) {
      this.nextCloseBucket = bucket;
      this.applied.fill(bucket);
      this.slotApplied.fill(bucket);
    }
    this.closedBefore = this.nextCloseBucket;
    if (bucket < this.nextCloseBucket) {
      bucket = this.nextCloseBucket;
      this.foldedLate++;
    }
    let open = this.open.get(bucket);
    if (!open) this.open.set(bucket, (open = this.spare.pop() ?? { counts: new Float32Array(this.size), touched: new Int32Array(this.size), touchedCount: 0 }));
    this.current = open;
    this.slot = this.slotOf(bucket);
    return this.closedBuckets >= this.cfg.storyWarmupBuckets;
  }

  /**
   * Counts one key (its FNV-1a hash) in the post's bucket, in every table row by double hashing (cell_h = h1 + h·h2),
   * and scores it; the least inflated cell is the most truthful (count-min). Leaves that cell's figures in `score`,
   * `count`, `expected` and says whether they make a burst (before the warm-up test).
   */
  measure(h1: number): boolean {
    const cfg = this.cfg;
    const open = this.current!;
    const counts = open.counts;
    const slot = this.slot;
    const slots = this.slots;
    const h2 = ((h1 >>> 15) | 1) >>> 0;
    let bestScore = 0;
    let bestCount = 0;
    let bestExpected = 0;
    for (let h = 0; h < cfg.storyHashes; h++) {
      const cell = (h1 + Math.imul(h, h2)) & this.mask;
      if (counts[cell] === 0) open.touched[open.touchedCount++] = cell;
      const x = ++counts[cell]!;
      this.catchUp(cell, this.closedBefore);
      if (this.period !== 0) this.settleSlot(cell, slot, this.closedBefore);
      const m = Math.max(this.mean[cell]!, this.slotMean[cell * slots + slot]!);
      const v = Math.max(this.variance[cell]!, this.slotVariance[cell * slots + slot]!);
      const score = (x - Math.max(m, cfg.storyBeta)) / (Math.sqrt(v) + cfg.storyBeta);
      if (h === 0 || score < bestScore) {
        bestScore = score;
        bestCount = x;
        bestExpected = m;
      }
    }
    this.score = bestScore;
    this.count = bestCount;
    this.expected = bestExpected;
    return cfg.storyHashes > 0 && bestCount >= cfg.storyMinCount && bestScore >= cfg.storyMinScore;
  }

  /** Closes every bucket that ends at or before the watermark, updating the baselines. */
  closeUpTo(watermarkMs: number): void {
    const cfg = this.cfg;
    if (this.nextCloseBucket === null) return;
    const lastClosable = Math.floor(watermarkMs / cfg.storyBucketMs) - 1;
    if (lastClosable - this.nextCloseBucket > MAX_CATCH_UP_BUCKETS) {
      // A long silence: buckets with no data far behind the watermark are skipped, not replayed.
      let skipTo = lastClosable - MAX_CATCH_UP_BUCKETS;
      for (const b of this.open.keys()) skipTo = Math.min(skipTo, b);
      if (skipTo > this.nextCloseBucket) {
        // Cells owe only the buckets that were really closed: settle them, then start them after the gap.
        this.settleAll(false);
        this.applied.fill(skipTo);
        if (this.period !== 0) this.owePendingSlots(skipTo);
        this.nextCloseBucket = skipTo;
      }
    }
    while (this.nextCloseBucket <= lastClosable) {
      this.closeBucket(this.nextCloseBucket);
      this.nextCloseBucket++;
    }
  }

  /** Updates the baselines of the cells counted in the bucket; every other cell catches up when next used. */
  private closeBucket(bucket: number): void {
    const cfg = this.cfg;
    const open = this.open.get(bucket);
    this.open.delete(bucket);
    if (open) {
      const alpha = cfg.storyAlpha;
      const { counts, touched } = open;
      const mean = this.mean;
      const variance = this.variance;
      const slotMax = this.slotMax;
      const slot = this.slotOf(bucket);
      const slotEnds = this.slotOf(bucket + 1) !== slot;
      for (let i = 0; i < open.touchedCount; i++) {
        const c = touched[i]!;
        this.catchUp(c, bucket);
        const x = counts[c]!;
        counts[c] = 0;
        // Robust EW update: a burst moves the baseline by at most `clip` deviations per bucket, so a
        // story that keeps growing is not absorbed into "normal" within a few buckets.
        const clip = cfg.storyClip * (Math.sqrt(variance[c]!) + cfg.storyBeta);
        const diff = Math.min(x - mean[c]!, clip);
        const incr = alpha * diff;
        mean[c] = mean[c]! + incr;
        variance[c] = (1 - alpha) * (variance[c]! + diff * incr);
        if (x > slotMax[c]!) slotMax[c] = x;
        // The slot's last bucket today: fold its peak into the slot's baseline across days.
        if (slotEnds) {
          if (this.period !== 0) {
            this.settleSlot(c, slot, bucket);
            this.slotApplied[c * this.slots + slot] = bucket + 1;
          }
          this.foldSlot(slot, c);
        }
        this.applied[c] = bucket + 1;
        this.resting[c] = 0;
      }
      open.touchedCount = 0;
      if (this.spare.length < 4) this.spare.push(open);
    }
    this.closedBuckets++;
  }

  /** Folds cell c's peak of the slot that just ended into that slot's baseline; false when nothing changed. */
  private foldSlot(slot: number, c: number): boolean {
    const a = this.cfg.storySeasonAlpha;
    const i = c * this.slots + slot;
    const x = this.slotMax[c]!;
    this.slotMax[c] = 0;
    const m = this.slotMean[i]!;
    const v = this.slotVariance[i]!;
    const diff = x - m;
    const incr = a * diff;
    this.slotMean[i] = m + incr;
    this.slotVariance[i] = (1 - a) * (v + diff * incr);
    if (this.slotMean[i]! < MEAN_REST && this.slotVariance[i]! < VARIANCE_REST) this.slotMean[i] = this.slotVariance[i] = 0;
    return this.slotMean[i] !== m || this.slotVariance[i] !== v;
  }

  /**
   * Replays, for cell c, the closes of buckets [applied[c], to) in which it had no documents, exactly as
   * the eager update did them (same float32 roundings). An empty bucket's update depends only on the
   * cell's own state, so once a step changes nothing (the cell is at rest) the remaining ones are skipped.
   */
  private catchUp(c: number, to: number): void {
    const from = this.applied[c]!;
    if (from >= to) return;
    this.applied[c] = to;
    if (this.resting[c] === 1) return;
    const cfg = this.cfg;
    const alpha = cfg.storyAlpha;
    let m = this.mean[c]!;
    let v = this.variance[c]!;
    let meanAtRest = false;
    // An empty bucket moves the mean down (0 − m ≤ 0, since the mean never goes below 0), never by more than the clip
    // (≥ clip·β > 0): the clip is never hit, so it is not computed.
    if (m >= 0 && this.meanRest.within(m, v, to - from)) {
      m = 0;
      v = 0;
      meanAtRest = true;
    } else if (this.decayMemo.find(m, v, to - from)) {
      m = this.decayMemo.mean;
      v = this.decayMemo.variance;
      meanAtRest = this.decayMemo.atRest;
    } else {
      const m0 = m;
      const v0 = v;
      for (let b = from; b < to; b++) {
        const diff = m >= 0 ? 0 - m : Math.min(0 - m, cfg.storyClip * (Math.sqrt(v) + cfg.storyBeta));
        const incr = alpha * diff;
        let nextM = Math.fround(m + incr);
        let nextV = Math.fround((1 - alpha) * (v + diff * incr));
        if (nextM < MEAN_REST && nextV < VARIANCE_REST) nextM = nextV = 0;
        if (nextM === m && nextV === v) {
          meanAtRest = true;
          break;
        }
        m = nextM;
        v = nextV;
      }
      this.decayMemo.keep(m0, v0, to - from, m, v, meanAtRest);
    }
    this.mean[c] = m;
    this.variance[c] = v;
    // Slot ends in the gap: the first folds the cell's running peak, the others fold 0.
    const period = this.period;
    if (period === 0) {
      for (let b = from; b < to; b++) {
        const slot = this.slotOf(b);
        if (this.slotOf(b + 1) !== slot) this.foldSlot(slot, c);
      }
      return;
    }
    // The zero folds are owed (settleSlot); only a real peak is folded now, into the first slot that ends in the gap,
    // after that slot's own owed folds.
    const x = this.slotMax[c]!;
    if (x !== 0) {
      const fromOffset = ((from % period) + period) % period;
      const j = this.firstEndFrom[fromOffset]!;
      const end = this.slotEndOffsets[j]!;
      const at = from + (end >= fromOffset ? end - fromOffset : end - fromOffset + period);
      if (at < to) {
        const slot = this.slotEndSlots[j]!;
        this.settleSlot(c, slot, at);
        this.slotMax[c] = 0;
        this.foldRun(c * this.slots + slot, x, Math.floor((to - 1 - at) / period) + 1);
        this.slotApplied[c * this.slots + slot] = to;
      }
    }
    // With the slots owed lazily, an empty bucket changes nothing once the mean is at rest and no peak is pending.
    if (meanAtRest && this.slotMax[c] === 0) this.resting[c] = 1;
  }

  /**
   * Brings cell c's baseline of `slot` up to bucket `to`: the folds of a zero peak at that slot's ends in
   * [slotApplied, to), each until it is at rest.
   */
  private settleSlot(c: number, slot: number, to: number): void {
    const i = c * this.slots + slot;
    const from = this.slotApplied[i]!;
    let n = this.slotOwed[i]!;
    if (from >= to && n === 0) return;
    this.slotOwed[i] = 0;
    if (from < to) {
      this.slotApplied[i] = to;
      n += this.slotEndsBetween(slot, from, to);
    }
    if (n > 0) this.foldRun(i, 0, n);
  }

  /** How many times `slot` ends in buckets [from, to): its ends are at `end + k·period`. */
  private slotEndsBetween(slot: number, from: number, to: number): number {
    const end = this.slotEndOffsetOf[slot]!;
    return Math.floor((to - 1 - end) / this.period) - Math.floor((from - 1 - end) / this.period);
  }

  /**
   * Before a skipped silence: every slot's folds up to the closed buckets become owed counts, and its baseline starts
   * again at `skipTo` (where the cells' own replay starts). Counting is cheaper than folding 24 slots of every cell.
   */
  private owePendingSlots(skipTo: number): void {
    const to = this.nextCloseBucket!;
    for (let c = 0, i = 0; c < this.size; c++) {
      for (let slot = 0; slot < this.slots; slot++, i++) {
        const from = this.slotApplied[i]!;
        if (from < to) this.slotOwed[i] = this.slotOwed[i]! + this.slotEndsBetween(slot, from, to);
        this.slotApplied[i] = skipTo;
      }
    }
  }

  /**
   * Slot baseline `i` (cell-major) over `n` ends of its slot in a gap: the first folds peak `x`, the others a zero
   * peak, each until it is at rest. The float32 steps of {@link foldSlot}, on locals, stored once.
   */
  private foldRun(i: number, x: number, n: number): void {
    let m = this.slotMean[i]!;
    let v = this.slotVariance[i]!;
    // Nothing folded into a baseline at rest leaves it there.
    if (x === 0 && m === 0 && v === 0) return;
    const a = this.cfg.storySeasonAlpha;
    let diff = x - m;
    let incr = a * diff;
    m = Math.fround(m + incr);
    v = Math.fround((1 - a) * (v + diff * incr));
    if (m < MEAN_REST && v < VARIANCE_REST) m = v = 0;
    if (n > 1 && (m !== 0 || v !== 0)) {
      if (m >= 0 && this.slotRest.within(m, v, n - 1)) m = v = 0;
      else {
        for (let j = 1; j < n; j++) {
          diff = 0 - m;
          incr = a * diff;
          let nextM = Math.fround(m + incr);
          let nextV = Math.fround((1 - a) * (v + diff * incr));
          if (nextM < MEAN_REST && nextV < VARIANCE_REST) nextM = nextV = 0;
          if (nextM === m && nextV === v) break;
          m = nextM;
          v = nextV;
        }
      }
    }
    this.slotMean[i] = m;
    this.slotVariance[i] = v;
  }

  /** Brings every cell up to the closed buckets (before a snapshot or a skipped gap). */
  private settleAll(slots = true): void {
    if (this.nextCloseBucket === null) return;
    for (let c = 0; c < this.size; c++) this.catchUp(c, this.nextCloseBucket);
    if (slots && this.period !== 0) for (let c = 0; c < this.size; c++) for (let slot = 0; slot < this.slots; slot++) this.settleSlot(c, slot, this.nextCloseBucket);
  }

  counts(): { storyOpenBuckets: number; storyTableBytes: number; storyClosedBuckets: number; storyFoldedLate: number } {
    const tableBytes = this.mean.byteLength + this.variance.byteLength + this.slotMean.byteLength + this.slotVariance.byteLength + this.slotMax.byteLength;
    return {
      storyOpenBuckets: this.open.size,
      storyTableBytes: tableBytes + this.applied.byteLength + this.slotApplied.byteLength + this.slotOwed.byteLength + (this.open.size + this.spare.length) * this.size * 8,
      storyClosedBuckets: this.closedBuckets,
      storyFoldedLate: this.foldedLate,
    };
  }

  /** Settled tables: the snapshot holds the same baselines an eager update would (and any reader can use them). */
  snapshot(): SketchSnapshot {
    this.settleAll();
    return {
      mean: toBase64(this.mean),
      variance: toBase64(this.variance),
      slotMean: toBase64(transpose(this.slotMean, this.size, this.slots)),
      slotVariance: toBase64(transpose(this.slotVariance, this.size, this.slots)),
      slotMax: toBase64(this.slotMax),
      open: [...this.open.entries()].sort((a, b) => a[0] - b[0]).map(([b, open]) => [b, toBase64(open.counts)]),
      nextCloseBucket: this.nextCloseBucket,
      closedBuckets: this.closedBuckets,
      foldedLate: this.foldedLate,
    };
  }

  restore(s: SketchSnapshot): void {
    this.mean = fromBase64(s.mean, this.size);
    this.variance = fromBase64(s.variance, this.size);
    this.slotMean = transpose(fromBase64(s.slotMean, this.size * this.slots), this.slots, this.size);
    this.slotVariance = transpose(fromBase64(s.slotVariance, this.size * this.slots), this.slots, this.size);
    this.slotMax = fromBase64(s.slotMax, this.size);
    this.open = new Map(
      s.open.map(([b, base64]) => {
        const counts = fromBase64(base64, this.size);
        const touched = new Int32Array(this.size);
        let touchedCount = 0;
        for (let c = 0; c < this.size; c++) if (counts[c] !== 0) touched[touchedCount++] = c;
        return [b, { counts, touched, touchedCount }];
      }),
    );
    this.spare = [];
    this.current = undefined;
    this.nextCloseBucket = s.nextCloseBucket;
    this.applied.fill(s.nextCloseBucket ?? 0);
    this.slotApplied.fill(s.nextCloseBucket ?? 0);
    this.slotOwed.fill(0);
    this.resting.fill(0);
    this.closedBuckets = s.closedBuckets;
    this.foldedLate = s.foldedLate;
  }
}

/** A `rows × cols` table (row-major) as `cols × rows`. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = a[r * cols + k]!;
  return out;
}
