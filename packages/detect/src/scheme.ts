import type { Alert, Severity } from '@tingfeng/contracts';
import { isNegative, type DetectorPost } from './post.js';
import type { ResolvedConfig } from './config.js';
import { BoundedMap } from './lru.js';
import { MAX_EVIDENCE, buildAlert, bumpTopK, iso, rankOf, round3, topKeys } from './shared.js';

/** One scheme's counts in one open bucket. */
export interface SchemeBucket {
  bucket: number;
  posts: number;
  negative: number;
  /** First posts of the bucket, and its first negative ones (evidence). */
  postIds: string[];
  negativeIds: string[];
  /** Keywords of the bucket's posts, space-saving top-k: the alert's terms. */
  terms: [string, number][];
}

/** A burst in progress: one key per burst, however many buckets it spans. */
export interface SchemeBurst {
  signal: SchemeSignal;
  key: string;
  startBucket: number;
  lastBucket: number;
  seq: number;
  emittedRank: number;
  postIds: string[];
}

/** What rose: the scheme's volume, or its share of negative posts. */
export type SchemeSignal = 'volume' | 'negative';

/** One scheme's baselines and open buckets: plain data for the snapshot. */
export interface SchemeState {
  name: string;
  /**
   * Buckets closed for this scheme (its warm-up). A scheme first seen on a stream already watched for the warm-up
   * starts warm with a baseline of 0: it had no post all that time.
   */
  closed: number;
  /** EW mean and variance of posts per bucket. */
  mean: number;
  variance: number;
  /** Per time-of-day slot: EW mean and variance of the slot's peak bucket, across days. */
  slotMean: number[];
  slotVariance: number[];
  /** Peak bucket of the slot in progress. */
  slotMax: number;
  /** EW negative share, each bucket weighted by its posts (a bucket of a few posts barely moves it). */
  negMean: number;
  /** Posts behind `negMean`, in units of `schemeNegativeMinPosts`, capped at 1: the baseline is known at 1. */
  negWeight: number;
  /** Per slot: negative share of the slot on its last day with enough posts, or −1 before any. */
  slotNeg: number[];
  /** Posts and negative posts of the slot in progress. */
  slotPosts: number;
  slotNegative: number;
  open: SchemeBucket[];
  bursts: SchemeBurst[];
}

export interface SchemeSnapshot {
  nextCloseBucket: number | null;
  /** Buckets closed since the first post. */
  closedBuckets: number;
  schemes: [string, SchemeState][];
  /** Scheme names dropped because `maxSchemes` were tracked (least recently active first). */
  evicted: number;
}

/** A burst continues across at most this many quiet buckets; after that, the next rise is a new burst (new key). */
const BURST_GAP_BUCKETS = 2;
/** Longest run of buckets replayed one by one when the watermark jumps (two days of 5-minute buckets). */
const MAX_CATCH_UP_BUCKETS = 2 * 288;
const MAX_BUCKET_TERMS = 20;

/**
 * Monitoring-scheme detector: per scheme (posts carry `schemes`, tagged by the analyzer), the posts per bucket of
 * `storyBucketMs` against an EW mean/variance with hour-of-day baselines (as the story detector, but one plain
 * entry per scheme: schemes are few and configured), and the share of negative posts against its own baseline.
 * Raises a `scheme` alert while the bucket fills when the volume's significance (x − max(mean, β)) / (√var + β)
 * reaches `schemeMinScore`, or when the negative share rises `schemeNegativeJump` above its baseline (and is
 * significant for the bucket's size). The warm-up is the stream's: a scheme first seen after it has a baseline of
 * zero (no post so far). Over the warm-up the baselines learn exactly (running mean), then with the story
 * settings' α and clipping, so a burst is not learnt as normal at once.
 *
 * A scheme an admin adds while its topic is already loud therefore alerts once on its first buckets: the detector
 * cannot tell a new scheme from a new topic.
 */
export class SchemeDetector {
  private schemes: BoundedMap<string, SchemeState>;
  private nextCloseBucket: number | null = null;
  private closedBuckets = 0;

