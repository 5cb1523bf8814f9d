/** A post as the archive gives it back: the contract's fields and what the analyzer added. */
export interface ArchivedPost {
  id: string;
  platform: string;
  /** Event time, ISO-8601 UTC with milliseconds. */
  createdAt: string;
  author: { id: string; name?: string; followers?: number; verified?: boolean };
  /** The text as published (repost chain included). */
  text: string;
  /** The post's own words, before the first `//@` hop. */
  ownText: string;
  url?: string;
  parentId?: string;
  rootId?: string;
  region?: string;
  lang?: string;
  /** In [-1, 1]: below 0 negative. */
  sentiment: number;
  spam: boolean;
  spamReason?: string;
  /** Monitoring schemes the post matched when it was analysed. */
  schemes: string[];
  keywords: string[];
  topics: string[];
  mentions: string[];
  emoticons: string[];
  urls: string[];
}

/** `negative`: sentiment < 0; `positive`: > 0; `neutral`: exactly 0 (nothing recognised). */
export type SentimentFilter = 'negative' | 'neutral' | 'positive';

/** A time bound: a `Date`, epoch ms, or an ISO-8601 string with an offset (or a bare `YYYY-MM-DD`, read as UTC). */
export type TimeBound = Date | number | string;

/**
 * What to select. Every field is optional and they combine with AND; a list matches any of its values.
 * Spam is left out unless `includeSpam` is set.
 */
export interface PostFilter {
  /** Words in the monitoring-scheme rule syntax: `昆明 AND (地铁 OR 公交) NOT 天气`, `"死去的城市"`. See `compileSearchQuery`. */
  q?: string;
  /** Event time from (inclusive). */
  from?: TimeBound;
  /** Event time to (exclusive). */
  to?: TimeBound;
  /** Posts tagged with this monitoring scheme (any of them, for a list). */
  scheme?: string | readonly string[];
  platform?: string | readonly string[];
  /** Author id(s). */
  author?: string | readonly string[];
  sentiment?: SentimentFilter;
  /** A cascade: the posts whose `rootId` is this, and the root post itself. */
  rootId?: string;
  /** Only these post ids (any platform). */
  ids?: readonly string[];
  /** Default false: posts the analyzer flagged as spam are left out. */
  includeSpam?: boolean;
}

/** Paging of {@link PostFilter} results. */
export interface SearchOptions {
  /** Page size, 1–500; default 50. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /** Default `newest`: newest event time first; `oldest` for a story told in order. */
  order?: 'newest' | 'oldest';
  /** Default true: also count every match (`total`). False skips the count (`total` is then undefined). */
  withTotal?: boolean;
}

export interface SearchPage {
  /** Every post the filter matches (not only this page); undefined when `withTotal` was false. */
  total: number | undefined;
  posts: ArchivedPost[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface HistogramOptions {
  interval: 'hour' | 'day';
  /** IANA zone the buckets are cut in (a day starts at midnight there). Default `UTC`. */
  timeZone?: string;
}

export interface HistogramBucket {
  /** Start of the bucket, ISO-8601 UTC. */
  start: string;
  count: number;
  /** Posts with sentiment < 0. */
  negative: number;
  /** negative / count (0 when count is 0). */
  negativeShare: number;
}

export interface TermCount {
  term: string;
  /** Posts among the matches that have the term among their keywords. */
  count: number;
}

export interface AccountCount {
  id: string;
  name?: string;
  /** Largest follower count seen for the account among the matches. */
  followers?: number;
  verified?: boolean;
  /** Matching posts by the account. */
  posts: number;
  negativeShare: number;
}

/** A repost tree among the matches: the posts that name `rootId` as their root (the root post itself not counted). */
export interface CascadeCount {
  rootId: string;
  /** Matching reposts and comments of the root. */
  posts: number;
  negativeShare: number;
  /** Event time of the first and the last of them, ISO-8601 UTC. */
  firstAt: string;
  lastAt: string;
}

/** What one `writePosts` call did. */
export interface WriteResult {
  /** Rows new to the archive. */
  inserted: number;
  /** Posts whose `(platform, id)` was already archived, or came twice in the batch: nothing changed for them. */
  duplicates: number;
}

export interface ExportOptions {
  /** Most rows exported; default 100,000. */
  maxRows?: number;
  /** Default true: start with a UTF-8 byte-order mark, so spreadsheet programs read the Chinese text as UTF-8. */
  bom?: boolean;
  order?: 'newest' | 'oldest';
}

/** The columns of a CSV export, in order. */
export const EXPORT_COLUMNS = [
  'id',
  'platform',
  'created_at',
  'author_id',
  'author_name',
  'author_followers',
  'text',
  'url',
  'sentiment',
  'spam',
  'schemes',
  'keywords',
  'root_id',
  'parent_id',
] as const;

/** A monthly partition of the archive. */
export interface PartitionInfo {
  /** `YYYY-MM` (UTC). */
  month: string;
  table: string;
}
