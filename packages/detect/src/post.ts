import type { Author, EnrichedPost } from '@tingfeng/contracts';

/**
 * The fields of an enriched post the detectors read, and nothing else: every detector takes this type, so the
 * compiler holds the list true. An `EnrichedPost` is one; a process that ships posts to the engine (the
 * backtest's workers) may send only these. Of `repostChain` only the length is read.
 */
export type DetectorPost = Pick<
  EnrichedPost,
  'id' | 'platform' | 'createdAt' | 'createdAtMs' | 'parentId' | 'rootId' | 'ownText' | 'tokens' | 'keywords' | 'topics' | 'repostChain' | 'spam' | 'sentiment' | 'schemes'
> & { author: Pick<Author, 'id' | 'name' | 'followers' | 'createdAt'> };

/**
 * Whether a post counts as negative for the detectors' shares: the analyzer at least `minConfidence` sure that it
 * is negative. Its `sentiment` is 2p − 1 for p the probability of positive, so that is (1 − sentiment) / 2 ≥
 * `minConfidence`; read from `sentiment` alone (which every producer and every backtest transfer carries), so
 * the count is the same whichever way a post travelled. The analyzer's `sentimentConfidence` is the same figure.
 */
export function isNegative(post: Pick<DetectorPost, 'sentiment'>, minConfidence: number): boolean {
  return post.sentiment < 0 && (1 - post.sentiment) / 2 >= minConfidence;
}
