import type { Alert } from '@tingfeng/contracts';
import { fnv1a } from './hash.js';

/**
 * Scoring of alerts against real repost cascades, from the data alone (`../shared/data/README.md`): a cascade's
 * truth is its trailing-hour repost count, measured at each repost; its onset at level K is the first repost at
 * which that count reaches K. Pure: the `pnpm eval:ced` script feeds it the posts and the backtest's alerts.
 */

/** The trailing window of a cascade's truth. */
export const TRUTH_WINDOW_MS = 3600_000;
/** A cascade is viral when its trailing hour reaches this (any alert expected, before this onset). */
export const VIRAL_LEVEL = 100;
/** A cascade is explosive when its trailing hour reaches this (`critical` expected, before this onset). */
export const EXPLOSIVE_LEVEL = 300;
/** A cascade is quiet when its trailing hour never reaches this (no alert expected). */
export const QUIET_LEVEL = 30;

/** What the scorer reads of a post. */
export interface TruthPost {
  id: string;
  createdAtMs: number;
  rootId?: string | undefined;
  parentId?: string | undefined;
  followers?: number | undefined;
}

/** One cascade as the data shows it. */
export interface CascadeTruth {
  rootId: string;
  /** The root post's time, when the root is in the data. */
  rootMs: number | null;
  /** The root author's followers, when known. */
  followers: number | null;
  /** Repost times, ascending. */
  repostMs: Float64Array;
  /** Highest trailing-hour repost count. */
  peakHour: number;
  /** First repost at which the trailing hour reaches {@link VIRAL_LEVEL}, {@link EXPLOSIVE_LEVEL}; null if never. */
  viralOnsetMs: number | null;
  explosiveOnsetMs: number | null;
  /** `fit` or `held`: a deterministic half of the cascades by a hash of the root id (see {@link splitOf}). */
  split: Split;
}

export type Split = 'fit' | 'held';

/**
 * The half a cascade belongs to: parameters of the growth model are fitted on `fit` cascades only, and figures are
 * reported on `held` ones as well as on all. The low bit of the project's FNV-1a hash of the root id.
 */
export const splitOf = (rootId: string): Split => ((fnv1a(rootId) & 1) === 0 ? 'fit' : 'held');

/** Gathers posts (in any order) into cascades; also answers which cascade a post id belongs to. */
export class CascadeTruthBuilder {
  private readonly rootOfPost = new Map<string, string>();
  private readonly roots = new Map<string, { ms: number; followers: number | null }>();
  private readonly reposts = new Map<string, number[]>();

  add(post: TruthPost): void {
    const root = post.rootId !== undefined && post.rootId !== post.id ? post.rootId : post.parentId !== undefined ? (this.rootOfPost.get(post.parentId) ?? post.parentId) : undefined;
    if (root === undefined) {
      this.roots.set(post.id, { ms: post.createdAtMs, followers: post.followers ?? null });
      this.rootOfPost.set(post.id, post.id);
      return;
    }
    this.rootOfPost.set(post.id, root);
    let list = this.reposts.get(root);
    if (list === undefined) this.reposts.set(root, (list = []));
    list.push(post.createdAtMs);
  }

  /** The cascade a post belongs to (its root's id; a root's own id for a root), if the post was seen. */
  cascadeOf(postId: string): string | undefined {
    return this.rootOfPost.get(postId);
  }

  /** Every cascade with a root or at least one repost, in root-id order. */
  build(): CascadeTruth[] {
    const ids = new Set<string>([...this.roots.keys(), ...this.reposts.keys()]);
    return [...ids].sort().map((rootId) => cascadeTruth(rootId, this.roots.get(rootId) ?? null, this.reposts.get(rootId) ?? []));
  }
}

