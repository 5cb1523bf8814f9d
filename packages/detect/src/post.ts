import type { Author, EnrichedPost } from '@tingfeng/contracts';

/**
 * The fields of an enriched post the detectors read, and nothing else: every detector takes this type, so the
 * compiler holds the list true. An `EnrichedPost` is one; a process that ships posts to the engine (the
 * backtest's workers) may send only these. Of `repostChain` only the length is read.
 */
export type DetectorPost = Pick<
  EnrichedPost,
  'id' | 'platform' | 'createdAt' | 'createdAtMs' | 'parentId' | 'rootId' | 'ownText' | 'tokens' | 'keywords' | 'topics' | 'repostChain' | 'spam' | 'sentiment' | 'sentimentConfidence' | 'schemes'
> & { author: Pick<Author, 'id' | 'name' | 'followers' | 'createdAt'> };

/**
 * Whether a post counts as negative for the detectors' shares: sentiment below 0, and the analyzer at least
 * `minConfidence` sure of it. A post without a confidence (older producers, tests) reads (1 + |sentiment|) / 2.
 */
export function isNegative(post: Pick<DetectorPost, 'sentiment' | 'sentimentConfidence'>, minConfidence: number): boolean {
  if (!(post.sentiment < 0)) return false;
  return (post.sentimentConfidence ?? (1 - post.sentiment) / 2) >= minConfidence;
}
