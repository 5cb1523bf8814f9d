import { z } from 'zod';
import { apiSchemas } from './schemas.js';

const timeBound = z
  .string()
  .regex(
    /^(\d{4}-\d{2}-\d{2}|\d{10,14}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))$/,
    'must be YYYY-MM-DD (midnight in TIME_ZONE), an ISO-8601 time with an offset, or epoch ms',
  );
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** What selects archived posts, the same for the search, its chart, its top terms and accounts, and its export. */
export const PostFilterQuerySchema = z.object({
  q: z.string().trim().max(2000).optional().describe('words in the monitoring-scheme rule syntax: AND, OR, NOT, parentheses, "phrases"; side by side means AND'),
  from: timeBound.optional().describe('event time from (inclusive); a bare day is its midnight in TIME_ZONE'),
  to: timeBound.optional().describe('event time to (exclusive); a bare day is its midnight in TIME_ZONE'),
  scheme: z.string().min(1).max(100).optional().describe('posts the analyzer tagged with this monitoring scheme'),
  sentiment: z.enum(['negative', 'neutral', 'positive']).optional().describe('negative: < 0, neutral: 0, positive: > 0'),
  platform: z.string().min(1).max(32).optional(),
  author: z.string().min(1).max(128).optional().describe('author id'),
  rootId: z.string().min(1).max(128).optional().describe('a cascade: its root post and every post whose rootId it is'),
  includeSpam: flag.optional().describe('default false: posts flagged as spam are left out'),
});

export const PostSearchQuerySchema = PostFilterQuerySchema.extend({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional().describe('nextCursor of the previous page'),
  order: z.enum(['newest', 'oldest']).default('newest'),
  format: z.enum(['json', 'csv']).default('json').describe('csv: every match (up to 100,000, newest first) streamed as CSV with a UTF-8 BOM; limit and cursor do not apply'),
});

export const HistogramQuerySchema = PostFilterQuerySchema.extend({
  interval: z.enum(['hour', 'day']).default('day'),
});

export const TopQuerySchema = PostFilterQuerySchema.extend({ limit: z.coerce.number().int().min(1).max(200).default(20) });

export const EvidenceQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(100).optional().describe('nextCursor of the previous page'),
});

/** One archived post as the API shows it. */
export const PostSchema = z.object({
  id: z.string(),
  platform: z.string(),
  text: z.string().describe('the text as published, repost chain included'),
  ownText: z.string().describe('the post’s own words, before the first //@ hop'),
  createdAt: z.string().describe('event time, ISO-8601 UTC'),
  author: z.object({ id: z.string(), name: z.string().nullable(), followers: z.number().int().nullable(), verified: z.boolean().nullable() }),
  url: z.string().nullable(),
  sentiment: z.number().describe('in [-1, 1]; below 0 negative'),
  rootId: z.string().nullable(),
  parentId: z.string().nullable(),
  spam: z.boolean(),
  schemes: z.array(z.string()),
  keywords: z.array(z.string()),
});
apiSchemas.add(PostSchema, { id: 'Post', description: 'An archived post' });
export type ApiPost = z.infer<typeof PostSchema>;

export const SearchPageSchema = z.object({
  total: z.number().int().describe('every match, not only this page'),
  posts: z.array(PostSchema),
  nextCursor: z.string().nullable().describe('pass as cursor for the next page; null on the last'),
});

export const EvidencePageSchema = z.object({
  incidentId: z.string(),
  total: z.number().int().describe('evidence posts found in the archive'),
  missing: z.array(z.string()).describe('evidence ids the archive does not hold (not archived yet, or past retention)'),
  rootIds: z.array(z.string()).describe('the cascades’ root posts, listed first'),
  posts: z.array(PostSchema.extend({ root: z.boolean().describe('a cascade’s root post') })),
  nextCursor: z.string().nullable(),
});

export const HistogramSchema = z.object({
  interval: z.enum(['hour', 'day']),
  timeZone: z.string().describe('the zone buckets are cut in (TIME_ZONE)'),
  buckets: z.array(
    z.object({
      start: z.string().describe('bucket start, ISO-8601 UTC'),
      count: z.number().int(),
      negative: z.number().int().describe('posts with sentiment < 0'),
      negativeShare: z.number().describe('negative / count, 0 when count is 0'),
    }),
  ),
});

export const TopTermsSchema = z.object({ terms: z.array(z.object({ term: z.string(), count: z.number().int().describe('matching posts with the term among their keywords') })) });

export const TopAccountsSchema = z.object({
  accounts: z.array(
    z.object({
      id: z.string(),
      name: z.string().nullable(),
      followers: z.number().int().nullable(),
      verified: z.boolean().nullable(),
      posts: z.number().int(),
      negativeShare: z.number(),
    }),
  ),
});
