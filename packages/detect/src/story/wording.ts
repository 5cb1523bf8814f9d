import type { Alert, Severity } from '@tingfeng/contracts';
import type { ResolvedConfig } from '../config.js';
import { MAX_EVIDENCE, buildAlert, coordinatedShare, iso, round3, schemesField, topKeys } from '../shared.js';
import type { StoryState } from './grouping.js';

/**
 * A story this much of whose posts are reposts or replies in one cascade bursts within that cascade's conversation
 * (the public's turn in the replies to a viral post): its alert names that root as `rootId`.
 */
const TREE_SHARE = 0.3;

/** The root of the cascade holding at least {@link TREE_SHARE} of the story's posts, if one does. */
export function storyTreeRoot(story: StoryState): string | undefined {
  let best: [string, number] | undefined;
  for (const r of story.roots ?? []) if (best === undefined || r[1] > best[1] || (r[1] === best[1] && r[0] < best[0])) best = r;
  return best !== undefined && best[1] >= TREE_SHARE * story.posts ? best[0] : undefined;
}

/** The severity a story's best significance earns. */
export function storySeverity(story: StoryState, cfg: ResolvedConfig): Severity {
  return story.maxScore >= cfg.storyCriticalScore ? 'critical' : story.maxScore >= cfg.storyWarningScore ? 'warning' : 'info';
}

/**
 * The story's alert as a person reads it: its anchors first (most significant first), then the context words that
 * burst with them in pairs; its representative post (the bursting post carrying most of its anchors) quoted in the
 * title and first in the evidence after the earliest post.
 */
export function storyAlert(story: StoryState, cfg: ResolvedConfig, at: string, severity: Severity, isCoordinated: (clusterId: string) => boolean): Alert {
  const terms = [...story.terms].sort((a, b) => (b[3] ?? 1) - (a[3] ?? 1) || b[2] - a[2] || b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map((e) => e[0]);
  const evidence = [...story.postIds].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map((e) => e[0]);
  const representative = story.representative;
  const lead = representative === undefined || representative[0] === story.firstPostId ? [story.firstPostId] : [story.firstPostId, representative[0]];
  const postIds = [...lead, ...evidence.filter((id) => !lead.includes(id))].slice(0, MAX_EVIDENCE);
  const quote = representative === undefined ? '' : `「${representative[1].slice(0, 40)}${representative[1].length > 40 ? '…' : ''}」`;
  const rootId = storyTreeRoot(story);
  return buildAlert(
    {
      key: story.key,
      type: 'story',
      at,
      severity,
      title: `话题突发: ${terms.slice(0, 4).join(' ')} (${round3(story.observed)} 条/${cfg.storyBucketMs / 60_000}分钟, 预期 ${round3(story.expected)})${quote}`,
      terms: terms.slice(0, 20),
      postIds,
      ...(rootId === undefined ? {} : { rootId }),
      accounts: topKeys(story.accounts, 10),
      observed: round3(story.observed),
      expected: round3(story.expected),
      score: round3(story.maxScore),
      window: { start: iso(story.firstMs), end: at },
      negativeShare: round3(story.negative / story.posts),
      coordinatedShare: coordinatedShare(story.clusters, story.posts, isCoordinated),
      ...schemesField(story.schemes),
      firstPostId: story.firstPostId,
      ...(representative === undefined ? {} : { representativePostId: representative[0], representativeText: representative[1] }),
      posts: story.posts,
      explain: `${story.terms.length} co-bursting terms; best significance ${round3(story.maxScore)} = (x − max(mean, β)) / (√var + β) with x=${round3(story.observed)}, mean=${round3(story.expected)}, β=${cfg.storyBeta}`,
    },
    story.seq,
  );
}
