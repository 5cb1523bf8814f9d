import type { Alert } from '@tingfeng/contracts';
import type { DetectorPost } from './post.js';
import type { ResolvedConfig } from './config.js';
import { fnv1a, fnv1aChar, fnv1aFinish, fnv1aStep } from './hash.js';
import { rankOf } from './shared.js';
import { StoryGroups, type Burst } from './story/grouping.js';
import { BurstSketch } from './story/sketch.js';
import type { StorySnapshot } from './story/snapshot.js';
import { storyAlert, storySeverity } from './story/wording.js';

export type { StoryState, StoryTerm } from './story/grouping.js';
export type { StorySnapshot } from './story/snapshot.js';

/**
 * Story detector: each post's terms and the pairs of its head are counted in the {@link BurstSketch}; those that burst
 * place the post in a story ({@link StoryGroups}); a story alerts once it has enough posts and accounts, and again
 * each time its severity rises ({@link storyAlert}).
 */
export class StoryDetector {
  private readonly sketch: BurstSketch;
  private readonly groups: StoryGroups;
  /** Per-post scratch: the post's terms and the sorted head its pairs are made of. */
  private readonly terms: string[] = [];
  private readonly head: string[] = [];

  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly isCoordinated: (clusterId: string) => boolean,
  ) {
    this.sketch = new BurstSketch(cfg);
    this.groups = new StoryGroups(cfg);
  }

  /** Story key of a live, alerted story sharing one of these terms. */
  alertedStoryFor(terms: readonly string[]): string | undefined {
    return this.groups.alertedStoryFor(terms);
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
    const sketch = this.sketch;
    const warm = sketch.begin(post.createdAtMs);
    this.collectTerms(post);
    const terms = this.terms;
    const head = this.head;
    let bursts: Burst[] | undefined;
    for (let i = 0; i < terms.length; i++) {
      const t = terms[i]!;
      if (sketch.measure(fnv1a(t)) && warm) (bursts ??= []).push({ term: t, score: sketch.score, count: sketch.count, expected: sketch.expected });
    }
    // Pairs of the sorted head, hashed as `a\u0001b` without building the string.
    for (let i = 0; i < head.length; i++) {
      const a = head[i]!;
      const stateA = fnv1aChar(fnv1aStep(0x811c9dc5, a), 1);
      for (let j = i + 1; j < head.length; j++) {
        const b = head[j]!;
        if (sketch.measure(fnv1aFinish(fnv1aStep(stateA, b))) && warm) (bursts ??= []).push({ term: `${a}+${b}`, score: sketch.score, count: sketch.count, expected: sketch.expected });
      }
    }
    bursts?.sort((x, y) => y.score - x.score || (x.term < y.term ? -1 : 1));
    // A post that bursts nothing still counts towards a live story it clearly belongs to (two of its fresh anchors):
    // the story's size, accounts and negative share describe all of its posts, not only those that crossed the line.
    const story = this.groups.place(post, terms, bursts);
    if (story === undefined) return [];
    this.groups.count(story, post, terms, bursts ?? [], clusterId);
    if (story.posts < this.cfg.storyMinPosts || story.accounts.length < this.cfg.storyMinAccounts) return [];
    const severity = storySeverity(story, this.cfg);
    if (rankOf(severity) <= story.emittedRank) return [];
    story.emittedRank = rankOf(severity);
    story.seq++;
    return [storyAlert(story, this.cfg, post.createdAt, severity, this.isCoordinated)];
  }

  /** Closes every bucket that ends at or before the watermark, updating the baselines, and ends idle stories. */
  closeUpTo(watermarkMs: number): void {
    this.sketch.closeUpTo(watermarkMs);
    this.groups.dropIdle(watermarkMs);
  }

  counts(): { stories: number; storyOpenBuckets: number; storyTableBytes: number; storyClosedBuckets: number; storyFoldedLate: number } {
    return { stories: this.groups.stories.length, ...this.sketch.counts() };
  }

  snapshot(): StorySnapshot {
    const { foldedLate, ...tables } = this.sketch.snapshot();
    return { ...tables, stories: structuredClone(this.groups.stories), foldedLate };
  }

  restore(s: StorySnapshot): void {
    const { stories, ...tables } = s;
    this.sketch.restore(tables);
    this.groups.stories = structuredClone(stories);
  }
}
