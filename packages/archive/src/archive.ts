import { Readable, Transform } from 'node:stream';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { EnrichedPost } from '@tingfeng/contracts';
import type { Logger } from '@tingfeng/logger';
import { ArchiveInputError } from './errors.js';
import { decodeCursor, encodeCursor, filterConditions, LiteralBinder, ParamBinder, timeBoundMs, whereSql, type Binder } from './filters.js';
import { checkSchemaName, migrateArchive } from './migrate.js';
import { createQueryTokenizer, createSubwordLoader, compileSearchQuery, type QueryTokenizer } from './query.js';
import { COPY_COLUMNS, distinctPosts, keysCopyText, monthOf, parseKeyLine, postKey, rowLines, type EncodedRows, type SubwordFn } from './rows.js';
import type {
  AccountCount,
  CascadeCount,
  ArchivedPost,
  ExportOptions,
  HistogramBucket,
  HistogramOptions,
  PartitionInfo,
  PostFilter,
  SearchOptions,
  SearchPage,
  TermCount,
  WriteResult,
} from './types.js';

/** Settings of {@link createArchive}. */
export interface ArchiveOptions {
  /** `postgres://user:password@host:port/database`. */
  databaseUrl: string;
  /** Schema holding the archive's tables; default `archive`. Lower-case identifier. */
  schema?: string;
  /** Connections in the pool; default 10. */
  poolSize?: number;
  /** Longest a query may run before PostgreSQL cancels it; default 30,000 ms. */
  statementTimeoutMs?: number;
  /**
   * Segmentation of search terms. Default: the analyzer's own (`@tingfeng/text`), loaded on the first search. Tests
   * and tools that never search need not load jieba.
   */
  tokenizer?: QueryTokenizer;
  /**
   * The dictionary words indexed beside each long token (`昆明地铁` → `昆明`, `地铁`). Default: the analyzer's
   * segmenter (jieba's search mode, cached per token), loaded on the first write; `false` indexes the tokens alone.
   */
  subwords?: SubwordFn | false;
  logger?: Logger;
}

/** Options of {@link Archive.writePosts}. */
export interface WriteOptions {
  /** Posts whose event time is before this (epoch ms) are not written (retention): counted as `expired`. */
  notBeforeMs?: number;
}

/** The archive: the one way to read and write archived posts. */
export interface Archive {
  readonly schema: string;
  /** Applies pending migrations; returns their names. Safe to call from several processes at once. */
  migrate(): Promise<string[]>;
  /**
   * Writes a batch in one statement: all of it or nothing. A post whose `(platform, id)` is already archived (or
   * repeated in the batch) changes nothing, so a redelivered batch is harmless. Returns once the rows are committed.
   */
  writePosts(posts: readonly EnrichedPost[], options?: WriteOptions): Promise<WriteResult & { expired: number }>;
  /**
   * Writes rows built by `encodeRows` (on another thread, say) as `writePosts` writes posts: one transaction, a row
   * whose `(platform, id)` is already archived changes nothing. The rows hold distinct keys, so `duplicates` counts
   * the rows the archive held already (what `encodeRows` left out is counted in its result).
   */
  writeRows(rows: EncodedRows): Promise<WriteResult>;
  /** One page of matches, newest first by default, with the total. */
  search(filter: PostFilter, options?: SearchOptions): Promise<SearchPage>;
  /** How many posts match. */
  count(filter: PostFilter): Promise<number>;
  /** Volume and negative share per hour or day over the matches (empty buckets included, between `from`/`to` or the first and last match). */
  histogram(filter: PostFilter, options: HistogramOptions): Promise<HistogramBucket[]>;
  /** The keywords most posts among the matches carry. */
  topTerms(filter: PostFilter, options?: { limit?: number }): Promise<TermCount[]>;
  /** The accounts with the most matching posts. */
  topAccounts(filter: PostFilter, options?: { limit?: number }): Promise<AccountCount[]>;
  /** The repost trees with the most matching posts (grouped by `rootId`), most first: a day's biggest cascades. */
  topCascades(filter: PostFilter, options?: { limit?: number }): Promise<CascadeCount[]>;
  /** The posts with these ids, in the order given (ids not archived are left out; spam included). */
  postsByIds(ids: readonly string[], options?: { platform?: string }): Promise<ArchivedPost[]>;
  /**
   * The matches as CSV (header row, `EXPORT_COLUMNS`), streamed from PostgreSQL's COPY. Resolves once the
   * query is accepted, so a bad filter rejects before any byte is sent.
   */
  exportCsv(filter: PostFilter, options?: ExportOptions): Promise<Readable>;
  /** The monthly partitions, oldest first. */
  partitions(): Promise<PartitionInfo[]>;
  /** Drops the partitions (and keys) of months before `month` (`YYYY-MM`); returns the tables dropped. */
  dropMonthsBefore(month: string): Promise<string[]>;
  /** Retention: keeps the current month and the `months - 1` before it (UTC), drops the rest. `months` ≥ 1. */
  applyRetention(months: number, nowMs?: number): Promise<string[]>;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  /** Closes the pool; safe to call twice. */
  close(): Promise<void>;
}

