import type { ArchivedPost, PostFilter } from '@tingfeng/archive';
import { ArchiveInputError } from '@tingfeng/archive';
import { z } from 'zod';
import type { ArchiveGate } from '../../archive/archive-gate.js';
import type { ApiToken } from '../../config.js';
import { parseTimeBound } from '../../domain/days.js';
import { decodeEvidenceCursor, encodeEvidenceCursor, evidenceIds, evidencePage, orderEvidence } from '../../domain/evidence.js';
import type { ViewStore } from '../../store/view-store.js';
import { errorAnswer, guarded, type Api } from '../api.js';
import {
  EvidencePageSchema,
  EvidenceQuerySchema,
  HistogramQuerySchema,
  HistogramSchema,
  PostSearchQuerySchema,
  SearchPageSchema,
  TopAccountsSchema,
  TopQuerySchema,
  TopTermsSchema,
  type ApiPost,
  type PostFilterQuerySchema,
} from '../post-schemas.js';
import { IdParamsSchema } from '../schemas.js';

export interface PostRoutesOptions {
  tokens: readonly ApiToken[];
  store: ViewStore;
  archive: ArchiveGate;
  /** Bare days in `from`/`to` are midnights here; histogram days are cut here. */
  timeZone: string;
}

/** An archived post as the API shows it (absent optional fields as null, so every post has the same keys). */
export function apiPost(p: ArchivedPost): ApiPost {
  return {
    id: p.id,
    platform: p.platform,
    text: p.text,
    ownText: p.ownText,
    createdAt: p.createdAt,
    author: { id: p.author.id, name: p.author.name ?? null, followers: p.author.followers ?? null, verified: p.author.verified ?? null },
    url: p.url ?? null,
    sentiment: p.sentiment,
    rootId: p.rootId ?? null,
    parentId: p.parentId ?? null,
    spam: p.spam,
    schemes: p.schemes,
    keywords: p.keywords,
  };
}

/** The archive's filter from the query; bare days are read in `timeZone`. */
export function postFilter(q: z.output<typeof PostFilterQuerySchema>, timeZone: string): PostFilter {
  const filter: PostFilter = {};
  if (q.q) filter.q = q.q;
  if (q.from !== undefined) filter.from = parseTimeBound(q.from, timeZone);
  if (q.to !== undefined) filter.to = parseTimeBound(q.to, timeZone);
  if (filter.from !== undefined && filter.to !== undefined && Number(filter.to) <= Number(filter.from)) {
    throw new ArchiveInputError('to', 'must be after from');
  }
  if (q.scheme) filter.scheme = q.scheme;
  if (q.sentiment) filter.sentiment = q.sentiment;
  if (q.platform) filter.platform = q.platform;
  if (q.author) filter.author = q.author;
  if (q.rootId) filter.rootId = q.rootId;
  if (q.includeSpam) filter.includeSpam = true;
  return filter;
}

const TAGS = ['posts'];
const unavailable = errorAnswer('The archive (PostgreSQL) is not available, or the query took too long: try again');
const badQuery = errorAnswer(
  'Invalid input; or a query that does not parse: `{ error: "invalid_query", message, position }` (0-based offset in q), e.g. a missing `)` or a term of stopwords only',
);

/**
 * Search and evidence over the post archive (PostgreSQL, `@tingfeng/archive`): any role may read. The routes answer
 * 503 while the archive is not available; the incident routes do not depend on it.
 */
