import type { Alert, Severity } from '@tingfeng/contracts';
import { isNegative, type DetectorPost } from './post.js';
import type { ResolvedConfig } from './config.js';
import { BoundedMap } from './lru.js';
import { DEFAULT_GROWTH_MODEL, forecastPeak, GROWTH_MODEL_NAME, growthFeatures, type GrowthModel } from './cascade-model.js';
import { MAX_EVIDENCE, accountName, buildAlert, bumpCluster, bumpTopK, coordinatedShare, countSchemes, iso, rankOf, round3, schemesField, topKeys } from './shared.js';

/** What is known of a root post before or while its reposts arrive. */
export interface RootInfo {
  author: string;
  followers: number;
  createdAtMs: number;
  text: string;
  /** The root post's keywords: what the cascade is about. Absent in snapshots from before it was added. */
  terms?: string[];
  /** The root post's monitoring schemes, when it has any. */
  schemes?: string[];
}

/** One cascade's state: plain data, so it snapshots as JSON. */
export interface CascadeState {
  rootId: string;
  /** Alerts emitted under this cascade's key (the id sequence). */
  seq: number;
  /** Severity rank of the last emission, −1 before any. */
  emittedRank: number;
  lastEmittedChildren: number;
  children: number;
  replies: number;
  negativeReplies: number;
  /** [bucket index, children] ascending; the growth curve. */
  curve: [number, number][];
  firstChildMs: number;
  lastChildMs: number;
  peakVelocity: number;
  /** Highest trailing-hour count of children seen (at bucket resolution); absent in older snapshots. */
  peakHour?: number;
  maxDepth: number;
  /** Accounts whose posts drew child reposts, space-saving top-k. */
  amplifiers: [string, number][];
  clusters: [string, number][];
  postIds: string[];
  /** Monitoring schemes of the children, [name, posts]; absent until a child has one (and in older snapshots). */
  schemes?: [string, number][];
}

export interface CascadeSnapshot {
  roots: [string, RootInfo][];
  /** post id → [root id, depth, author name]. */
  index: [string, [string, number, string]][];
  cascades: [string, CascadeState][];
  /** Histogram of ended cascades' peak velocities, {@link HIST_BINS} log-spaced bins. */
  history: number[];
  historyCount: number;
}

const HIST_BINS = 80;
const HIST_PER_OCTAVE = 4;
/** Velocity (children/min) at the lower edge of bin 0. */
const HIST_FLOOR = 0.1;

const binOf = (v: number): number =>
  Math.max(0, Math.min(HIST_BINS - 1, Math.floor(HIST_PER_OCTAVE * Math.log2(Math.max(v, HIST_FLOOR) / HIST_FLOOR))));

/**
 * Cascade detector: follows parentId/rootId to the root and tracks, per root, children per one-minute bucket (the
 * growth curve). At each child, the growth model (`cascade-model.ts`) forecasts the highest trailing-hour count the
 * cascade will still reach, with an interval: `info` when it is likely to reach {@link ResolvedConfig.cascadeAlertPerHour},
 * `warning` at a real chance of the critical level (or at the level), `critical` when the level is forecast with
 * confidence and not yet reached. State is keyed by rootId, so a partition keyed by root holds whole cascades.
 */