const POST_COLUMNS = `id, platform, created_at, author_id, author_name, author_followers, author_verified, text, own_text, url,
  parent_id, root_id, region, lang, sentiment, spam, spam_reason, schemes, keywords, topics, mentions, emoticons, urls`;

interface PostRow {
  id: string;
  platform: string;
  created_at: Date;
  author_id: string;
  author_name: string | null;
  author_followers: number | null;
  author_verified: boolean | null;
  text: string;
  own_text: string;
  url: string | null;
  parent_id: string | null;
  root_id: string | null;
  region: string | null;
  lang: string | null;
  sentiment: number;
  spam: boolean;
  spam_reason: string | null;
  schemes: string[];
  keywords: string[];
  topics: string[];
  mentions: string[];
  emoticons: string[];
  urls: string[];
}

function toPost(row: PostRow): ArchivedPost {
  const author: ArchivedPost['author'] = { id: row.author_id };
  if (row.author_name !== null) author.name = row.author_name;
  if (row.author_followers !== null) author.followers = row.author_followers;
  if (row.author_verified !== null) author.verified = row.author_verified;
  const post: ArchivedPost = {
    id: row.id,
    platform: row.platform,
    createdAt: row.created_at.toISOString(),
    author,
    text: row.text,
    ownText: row.own_text,
    sentiment: row.sentiment,
    spam: row.spam,
    schemes: row.schemes,
    keywords: row.keywords,
    topics: row.topics,
    mentions: row.mentions,
    emoticons: row.emoticons,
    urls: row.urls,
  };
  if (row.url !== null) post.url = row.url;
  if (row.parent_id !== null) post.parentId = row.parent_id;
  if (row.root_id !== null) post.rootId = row.root_id;
  if (row.region !== null) post.region = row.region;
  if (row.lang !== null) post.lang = row.lang;
  if (row.spam_reason !== null) post.spamReason = row.spam_reason;
  return post;
}

// A batch is one transaction. Its keys go into post_keys first, then the rows of the keys new to the archive are
// COPYed into posts, the fastest way PostgreSQL takes rows. The first try assumes every key is new (a batch seen
// for the first time): the keys are COPYed too, and a key already there (or being written by a concurrent writer,
// which PostgreSQL makes this one wait for) fails it with a unique violation. The transaction is then rolled back
// and the batch written the careful way: INSERT … ON CONFLICT DO NOTHING RETURNING gives the keys new to the archive,
// and only their rows are copied. A redelivered batch thus fails its first COPY at its first key and copies nothing;
// a crash before COMMIT leaves neither keys nor rows.
const KEYS_COPY_SQL = 'COPY post_keys (id, platform, created_at) FROM STDIN';
const KEYS_SQL = `
INSERT INTO post_keys (id, platform, created_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
ON CONFLICT DO NOTHING
RETURNING id, platform`;
const COPY_SQL = `COPY posts (${COPY_COLUMNS.join(', ')}) FROM STDIN`;
/** SQLSTATE unique_violation: in the first try, a key the archive already holds. */
const UNIQUE_VIOLATION = '23505';

function copyIn(client: pg.PoolClient, sql: string, text: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stream = client.query(copyFrom(sql));
    stream.once('finish', resolve);
    stream.once('error', reject);
    stream.end(text);
  });
}

/** Rows per piece of a streamed COPY: built in a few milliseconds, while PostgreSQL takes the piece before. */
const ROWS_PER_PIECE = 500;

/** A post's identity as `post_keys` holds it. */
type PostKey = ReturnType<typeof postKey>;

