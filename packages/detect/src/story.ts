import type { Alert, Severity } from '@tingfeng/contracts';
import { isNegative, type DetectorPost } from './post.js';
import type { ResolvedConfig } from './config.js';
import { fnv1a, fnv1aChar, fnv1aFinish, fnv1aStep } from './hash.js';
import { MAX_EVIDENCE, accountName, buildAlert, bumpCluster, bumpTopK, coordinatedShare, countSchemes, iso, rankOf, round3, schemesField, topKeys } from './shared.js';

/** One story: a group of co-bursting terms. Plain data for the snapshot. */
export interface StoryState {
  key: string;
  seq: number;
  emittedRank: number;
  /**
   * term → [bursting posts carrying it, best significance, anchor 1|0, event ms it last burst]. An anchor burst on its
   * own (a pair's partner alone is context, shown but never joined on); snapshots without the last two: anchors, lastMs.
   */
  terms: StoryTerm[];
  posts: number;
  negative: number;
  accounts: [string, number][];
  clusters: [string, number][];
  postIds: [string, number][];
  firstPostId: string;
  firstMs: number;
  lastMs: number;
  /** Event ms of the newest post that burst in the story (the most recent wins a tie); absent in older snapshots: lastMs. */
  lastBurstMs?: number;
  maxScore: number;
  observed: number;
  expected: number;
  /** Monitoring schemes of the story's posts, [name, posts]; absent until one has any (and in older snapshots). */
  schemes?: [string, number][];
}

/** [term, bursting posts carrying it, best significance, anchor 1|0, event ms it last burst]. */
export type StoryTerm = [string, number, number, number?, number?];

export interface StorySnapshot {
  /** Float32 tables as base64: global mean, variance; per-slot mean, variance; the running slot maximum. */
  mean: string;
  variance: string;
  slotMean: string;
  slotVariance: string;
  slotMax: string;
  /** Open (not yet closed) buckets: [bucket index, counts as base64]. */
  open: [number, string][];
  nextCloseBucket: number | null;
  closedBuckets: number;
  stories: StoryState[];
  foldedLate: number;
}

const MAX_STORY_TERMS = 30;
/** Longest run of empty buckets replayed one by one when the watermark jumps; older ones only decay further. */
const MAX_CATCH_UP_BUCKETS = 2 * 288;

/** A bucket still open: its counts and the cells it touched (in first-touch order). */
interface OpenBucket {
  counts: Float32Array;
  touched: Int32Array;
  touchedCount: number;
}

interface Burst {
  term: string;
  score: number;
  count: number;
  expected: number;
}

/**
 * Story detector in the style of SigniTrend: per-term and per-term-pair document counts per bucket
 * in count-min hashed tables of fixed size, with exponentially weighted mean and variance per cell.
 * Significance is (x − max(mean, β)) / (√var + β) with x the count in the open bucket, so a story is
 * called while its bucket is still filling. Time of day: each cell also keeps, per time-of-day slot,
 * an EW mean/variance of that slot's peak bucket count across days; the expectation is the larger of
 * the two baselines, so a peak that recurs at the same hour is expected from its second day on.
 */
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

