import type { Alert, Severity } from '@tingfeng/contracts';
import { isNegative, type DetectorPost } from './post.js';
import type { ResolvedConfig } from './config.js';
import { BoundedMap } from './lru.js';
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
const binLow = (b: number): number => HIST_FLOOR * 2 ** (b / HIST_PER_OCTAVE);

/**
 * Cascade detector: follows parentId/rootId to the root and tracks, per root, children per minute
 * (velocity) and its change (acceleration) against the stream's normal peak velocity and the
 * author's reach. State is keyed by rootId, so a partition keyed by root holds whole cascades.
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

  /** Peak velocity at the given quantile of ended cascades (or the configured fallback before enough history). */
  criticalVelocity(): number {
    if (this.historyCount < this.cfg.cascadeMinHistory) return this.cfg.cascadeCriticalVelocity;
    const target = this.cfg.cascadeCriticalQuantile * this.historyCount;
    let acc = 0;
    for (let b = 0; b < HIST_BINS; b++) {
      acc += this.history[b]!;
      if (acc >= target) return Math.max(binLow(b + 1), this.cfg.cascadeMinVelocity);
    }
    return binLow(HIST_BINS);
  }

  /** The stream's typical (median) cascade peak velocity. */
  private typicalVelocity(): number {
    if (this.historyCount === 0) return 0;
    let acc = 0;
    for (let b = 0; b < HIST_BINS; b++) {
      acc += this.history[b]!;
      if (acc >= this.historyCount / 2) return binLow(b);
    }
    return 0;
  }

  private evaluate(c: CascadeState, post: DetectorPost): Alert[] {
    const cfg = this.cfg;
    const v = this.velocity(c, c.lastChildMs);
    const vPrev = this.velocity(c, c.lastChildMs - cfg.cascadeVelocityWindowMs);
    c.peakVelocity = Math.max(c.peakVelocity, v);
    if (c.children < cfg.cascadeMinChildren || v < cfg.cascadeMinVelocity) return [];
    const root = this.roots.peek(c.rootId);
    const expected = this.typicalVelocity() + (root?.followers ?? 0) * cfg.cascadeReachRate;
    const score = (v - expected) / (Math.sqrt(expected) + cfg.cascadeBeta);
    if (score < cfg.cascadeMinScore) return [];
    const accel = v - vPrev;
    const projected = v + Math.max(0, accel);
    const threshold = Math.max(cfg.cascadeMinVelocity, expected + cfg.cascadeMinScore * (Math.sqrt(expected) + cfg.cascadeBeta));
    let severity: Severity = 'info';
    if (v >= cfg.cascadeWarningFactor * threshold) severity = 'warning';
    // The early call: still accelerating and projected into the top tenth of peaks seen on this stream.
    if (accel > 0 && projected >= this.criticalVelocity()) severity = 'critical';
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
    return [
      buildAlert(
        {
          key,
          type: 'cascade',
          at: post.createdAt,
          severity: finalSeverity,
          title: `${rootLabel} 的帖子正在扩散: ${c.children} 次转发/评论, ${round3(v)} 条/分钟${root?.text ? ` 「${root.text.slice(0, 30)}」` : ''}`,
          terms: root?.terms ?? [],
          postIds: [c.rootId, ...c.postIds].slice(0, MAX_EVIDENCE),
          rootId: c.rootId,
          observed: round3(v),
          expected: round3(expected),
          score: round3(score),
          window: { start: iso(Math.min(c.firstChildMs, root?.createdAtMs ?? c.firstChildMs)), end: post.createdAt },
          negativeShare,
          coordinatedShare: coordinatedShare(c.clusters, c.children, this.isCoordinated),
          ...schemesField(c.schemes, root?.schemes),
          rootAuthor: root?.author ?? null,
          rootFollowers: root?.followers ?? null,
          children: c.children,
          acceleration: round3(accel),
          depth: c.maxDepth,
          amplifiers: topKeys(c.amplifiers, 10),
          curve: { bucketMs: cfg.cascadeBucketMs, start: iso(firstBucket * cfg.cascadeBucketMs), counts: denseCurve(c.curve) },
          explain: `velocity ${round3(v)}/min vs expected ${round3(expected)}/min (stream median + reach of ${root?.followers ?? 0} followers); acceleration ${round3(accel)}/min per ${cfg.cascadeVelocityWindowMs / 60_000} min; critical at projected ≥ ${round3(this.criticalVelocity())}/min`,
        },
        c.seq,
      ),
    ];
  }

  /** Ends cascades idle since before `watermarkMs − cascadeIdleMs`; their peaks feed the stream's history. */
  expire(watermarkMs: number): void {
    const cutoff = watermarkMs - this.cfg.cascadeIdleMs;
    const ended: string[] = [];
    for (const [id, c] of this.cascades.entries()) if (c.lastChildMs < cutoff) ended.push(id);
    for (const id of ended) {
      const c = this.cascades.peek(id)!;
      this.cascades.delete(id);
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