/** What one write sends, from posts (rows built as they are sent) or from rows encoded already; keys distinct. */
interface RowBatch {
  readonly count: number;
  /** The keys as COPY text, sorted: writers that share keys take them in the same order. */
  keysCopyText(): string;
  /** The keys, sorted by id then platform, for the claim. */
  keys(): PostKey[];
  /** The same batch with only the posts whose key (`platform \0 id`) is in `fresh`. */
  only(fresh: ReadonlySet<string>): RowBatch;
  /** The COPY data of the rows, piece by piece, each built when it is asked for. */
  pieces(): Iterator<string | Uint8Array>;
}

const keyId = (key: { id: string; platform: string }) => `${key.platform}\u0000${key.id}`;
const byIdThenPlatform = (a: PostKey, b: PostKey) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0);

function postBatch(posts: readonly EnrichedPost[], subwords: SubwordFn | undefined): RowBatch {
  return {
    count: posts.length,
    keysCopyText: () => keysCopyText(posts),
    keys: () => posts.map(postKey).sort(byIdThenPlatform),
    only: (fresh) => postBatch(posts.filter((p) => fresh.has(keyId(postKey(p)))), subwords),
    *pieces() {
      for (let i = 0; i < posts.length; i += ROWS_PER_PIECE) yield rowLines(posts.slice(i, i + ROWS_PER_PIECE), subwords).join('');
    },
  };
}

function encodedBatch(rows: EncodedRows): RowBatch {
  return {
    count: rows.ends.length,
    keysCopyText: () => {
      let text = '';
      for (const k of rows.keyOrder) text += rows.keyLines[k]!;
      return text;
    },
    keys: () => rows.keyLines.map(parseKeyLine).sort(byIdThenPlatform),
    only(fresh) {
      const parts: Uint8Array[] = [];
      const keep: number[] = [];
      for (let i = 0; i < rows.ends.length; i++) {
        if (!fresh.has(keyId(parseKeyLine(rows.keyLines[i]!)))) continue;
        keep.push(i);
        parts.push(rows.bytes.subarray(i === 0 ? 0 : rows.ends[i - 1]!, rows.ends[i]!));
      }
      const ends = new Uint32Array(keep.length);
      parts.reduce((at, part, i) => (ends[i] = at + part.length), 0);
      const position = new Map(keep.map((row, i) => [row, i]));
      return encodedBatch({
        ...rows,
        bytes: Buffer.concat(parts),
        ends,
        keyLines: keep.map((i) => rows.keyLines[i]!),
        keyOrder: Uint32Array.from([...rows.keyOrder].filter((k) => position.has(k)).map((k) => position.get(k)!)),
        sources: Uint32Array.from(keep.map((i) => rows.sources[i]!)),
      });
    },
    *pieces() {
      if (rows.bytes.length > 0) yield rows.bytes;
    },
  };
}

/**
 * COPYs the batch's rows into `posts`, piece by piece as they are built: PostgreSQL ingests a piece while the next
 * one is built, so building the rows costs little more than the COPY itself. `first`: pieces built already, taken
 * from `rest` before.
 */
async function copyRows(client: pg.PoolClient, first: readonly (string | Uint8Array)[], rest: Iterator<string | Uint8Array>): Promise<void> {
  const stream = client.query(copyFrom(COPY_SQL));
  const done = new Promise<void>((resolve, reject) => {
    stream.once('finish', resolve);
    stream.once('error', reject);
  });
  done.catch(() => undefined);
  // A write's callback comes once the piece is on the socket (the first one: once PostgreSQL is ready for data).
  const send = (piece: string | Uint8Array) => Promise.race([new Promise<void>((resolve) => stream.write(piece, () => resolve())), done]);
  for (const piece of first) await send(piece);
  for (let next = rest.next(); next.done !== true; next = rest.next()) await send(next.value);
  stream.end();
  await done;
}

/** SQLSTATE of "no partition of relation found for row": a month dropped by retention after it was cached. */
const NO_PARTITION = '23514';
/** SQLSTATE duplicate_table. */
const DUPLICATE_TABLE = '42P07';
const MONTH = /^\d{4}-\d{2}$/;

function clampLimit(value: number | undefined, fallback: number, max: number, field = 'limit'): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new ArchiveInputError(field, `must be an integer from 1 to ${max}`);
  return value;
}