  constructor(private readonly cfg: ResolvedConfig) {
    this.schemes = new BoundedMap(cfg.maxSchemes);
  }

  private slotOf(bucket: number): number {
    const localMinutes = Math.floor((bucket * this.cfg.storyBucketMs) / 60_000) + this.cfg.utcOffsetMinutes;
    const minuteOfDay = ((localMinutes % 1440) + 1440) % 1440;
    return Math.floor(minuteOfDay / (1440 / this.cfg.storySeasonSlots));
  }

  /** Counts a post (every post: the stream's clock starts the warm-up) in the buckets of its schemes. */
  add(post: DetectorPost): Alert[] {
    const cfg = this.cfg;
    let bucket = Math.floor(post.createdAtMs / cfg.storyBucketMs);
    this.nextCloseBucket ??= bucket;
    const names = post.schemes;
    if (names === undefined || names.length === 0) return [];
    // Late: its bucket is closed; it counts in the oldest open one, so the statistics still see it.
    if (bucket < this.nextCloseBucket) bucket = this.nextCloseBucket;
    const out: Alert[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      const state = this.schemes.get(name) ?? this.create(name);
      let open = state.open.find((b) => b.bucket === bucket);
      if (!open) {
        open = { bucket, posts: 0, negative: 0, postIds: [], negativeIds: [], terms: [] };
        state.open.push(open);
        state.open.sort((a, b) => a.bucket - b.bucket);
      }
      open.posts++;
      if (open.postIds.length < MAX_EVIDENCE) open.postIds.push(post.id);
      if (isNegative(post, this.cfg.negativeMinConfidence)) {
        open.negative++;
        if (open.negativeIds.length < MAX_EVIDENCE) open.negativeIds.push(post.id);
      }
      for (const k of post.keywords.slice(0, 5)) bumpTopK(open.terms, k, MAX_BUCKET_TERMS);
      out.push(...this.evaluate(state, open, post));
    }
    return out;
  }

  private create(name: string): SchemeState {
    const slots = this.cfg.storySeasonSlots;
    const state: SchemeState = {
      name,
      closed: Math.min(this.closedBuckets, this.cfg.schemeWarmupBuckets),
      mean: 0,
      variance: 0,
      slotMean: new Array<number>(slots).fill(0),
      slotVariance: new Array<number>(slots).fill(0),
      slotMax: 0,
      negMean: 0,
      negWeight: 0,
      slotNeg: new Array<number>(slots).fill(-1),
      slotPosts: 0,
      slotNegative: 0,
      open: [],
      bursts: [],
    };
    this.schemes.set(name, state);
    return state;
  }

