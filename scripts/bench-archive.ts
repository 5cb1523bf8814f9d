/**
 * pnpm bench:archive [--posts 200000] [--search-posts 1000000] [--queries 200] [--input <ced_weibo_dev.jsonl.xz>]
 *                    [--skip-writes] [--skip-search] [--keep-search-schema] [--search-schema <name kept by an earlier run>]
 *
 * Real Weibo posts (the CED development file) through the analyzer, then, each into an empty archive schema of its
 * own with the same indexes:
 *   1. baseline: a bare COPY of the same rows (posts table only, no identity check) from this client; after the
 *      three runs below, the same rows by bare multi-row INSERTs of 1000 rows (the issue's other baseline) too;
 *   2. the archive library's writePosts, batches of 5000 (identity check, tsvector with sub-words);
 *   3. the archiver service itself, a child process consuming the same posts from a Kafka topic to durable rows;
 * with the baseline again after each (the machine's drift during the run): each is set beside the mean of the baselines
 * just before and just after it.
 * Then search: an archive of --search-posts posts (the dev file, then its posts again with new ids, five years on),
 * VACUUM ANALYZE, and --queries two-word queries drawn from the posts' own keywords, each answered with the first
 * page of 50 and the total. Prints posts/s, the ratios to the baseline, and search latency p50/p95/max.
 * Uses DATABASE_URL (or a throwaway PostgreSQL) and KAFKA_BROKERS; every schema and topic it makes is its own and
 * is dropped at the end (`--keep-search-schema` keeps the loaded search archive, and `--search-schema` times the
 * queries over it again without loading: the load of a million posts takes minutes). Figures, not assertions.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { COPY_COLUMNS, createArchive, prepareBatch, SearchQueryError } from '@tingfeng/archive';
import { validatePost, type EnrichedPost } from '@tingfeng/contracts';
import { createTopics, databaseUrl, deleteTopics, dropSchema, freePort, kafkaBrokers, postgresAnswers, randomSchemaName, startThrowawayPostgres } from '@tingfeng/testing/infra';
import { createAnalyzer } from '@tingfeng/text';
import { createKafka } from '@tingfeng/kafka';
import { createLogger } from '@tingfeng/logger';
import { scrapeSum } from '@tingfeng/metrics';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '200000' },
    'search-posts': { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '200' },
    input: { type: 'string', default: join(repoRoot, '..', 'shared', 'data', 'ced_weibo_dev.jsonl.xz') },
    'skip-writes': { type: 'boolean', default: false },
    'skip-search': { type: 'boolean', default: false },
    'keep-search-schema': { type: 'boolean', default: false },
    'search-schema': { type: 'string' },
  },
});
const throughputPosts = Number(values.posts);
const searchPosts = Number(values['search-posts']);
const queryCount = Number(values.queries);
const BATCH = 5000;
const say = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const analyzer = createAnalyzer();

/** Posts of the dev file, analysed, in file order; `round` > 0 gives them new ids and moves them `round` × 5 years on. */
async function* readPosts(path: string, round: number): AsyncGenerator<EnrichedPost> {
  const xz = spawn('xz', ['-dc', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const shiftMs = round * 5 * 365 * 24 * 3600 * 1000;
  try {
    for await (const line of createInterface({ input: xz.stdout!, crlfDelay: Infinity })) {
      if (line.length === 0) continue;
      const result = validatePost(JSON.parse(line), { receivedAtMs: Number.MAX_SAFE_INTEGER });
      if (!result.ok) continue;
      const post = result.post;
      if (round > 0) {
        post.id = `${post.id}~${round}`;
        if (post.rootId !== undefined) post.rootId = `${post.rootId}~${round}`;
        if (post.parentId !== undefined) post.parentId = `${post.parentId}~${round}`;
        post.createdAtMs += shiftMs;
        post.createdAt = new Date(post.createdAtMs).toISOString();
      }
      yield analyzer.analyze(post);
    }
  } finally {
    xz.kill();
  }
}

async function take(n: number): Promise<EnrichedPost[]> {
  const out: EnrichedPost[] = [];
  for await (const p of readPosts(values.input, 0)) {
    out.push(p);
    if (out.length >= n) break;
  }
  return out;
}

/** The same rows writePosts sends, as COPY text: built before the timing, so the baseline times the database alone. */
function copyPayload(posts: readonly EnrichedPost[]): { chunks: string[]; months: string[] } {
  const chunks: string[] = [];
  const months = new Set<string>();
  for (let i = 0; i < posts.length; i += BATCH) {
    const batch = prepareBatch(posts.slice(i, i + BATCH), subwordsOf);
    for (const month of batch.months) months.add(month);
    chunks.push(batch.copyText);
  }
  return { chunks, months: [...months] };
}

let subwordsOf: ((token: string) => readonly string[]) | undefined;

async function client(url: string, schema: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await c.connect();
  return c;
}

async function freshSchema(url: string, months: readonly string[]): Promise<string> {
  const schema = randomSchemaName('bench_archive');
  schemas.push(schema);
  const archive = createArchive({ databaseUrl: url, schema, subwords: false });
  await archive.migrate();
  await archive.close();
  const c = await client(url, schema);
  await c.query('SELECT ensure_post_partitions($1::text[])', [months]);
  await c.end();
  return schema;
}

async function baseline(url: string, payload: { chunks: string[]; months: string[] }, count: number): Promise<number> {
  const schema = await freshSchema(url, payload.months);
  const c = await client(url, schema);
  const t0 = performance.now();
  for (const chunk of payload.chunks) {
    await new Promise<void>((resolve, reject) => {
      const stream = c.query(copyFrom(`COPY posts (${COPY_COLUMNS.join(', ')}) FROM STDIN`));
      stream.on('finish', () => resolve());
      stream.on('error', reject);
      stream.end(chunk);
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  await c.end();
  return count / seconds;
}

/** Rows in one multi-row INSERT of the second baseline: 25 columns a row, well under PostgreSQL's 65,535 parameters. */
const INSERT_ROWS = 1000;

/** A field of COPY's text format back to its value: `\N` is NULL, and backslash escapes are undone. */
function copyField(field: string): string | null {
  if (field === '\\N') return null;
  return field.includes('\\') ? field.replace(/\\(.)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c)) : field;
}

/** The same rows as the parameters of multi-row INSERTs of {@link INSERT_ROWS} rows: built before the timing too. */
function insertPayload(chunks: readonly string[]): (string | null)[][] {
  const statements: (string | null)[][] = [];
  let params: (string | null)[] = [];
  for (const chunk of chunks) {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      for (const f of line.split('\t')) params.push(copyField(f));
      if (params.length === INSERT_ROWS * COPY_COLUMNS.length) {
        statements.push(params);
        params = [];
      }
    }
  }
  if (params.length > 0) statements.push(params);
  return statements;
}

/** `INSERT INTO posts (…) VALUES ($1, …), (…)` for `rows` rows. */
function insertSql(rows: number): string {
  const n = COPY_COLUMNS.length;
  const tuples = Array.from({ length: rows }, (_, r) => `(${Array.from({ length: n }, (_, c) => `$${r * n + c + 1}`).join(', ')})`);
  return `INSERT INTO posts (${COPY_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`;
}

/** The second baseline: the same rows by bare multi-row INSERTs (no identity check, no conflict clause) from this client. */
async function insertBaseline(url: string, statements: readonly (string | null)[][], months: readonly string[], count: number): Promise<number> {
  const schema = await freshSchema(url, months);
  const c = await client(url, schema);
  const sql = new Map<number, string>();
  const t0 = performance.now();
  for (const params of statements) {
    const rows = params.length / COPY_COLUMNS.length;
    let text = sql.get(rows);
    if (text === undefined) sql.set(rows, (text = insertSql(rows)));
    await c.query(text, params);
  }
  const seconds = (performance.now() - t0) / 1000;
  await c.end();
  return count / seconds;
}

async function library(url: string, posts: readonly EnrichedPost[], months: readonly string[]): Promise<number> {
  const schema = await freshSchema(url, months);
  const archive = createArchive({ databaseUrl: url, schema, ...(subwordsOf && { subwords: subwordsOf }) });
  const t0 = performance.now();
  for (let i = 0; i < posts.length; i += BATCH) await archive.writePosts(posts.slice(i, i + BATCH));
  const seconds = (performance.now() - t0) / 1000;
  await archive.close();
  return posts.length / seconds;
}

/** The archiver as deployed: a child process, from a 6-partition topic to committed rows. Timed from its first write to its last. */
async function service(url: string, posts: readonly EnrichedPost[], months: readonly string[]): Promise<number> {
  const schema = await freshSchema(url, months);
  const topic = `bench-archive-${Date.now().toString(36)}`;
  topics.push(topic);
  await createTopics([{ name: topic, partitions: 6 }, `${topic}.dlq`]);
  topics.push(`${topic}.dlq`);
  const kafka = createKafka({ clientId: 'bench-archive', brokers: kafkaBrokers() }, createLogger('bench-archive'));
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < posts.length; i += 2000) {
    await producer.send({ topic, acks: -1, messages: posts.slice(i, i + 2000).map((p) => ({ key: p.rootId ?? p.id, value: JSON.stringify(p) })) });
  }
  await producer.disconnect();
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'services/archiver/src/main.ts')], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      DATABASE_URL: url,
      ARCHIVE_SCHEMA: schema,
      ARCHIVER_INPUT_TOPIC: topic,
      ARCHIVER_DLQ_TOPIC: `${topic}.dlq`,
      ARCHIVER_GROUP_ID: topic,
      ARCHIVER_INSTANCE_ID: topic,
      METRICS_PORT: String(port),
    },
  });
  try {
    let t0 = 0;
    let first = 0;
    let progressAt = performance.now();
    let last = 0;
    for (;;) {
      const written = await scrapeSum(port, 'tingfeng_archiver_posts_written_total');
      if (t0 === 0 && written > 0) {
        t0 = performance.now();
        first = written;
      }
      if (written >= posts.length) {
        const rate = (written - first) / ((performance.now() - t0) / 1000);
        const duplicates = await scrapeSum(port, 'tingfeng_archiver_posts_duplicate_total');
        if (duplicates > 0) say(`  (the archiver saw ${fmt(duplicates)} redelivered posts: a chunk whose offset commit failed after its rows were durable)`);
        return rate;
      }
      if (written > last) {
        last = written;
        progressAt = performance.now();
      }
      // Never wait forever: a stalled archiver is a finding, reported with what it did.
      if (performance.now() - progressAt > 120_000) throw new Error(`the archiver stalled at ${fmt(written)} of ${fmt(posts.length)} posts written`);
      if (child.exitCode !== null) throw new Error(`the archiver exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const schemas: string[] = [];
const topics: string[] = [];

async function main(): Promise<void> {
  if (!existsSync(values.input)) throw new Error(`input not found: ${values.input}`);
  let url = databaseUrl();
  let throwaway: Awaited<ReturnType<typeof startThrowawayPostgres>> | undefined;
  if (!(await postgresAnswers(url))) {
    say(`no PostgreSQL at ${url}: starting a throwaway one`);
    throwaway = await startThrowawayPostgres();
    url = throwaway.url;
  }
  try {
    const { createSubwordLoader } = await import('@tingfeng/archive');
    subwordsOf = await createSubwordLoader()();
    if (!values['skip-writes']) await writeThroughput(url);
    if (!values['skip-search']) await searchLatency(url);
  } finally {
    for (const s of schemas) await dropSchema(url, s).catch(() => undefined);
    if (topics.length > 0) await deleteTopics(topics).catch(() => undefined);
    await throwaway?.stop();
    analyzer.close();
  }
}

async function writeThroughput(url: string): Promise<void> {
  {
    say(`reading ${fmt(throughputPosts)} posts of ${values.input} through the analyzer…`);
    const posts = await take(throughputPosts);
    const payload = copyPayload(posts);
    say(`\nwrite throughput, ${fmt(posts.length)} real posts, each run into an empty schema with the archive's indexes:`);
    // The machine's speed drifts within a run (other work comes and goes): each figure is set beside the baselines
    // measured just before and just after it.
    const base1 = await baseline(url, payload, posts.length);
    say(`  baseline: bare COPY of the same rows      ${fmt(base1).padStart(8)} posts/s`);
    const lib = await library(url, posts, payload.months);
    say(`  archive.writePosts (batches of ${BATCH})     ${fmt(lib).padStart(8)} posts/s`);
    const base2 = await baseline(url, payload, posts.length);
    say(`  baseline again                             ${fmt(base2).padStart(8)} posts/s`);
    const svc = await service(url, posts, payload.months);
    say(`  archiver service, Kafka → durable rows    ${fmt(svc).padStart(8)} posts/s`);
    const base3 = await baseline(url, payload, posts.length);
    say(`  baseline again                             ${fmt(base3).padStart(8)} posts/s`);
    const statements = insertPayload(payload.chunks);
    const inserts = await insertBaseline(url, statements, payload.months, posts.length);
    statements.length = 0;
    say(`  baseline: bare INSERTs of ${INSERT_ROWS} rows each  ${fmt(inserts).padStart(8)} posts/s`);
    const libBase = (base1 + base2) / 2;
    const svcBase = (base2 + base3) / 2;
    say(`  → writePosts ${(lib / libBase).toFixed(2)} of the COPY baselines beside it (mean ${fmt(libBase)}), archiver ${(svc / svcBase).toFixed(2)} (mean ${fmt(svcBase)})`);
    say(`    (of the mean of all three baselines: writePosts ${(lib / ((base1 + base2 + base3) / 3)).toFixed(2)}, archiver ${(svc / ((base1 + base2 + base3) / 3)).toFixed(2)}; target ≥ 0.70, ≥ 10,000 posts/s)`);
    say(`    (of the multi-row INSERT baseline, measured once after them: writePosts ${(lib / inserts).toFixed(2)}, archiver ${(svc / inserts).toFixed(2)})`);
    posts.length = 0;
    payload.chunks.length = 0;
    for (const s of schemas.splice(0)) await dropSchema(url, s);
  }
}

async function searchLatency(url: string): Promise<void> {
  const reuse = values['search-schema'];
  const schema = reuse ?? randomSchemaName('bench_archive');
  if (!reuse && !values['keep-search-schema']) schemas.push(schema);
  const archive = createArchive({ databaseUrl: url, schema, ...(subwordsOf && { subwords: subwordsOf }) });
  const keywordSets: string[][] = [];
  if (reuse) {
    say(`\nsearch: the archive kept in schema ${reuse}`);
    await loadKeywordSets(url, reuse, keywordSets);
  } else await loadSearchArchive(url, schema, archive, keywordSets);
  await queryLatency(archive, keywordSets);
}

/** Keywords of archived posts: for timing queries over an archive kept from an earlier run. */
async function loadKeywordSets(url: string, schema: string, keywordSets: string[][]): Promise<void> {
  const c = await client(url, schema);
  const rows = await c.query<{ keywords: string[] }>('SELECT keywords FROM posts TABLESAMPLE SYSTEM (5) REPEATABLE (7919) WHERE NOT spam AND cardinality(keywords) >= 2 LIMIT 200000');
  await c.end();
  for (const r of rows.rows) keywordSets.push(r.keywords);
}

async function loadSearchArchive(url: string, schema: string, archive: ReturnType<typeof createArchive>, keywordSets: string[][]): Promise<void> {
  {
    say(`\nsearch: loading ${fmt(searchPosts)} posts with writePosts…`);
    await archive.migrate();
    let loaded = 0;
    const t0 = performance.now();
    for (let round = 0; loaded < searchPosts; round++) {
      let batch: EnrichedPost[] = [];
      for await (const p of readPosts(values.input, round)) {
        batch.push(p);
        if (loaded + batch.length >= searchPosts || batch.length === BATCH) {
          await archive.writePosts(batch);
          loaded += batch.length;
          for (const b of batch) if (!b.spam && b.keywords.length >= 2 && keywordSets.length < 200_000 && (loaded * 7919) % 5 === 0) keywordSets.push(b.keywords);
          batch = [];
          if (loaded >= searchPosts) break;
        }
      }
      if (batch.length > 0) {
        await archive.writePosts(batch);
        loaded += batch.length;
      }
    }
    const loadSeconds = (performance.now() - t0) / 1000;
    say(`  loaded ${fmt(loaded)} posts in ${loadSeconds.toFixed(0)} s (${fmt(loaded / loadSeconds)} posts/s, analysis included)`);
    const c = await client(url, schema);
    await c.query('VACUUM ANALYZE posts');
    await c.query('VACUUM ANALYZE post_keys');
    const size = (await c.query<{ size: string }>(`SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) AS size FROM pg_inherits WHERE inhparent = 'posts'::regclass`)).rows[0]!.size;
    await c.end();
    say(`  archive size on disk: ${size}${values['keep-search-schema'] ? ` (kept: schema ${schema})` : ''}`);
  }
}

async function queryLatency(archive: ReturnType<typeof createArchive>, keywordSets: string[][]): Promise<void> {
  {

    // Two distinct keywords of one post, drawn with a fixed stride: real word pairs that co-occur.
    const queries: string[] = [];
    for (let i = 0; queries.length < queryCount && i < keywordSets.length; i++) {
      const words = keywordSets[(i * 7919) % keywordSets.length]!.filter((w) => [...w].length >= 2 && !/["()]/.test(w) && !['AND', 'OR', 'NOT'].includes(w));
      if (words.length >= 2) queries.push(`${words[0]} ${words[1]}`);
    }
    // A keyword may be all stopwords to the query segmenter (我的): such a query is refused, and not timed.
    const runnable: string[] = [];
    for (const q of queries) {
      try {
        await archive.count({ q, ids: [] });
        runnable.push(q);
      } catch (err) {
        if (!(err instanceof SearchQueryError)) throw err;
      }
    }
    if (runnable.length < queries.length) say(`  (${queries.length - runnable.length} drawn queries hold stopwords only and were left out)`);
    queries.splice(0, queries.length, ...runnable);
    for (const q of queries.slice(0, 20)) await archive.search({ q }, { limit: 50 });
    const latencies: number[] = [];
    const totals: number[] = [];
    for (const q of queries) {
      const s = performance.now();
      const page = await archive.search({ q }, { limit: 50 });
      latencies.push(performance.now() - s);
      totals.push(page.total ?? 0);
    }
    latencies.sort((a, b) => a - b);
    totals.sort((a, b) => a - b);
    say(`  ${queries.length} two-word queries (e.g. "${queries[0]}", "${queries[1]}"), first page of 50 + total each:`);
    say(`  latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms (target p95 ≤ 200 ms)`);
    say(`  matches per query: median ${fmt(percentile(totals, 50))}, p95 ${fmt(percentile(totals, 95))}, max ${fmt(totals[totals.length - 1]!)}`);
    await archive.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:archive: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