/** Connects lazily; call {@link Archive.migrate} once at start before writing. */
export function createArchive(options: ArchiveOptions): Archive {
  const schema = checkSchemaName(options.schema ?? 'archive');
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    options: `-c search_path=${schema}`,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    application_name: 'tingfeng-archive',
  });
  // An idle client losing its server (a restart) is reported here; without a listener it would crash the process.
  pool.on('error', (err) => options.logger?.warn({ err }, 'idle archive connection failed'));
  const loadTokenizer = options.tokenizer !== undefined ? () => Promise.resolve(options.tokenizer!) : createQueryTokenizer();
  const subwordOption = options.subwords;
  const loadSubwords: () => Promise<SubwordFn | undefined> =
    subwordOption === false ? () => Promise.resolve(undefined) : subwordOption !== undefined ? () => Promise.resolve(subwordOption) : createSubwordLoader();
  const knownMonths = new Set<string>();
  let closed: Promise<void> | undefined;

  async function compiled(filter: PostFilter): Promise<string | undefined> {
    if (filter.q === undefined || filter.q.trim().length === 0) return undefined;
    return compileSearchQuery(filter.q, await loadTokenizer());
  }

  async function conditions(filter: PostFilter, b: Binder): Promise<string[]> {
    return filterConditions(filter, await compiled(filter), b);
  }

  async function ensureMonths(months: readonly string[]): Promise<void> {
    const missing = months.filter((m) => !knownMonths.has(m));
    if (missing.length === 0) return;
    try {
      await pool.query('SELECT ensure_post_partitions($1::text[])', [missing]);
    } catch (err) {
      // Two writers meeting a new month at once: the function's lock serialises them, but the second can still miss
      // the first one's table and fail to create it again. The table is there now; a second call sees it.
      if ((err as { code?: string }).code !== DUPLICATE_TABLE) throw err;
      await pool.query('SELECT ensure_post_partitions($1::text[])', [missing]);
    }
    for (const m of missing) knownMonths.add(m);
  }

  /** Writes the rows whose keys are new; returns how many. */
  async function writeFresh(batch: RowBatch): Promise<number> {
    const client = await pool.connect();
    let broken: Error | undefined;
    const rollback = () => client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    try {
      await client.query('BEGIN');
      const keysCopied = copyIn(client, KEYS_COPY_SQL, batch.keysCopyText());
      let keysSettled = false;
      keysCopied.then(
        () => (keysSettled = true),
        () => (keysSettled = true),
      );
      try {
        // The first pieces of rows are built while PostgreSQL takes the keys (the COPY is already on the wire).
        const rest = batch.pieces();
        const first: (string | Uint8Array)[] = [];
        while (!keysSettled) {
          const next = rest.next();
          if (next.done === true) break;
          first.push(next.value);
          await new Promise((resolve) => setImmediate(resolve));
        }
        await keysCopied;
        await copyRows(client, first, rest);
        await client.query('COMMIT');
        return batch.count;
      } catch (err) {
        await rollback();
        if (broken !== undefined || (err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      }
      // Some key is archived already (a redelivery), or was being written by a concurrent writer.
      try {
        return await writeClaimed(client, batch);
      } catch (err) {
        await rollback();
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  /** The careful way: only the keys new to the archive are claimed, and only their rows copied. */
  async function writeClaimed(client: pg.PoolClient, batch: RowBatch): Promise<number> {
    await client.query('BEGIN');
    const keys = batch.keys();
    const taken = await client.query<{ id: string; platform: string }>(KEYS_SQL, [keys.map((k) => k.id), keys.map((k) => k.platform), keys.map((k) => k.createdAt)]);
    let fresh = batch;
    if ((taken.rowCount ?? 0) < batch.count) fresh = batch.only(new Set(taken.rows.map(keyId)));
    if (fresh.count > 0) await copyRows(client, [], fresh.pieces());
    await client.query('COMMIT');
    return fresh.count;
  }

  async function insert(batch: RowBatch, months: readonly string[]): Promise<number> {
    await ensureMonths(months);
    try {
      return await writeFresh(batch);
    } catch (err) {
      if ((err as { code?: string }).code !== NO_PARTITION) throw err;
      for (const m of months) knownMonths.delete(m);
      await ensureMonths(months);
      return writeFresh(batch);
    }
  }

  const archive: Archive = {
    schema,

    migrate: () => migrateArchive({ databaseUrl: options.databaseUrl, schema, ...(options.logger && { logger: options.logger }) }),

    async writePosts(posts, writeOptions = {}) {
      const { unique, months, expired } = distinctPosts(posts, writeOptions.notBeforeMs);
      if (unique.length === 0) return { inserted: 0, duplicates: 0, expired };
      const inserted = await insert(postBatch(unique, await loadSubwords()), months);
      return { inserted, duplicates: posts.length - expired - inserted, expired };
    },

    async writeRows(rows) {
      const count = rows.ends.length;
      if (count === 0) return { inserted: 0, duplicates: 0 };
      const inserted = await insert(encodedBatch(rows), rows.months);
      return { inserted, duplicates: count - inserted };
    },

    async search(filter, searchOptions = {}) {
      const limit = clampLimit(searchOptions.limit, 50, 500);
      const newest = (searchOptions.order ?? 'newest') === 'newest';
      const b = new ParamBinder();
      const where = await conditions(filter, b);
      const countValues = [...b.values];
      const countSql = `SELECT count(*)::int AS n FROM posts ${whereSql(where)}`;
      const pageWhere = [...where];
      if (searchOptions.cursor !== undefined) {
        const key = decodeCursor(searchOptions.cursor);
        const tuple = `(${b.bind(key.createdAt, 'timestamptz')}, ${b.bind(key.id, 'text')}, ${b.bind(key.platform, 'text')})`;
        pageWhere.push(`(created_at, id, platform) ${newest ? '<' : '>'} ${tuple}`);
      }
      const direction = newest ? 'DESC' : 'ASC';
      const pageSql = `SELECT ${POST_COLUMNS} FROM posts ${whereSql(pageWhere)}
        ORDER BY created_at ${direction}, id ${direction}, platform ${direction} LIMIT ${limit + 1}`;
      const [page, total] = await Promise.all([
        pool.query<PostRow>(pageSql, b.values),
        searchOptions.withTotal === false ? undefined : pool.query<{ n: number }>(countSql, countValues),
      ]);
      const rows = page.rows.slice(0, limit);
      const last = rows[rows.length - 1];
      return {
        total: total?.rows[0]?.n,
        posts: rows.map(toPost),
        nextCursor: page.rows.length > limit && last ? encodeCursor({ createdAt: last.created_at.toISOString(), id: last.id, platform: last.platform }) : null,
      };
    },

    async count(filter) {
      const b = new ParamBinder();
      const where = await conditions(filter, b);
      const result = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM posts ${whereSql(where)}`, b.values);
      return result.rows[0]?.n ?? 0;
    },

    async histogram(filter, histogramOptions) {
      const interval = histogramOptions.interval;
      if (interval !== 'hour' && interval !== 'day') throw new ArchiveInputError('interval', 'must be hour or day');
      const b = new ParamBinder();
      const where = await conditions(filter, b);
      const tz = b.bind(histogramOptions.timeZone ?? 'UTC', 'text');
      // With from/to the buckets span them (quiet stretches show as zeros); without, the first to the last match.
      const lo = filter.from !== undefined ? b.bind(new Date(timeBoundMs(filter.from, 'from')).toISOString(), 'timestamptz') : 'NULL::timestamptz';
      const hi = filter.to !== undefined ? b.bind(new Date(timeBoundMs(filter.to, 'to') - 1).toISOString(), 'timestamptz') : 'NULL::timestamptz';
      const step = interval === 'hour' ? `interval '1 hour'` : `interval '1 day'`;
      const sql = `
        WITH hits AS (
          SELECT date_trunc('${interval}', created_at AT TIME ZONE ${tz}) AS bucket, count(*)::int AS n,
                 count(*) FILTER (WHERE sentiment < 0)::int AS negative
          FROM posts ${whereSql(where)} GROUP BY 1
        ), span AS (
          SELECT coalesce(date_trunc('${interval}', ${lo} AT TIME ZONE ${tz}), min(bucket)) AS lo,
                 coalesce(date_trunc('${interval}', ${hi} AT TIME ZONE ${tz}), max(bucket)) AS hi
          FROM hits
        )
        SELECT s.bucket AT TIME ZONE ${tz} AS start, coalesce(h.n, 0) AS n, coalesce(h.negative, 0) AS negative
        FROM span, generate_series(span.lo, span.hi, ${step}) AS s(bucket)
        LEFT JOIN hits h ON h.bucket = s.bucket
        ORDER BY s.bucket
        LIMIT ${MAX_BUCKETS + 1}`;
      const result = await pool.query<{ start: Date; n: number; negative: number }>(sql, b.values);
      if (result.rows.length > MAX_BUCKETS) throw new ArchiveInputError('interval', `more than ${MAX_BUCKETS} buckets: narrow the time range or use a longer interval`);
      return result.rows.map((r) => ({ start: r.start.toISOString(), count: r.n, negative: r.negative, negativeShare: r.n === 0 ? 0 : r.negative / r.n }));
    },

    async topTerms(filter, termOptions = {}) {
      const limit = clampLimit(termOptions.limit, 20, 200);
      const b = new ParamBinder();
      const where = await conditions(filter, b);
      const result = await pool.query<{ term: string; n: number }>(
        `SELECT term, count(*)::int AS n FROM posts, unnest(keywords) AS term ${whereSql(where)}
         GROUP BY term ORDER BY n DESC, term LIMIT ${limit}`,
        b.values,
      );
      return result.rows.map((r) => ({ term: r.term, count: r.n }));
    },

    async topAccounts(filter, accountOptions = {}) {
      const limit = clampLimit(accountOptions.limit, 20, 200);
      const b = new ParamBinder();
      const where = await conditions(filter, b);
      const result = await pool.query<{ id: string; name: string | null; followers: number | null; verified: boolean | null; n: number; negative: number }>(
        `SELECT author_id AS id,
                (array_agg(author_name ORDER BY created_at DESC) FILTER (WHERE author_name IS NOT NULL))[1] AS name,
                max(author_followers) AS followers, bool_or(author_verified) AS verified,
                count(*)::int AS n, count(*) FILTER (WHERE sentiment < 0)::int AS negative
         FROM posts ${whereSql(where)}
         GROUP BY author_id ORDER BY n DESC, id LIMIT ${limit}`,
        b.values,
      );
      return result.rows.map((r) => {
        const account: AccountCount = { id: r.id, posts: r.n, negativeShare: r.n === 0 ? 0 : r.negative / r.n };
        if (r.name !== null) account.name = r.name;
        if (r.followers !== null) account.followers = r.followers;
        if (r.verified !== null) account.verified = r.verified;
        return account;
      });
    },

    async topCascades(filter, cascadeOptions = {}) {
      const limit = clampLimit(cascadeOptions.limit, 10, 200);
      const b = new ParamBinder();
      const where = [...(await conditions(filter, b)), 'root_id IS NOT NULL', 'root_id <> id'];
      const result = await pool.query<{ root_id: string; n: number; negative: number; first: Date; last: Date }>(
        `SELECT root_id, count(*)::int AS n, count(*) FILTER (WHERE sentiment < 0)::int AS negative,
                min(created_at) AS first, max(created_at) AS last
         FROM posts ${whereSql(where)}
         GROUP BY root_id ORDER BY n DESC, root_id LIMIT ${limit}`,
        b.values,
      );
      return result.rows.map((r) => ({
        rootId: r.root_id,
        posts: r.n,
        negativeShare: r.n === 0 ? 0 : r.negative / r.n,
        firstAt: r.first.toISOString(),
        lastAt: r.last.toISOString(),
      }));
    },

    async postsByIds(ids, byIdOptions = {}) {
      if (ids.length === 0) return [];
      if (ids.length > 10_000) throw new ArchiveInputError('ids', 'at most 10,000 at once');
      const values: unknown[] = [[...ids]];
      let sql = `SELECT ${POST_COLUMNS} FROM posts WHERE id = ANY($1::text[])`;
      if (byIdOptions.platform !== undefined) {
        values.push(byIdOptions.platform);
        sql += ' AND platform = $2::text';
      }
      const rows = (await pool.query<PostRow>(sql, values)).rows;
      const byId = new Map<string, PostRow>();
      for (const row of rows) if (!byId.has(row.id)) byId.set(row.id, row);
      const out: ArchivedPost[] = [];
      const seen = new Set<string>();
      for (const id of ids) {
        const row = byId.get(id);
        if (row && !seen.has(id)) {
          seen.add(id);
          out.push(toPost(row));
        }
      }
      return out;
    },

    async exportCsv(filter, exportOptions = {}) {
      const maxRows = clampLimit(exportOptions.maxRows, 100_000, 10_000_000, 'maxRows');
      const direction = (exportOptions.order ?? 'newest') === 'newest' ? 'DESC' : 'ASC';
      const where = await conditions(filter, new LiteralBinder());
      const sql = `COPY (
        SELECT id, platform, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
               author_id, ${spreadsheetSafe('author_name')} AS author_name, author_followers, ${spreadsheetSafe('text')} AS text,
               url, round(sentiment::numeric, 3) AS sentiment, spam, array_to_string(schemes, ';') AS schemes,
               array_to_string(keywords, ';') AS keywords, root_id, parent_id
        FROM posts ${whereSql(where)}
        ORDER BY created_at ${direction}, id ${direction}, platform ${direction}
        LIMIT ${maxRows}
      ) TO STDOUT WITH (FORMAT csv, HEADER true)`;
      const client = await pool.connect();
      let released = false;
      const release = (err?: Error) => {
        if (released) return;
        released = true;
        // A client whose COPY was cut off mid-stream is in an unknown state: destroy it rather than reuse it.
        client.release(err);
      };
      const source = client.query(copyTo(sql));
      // The first chunk (or the end of an empty result) proves the query was accepted.
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => {
          release(err);
          reject(err);
        };
        source.once('error', onError);
        source.once('readable', () => {
          source.off('error', onError);
          resolve();
        });
        source.once('end', () => {
          source.off('error', onError);
          resolve();
        });
      });
      let bomSent = exportOptions.bom === false;
      const out = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          if (!bomSent) {
            bomSent = true;
            this.push(Buffer.from([0xef, 0xbb, 0xbf]));
          }
          callback(null, chunk);
        },
        flush(callback) {
          if (!bomSent) this.push(Buffer.from([0xef, 0xbb, 0xbf]));
          callback();
        },
      });
      source.on('error', (err) => {
        release(err);
        out.destroy(err);
      });
      source.on('end', () => release());
      out.on('close', () => {
        // The reader went away before the end (a client closed the download).
        if (!released) {
          source.destroy();
          release(new Error('export abandoned by its reader'));
        }
      });
      source.pipe(out);
      return out;
    },

    async partitions() {
      const result = await pool.query<{ table: string }>(
        `SELECT c.relname AS table FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace
         WHERE p.relname = 'posts' AND n.nspname = current_schema()
         ORDER BY c.relname`,
      );
      return result.rows
        .map((r) => ({ table: r.table, month: r.table.replace(/^posts_(\d{4})_(\d{2})$/, '$1-$2') }))
        .filter((p) => MONTH.test(p.month));
    },

    async dropMonthsBefore(month) {
      if (!MONTH.test(month)) throw new ArchiveInputError('month', 'must be YYYY-MM');
      const dropped: string[] = [];
      for (const p of await archive.partitions()) {
        if (p.month >= month) continue;
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          // Dropping a partition locks the parent for a moment; wait briefly rather than queue every reader behind it.
          await client.query(`SET LOCAL lock_timeout = '5s'`);
          await client.query(`DROP TABLE ${pg.escapeIdentifier(p.table)}`);
          const upper = nextMonth(p.month);
          await client.query(`DELETE FROM post_keys WHERE created_at < $1::timestamptz`, [`${upper}-01T00:00:00Z`]);
          await client.query('COMMIT');
          knownMonths.delete(p.month);
          dropped.push(p.table);
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          client.release();
        }
      }
      if (dropped.length > 0) options.logger?.info({ schema, dropped }, 'archive partitions dropped by retention');
      return dropped;
    },

    async applyRetention(months, nowMs = Date.now()) {
      if (!Number.isInteger(months) || months < 1) throw new ArchiveInputError('months', 'must be an integer ≥ 1');
      return archive.dropMonthsBefore(retentionCutoff(months, nowMs));
    },

    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },

    close() {
      closed ??= pool.end();
      return closed;
    },
  };
  return archive;
}

/** Most buckets a histogram returns (a year of hours is 8,760). */
const MAX_BUCKETS = 10_000;

/** The first month kept when keeping `months` months up to the one holding `nowMs` (UTC). */
export function retentionCutoff(months: number, nowMs: number): string {
  const d = new Date(nowMs);
  return monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - (months - 1), 1));
}

function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return monthOf(Date.UTC(y, m, 1));
}

/**
 * A text cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a leading `'`, the usual
 * defence against formula injection through exported data.
 */
function spreadsheetSafe(column: string): string {
  return `CASE WHEN left(${column}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || ${column} ELSE ${column} END`;
}
