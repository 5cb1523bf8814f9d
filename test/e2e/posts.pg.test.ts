import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../packages/testing/src/index.js';
import type { IncidentsApp } from '../../services/incidents/src/index.js';
import { TEST_TOKENS } from '../../services/incidents/src/testing/fixtures.js';
import { DEMO_SCHEME, startDemoStack, type Demo } from './support/demo.js';
import { apiClient, IncidentsHarness } from './support/incidents.js';

// Search and evidence over a real PostgreSQL archive holding the demo (what `pnpm start` replays), through the
// incidents API with real Kafka and Redis: the demo's alerts open the dying-city incident, whose evidence and
// searches are read back over HTTP.

const harness = new IncidentsHarness();
afterAll(() => harness.cleanUp());

let demo: Demo;
let app: IncidentsApp;
let api: ReturnType<typeof apiClient>;
let incidentId: string;
const analyst = TEST_TOKENS.analyst;
const day = 'from=2015-10-20&to=2015-10-21';

interface ApiPost {
  id: string;
  text: string;
  createdAt: string;
  sentiment: number;
  author: { id: string; name: string | null };
  schemes: string[];
  root?: boolean;
  rootId: string | null;
}

beforeAll(async () => {
  ({ demo, app, incidentId } = await startDemoStack(harness));
  api = apiClient(app);
}, 240_000);