export class StoryDetector {
  private readonly size: number;
  private readonly mask: number;
  private mean: Float32Array;
  private variance: Float32Array;
  private slotMean: Float32Array;
  private slotVariance: Float32Array;
  private slotMax: Float32Array;
  /**
   * Lazy decay: `applied[c]` is the first bucket whose close cell c has not seen yet. Closing a bucket
   * updates only the cells counted in it; a cell's empty buckets are replayed when it is next read
   * or written ({@link catchUp}), step by step as the eager update did, so the floats are the same.
   */
  private applied: Int32Array;
  /**
   * 1 when cell c is at rest: an empty bucket changes none of its figures (mean, variance, every slot's baseline, a
   * zero peak), so catching it up over any gap only moves `applied[c]`. Cleared when a bucket counts it.
   */
  private resting: Uint8Array;
  private readonly meanRest: RestBound;
  private readonly slotRest: RestBound;
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
  /** [offset in the day, slot] of every slot end, in offset order. */
  private readonly slotEnds: [number, number][] = [];
  private nextCloseBucket: number | null = null;
  private closedBuckets = 0;
  private stories: StoryState[] = [];
  private foldedLate = 0;
  /** Per-post scratch: the post's terms, the sorted head its pairs are made of, the last cell measured. */
  private readonly terms: string[] = [];
  private readonly head: string[] = [];
  private bestScore = 0;
  private bestCount = 0;
  private bestExpected = 0;

  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly isCoordinated: (clusterId: string) => boolean,
  ) {
    this.size = cfg.storyTableSize;
    this.mask = this.size - 1;
    this.mean = new Float32Array(this.size);
    this.variance = new Float32Array(this.size);
    this.slotMean = new Float32Array(this.size * cfg.storySeasonSlots);
    this.slotVariance = new Float32Array(this.size * cfg.storySeasonSlots);
    this.slotMax = new Float32Array(this.size);
    this.applied = new Int32Array(this.size);
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
    this.firstEndFrom = new Int16Array(this.period);
    for (let b = 0, k = 0; b < this.period; b++) {
      while (k < this.slotEnds.length && this.slotEnds[k]![0] < b) k++;
      this.firstEndFrom[b] = k % Math.max(1, this.slotEnds.length);
    }
    // Replaying a long gap slot by slot assumes each slot ends once a day.
    if (new Set(this.slotEnds.map((e) => e[1])).size !== this.slotEnds.length) this.period = 0;
  }

  /** Story key of a live, alerted story sharing one of these terms. */
  alertedStoryFor(terms: readonly string[]): string | undefined {
    for (const s of this.stories) {
      if (s.seq > 0 && s.terms.some((e) => terms.includes(e[0]))) return s.key;
    }
    return undefined;
  }

  private slotOf(bucket: number): number {
    const localMinutes = Math.floor((bucket * this.cfg.storyBucketMs) / 60_000) + this.cfg.utcOffsetMinutes;
    const minuteOfDay = ((localMinutes % 1440) + 1440) % 1440;
    return Math.floor(minuteOfDay / (1440 / this.cfg.storySeasonSlots));
  }

  /**
   * The terms a post contributes, into `this.terms` (first `storyMaxTermsPerPost` distinct keywords, topics
   * without `#`, tokens, of 2+ characters), and the sorted head the pairs are made of, into `this.head`.
   * Reused arrays: this runs for every post.
   */
  private collectTerms(post: DetectorPost): void {
    const terms = this.terms;
    terms.length = 0;
    const max = this.cfg.storyMaxTermsPerPost;
    if (this.offer(post.keywords, false, max) && this.offer(post.topics, true, max)) this.offer(post.tokens, false, max);
    const head = this.head;
    head.length = 0;
    const n = Math.min(terms.length, this.cfg.storyPairTerms);
    // Insertion sort of at most a handful of distinct terms: the order of Array.prototype.sort (UTF-16 code units).
    for (let i = 0; i < n; i++) {
      const t = terms[i]!;
      let j = head.length;
      while (j > 0 && head[j - 1]! > t) {
        head[j] = head[j - 1]!;
        j--;
      }
      head[j] = t;
    }
  }

  /** Adds a list's new terms to `this.terms`; false once the post has its maximum. */
  private offer(list: readonly string[], topics: boolean, max: number): boolean {
    const terms = this.terms;
    for (let i = 0; i < list.length; i++) {
      const t = topics ? list[i]!.replace(/#/g, '') : list[i]!;
      if (t.length < 2 || terms.includes(t)) continue;
      terms.push(t);
      if (terms.length >= max) return false;
    }
    return true;
  }

  add(post: DetectorPost, clusterId: string | undefined): Alert[] {
    const cfg = this.cfg;
    let bucket = Math.floor(post.createdAtMs / cfg.storyBucketMs);
    if (this.nextCloseBucket === null) {
      this.nextCloseBucket = bucket;
      this.applied.fill(bucket);
    }
    const closedBefore = this.nextCloseBucket;
    if (bucket < this.nextCloseBucket) {
      // Late: its bucket is closed. Its counts go to the oldest open bucket so statistics still see it.
      bucket = this.nextCloseBucket;
      this.foldedLate++;
    }
    let open = this.open.get(bucket);
    if (!open) this.open.set(bucket, (open = this.spare.pop() ?? { counts: new Float32Array(this.size), touched: new Int32Array(this.size), touchedCount: 0 }));
    this.collectTerms(post);
    const terms = this.terms;
    const head = this.head;
    const slotBase = this.slotOf(bucket) * this.size;
    const warm = this.closedBuckets >= cfg.storyWarmupBuckets;
    let bursts: Burst[] | undefined;
    for (let i = 0; i < terms.length; i++) {
      const t = terms[i]!;
      if (this.measure(open, fnv1a(t), slotBase, closedBefore) && warm) (bursts ??= []).push(this.burst(t));
    }
    // Pairs of the sorted head, hashed as `a\u0001b` without building the string.
    for (let i = 0; i < head.length; i++) {
      const a = head[i]!;
      const stateA = fnv1aChar(fnv1aStep(0x811c9dc5, a), 1);
      for (let j = i + 1; j < head.length; j++) {
        const b = head[j]!;
        if (this.measure(open, fnv1aFinish(fnv1aStep(stateA, b)), slotBase, closedBefore) && warm) (bursts ??= []).push(this.burst(`${a}+${b}`));
      }
    }
    // A post that bursts nothing still counts towards a live story it clearly belongs to (two of its anchors): the
    // story's size, accounts and negative share describe all of its posts, not only those that crossed the line.
    let story = this.storyFor(terms, post.createdAtMs, bursts === undefined ? 2 : 1);
    if (bursts === undefined) return story === undefined ? [] : this.attach(post, [], story, clusterId);
    if (story === undefined) story = this.storyKnowing(bursts);
    else this.mergeLinked(story, terms, post.createdAtMs);
    return this.attach(post, bursts, story, clusterId);
  }

  /**
   * A bursting post with no fresh anchor in common with any story: the live story that already holds at least half
   * of the words it bursts with (its anchors gone quiet as the baseline learnt them, the story still going on).
   * A post bursting mostly with words no story has starts a new one.
   */
  private storyKnowing(bursts: readonly Burst[]): StoryState | undefined {
    const words = new Set<string>();
    for (const b of bursts) for (const t of b.term.split('+')) words.add(t);
    let best: StoryState | undefined;
    let bestKnown = 0;
    for (const s of this.stories) {
      let n = 0;
      for (const e of s.terms) if (words.has(e[0])) n++;
      if (n > bestKnown) {
        bestKnown = n;
        best = s;
      }
    }
    return bestKnown * 2 >= words.size ? best : undefined;
  }

  /**
   * A bursting post carrying fresh anchors of two live stories makes them one: they are words bursting together.
   * The younger folds into the older, which keeps its key.
   */
  private mergeLinked(story: StoryState, terms: readonly string[], atMs: number): void {
    const freshFrom = atMs - this.cfg.storyAnchorMs;
    for (const other of [...this.stories]) {
      if (other === story || !other.terms.some((e) => e[3] !== 0 && (e[4] ?? other.lastMs) >= freshFrom && terms.includes(e[0]))) continue;
      const [keep, gone] = other.firstMs < story.firstMs || (other.firstMs === story.firstMs && other.key < story.key) ? [other, story] : [story, other];
      absorbStory(keep, gone);
      this.drop(gone);
      story = keep;
    }
  }

  /**
   * The live story sharing the most anchors with these terms, at least `minShared` (the most recently bursting on a
   * tie). Only anchors that burst within `storyAnchorMs` count: a story is terms bursting together, so a word an old
   * story burst with hours ago does not pull a new story into it, and the everyday words that ride along with a
   * story's own (pair partners, never bursting alone) join nothing.
   */
  private storyFor(terms: readonly string[], atMs: number, minShared: number): StoryState | undefined {
    const freshFrom = atMs - this.cfg.storyAnchorMs;
    let best: StoryState | undefined;
    let bestShared = minShared - 1;
    for (const s of this.stories) {
      let n = 0;
      for (const e of s.terms) if (e[3] !== 0 && (e[4] ?? s.lastMs) >= freshFrom && terms.includes(e[0])) n++;
      if (n > bestShared || (n === bestShared && best !== undefined && n > 0 && (s.lastBurstMs ?? s.lastMs) > (best.lastBurstMs ?? best.lastMs))) {
        bestShared = n;
        best = s;
      }
    }
    return best;
  }

  /**
   * Counts one key (its FNV-1a hash) in the open bucket, in every table row by double hashing
   * (cell_h = h1 + h·h2), and scores it; the least inflated cell is the most truthful (count-min). Leaves that
   * cell's figures in `best*` and says whether they make a burst (before the warm-up test).
   */
  private measure(open: OpenBucket, h1: number, slotBase: number, closedBefore: number): boolean {
    const cfg = this.cfg;
    const counts = open.counts;
    const h2 = ((h1 >>> 15) | 1) >>> 0;
    let bestScore = 0;
    let bestCount = 0;
    let bestExpected = 0;
    for (let h = 0; h < cfg.storyHashes; h++) {
      const cell = (h1 + Math.imul(h, h2)) & this.mask;
      if (counts[cell] === 0) open.touched[open.touchedCount++] = cell;
      const x = ++counts[cell]!;
      this.catchUp(cell, closedBefore);
      const m = Math.max(this.mean[cell]!, this.slotMean[slotBase + cell]!);
      const v = Math.max(this.variance[cell]!, this.slotVariance[slotBase + cell]!);
      const score = (x - Math.max(m, cfg.storyBeta)) / (Math.sqrt(v) + cfg.storyBeta);
      if (h === 0 || score < bestScore) {
        bestScore = score;
        bestCount = x;
        bestExpected = m;
      }
    }
    this.bestScore = bestScore;
    this.bestCount = bestCount;
    this.bestExpected = bestExpected;
    return cfg.storyHashes > 0 && bestCount >= cfg.storyMinCount && bestScore >= cfg.storyMinScore;
  }

  /** The burst {@link measure} just found, under its label. */
  private burst(term: string): Burst {
    return { term, score: this.bestScore, count: this.bestCount, expected: this.bestExpected };
  }

  private attach(post: DetectorPost, bursts: Burst[], existing: StoryState | undefined, clusterId: string | undefined): Alert[] {
    const cfg = this.cfg;
    bursts.sort((a, b) => b.score - a.score || (a.term < b.term ? -1 : 1));
    // Terms that burst alone anchor the story; a bursting pair's partners are context, unless the post has no
    // lone burst at all (a new combination of known words), when the pair's terms anchor it.
    const anchors = new Set<string>();
    for (const b of bursts) if (!b.term.includes('+')) anchors.add(b.term);
    if (anchors.size === 0) for (const b of bursts) for (const t of b.term.split('+')) anchors.add(t);
    const t0 = post.createdAtMs;
    let story = existing;
    if (!story) {
      const core = [...anchors].slice(0, 3).sort();
      const start = iso(Math.floor(post.createdAtMs / cfg.storyBucketMs) * cfg.storyBucketMs).replace(/[-:]|\.\d+Z$/g, '');
      story = {
        key: `story:${core.join('+')}:${start}`,
        seq: 0,
        emittedRank: -1,
        terms: [],
        posts: 0,
        negative: 0,
        accounts: [],
        clusters: [],
        postIds: [],
        firstPostId: post.id,
        firstMs: post.createdAtMs,
        lastMs: post.createdAtMs,
        maxScore: 0,
        observed: 0,
        expected: 0,
      };
      this.stories.push(story);
      if (this.stories.length > cfg.maxStories) this.drop(this.stories[0]!);
    }
    for (const b of bursts) {
      for (const t of b.term.split('+')) {
        const anchor = anchors.has(t) ? 1 : 0;
        const entry = story.terms.find((e) => e[0] === t);
        if (entry) {
          entry[1]++;
          entry[2] = Math.max(entry[2], b.score);
          if (anchor === 1) {
            entry[3] = 1;
            entry[4] = Math.max(entry[4] ?? story.lastMs, t0);
          }
        } else if (story.terms.length < MAX_STORY_TERMS) {
          story.terms.push([t, 1, b.score, anchor, anchor === 1 ? t0 : 0]);
        }
      }
    }
    if (bursts.length > 0) {
      story.lastBurstMs = Math.max(story.lastBurstMs ?? story.lastMs, t0);
      // The anchors a bursting post carries stay fresh while the story goes on, even once their own counts are expected.
      for (const e of story.terms) if (e[3] !== 0 && this.terms.includes(e[0])) e[4] = Math.max(e[4] ?? story.lastMs, t0);
    }
    const top = bursts[0];
    story.posts++;
    if (isNegative(post, this.cfg.negativeMinConfidence)) story.negative++;
    bumpTopK(story.accounts, accountName(post), 50);
    if (clusterId !== undefined) bumpCluster(story.clusters, clusterId, 32);
    story.schemes = countSchemes(story.schemes, post);
    // Evidence: posts that burst (the story's own words), not the everyday posts that share two of them.
    if (bursts.length > 0 && story.postIds.length < MAX_EVIDENCE) story.postIds.push([post.id, post.createdAtMs]);
    if (post.createdAtMs < story.firstMs) {
      story.firstMs = post.createdAtMs;
      story.firstPostId = post.id;
    }
    story.lastMs = Math.max(story.lastMs, post.createdAtMs);
    if (top && top.score > story.maxScore) {
      story.maxScore = top.score;
      story.observed = top.count;
      story.expected = top.expected;
    }
    if (story.posts < cfg.storyMinPosts || story.accounts.length < cfg.storyMinAccounts) return [];
    const severity: Severity = story.maxScore >= cfg.storyCriticalScore ? 'critical' : story.maxScore >= cfg.storyWarningScore ? 'warning' : 'info';
    if (rankOf(severity) <= story.emittedRank) return [];
    story.emittedRank = rankOf(severity);
    story.seq++;
    // Anchors first (most significant first), then the context words that burst with them in pairs.
    const terms = [...story.terms].sort((a, b) => (b[3] ?? 1) - (a[3] ?? 1) || b[2] - a[2] || b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map((e) => e[0]);
    const evidence = [...story.postIds].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map((e) => e[0]);
    const postIds = [story.firstPostId, ...evidence.filter((id) => id !== story.firstPostId)].slice(0, MAX_EVIDENCE);
    return [
      buildAlert(
        {
          key: story.key,
          type: 'story',
          at: post.createdAt,
          severity,
          title: `话题突发: ${terms.slice(0, 4).join(' ')} (${round3(story.observed)} 条/${cfg.storyBucketMs / 60_000}分钟, 预期 ${round3(story.expected)})`,
          terms: terms.slice(0, 20),
          postIds,
          accounts: topKeys(story.accounts, 10),
          observed: round3(story.observed),
          expected: round3(story.expected),
          score: round3(story.maxScore),
          window: { start: iso(story.firstMs), end: post.createdAt },
          negativeShare: round3(story.negative / story.posts),
          coordinatedShare: coordinatedShare(story.clusters, story.posts, this.isCoordinated),
          ...schemesField(story.schemes),
          firstPostId: story.firstPostId,
          posts: story.posts,
          explain: `${story.terms.length} co-bursting terms; best significance ${round3(story.maxScore)} = (x − max(mean, β)) / (√var + β) with x=${round3(story.observed)}, mean=${round3(story.expected)}, β=${cfg.storyBeta}`,
        },
        story.seq,
      ),
    ];
  }

  private drop(story: StoryState): void {
    this.stories = this.stories.filter((s) => s !== story);
  }

  /** Closes every bucket that ends at or before the watermark, updating the baselines, and ends idle stories. */
  closeUpTo(watermarkMs: number): void {
    const cfg = this.cfg;
    if (this.nextCloseBucket !== null) {
      const lastClosable = Math.floor(watermarkMs / cfg.storyBucketMs) - 1;
      if (lastClosable - this.nextCloseBucket > MAX_CATCH_UP_BUCKETS) {
        // A long silence: buckets with no data far behind the watermark are skipped, not replayed.
        let skipTo = lastClosable - MAX_CATCH_UP_BUCKETS;
        for (const b of this.open.keys()) skipTo = Math.min(skipTo, b);
        if (skipTo > this.nextCloseBucket) {
          // Cells owe only the buckets that were really closed: settle them, then start them after the gap.
          this.settleAll();
          this.applied.fill(skipTo);
          this.nextCloseBucket = skipTo;
        }
      }
      while (this.nextCloseBucket <= lastClosable) {
        this.closeBucket(this.nextCloseBucket);
        this.nextCloseBucket++;
      }
    }
    const idleBefore = watermarkMs - cfg.storyIdleMs;
    for (const s of [...this.stories]) if (s.lastMs < idleBefore) this.drop(s);
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
        if (slotEnds) this.foldSlot(slot, c);
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
    const i = slot * this.size + c;
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
    }
    for (let b = from; b < to && !meanAtRest; b++) {
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
    // Each slot ends once a day, and a fold touches only its own slot's baseline: replay slot by slot in the order
    // they end after `from` (the first takes the running peak), each until it is at rest.
    const fromOffset = ((from % period) + period) % period;
    const ends = this.slotEnds;
    const first = this.firstEndFrom[fromOffset]!;
    for (let k = 0, j = first; k < ends.length; k++, j = j + 1 === ends.length ? 0 : j + 1) {
      const end = this.slotEndOffsets[j]!;
      const slot = this.slotEndSlots[j]!;
      const at = from + (end >= fromOffset ? end - fromOffset : end - fromOffset + period);
      if (at >= to) break;
      const n = Math.floor((to - 1 - at) / period) + 1;
      this.foldSlot(slot, c);
      if (n > 1) this.foldZeros(slot, c, n - 1);
    }
    if (to - from < period) return;
    // After a day or more of empty buckets every slot has folded at least once: check whether it all came to rest.
    if (meanAtRest && this.slotMax[c] === 0 && this.slotsAtRest(c)) this.resting[c] = 1;
  }

  /** Folds a zero peak `n` times into slot `slot` of cell c (the slot's ends in a gap after its first). */
  private foldZeros(slot: number, c: number, n: number): void {
    const i = slot * this.size + c;
    const m = this.slotMean[i]!;
    const v = this.slotVariance[i]!;
    if (m === 0 && v === 0) return;
    if (m >= 0 && this.slotRest.within(m, v, n)) {
      this.slotMean[i] = this.slotVariance[i] = 0;
      return;
    }
    for (let j = 0; j < n; j++) if (!this.foldSlot(slot, c)) break;
  }

  /** Whether folding a zero peak would leave every slot baseline of cell c as it is (the arithmetic of foldSlot). */
  private slotsAtRest(c: number): boolean {
    const a = this.cfg.storySeasonAlpha;
    for (let slot = 0; slot < this.cfg.storySeasonSlots; slot++) {
      const i = slot * this.size + c;
      const m = this.slotMean[i]!;
      const v = this.slotVariance[i]!;
      const diff = 0 - m;
      const incr = a * diff;
      const nextM = Math.fround(m + incr);
      const nextV = Math.fround((1 - a) * (v + diff * incr));
      const rest = nextM < MEAN_REST && nextV < VARIANCE_REST;
      if ((rest ? 0 : nextM) !== m || (rest ? 0 : nextV) !== v) return false;
    }
    return true;
  }

  /** Brings every cell up to the closed buckets (before a snapshot or a skipped gap). */
  private settleAll(): void {
    if (this.nextCloseBucket === null) return;
    for (let c = 0; c < this.size; c++) this.catchUp(c, this.nextCloseBucket);
  }

  counts(): { stories: number; storyOpenBuckets: number; storyTableBytes: number; storyClosedBuckets: number; storyFoldedLate: number } {
    const tableBytes = (this.mean.byteLength + this.variance.byteLength + this.slotMean.byteLength + this.slotVariance.byteLength + this.slotMax.byteLength);
    return {
      stories: this.stories.length,
      storyOpenBuckets: this.open.size,
      storyTableBytes: tableBytes + this.applied.byteLength + (this.open.size + this.spare.length) * this.size * 8,
      storyClosedBuckets: this.closedBuckets,
      storyFoldedLate: this.foldedLate,
    };
  }

  snapshot(): StorySnapshot {
    // Settled tables: the snapshot holds the same baselines an eager update would (and any reader can use them).
    this.settleAll();
    return {
      mean: toBase64(this.mean),
      variance: toBase64(this.variance),
      slotMean: toBase64(this.slotMean),
      slotVariance: toBase64(this.slotVariance),
      slotMax: toBase64(this.slotMax),
      open: [...this.open.entries()].sort((a, b) => a[0] - b[0]).map(([b, open]) => [b, toBase64(open.counts)]),
      nextCloseBucket: this.nextCloseBucket,
      closedBuckets: this.closedBuckets,
      stories: structuredClone(this.stories),
      foldedLate: this.foldedLate,
    };
  }

  restore(s: StorySnapshot): void {
    this.mean = fromBase64(s.mean, this.size);
    this.variance = fromBase64(s.variance, this.size);
    this.slotMean = fromBase64(s.slotMean, this.size * this.cfg.storySeasonSlots);
    this.slotVariance = fromBase64(s.slotVariance, this.size * this.cfg.storySeasonSlots);
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
    this.nextCloseBucket = s.nextCloseBucket;
    this.applied.fill(s.nextCloseBucket ?? 0);
    this.resting.fill(0);
    this.closedBuckets = s.closedBuckets;
    this.stories = structuredClone(s.stories);
    this.foldedLate = s.foldedLate;
  }
}

function toBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function fromBase64(s: string, length: number): Float32Array {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.byteLength !== length * 4) throw new Error(`snapshot table has ${bytes.byteLength / 4} cells, expected ${length}`);
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Folds one story's figures into another's (the survivor keeps its key, sequence and severity). */
function absorbStory(keep: StoryState, gone: StoryState): void {
  for (const g of gone.terms) {
    const e = keep.terms.find((x) => x[0] === g[0]);
    if (e === undefined) {
      if (keep.terms.length < MAX_STORY_TERMS) keep.terms.push([...g]);
      continue;
    }
    e[1] += g[1];
    e[2] = Math.max(e[2], g[2]);
    if (g[3] !== 0) {
      e[3] = 1;
      e[4] = Math.max(e[4] ?? keep.lastMs, g[4] ?? gone.lastMs);
    }
  }
  keep.posts += gone.posts;
  keep.negative += gone.negative;
  for (const [a, n] of gone.accounts) bumpTopK(keep.accounts, a, 50, n);
  for (const [c, n] of gone.clusters) for (let i = 0; i < n; i++) bumpCluster(keep.clusters, c, 32);
  for (const [name, n] of gone.schemes ?? []) bumpTopK((keep.schemes ??= []), name, 64, n);
  for (const p of gone.postIds) if (keep.postIds.length < MAX_EVIDENCE && !keep.postIds.some((x) => x[0] === p[0])) keep.postIds.push(p);
  if (gone.firstMs < keep.firstMs) {
    keep.firstMs = gone.firstMs;
    keep.firstPostId = gone.firstPostId;
  }
  keep.lastMs = Math.max(keep.lastMs, gone.lastMs);
  keep.lastBurstMs = Math.max(keep.lastBurstMs ?? keep.lastMs, gone.lastBurstMs ?? gone.lastMs);
  if (gone.maxScore > keep.maxScore) {
    keep.maxScore = gone.maxScore;
    keep.observed = gone.observed;
    keep.expected = gone.expected;
  }
}
