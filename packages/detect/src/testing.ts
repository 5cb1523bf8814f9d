import type { CampaignRecord, EnrichedPost } from '@tingfeng/contracts';
import { dyingCityScenario } from './scenarios/generate.js';

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

/** A history with a response campaign that does not work, and the campaign as the incidents service registers it. */
export interface RebuttalCampaign {
  /** The dying-city episode, then a day later a 鬼城 cascade the city answers, which keeps accelerating; time order. */
  posts: EnrichedPost[];
  record: CampaignRecord;
  /** When the city's answer began (the campaign's `startedAt`), epoch ms. */
  rebuttalAtMs: number;
}

/**
 * The dying-city episode (cascades, stories, the city's rebuttal series, which the engine reports as `response`),
 * then a second conversation a day after it: a 「昆明是鬼城」 cascade that @昆明发布 answers at T, marked live as a
 * response campaign. Per 10-minute bucket from the one before T: 6 reposts, a dip, then faster and faster from 1 h
 * 30 (12 → 18 → 26 by the bucket that ends 2 h after T), with a growing negative share: the campaign's `response`
 * alert (key `campaign:inc-ghost`) fires on that bucket once the next one begins.
 */
export function rebuttalCampaign(): RebuttalCampaign {
  const episode = dyingCityScenario().posts;
  const bucketMs = 10 * 60_000;
  const last = episode.reduce((max, p) => Math.max(max, p.createdAtMs), 0);
  const rebuttalAtMs = Math.ceil((last + 24 * 3_600_000) / bucketMs) * bucketMs;
  const rootId = 'ghost-root';
  const words = ['昆明', '鬼城', '空城', '滇池'];
  const ghost: EnrichedPost[] = [
    enrichedPost({ id: rootId, createdAtMs: rebuttalAtMs - 70 * 60_000, author: { id: 'u-ghost', name: '夜归人', followers: 3_000 }, ownText: '昆明是一座鬼城', tokens: words, keywords: words, sentiment: -0.6 }),
  ];
  const counts = [6, 5, 5, 4, 4, 4, 4, 4, 5, 8, 12, 18, 26, 2];
  let n = 0;
  counts.forEach((count, k) => {
    for (let i = 0; i < count; i++) {
      n++;
      const negative = k >= 9 ? i / count < 0.3 + 0.1 * (k - 8) : i % 2 === 0;
      ghost.push(
        enrichedPost({
          id: `ghost-${n}`,
          createdAtMs: rebuttalAtMs + (k - 1) * bucketMs + Math.floor(((i + 0.5) / count) * bucketMs),
          author: { id: `ghost-u${n}`, name: `网友鬼${n}`, followers: 100 },
          rootId,
          parentId: rootId,
          ownText: words.join(''),
          tokens: words,
          keywords: words,
          sentiment: negative ? -0.8 : 0.4,
        }),
      );
    }
  });
  ghost.push(enrichedPost({ id: 'ghost-reply', createdAtMs: rebuttalAtMs + 5 * 60_000, author: { id: 'gov0', name: '昆明发布', followers: 200_000 }, ownText: '昆明不是鬼城', tokens: ['昆明', '鬼城'], keywords: ['昆明', '鬼城'], sentiment: 0.5 }));
  const posts = [...episode, ...ghost].sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  const record: CampaignRecord = {
    incidentId: 'inc-ghost',
    incidentKey: `cascade:${rootId}`,
    title: '「昆明是鬼城」的帖子正在扩散',
    terms: ['鬼城', '空城', '滇池'],
    rootIds: [rootId],
    accounts: ['昆明发布'],
    startedAt: new Date(rebuttalAtMs).toISOString(),
  };
  return { posts, record, rebuttalAtMs };
}