export function registerPostRoutes(app: Api, { tokens, store, archive, timeZone }: PostRoutesOptions): void {
  app.get(
    '/api/incidents/:id/posts',
    guarded(tokens, 'read', {
      summary: 'An incident’s evidence posts from the archive: the first page starts with the cascades’ root posts, then newest first; paged by cursor',
      tags: ['incidents', ...TAGS],
      params: IdParamsSchema,
      querystring: EvidenceQuerySchema,
      response: { 200: EvidencePageSchema, 404: errorAnswer('No such incident'), 503: unavailable },
    }),
    async (req, reply) => {
      const view = await store.get(req.params.id);
      if (!view) return reply.code(404).send({ error: 'not_found', message: `incident ${req.params.id} not found` });
      const cursor = req.query.cursor === undefined ? undefined : decodeEvidenceCursor(req.query.cursor);
      if (req.query.cursor !== undefined && !cursor) throw new ArchiveInputError('cursor', 'not a cursor this route gave');
      const { rootIds, postIds } = evidenceIds(view.alerts);
      const wanted = [...rootIds, ...postIds];
      const found = await archive.get().postsByIds(wanted);
      const have = new Set(found.map((p) => p.id));
      const ordered = orderEvidence(found, rootIds);
      const page = evidencePage(ordered, rootIds, req.query.limit, cursor);
      const roots = new Set(rootIds);
      return {
        incidentId: view.id,
        total: ordered.length,
        missing: wanted.filter((id) => !have.has(id)),
        rootIds: rootIds.filter((id) => have.has(id)),
        posts: page.posts.map((p) => ({ ...apiPost(p), root: roots.has(p.id) })),
        nextCursor: page.nextCursor ? encodeEvidenceCursor(page.nextCursor) : null,
      };
    },
  );

  app.get(
    '/api/posts',
    guarded(tokens, 'read', {
      summary: 'Search the archive: matching posts with the total, newest first, paged by cursor; format=csv streams every match as CSV',
      tags: TAGS,
      querystring: PostSearchQuerySchema,
      response: {
        200: {
          description: 'One page (JSON), or the CSV export',
          content: { 'application/json': { schema: SearchPageSchema }, 'text/csv': { schema: z.string().describe('header row: id, platform, created_at, author_id, author_name, author_followers, text, url, sentiment, spam, schemes, keywords, root_id, parent_id') } },
        },
        400: badQuery,
        503: unavailable,
      },
    }),
    async (req, reply) => {
      const filter = postFilter(req.query, timeZone);
      if (req.query.format === 'csv') {
        const csv = await archive.get().exportCsv(filter, { order: req.query.order });
        const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="tingfeng-posts-${stamp}.csv"`)
          // A stream is sent as it is read; the CSV content schema documents it but cannot type a stream.
          .send(csv as unknown as string);
      }
      const page = await archive.get().search(filter, { limit: req.query.limit, order: req.query.order, ...(req.query.cursor ? { cursor: req.query.cursor } : {}) });
      return reply.type('application/json; charset=utf-8').send({ total: page.total ?? 0, posts: page.posts.map(apiPost), nextCursor: page.nextCursor });
    },
  );

  app.get(
    '/api/posts/histogram',
    guarded(tokens, 'read', {
      summary: 'Volume and negative share of the matches per hour or day (cut in TIME_ZONE); empty buckets included',
      tags: TAGS,
      querystring: HistogramQuerySchema,
      response: { 200: HistogramSchema, 400: badQuery, 503: unavailable },
    }),
    async (req) => {
      const buckets = await archive.get().histogram(postFilter(req.query, timeZone), { interval: req.query.interval, timeZone });
      return { interval: req.query.interval, timeZone, buckets };
    },
  );

  app.get(
    '/api/posts/top-terms',
    guarded(tokens, 'read', {
      summary: 'The keywords most matching posts carry',
      tags: TAGS,
      querystring: TopQuerySchema,
      response: { 200: TopTermsSchema, 400: badQuery, 503: unavailable },
    }),
    async (req) => ({ terms: await archive.get().topTerms(postFilter(req.query, timeZone), { limit: req.query.limit }) }),
  );

  app.get(
    '/api/posts/top-accounts',
    guarded(tokens, 'read', {
      summary: 'The accounts with the most matching posts, with their negative share',
      tags: TAGS,
      querystring: TopQuerySchema,
      response: { 200: TopAccountsSchema, 400: badQuery, 503: unavailable },
    }),
    async (req) => {
      const accounts = await archive.get().topAccounts(postFilter(req.query, timeZone), { limit: req.query.limit });
      return {
        accounts: accounts.map((a) => ({ id: a.id, name: a.name ?? null, followers: a.followers ?? null, verified: a.verified ?? null, posts: a.posts, negativeShare: a.negativeShare })),
      };
    },
  );
}
