import type { EnrichedPost } from '@tingfeng/contracts';

/**
 * An analysed Weibo post for tests: only `id` and `createdAtMs` are required. The rest defaults to a neutral,
 * empty post (no words, not spam, sentiment 0) by author `a-<id>` with 50 followers; `text` defaults to `ownText`
 * and `createdAt` to `createdAtMs` as ISO. Any field given in `overrides` wins.
 */
export function enrichedPost(overrides: Partial<EnrichedPost> & Pick<EnrichedPost, 'id' | 'createdAtMs'>): EnrichedPost {
  const ownText = overrides.ownText ?? '';
  return {
    platform: 'weibo',
    text: ownText,
    createdAt: overrides.createdAt ?? new Date(overrides.createdAtMs).toISOString(),
    author: { id: `a-${overrides.id}`, name: `a-${overrides.id}`, followers: 50 },
    ownText,
    tokens: [],
    keywords: [],
    emoticons: [],
    mentions: [],
    topics: [],
    urls: [],
    repostChain: [],
    spam: false,
    sentiment: 0,
    ...overrides,
  };
}
