import type { Post } from './post.js';

/** One `//@someone: words` hop of a Weibo repost chain, nearest first. */
export interface RepostHop {
  user: string;
  text: string;
}

/** A post as the analyzer publishes it on `posts.enriched`. */
export type EnrichedPost = Post & {
  /** The post's own words: the text before the first `//@` repost hop, normalised. */
  ownText: string;
  /** Segmented words of `ownText`, stopwords removed. */
  tokens: string[];
  /** The most significant tokens, most significant first. */
  keywords: string[];
  emoticons: string[];
  mentions: string[];
  topics: string[];
  urls: string[];
  /** The repost chain quoted in the text, nearest hop first. */
  repostChain: RepostHop[];
  spam: boolean;
  spamReason?: string;
  /** In [-1, 1]: below 0 negative, above 0 positive. */
  sentiment: number;
  /** Names of the monitoring schemes the post matches. */
  schemes?: string[];
  /** Wall-clock time the analyzer received the post, epoch ms. */
  receivedAtMs?: number;
};