  private evaluate(s: SchemeState, open: SchemeBucket, post: DetectorPost): Alert[] {
    const cfg = this.cfg;
    if (s.closed < cfg.schemeWarmupBuckets) return [];
    const slot = this.slotOf(open.bucket);
    const out: Alert[] = [];
    const x = open.posts;
    const m = Math.max(s.mean, s.slotMean[slot]!);
    // Counts are at least Poisson-noisy (variance ≥ mean): an EW variance that happens to run low must not make
    // an ordinary fluctuation of a busy scheme significant.
    const v = Math.max(s.variance, s.slotVariance[slot]!, m);
    const score = (x - Math.max(m, cfg.storyBeta)) / (Math.sqrt(v) + cfg.storyBeta);
    if (x >= cfg.schemeMinCount && score >= cfg.schemeMinScore) {
      const severity: Severity = score >= cfg.schemeCriticalScore ? 'critical' : score >= cfg.schemeWarningScore ? 'warning' : 'info';
      const alert = this.burst(s, 'volume', open, post, severity, open.postIds, {
        title: `监测方案「${s.name}」声量突增: ${x} 条/${cfg.storyBucketMs / 60_000}分钟, 预期 ${round3(m)}`,
        observed: x,
        expected: round3(m),
        score: round3(score),
        explain: `volume significance ${round3(score)} = (x − max(mean, β)) / (√var + β) with x=${x}, mean=${round3(m)}, √var=${round3(Math.sqrt(v))}, β=${cfg.storyBeta} (hour-of-day baseline included)`,
      });
      if (alert) out.push(alert);
    }
    if (x >= cfg.schemeNegativeMinPosts && s.negWeight >= 1) {
      const share = open.negative / x;
      const seasonal = s.slotNeg[slot]!;
      const base = Math.max(s.negMean, seasonal);
      // The rise must be large (schemeNegativeJump) and unlikely for a bucket this size (binomial z).
      const p = Math.min(0.95, Math.max(0.05, base));
      const z = (share - base) / Math.sqrt((p * (1 - p)) / x);
      if (share - base >= cfg.schemeNegativeJump && z >= cfg.schemeNegativeMinScore) {
        const severity: Severity = share - base >= 2 * cfg.schemeNegativeJump ? 'warning' : 'info';
        const alert = this.burst(s, 'negative', open, post, severity, [...open.negativeIds, ...open.postIds], {
          title: `监测方案「${s.name}」负面占比上升: ${Math.round(share * 100)}% (基线 ${Math.round(base * 100)}%), ${x} 条/${cfg.storyBucketMs / 60_000}分钟`,
          observed: round3(share),
          expected: round3(base),
          score: round3(share - base),
          explain: `negative share ${round3(share)} of ${x} posts vs baseline ${round3(base)} (EW and hour-of-day); rise ≥ ${cfg.schemeNegativeJump}, binomial z ${round3(z)} ≥ ${cfg.schemeNegativeMinScore}`,
        });
        if (alert) out.push(alert);
      }
    }
    return out;
  }

  /** Joins the scheme's burst of this signal (or starts one) and emits when its severity rose. */
  private burst(
    s: SchemeState,
    signal: SchemeSignal,
    open: SchemeBucket,
    post: DetectorPost,
    severity: Severity,
    evidence: readonly string[],
    fields: { title: string; observed: number; expected: number; score: number; explain: string },
  ): Alert | undefined {
    const cfg = this.cfg;
    let b = s.bursts.find((x) => x.signal === signal);
    if (!b || open.bucket - b.lastBucket > BURST_GAP_BUCKETS) {
      if (b) s.bursts = s.bursts.filter((x) => x !== b);
      const start = iso(open.bucket * cfg.storyBucketMs).replace(/[-:]|\.\d+Z$/g, '');
      b = { signal, key: `scheme:${s.name}:${signal}:${start}`, startBucket: open.bucket, lastBucket: open.bucket, seq: 0, emittedRank: -1, postIds: [] };
      s.bursts.push(b);
    }
    b.lastBucket = Math.max(b.lastBucket, open.bucket);
    const rank = rankOf(severity);
    if (rank <= b.emittedRank) return undefined;
    b.emittedRank = rank;
    b.seq++;
    // Evidence: what the burst showed first, then this bucket's posts.
    const ids = [...new Set([...b.postIds, ...evidence])].slice(0, MAX_EVIDENCE);
    b.postIds = ids;
    return buildAlert(
      {
        key: b.key,
        type: 'scheme',
        at: post.createdAt,
        severity,
        title: fields.title,
        terms: topKeys(open.terms, 10),
        postIds: ids,
        observed: fields.observed,
        expected: fields.expected,
        score: fields.score,
        window: { start: iso(b.startBucket * cfg.storyBucketMs), end: post.createdAt },
        negativeShare: round3(open.negative / open.posts),
        schemes: [s.name],
        scheme: s.name,
        signal,
        posts: open.posts,
        explain: fields.explain,
      },
      b.seq,
    );
  }

