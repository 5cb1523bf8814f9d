import type { ResolvedConfig } from '../config.js';
import { isNegative, type DetectorPost } from '../post.js';
import { MAX_EVIDENCE, accountName, bumpCluster, bumpTopK, countSchemes, iso } from '../shared.js';

/** [term, bursting posts carrying it, best significance, anchor 1|0, event ms it last burst]. */
export type StoryTerm = [string, number, number, number?, number?];

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
  /** The bursting post carrying the most of the story's anchors: [post id, own text (140 chars), anchors]; absent in older snapshots. */
  representative?: [string, string, number];
  /** Roots of the cascades its reposts and replies sit in, [root id, posts] (top 16); absent until one has any (and in older snapshots). */
  roots?: [string, number][];
}

/** A term or pair (`a+b`) that burst in a post, with the sketch's figures. */
export interface Burst {
  term: string;
  score: number;
  count: number;
  expected: number;
}

const MAX_STORY_TERMS = 30;
const MAX_STORY_ROOTS = 16;

/**
 * Which story a post belongs to. A story is terms bursting together: a post joins the live story sharing the most
 * of its fresh anchors (terms that burst alone in it within `storyAnchorMs`); one that bursts with none of them joins
 * the story that already holds half of its bursting words, or starts a new story. Everyday words riding along with a
 * story's own (pair partners that never burst alone) link nothing, and neither do yesterday's anchors.
 */
export class StoryGroups {
  stories: StoryState[] = [];

  constructor(private readonly cfg: ResolvedConfig) {}

  /** Story key of a live, alerted story sharing one of these terms (anchor or context). */
  alertedStoryFor(terms: readonly string[]): string | undefined {
    for (const s of this.stories) {
      if (s.seq > 0 && s.terms.some((e) => terms.includes(e[0]))) return s.key;
    }
    return undefined;
  }

  /**
   * The story the post counts towards, with its bursts (undefined: none), made or merged as needed; undefined when
   * it belongs to none (a post that bursts nothing needs two fresh anchors of a story).
   */
  place(post: DetectorPost, terms: readonly string[], bursts: Burst[] | undefined): StoryState | undefined {
    const atMs = post.createdAtMs;
    const strong = this.storyFor(terms, atMs, bursts === undefined ? 2 : 1);
    if (bursts === undefined) return strong;
    if (strong !== undefined) return this.mergeLinked(strong, terms, atMs);
    return this.storyKnowing(bursts) ?? this.found(post, bursts);
  }

  /** The live story sharing the most fresh anchors with these terms, at least `minShared` (the most recently bursting on a tie). */
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
   * A bursting post with no fresh anchor in common with any story: the live story that already holds at least half
   * of the words it bursts with (its anchors gone quiet as the baseline learnt them, the story still going on).
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
   * A bursting post carrying fresh anchors of two live stories makes them one. The one that alerted keeps its key (of
   * two that did, or neither, the older), so a story that has been reported goes on under the key it was reported by.
   * Returns the survivor.
   */
  private mergeLinked(story: StoryState, terms: readonly string[], atMs: number): StoryState {
    const freshFrom = atMs - this.cfg.storyAnchorMs;
    let out = story;
    for (const other of [...this.stories]) {
      if (other === out || !other.terms.some((e) => e[3] !== 0 && (e[4] ?? other.lastMs) >= freshFrom && terms.includes(e[0]))) continue;
      const otherFirst = other.seq > 0 !== out.seq > 0 ? other.seq > 0 : other.firstMs < out.firstMs || (other.firstMs === out.firstMs && other.key < out.key);
      const [keep, gone] = otherFirst ? [other, out] : [out, other];
      absorbStory(keep, gone);
      this.drop(gone);
      out = keep;
    }
    return out;
  }

  /** A new story, keyed by its strongest anchors and its first bucket. */
  private found(post: DetectorPost, bursts: readonly Burst[]): StoryState {
    const cfg = this.cfg;
    const core = [...anchorsOf(bursts)].slice(0, 3).sort();
    const start = iso(Math.floor(post.createdAtMs / cfg.storyBucketMs) * cfg.storyBucketMs).replace(/[-:]|\.\d+Z$/g, '');
    const story: StoryState = {
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
    return story;
  }

  /** Counts the post into the story: its bursting terms (anchors and context), accounts, negatives, evidence. */
  count(story: StoryState, post: DetectorPost, terms: readonly string[], bursts: readonly Burst[], clusterId: string | undefined): void {
    const t0 = post.createdAtMs;
    const anchors = anchorsOf(bursts);
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
      let carried = 0;
      for (const e of story.terms) {
        if (e[3] !== 0 && terms.includes(e[0])) {
          e[4] = Math.max(e[4] ?? story.lastMs, t0);
          carried++;
        }
      }
      // Evidence: posts that burst (the story's own words), not the everyday posts that share two of them.
      if (story.postIds.length < MAX_EVIDENCE) story.postIds.push([post.id, t0]);
      const text = post.ownText.trim();
      if (text.length > 0 && carried > (story.representative?.[2] ?? 0)) story.representative = [post.id, text.slice(0, 140), carried];
    }
    const top = bursts[0];
    story.posts++;
    if (isNegative(post, this.cfg.negativeMinConfidence)) story.negative++;
    bumpTopK(story.accounts, accountName(post), 50);
    if (clusterId !== undefined) bumpCluster(story.clusters, clusterId, 32);
    story.schemes = countSchemes(story.schemes, post);
    if (post.rootId !== undefined && post.rootId !== post.id) bumpTopK((story.roots ??= []), post.rootId, MAX_STORY_ROOTS);
    if (t0 < story.firstMs) {
      story.firstMs = t0;
      story.firstPostId = post.id;
    }
    story.lastMs = Math.max(story.lastMs, t0);
    if (top && top.score > story.maxScore) {
      story.maxScore = top.score;
      story.observed = top.count;
      story.expected = top.expected;
    }
  }

  /** Ends the stories no post has joined for `storyIdleMs` behind the watermark. */
  dropIdle(watermarkMs: number): void {
    const idleBefore = watermarkMs - this.cfg.storyIdleMs;
    for (const s of [...this.stories]) if (s.lastMs < idleBefore) this.drop(s);
  }

  private drop(story: StoryState): void {
    this.stories = this.stories.filter((s) => s !== story);
  }
}

/**
 * Terms that burst alone anchor a story; a bursting pair's partners are context, unless the post has no lone burst
 * at all (a new combination of known words), when the pair's terms anchor it.
 */
function anchorsOf(bursts: readonly Burst[]): Set<string> {
  const anchors = new Set<string>();
  for (const b of bursts) if (!b.term.includes('+')) anchors.add(b.term);
  if (anchors.size === 0) for (const b of bursts) for (const t of b.term.split('+')) anchors.add(t);
  return anchors;
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
  for (const [name, n] of gone.schemes ?? []) bumpTopK((keep.schemes ??= []), name, 32, n);
  for (const [root, n] of gone.roots ?? []) bumpTopK((keep.roots ??= []), root, MAX_STORY_ROOTS, n);
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
  if (gone.representative && gone.representative[2] > (keep.representative?.[2] ?? 0)) keep.representative = gone.representative;
}