function cascadeTruth(rootId: string, root: { ms: number; followers: number | null } | null, times: number[]): CascadeTruth {
  const repostMs = Float64Array.from(times).sort();
  let peakHour = 0;
  let viralOnsetMs: number | null = null;
  let explosiveOnsetMs: number | null = null;
  let lo = 0;
  for (let i = 0; i < repostMs.length; i++) {
    const t = repostMs[i]!;
    // The trailing hour (t − 1 h, t].
    while (repostMs[lo]! <= t - TRUTH_WINDOW_MS) lo++;
    const n = i - lo + 1;
    if (n > peakHour) peakHour = n;
    if (viralOnsetMs === null && n >= VIRAL_LEVEL) viralOnsetMs = t;
    if (explosiveOnsetMs === null && n >= EXPLOSIVE_LEVEL) explosiveOnsetMs = t;
  }
  return { rootId, rootMs: root?.ms ?? null, followers: root?.followers ?? null, repostMs, peakHour, viralOnsetMs, explosiveOnsetMs, split: splitOf(rootId) };
}

/** When a detector (or a rule) first alerted a cascade, at all and as `critical`; event time, epoch ms. */
export interface CascadeCalls {
  firstAnyMs?: number;
  firstCriticalMs?: number;
}

/**
 * Which cascades each alert names (its `rootId`, or the cascade of any evidence post), and when each was first
 * alerted at all and as `critical`. Alerts of every type count, as the data README defines it.
 */
export function callsFromAlerts(alerts: Iterable<Pick<Alert, 'at' | 'severity' | 'rootId' | 'postIds'>>, cascadeOf: (postId: string) => string | undefined): Map<string, CascadeCalls> {
  const calls = new Map<string, CascadeCalls>();
  const named = new Set<string>();
  for (const a of alerts) {
    const atMs = Date.parse(a.at);
    named.clear();
    if (a.rootId !== undefined) named.add(a.rootId);
    for (const id of a.postIds) {
      const c = cascadeOf(id);
      if (c !== undefined) named.add(c);
    }
    for (const rootId of named) {
      let c = calls.get(rootId);
      if (c === undefined) calls.set(rootId, (c = {}));
      if (c.firstAnyMs === undefined || atMs < c.firstAnyMs) c.firstAnyMs = atMs;
      if (a.severity === 'critical' && (c.firstCriticalMs === undefined || atMs < c.firstCriticalMs)) c.firstCriticalMs = atMs;
    }
  }
  return calls;
}

/** A fixed rule "when W minutes hold at least k reposts": the first repost at which it holds, per cascade. */
export function windowRuleTimes(cascades: readonly CascadeTruth[], windowMs: number, minReposts: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of cascades) {
    const ts = c.repostMs;
    let lo = 0;
    for (let i = 0; i < ts.length; i++) {
      while (ts[lo]! <= ts[i]! - windowMs) lo++;
      if (i - lo + 1 >= minReposts) {
        out.set(c.rootId, ts[i]!);
        break;
      }
    }
  }
  return out;
}

/** The figures the data README defines. Shares are null when their denominator is empty; times in minutes. */
export interface CedScore {
  cascades: number;
  viral: number;
  explosive: number;
  quiet: number;
  /** Share of viral cascades with any alert, and the median of (first alert − 100/h onset). */
  anyRecall100: number | null;
  medianDelayMin: number | null;
  /** Quiet cascades with any alert, and their share. */
  quietAlerted: number;
  quietAlertedShare: number | null;
  /** Share of explosive cascades alerted `critical`; share of `critical`-alerted cascades that are explosive. */
  criticalRecall300: number | null;
  criticalPrecision300: number | null;
  criticalCascades: number;
  /** Median of (300/h onset − first `critical`) over the explosive cascades alerted `critical`. */
  medianLeadMin: number | null;
}