  /** Closes every bucket that ends at or before the watermark: every scheme's baselines take its count (0 if none). */
  closeUpTo(watermarkMs: number): void {
    if (this.nextCloseBucket === null) return;
    const lastClosable = Math.floor(watermarkMs / this.cfg.storyBucketMs) - 1;
    if (lastClosable - this.nextCloseBucket > MAX_CATCH_UP_BUCKETS) {
      // A long silence: empty buckets far behind the watermark are skipped, not replayed.
      let skipTo = lastClosable - MAX_CATCH_UP_BUCKETS;
      for (const [, s] of this.schemes.entries()) for (const o of s.open) skipTo = Math.min(skipTo, o.bucket);
      this.nextCloseBucket = Math.max(this.nextCloseBucket, skipTo);
    }
    while (this.nextCloseBucket <= lastClosable) {
      const bucket = this.nextCloseBucket;
      for (const [, s] of this.schemes.entries()) this.closeBucket(s, bucket);
      this.nextCloseBucket++;
      this.closedBuckets++;
    }
  }

  private closeBucket(s: SchemeState, bucket: number): void {
    const cfg = this.cfg;
    const at = s.open.findIndex((b) => b.bucket === bucket);
    const open = at >= 0 ? s.open[at] : undefined;
    if (at >= 0) s.open.splice(at, 1);
    const x = open?.posts ?? 0;
    const negative = open?.negative ?? 0;
    // Warm-up: a running mean and variance of the buckets so far (α = 1/n), unclipped, so a scheme created on a
    // topic already under way learns its level rather than alerting on it; then the story settings' EW update.
    const warming = s.closed < cfg.schemeWarmupBuckets;
    const alpha = warming ? Math.max(cfg.storyAlpha, 1 / (s.closed + 1)) : cfg.storyAlpha;
    const clip = warming ? Number.POSITIVE_INFINITY : cfg.storyClip * (Math.sqrt(s.variance) + cfg.storyBeta);
    const diff = Math.min(x - s.mean, clip);
    const incr = alpha * diff;
    s.mean += incr;
    s.variance = (1 - alpha) * (s.variance + diff * incr);
    if (x > 0) {
      const weight = Math.min(1, x / cfg.schemeNegativeMinPosts);
      if (s.negWeight === 0) s.negMean = negative / x;
      else s.negMean += cfg.storyAlpha * weight * (negative / x - s.negMean);
      s.negWeight = Math.min(1, s.negWeight + weight);
    }
    s.slotMax = Math.max(s.slotMax, x);
    s.slotPosts += x;
    s.slotNegative += negative;
    const slot = this.slotOf(bucket);
    if (this.slotOf(bucket + 1) !== slot) {
      // The slot's last bucket today: its peak joins the slot's baseline across days.
      const a = cfg.storySeasonAlpha;
      const d = s.slotMax - s.slotMean[slot]!;
      const inc = a * d;
      s.slotMean[slot] = s.slotMean[slot]! + inc;
      s.slotVariance[slot] = (1 - a) * (s.slotVariance[slot]! + d * inc);
      // A share is learnt whole from one day with enough posts: a recurring negative hour is expected the next day.
      if (s.slotPosts >= cfg.schemeNegativeMinPosts) {
        const share = s.slotNegative / s.slotPosts;
        s.slotNeg[slot] = s.slotNeg[slot]! < 0 ? share : s.slotNeg[slot]! + a * (share - s.slotNeg[slot]!);
      }
      s.slotMax = 0;
      s.slotPosts = 0;
      s.slotNegative = 0;
    }
    s.closed++;
    if (s.bursts.length > 0) s.bursts = s.bursts.filter((b) => bucket - b.lastBucket <= BURST_GAP_BUCKETS);
  }

  counts(): { schemes: number; schemesEvicted: number } {
    return { schemes: this.schemes.size, schemesEvicted: this.schemes.evicted };
  }

  snapshot(): SchemeSnapshot {
    return structuredClone({ nextCloseBucket: this.nextCloseBucket, closedBuckets: this.closedBuckets, schemes: this.schemes.toArray(), evicted: this.schemes.evicted });
  }

  restore(s: SchemeSnapshot): void {
    this.schemes = new BoundedMap(this.cfg.maxSchemes);
    this.schemes.load(structuredClone(s.schemes));
    this.schemes.evicted = s.evicted;
    this.nextCloseBucket = s.nextCloseBucket;
    this.closedBuckets = s.closedBuckets;
  }
}
