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