/** Scores calls on the given cascades. Only the fields a caller's calls define mean something (a rule may only call `critical`). */
export function scoreCalls(cascades: readonly CascadeTruth[], calls: ReadonlyMap<string, CascadeCalls>): CedScore {
  let viral = 0;
  let explosive = 0;
  let quiet = 0;
  let viralAlerted = 0;
  let quietAlerted = 0;
  let explosiveCritical = 0;
  let critical = 0;
  const delays: number[] = [];
  const leads: number[] = [];
  for (const c of cascades) {
    const call = calls.get(c.rootId);
    if (c.viralOnsetMs !== null) {
      viral++;
      if (call?.firstAnyMs !== undefined) {
        viralAlerted++;
        delays.push((call.firstAnyMs - c.viralOnsetMs) / 60_000);
      }
    }
    if (c.peakHour < QUIET_LEVEL) {
      quiet++;
      if (call?.firstAnyMs !== undefined) quietAlerted++;
    }
    if (call?.firstCriticalMs !== undefined) critical++;
    if (c.explosiveOnsetMs !== null) {
      explosive++;
      if (call?.firstCriticalMs !== undefined) {
        explosiveCritical++;
        leads.push((c.explosiveOnsetMs - call.firstCriticalMs) / 60_000);
      }
    }
  }
  const share = (n: number, d: number): number | null => (d > 0 ? n / d : null);
  return {
    cascades: cascades.length,
    viral,
    explosive,
    quiet,
    anyRecall100: share(viralAlerted, viral),
    medianDelayMin: median(delays),
    quietAlerted,
    quietAlertedShare: share(quietAlerted, quiet),
    criticalRecall300: share(explosiveCritical, explosive),
    criticalPrecision300: share(explosiveCritical, critical),
    criticalCascades: critical,
    medianLeadMin: median(leads),
  };
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Calls of a rule that only alerts (`any`) or only calls `critical`, from its per-cascade times. */
export function ruleCalls(times: ReadonlyMap<string, number>, as: 'any' | 'critical'): Map<string, CascadeCalls> {
  const out = new Map<string, CascadeCalls>();
  for (const [rootId, ms] of times) out.set(rootId, as === 'any' ? { firstAnyMs: ms } : { firstAnyMs: ms, firstCriticalMs: ms });
  return out;
}

/** What a short-window rule must reach to count as meeting the `critical` targets (the issue's). */
export interface CriticalTargets {
  minRecall: number;
  minMedianLeadMin: number;
}

export const CRITICAL_TARGETS: Readonly<CriticalTargets> = Object.freeze({ minRecall: 0.9, minMedianLeadMin: 20 });

/** One rule of the grid with its score. */
export interface GridRule {
  windowMin: number;
  minReposts: number;
  score: CedScore;
}

/** The default grid: windows of 5 to 60 minutes, thresholds 20 to 300 reposts by 10. */
export const GRID_WINDOWS_MIN: readonly number[] = [5, 10, 15, 20, 30, 45, 60];
export const GRID_MIN_REPOSTS: readonly number[] = Array.from({ length: 29 }, (_, i) => 20 + 10 * i);

/**
 * The best fixed rule "critical when W minutes hold ≥ k reposts" on `cascades`: the highest precision@300/h among
 * the rules that meet the recall and lead targets (ties: higher recall, then longer lead, then the smaller W).
 * Null when no rule of the grid meets them.
 */
export function bestWindowRule(cascades: readonly CascadeTruth[], targets: CriticalTargets = CRITICAL_TARGETS, windowsMin = GRID_WINDOWS_MIN, minReposts = GRID_MIN_REPOSTS): GridRule | null {
  let best: GridRule | null = null;
  for (const w of windowsMin) {
    for (const k of minReposts) {
      const score = scoreCalls(cascades, ruleCalls(windowRuleTimes(cascades, w * 60_000, k), 'critical'));
      if ((score.criticalRecall300 ?? 0) < targets.minRecall || (score.medianLeadMin ?? -Infinity) < targets.minMedianLeadMin) continue;
      if (best === null || better(score, best.score)) best = { windowMin: w, minReposts: k, score };
    }
  }
  return best;
}

function better(a: CedScore, b: CedScore): boolean {
  const key = (s: CedScore): number[] => [s.criticalPrecision300 ?? 0, s.criticalRecall300 ?? 0, s.medianLeadMin ?? 0];
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! > kb[i]!;
  return false;
}