export class CascadeDetector {
  private readonly roots: BoundedMap<string, RootInfo>;
  private readonly index: BoundedMap<string, [string, number, string]>;
  private readonly cascades: BoundedMap<string, CascadeState>;
  private history = new Array<number>(HIST_BINS).fill(0);
  private historyCount = 0;

  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly isCoordinated: (clusterId: string) => boolean,
    private readonly model: Readonly<GrowthModel> = DEFAULT_GROWTH_MODEL,
  ) {
    this.roots = new BoundedMap(cfg.maxRoots);
    this.index = new BoundedMap(cfg.maxPostIndex);
    this.cascades = new BoundedMap(cfg.maxCascades, (_k, c) => this.retire(c));
  }

  /** Is this root's cascade alerted (for response tracking)? Returns its key if so. */
  alertedKey(rootId: string): string | undefined {
    const c = this.cascades.peek(rootId);
    return c && c.seq > 0 ? `cascade:${rootId}` : undefined;
  }

  /** The root a post belongs to, if it is a repost or comment; undefined for an original post. */
  rootOf(post: DetectorPost): string | undefined {
    if (post.rootId !== undefined && post.rootId !== post.id) return post.rootId;
    if (post.parentId !== undefined) return this.index.peek(post.parentId)?.[0] ?? post.parentId;
    return undefined;
  }

  add(post: DetectorPost, clusterId: string | undefined): Alert[] {
    const cfg = this.cfg;
    const rootId = this.rootOf(post);
    if (rootId === undefined) {
      const info: RootInfo = {
        author: accountName(post),
        followers: post.author.followers ?? 0,
        createdAtMs: post.createdAtMs,
        text: post.ownText.slice(0, 60),
        terms: post.keywords.slice(0, 8),
      };
      if (post.schemes && post.schemes.length > 0) info.schemes = post.schemes;
      this.roots.set(post.id, info);
      this.index.set(post.id, [post.id, 0, accountName(post)]);
      return [];
    }
    const parent = post.parentId !== undefined ? this.index.peek(post.parentId) : undefined;
    const depth = parent ? parent[1] + 1 : post.parentId === undefined || post.parentId === rootId ? Math.max(1, post.repostChain.length + 1) : post.repostChain.length + 2;
    this.index.set(post.id, [rootId, depth, accountName(post)]);

    let c = this.cascades.get(rootId);
    if (c === undefined) {
      c = {
        rootId,
        seq: 0,
        emittedRank: -1,
        lastEmittedChildren: 0,
        children: 0,
        replies: 0,
        negativeReplies: 0,
        curve: [],
        firstChildMs: post.createdAtMs,
        lastChildMs: post.createdAtMs,
        peakVelocity: 0,
        maxDepth: 0,
        amplifiers: [],
        clusters: [],
        postIds: [],
      };
      this.cascades.set(rootId, c);
    }
    c.children++;
    if (post.ownText.trim() !== '') {
      c.replies++;
      if (isNegative(post, cfg.negativeMinConfidence)) c.negativeReplies++;
    }
    c.firstChildMs = Math.min(c.firstChildMs, post.createdAtMs);
    c.lastChildMs = Math.max(c.lastChildMs, post.createdAtMs);
    c.maxDepth = Math.max(c.maxDepth, depth);
    this.addToCurve(c, Math.floor(post.createdAtMs / cfg.cascadeBucketMs));
    // 引爆点: credit the account whose post this child reposted, when that is not the root itself.
    if (parent && post.parentId !== rootId) bumpTopK(c.amplifiers, parent[2], cfg.maxAmplifiers);
    if (clusterId !== undefined) bumpCluster(c.clusters, clusterId, 32);
    c.schemes = countSchemes(c.schemes, post);
    if (c.postIds.length < MAX_EVIDENCE - 1) c.postIds.push(post.id);

    return this.evaluate(c, post);
  }

  private addToCurve(c: CascadeState, bucket: number): void {
    const curve = c.curve;
    let i = curve.length - 1;
    while (i >= 0 && curve[i]![0] > bucket) i--;
    if (i >= 0 && curve[i]![0] === bucket) curve[i]![1]++;
    else curve.splice(i + 1, 0, [bucket, 1]);
    if (curve.length > this.cfg.maxCurveBuckets) curve.shift();
  }

  /** Children per minute in the window (endMs − windowMs, endMs]. */
  private velocity(c: CascadeState, endMs: number): number {
    const bucketMs = this.cfg.cascadeBucketMs;
    const last = Math.floor(endMs / bucketMs);
    const first = last - Math.round(this.cfg.cascadeVelocityWindowMs / bucketMs) + 1;
    let n = 0;
    for (let i = c.curve.length - 1; i >= 0; i--) {
      const [b, count] = c.curve[i]!;
      if (b < first) break;
      if (b <= last) n += count;
    }
    return n / (this.cfg.cascadeVelocityWindowMs / 60_000);
  }

  private evaluate(c: CascadeState, post: DetectorPost): Alert[] {
    const cfg = this.cfg;
    const v = this.velocity(c, c.lastChildMs);
    c.peakVelocity = Math.max(c.peakVelocity, v);
    const root = this.roots.peek(c.rootId);
    const { x, hour } = growthFeatures({
      curve: c.curve,
      bucketMs: cfg.cascadeBucketMs,
      nowMs: c.lastChildMs,
      startMs: Math.min(c.firstChildMs, root?.createdAtMs ?? c.firstChildMs),
      followers: root?.followers ?? 0,
    });
    // Before any `critical`: has the cascade already reached the level (is it among the largest already)?
    const reachedBefore = (c.peakHour ?? 0) >= cfg.cascadeCriticalPerHour;
    c.peakHour = Math.max(c.peakHour ?? 0, hour);
    if (hour < cfg.cascadeMinHourReposts) return [];
    const f = forecastPeak(this.model, x, cfg.cascadeCriticalPerHour);
    const pAlert = forecastPeak(this.model, x, cfg.cascadeAlertPerHour).pLevel;
    let severity: Severity | undefined;
    if (pAlert >= cfg.cascadeForecastProbability) severity = 'info';
    if (f.pLevel >= cfg.cascadeWarningProbability || hour >= cfg.cascadeCriticalPerHour) severity = 'warning';
    // The forecast call: it will be among the largest of the period, and it is not yet.
    if (f.pLevel >= cfg.cascadeForecastProbability && !reachedBefore && hour < cfg.cascadeCriticalPerHour) severity = 'critical';
    if (severity === undefined) return [];
    const rank = Math.max(rankOf(severity), c.emittedRank);
    const grew = c.emittedRank >= 0 && c.children >= c.lastEmittedChildren * cfg.cascadeReemitGrowth;
    if (rank <= c.emittedRank && !grew) return [];
    const finalSeverity = (['info', 'warning', 'critical'] as const)[rank]!;
    c.emittedRank = rank;
    c.lastEmittedChildren = c.children;
    c.seq++;
    const key = `cascade:${c.rootId}`;
    const firstBucket = c.curve[0]?.[0] ?? 0;
    const negativeShare = c.replies > 0 ? round3(c.negativeReplies / c.replies) : 0;
    const rootLabel = root ? `@${root.author}` : c.rootId;
    const median = Math.round(f.median);
    const low = Math.round(f.low);
    const high = Math.round(f.high);
    const forecast = {
      peakPerHour: median,
      low,
      high,
      interval: 0.8,
      level: cfg.cascadeCriticalPerHour,
      pLevel: round3(f.pLevel),
      alertLevel: cfg.cascadeAlertPerHour,
      pAlert: round3(pAlert),
      model: GROWTH_MODEL_NAME,
    };
    return [
      buildAlert(
        {
          key,
          type: 'cascade',
          at: post.createdAt,
          severity: finalSeverity,
          title: `${rootLabel} 的帖子正在扩散: 近1小时 ${hour} 次转发/评论, 预计峰值 ${median}/小时 (${low}–${high})${root?.text ? ` 「${root.text.slice(0, 30)}」` : ''}`,
          terms: root?.terms ?? [],
          postIds: [c.rootId, ...c.postIds].slice(0, MAX_EVIDENCE),
          rootId: c.rootId,
          observed: hour,
          expected: median,
          score: round3(f.pLevel),
          window: { start: iso(Math.min(c.firstChildMs, root?.createdAtMs ?? c.firstChildMs)), end: post.createdAt },
          negativeShare,
          coordinatedShare: coordinatedShare(c.clusters, c.children, this.isCoordinated),
          ...schemesField(c.schemes, root?.schemes),
          rootAuthor: root?.author ?? null,
          rootFollowers: root?.followers ?? null,
          children: c.children,
          velocity: round3(v),
          depth: c.maxDepth,
          amplifiers: topKeys(c.amplifiers, 10),
          curve: { bucketMs: cfg.cascadeBucketMs, start: iso(firstBucket * cfg.cascadeBucketMs), counts: denseCurve(c.curve) },
          forecast,
          explain: `${hour} reposts in the trailing hour; the growth model forecasts a peak of ${median}/h (80 % interval ${low}–${high}), P(≥ ${cfg.cascadeAlertPerHour}/h) = ${round3(pAlert)}, P(≥ ${cfg.cascadeCriticalPerHour}/h) = ${round3(f.pLevel)}; info at P(≥ ${cfg.cascadeAlertPerHour}/h) ≥ ${cfg.cascadeForecastProbability}, critical at P ≥ ${cfg.cascadeForecastProbability} before the level is reached, warning at P ≥ ${cfg.cascadeWarningProbability} or at the level`,
        },
        c.seq,
      ),
    ];
  }

  /** Ends cascades idle since before `watermarkMs − cascadeIdleMs`; their peaks feed the stream's history. */
  expire(watermarkMs: number): void {
    const cutoff = watermarkMs - this.cfg.cascadeIdleMs;
    // Over the values (a cascade is keyed by its rootId): entries() builds a [key, value] pair per cascade, and this
    // runs every housekeeping minute of event time over up to maxCascades of them.
    const ended: CascadeState[] = [];
    for (const c of this.cascades.values()) if (c.lastChildMs < cutoff) ended.push(c);
    for (const c of ended) {
      this.cascades.delete(c.rootId);
      this.retire(c);
    }
  }

  private retire(c: CascadeState): void {
    if (c.children < this.cfg.cascadeHistoryMinChildren) return;
    this.history[binOf(c.peakVelocity)]!++;
    this.historyCount++;
  }

  counts(): { cascades: number; roots: number; postIndex: number; cascadeHistory: number; evicted: number } {
    return {
      cascades: this.cascades.size,
      roots: this.roots.size,
      postIndex: this.index.size,
      cascadeHistory: this.historyCount,
      evicted: this.cascades.evicted + this.roots.evicted + this.index.evicted,
    };
  }

  snapshot(): CascadeSnapshot {
    return {
      roots: this.roots.toArray(),
      index: this.index.toArray(),
      cascades: this.cascades.toArray(),
      history: [...this.history],
      historyCount: this.historyCount,
    };
  }

  restore(s: CascadeSnapshot): void {
    this.roots.load(s.roots);
    this.index.load(s.index);
    this.cascades.load(s.cascades);
    this.history = [...s.history];
    this.historyCount = s.historyCount;
  }
}

/** The growth curve as counts per bucket from its first bucket, gaps filled with zeros. */
function denseCurve(curve: [number, number][]): number[] {
  if (curve.length === 0) return [];
  const first = curve[0]![0];
  const last = curve[curve.length - 1]![0];
  const out = new Array<number>(Math.min(last - first + 1, 1440)).fill(0);
  for (const [b, n] of curve) if (b - first < out.length) out[b - first] = n;
  return out;
}