describe('evidence and search over the archive', () => {
  it('lists an incident’s evidence with text, author and time: the cascade’s root post first, then newest first, paged', async () => {
    const first = await api('GET', `/api/incidents/${incidentId}/posts?limit=10`, analyst);
    expect(first.status).toBe(200);
    const root = first.json.posts[0] as ApiPost;
    expect(root).toMatchObject({ id: demo.cascade.rootId, root: true, author: { name: expect.any(String) } });
    expect(root.text).toContain('死去的城市');
    expect(first.json.rootIds).toEqual([demo.cascade.rootId]);
    const rest = (first.json.posts as ApiPost[]).slice(1);
    expect(rest.every((p) => p.root === false && typeof p.createdAt === 'string' && typeof p.sentiment === 'number')).toBe(true);
    const times = rest.map((p) => Date.parse(p.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    // Every page until the last: no post twice, all of them the incident's evidence.
    const seen = new Set<string>((first.json.posts as ApiPost[]).map((p) => p.id));
    let cursor: string | null = first.json.nextCursor;
    expect(cursor).not.toBeNull();
    while (cursor) {
      const page = await api('GET', `/api/incidents/${incidentId}/posts?limit=50&cursor=${encodeURIComponent(cursor)}`, analyst);
      for (const p of page.json.posts as ApiPost[]) {
        expect(seen.has(p.id), p.id).toBe(false);
        seen.add(p.id);
      }
      cursor = page.json.nextCursor;
    }
    expect(seen.size).toBe(first.json.total);
    const detail = (await api('GET', `/api/incidents/${incidentId}`, analyst)).json;
    expect(first.json.total + first.json.missing.length).toBe(new Set([demo.cascade.rootId, ...detail.detail.postIds]).size);
    expect(first.json.missing).toEqual([]);

    expect((await api('GET', '/api/incidents/nope/posts', analyst)).status).toBe(404);
    expect((await api('GET', `/api/incidents/${incidentId}/posts?cursor=bogus`, analyst)).json).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/^querystring\.cursor/) });
  });

  it('searches with the rule syntax and filters, counts the total, pages by cursor without repeats', async () => {
    const q = encodeURIComponent('死去 AND 城市 NOT 天气');
    const first = await api('GET', `/api/posts?q=${q}&${day}&limit=20`, analyst);
    expect(first.status).toBe(200);
    expect(first.json.total).toBeGreaterThan(20);
    const ids = new Set<string>();
    let page = first.json;
    for (;;) {
      for (const p of page.posts as ApiPost[]) {
        expect(p.text).toContain('死去');
        expect(p.text).not.toContain('天气');
        expect(ids.has(p.id)).toBe(false);
        ids.add(p.id);
      }
      if (!page.nextCursor) break;
      page = (await api('GET', `/api/posts?q=${q}&${day}&limit=100&cursor=${encodeURIComponent(page.nextCursor)}`, analyst)).json;
    }
    expect(ids.size).toBe(first.json.total);

    const negative = (await api('GET', `/api/posts?q=${q}&${day}&sentiment=negative&limit=200`, analyst)).json;
    expect(negative.total).toBeGreaterThan(0);
    expect(negative.total).toBeLessThan(first.json.total);
    expect((negative.posts as ApiPost[]).every((p) => p.sentiment < 0)).toBe(true);

    const scheme = (await api('GET', `/api/posts?scheme=${encodeURIComponent(DEMO_SCHEME.name)}&limit=5`, analyst)).json;
    expect(scheme.total).toBe(demo.posts.filter((p) => !p.spam && p.schemes?.includes(DEMO_SCHEME.name)).length);
    expect((scheme.posts as ApiPost[]).every((p) => p.schemes.includes(DEMO_SCHEME.name))).toBe(true);

    const cascade = (await api('GET', `/api/posts?rootId=${demo.cascade.rootId}&limit=1`, analyst)).json;
    expect(cascade.total).toBeGreaterThan(100);

    // A bare day is the organisation's (Asia/Shanghai) midnight, not UTC's.
    const shanghaiDay = (await api('GET', `/api/posts?${day}&limit=1&order=oldest`, analyst)).json.posts[0] as ApiPost;
    expect(Date.parse(shanghaiDay.createdAt)).toBeGreaterThanOrEqual(Date.parse('2015-10-19T16:00:00Z'));
  });

  it('answers a query that does not parse, or bad filters, with 400 saying where', async () => {
    const bad = await api('GET', `/api/posts?q=${encodeURIComponent('昆明 AND (地铁')}`, analyst);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'invalid_query', position: expect.any(Number), message: expect.stringMatching(/^querystring\.q: /) });
    expect((await api('GET', '/api/posts?from=yesterday', analyst)).json).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/^querystring\.from: /) });
    expect((await api('GET', '/api/posts?from=2015-10-21&to=2015-10-20', analyst)).json).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/^querystring\.to: /) });
    expect((await api('GET', '/api/posts?sentiment=angry', analyst)).status).toBe(400);
    expect((await api('GET', '/api/posts?cursor=nope', analyst)).status).toBe(400);
  });

  it('charts volume and negative share per hour in the organisation’s time zone, with top terms and accounts of the same matches', async () => {
    const q = encodeURIComponent('死去 城市');
    const total = (await api('GET', `/api/posts?q=${q}&${day}&limit=1`, analyst)).json.total as number;
    const hist = (await api('GET', `/api/posts/histogram?q=${q}&${day}&interval=hour`, analyst)).json;
    expect(hist.timeZone).toBe('Asia/Shanghai');
    expect(hist.buckets).toHaveLength(24);
    expect(hist.buckets[0].start).toBe('2015-10-19T16:00:00.000Z');
    expect(hist.buckets.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(total);
    for (const b of hist.buckets) expect(b.negativeShare).toBeCloseTo(b.count === 0 ? 0 : b.negative / b.count, 10);
    const days = (await api('GET', `/api/posts/histogram?from=2015-10-19&to=2015-10-21&interval=day`, analyst)).json;
    expect(days.buckets.map((b: { start: string }) => b.start)).toEqual(['2015-10-18T16:00:00.000Z', '2015-10-19T16:00:00.000Z']);

    const terms = (await api('GET', `/api/posts/top-terms?q=${q}&${day}&limit=10`, analyst)).json.terms as { term: string; count: number }[];
    expect(terms.map((t) => t.term)).toEqual(expect.arrayContaining(['城市']));
    expect(terms.map((t) => t.count)).toEqual([...terms.map((t) => t.count)].sort((a, b) => b - a));
    const accounts = (await api('GET', `/api/posts/top-accounts?q=${q}&${day}&limit=5`, analyst)).json.accounts as { id: string; posts: number }[];
    expect(accounts.length).toBeGreaterThan(0);
    expect(accounts.reduce((n, a) => n + a.posts, 0)).toBeLessThanOrEqual(total);
  });

  it('exports a search as CSV, streamed, every match once', async () => {
    const q = encodeURIComponent('死去 城市');
    const total = (await api('GET', `/api/posts?q=${q}&${day}&limit=1`, analyst)).json.total as number;
    const res = await fetch(`http://127.0.0.1:${app.port}/api/posts?q=${q}&${day}&format=csv`, { headers: { authorization: `Bearer ${analyst}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="tingfeng-posts-.*\.csv"$/);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    expect(text.split('\n')[0]).toBe('id,platform,created_at,author_id,author_name,author_followers,text,url,sentiment,spam,schemes,keywords,root_id,parent_id');
    const rows = text.trimEnd().split('\n').slice(1).filter((line) => /^dying-city-\d+,weibo,/.test(line));
    expect(rows).toHaveLength(total);
  });

  it('answers 503 for search and evidence while the archive is down, and goes on serving incidents', async () => {
    const down = harness.isolated({ DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/postgres` });
    const other = await harness.start(down);
    const call = apiClient(other);
    const answer = await call('GET', '/api/posts?q=昆明', analyst);
    expect(answer.status).toBe(503);
    expect(answer.json.error).toBe('archive_unavailable');
    expect((await call('GET', '/api/incidents', analyst)).status).toBe(200);
    expect((await call('GET', '/readyz')).json).toEqual({ ready: true, archive: 'connecting' });
  });
});
