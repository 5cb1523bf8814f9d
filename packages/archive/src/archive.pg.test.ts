import { afterAll, describe, expect } from 'vitest';
import pg from 'pg';
import type { EnrichedPost, Post } from '@tingfeng/contracts';
import { pgTest } from '@tingfeng/testing';
import { createAnalyzer } from '@tingfeng/text';
import { createArchive, type Archive } from './archive.js';
import { ArchiveInputError, SearchQueryError } from './errors.js';
import { encodeRows, sliceRows } from './rows.js';
import { EXPORT_COLUMNS } from './types.js';

const analyzer = createAnalyzer({
  schemes: [
    { name: '地铁', rule: '地铁 OR 公交' },
    { name: '昆明衰落', rule: '昆明 AND (死去 OR 没落 OR 鬼城)' },
  ],
});
afterAll(() => analyzer.close());

const base = Date.parse('2015-10-20T00:00:00Z');
let serial = 0;

/** A real enriched post: the analyzer's own output for this text. */
function post(text: string, minutes: number, extra: Partial<Post> = {}): EnrichedPost {
  serial++;
  const raw: Post = {
    id: `p${serial}`,
    platform: 'weibo',
    text,
    createdAt: new Date(base + minutes * 60_000).toISOString(),
    createdAtMs: base + minutes * 60_000,
    author: { id: `u${serial % 3}`, name: `网友${serial % 3}`, followers: 100 * (serial % 3) },
    ...extra,
  };
  return analyzer.analyze(raw);
}

async function open(databaseUrl: string, schema: string, archives: Archive[]): Promise<Archive> {
  const archive = createArchive({ databaseUrl, schema });
  archives.push(archive);
  await archive.migrate();
  return archive;
}

async function rows(databaseUrl: string, sql: string): Promise<number> {
  const client = new pg.Client(databaseUrl);
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(sql)).rows[0]?.n);
  } finally {
    await client.end();
  }
}

describe('archive schema and writes', () => {
  pgTest('migrates once: a second start, or two at the same time, applies nothing more', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const [a, b] = [createArchive({ databaseUrl, schema: pgSchema }), createArchive({ databaseUrl, schema: pgSchema })];
      archives.push(a, b);
      const [first, second] = await Promise.all([a.migrate(), b.migrate()]);
      expect([...first, ...second]).toEqual(['0001_posts']);
      expect(await a.migrate()).toEqual([]);
      expect(await rows(databaseUrl, `SELECT count(*) AS n FROM ${pgSchema}.pgmigrations`)).toBe(1);
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  pgTest('a redelivered batch changes nothing, and (platform, id) stays unique across months', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const archive = await open(databaseUrl, pgSchema, archives);
      const batch = [post('北京路又堵了，地铁什么时候修好', 0), post('滇池治理这几年确实有效果', 1), post('翠湖的红嘴鸥回来了', 2)];
      expect(await archive.writePosts(batch)).toEqual({ inserted: 3, duplicates: 0, expired: 0 });
      expect(await archive.writePosts(batch)).toEqual({ inserted: 0, duplicates: 3, expired: 0 });
      // The same post again with another event time (a crawler's correction) is still the same post.
      const moved = { ...batch[0]!, createdAt: '2015-12-01T00:00:00.000Z', createdAtMs: Date.parse('2015-12-01T00:00:00Z'), text: 'changed' };
      const other = { ...batch[1]!, platform: 'douyin' };
      expect(await archive.writePosts([moved, other, other])).toEqual({ inserted: 1, duplicates: 2, expired: 0 });
      expect(await rows(databaseUrl, `SELECT count(*) AS n FROM ${pgSchema}.posts`)).toBe(4);
      expect(await rows(databaseUrl, `SELECT count(*) AS n FROM ${pgSchema}.posts WHERE text = 'changed'`)).toBe(0);
      const [stored] = await archive.postsByIds([batch[0]!.id], { platform: 'weibo' });
      expect(stored).toMatchObject({ id: batch[0]!.id, text: batch[0]!.text, createdAt: batch[0]!.createdAt, author: batch[0]!.author });
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  pgTest('rows encoded ahead (writeRows) are written as writePosts writes posts: once, a redelivery changes nothing', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const archive = await open(databaseUrl, pgSchema, archives);
      const posts = Array.from({ length: 40 }, (_, i) => post(`第${i}条：北京路又堵了，地铁什么时候修好`, i * 60 * 24));
      const odd = post(`他说"昆明'不行"\\ 😀 [蜡烛]`, 3, { id: 'tab\there\\and\nthere' });
      const encoded = encodeRows([...posts.slice(0, 30), odd, posts[0]!]);
      expect(encoded.duplicates).toBe(1);
      expect(await archive.writeRows(encoded)).toEqual({ inserted: 31, duplicates: 0 });
      expect(await archive.writeRows(encoded)).toEqual({ inserted: 0, duplicates: 31 });
      // A batch partly archived already copies only its new rows; a part of one (as a halved batch) writes alone.
      const more = encodeRows(posts.slice(20));
      expect(await archive.writeRows(sliceRows(more, 0, 15))).toEqual({ inserted: 5, duplicates: 10 });
      expect(await archive.writeRows(more)).toEqual({ inserted: 5, duplicates: 15 });
      expect(await rows(databaseUrl, `SELECT count(*) AS n FROM ${pgSchema}.posts`)).toBe(41);
      expect(await rows(databaseUrl, `SELECT count(*) AS n FROM ${pgSchema}.post_keys`)).toBe(41);
      const [stored] = await archive.postsByIds([odd.id]);
      expect(stored).toMatchObject({ id: odd.id, text: odd.text });
      expect(await archive.writePosts(posts)).toEqual({ inserted: 0, duplicates: 40, expired: 0 });
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  pgTest('writers of overlapping batches at the same time archive each post once, whichever wins a key', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const writers = [await open(databaseUrl, pgSchema, archives), await open(databaseUrl, pgSchema, archives)];
      const posts = Array.from({ length: 1200 }, (_, i) => post(`第${i}条：滇池边的海鸥又多了`, i));
      // Each writer's batch shares half its posts with the other's, in another order.
      const a = posts.slice(0, 800);
      const b = [...posts.slice(400)].reverse();
      const results = await Promise.all([writers[0]!.writePosts(a), writers[1]!.writePosts(b), writers[0]!.writePosts(a.slice(0, 100))]);
      expect(results.reduce((sum, r) => sum + r.inserted, 0)).toBe(1200);
      expect(results.reduce((sum, r) => sum + r.inserted + r.duplicates, 0)).toBe(800 + 800 + 100);
      expect(await rows(databaseUrl, `SELECT count(*) AS n FROM ${pgSchema}.posts`)).toBe(1200);
      expect(await rows(databaseUrl, `SELECT count(*) AS n FROM ${pgSchema}.post_keys`)).toBe(1200);
      expect(await writers[1]!.writePosts(posts)).toEqual({ inserted: 0, duplicates: 1200, expired: 0 });
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  pgTest('puts each month in its own partition and retention drops whole months, keys included', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const archive = await open(databaseUrl, pgSchema, archives);
      const october = post('十月的昆明', 0);
      const november = post('十一月的昆明', 60 * 24 * 20);
      const december = post('十二月的昆明', 60 * 24 * 50);
      await archive.writePosts([october, november, december]);
      expect((await archive.partitions()).map((p) => p.month)).toEqual(['2015-10', '2015-11', '2015-12']);

      expect(await archive.applyRetention(2, Date.parse('2015-12-15T00:00:00Z'))).toEqual(['posts_2015_10']);
      expect((await archive.partitions()).map((p) => p.month)).toEqual(['2015-11', '2015-12']);
      expect(await rows(databaseUrl, `SELECT count(*) AS n FROM ${pgSchema}.post_keys`)).toBe(2);
      expect(await archive.postsByIds([october.id, november.id])).toHaveLength(1);

      // A writer told the retention horizon skips older posts; one that was not told re-creates the month.
      expect(await archive.writePosts([october], { notBeforeMs: Date.parse('2015-11-01T00:00:00Z') })).toEqual({ inserted: 0, duplicates: 0, expired: 1 });
      expect(await archive.writePosts([october])).toEqual({ inserted: 1, duplicates: 0, expired: 0 });
      // Expired posts are counted once, as expired, not again as duplicates; a repeat within the batch is a duplicate.
      const january = post('一月的昆明', 60 * 24 * 80);
      expect(await archive.writePosts([october, january, october, january, december], { notBeforeMs: Date.parse('2015-11-01T00:00:00Z') })).toEqual({ inserted: 1, duplicates: 2, expired: 2 });
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  pgTest('keeps odd text intact: quotes, backslashes, NUL, emoji, a 20,000-character post', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const archive = await open(databaseUrl, pgSchema, archives);
      const odd = post(`他说"昆明'不行"\\ 😀 [蜡烛] @昆明发布`, 0);
      const nul = post('前\u0000后', 1);
      const long = post('昆明'.repeat(10_000), 2);
      expect((await archive.writePosts([odd, nul, long])).inserted).toBe(3);
      const [a, b, c] = await archive.postsByIds([odd.id, nul.id, long.id]);
      expect(a!.text).toBe(odd.text);
      expect(a!.mentions).toEqual(['昆明发布']);
      expect(b!.text).toBe('前后');
      expect(c!.text.length).toBe(20_000);
      expect((await archive.search({ q: '@昆明发布' })).posts.map((p) => p.id)).toEqual([odd.id]);
      expect((await archive.search({ q: '[蜡烛]' })).posts.map((p) => p.id)).toEqual([odd.id]);
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });
});

describe('archive queries', () => {
  const corpus = [
    post('昆明地铁3号线又停运了，太糟糕了', 0, { author: { id: 'alice', name: '爱丽丝', followers: 5000 } }),
    post('坐地铁上班真方便，点赞', 30, { author: { id: 'bob', name: '鲍勃', followers: 20 } }),
    post('昆明是一座正在死去的城市', 90, { author: { id: 'carol', name: '卡罗尔', followers: 90000 }, rootId: undefined }),
    post('转发：昆明是一座正在死去的城市，太难过了', 95, { author: { id: 'dave', name: '戴夫', followers: 3 } }),
    post('滇池的日落很美', 60 * 26, { author: { id: 'alice', name: '爱丽丝', followers: 5100 } }),
    post('加微信 wx12345 日赚500 刷单兼职日结 地铁口见', 40, { author: { id: 'spam', name: '广告', followers: 0 } }),
    post('公交车司机态度太差了，非常生气！', 120, { author: { id: 'bob', name: '鲍勃', followers: 21 } }),
  ];
  corpus[3]!.rootId = corpus[2]!.id;
  corpus[3]!.parentId = corpus[2]!.id;

  async function seeded(databaseUrl: string, schema: string, archives: Archive[]): Promise<Archive> {
    const archive = await open(databaseUrl, schema, archives);
    await archive.writePosts(corpus);
    return archive;
  }

  pgTest('searches tokens with the rule syntax; spam is left out unless asked for', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const archive = await seeded(databaseUrl, pgSchema, archives);
      const ids = async (q: string, extra = {}) => (await archive.search({ q, ...extra })).posts.map((p) => p.id).sort();
      const [metro, commute, dying, repost, dianchi, spam, bus] = corpus.map((p) => p.id);
      expect(corpus[5]!.spam).toBe(true);
      expect(await ids('地铁')).toEqual([metro, commute].sort());
      expect(await ids('地铁', { includeSpam: true })).toEqual([metro, commute, spam].sort());
      expect(await ids('昆明 地铁')).toEqual([metro]);
      expect(await ids('地铁 OR 公交')).toEqual([metro, commute, bus].sort());
      expect(await ids('昆明 NOT 地铁')).toEqual([dying, repost].sort());
      expect(await ids('"正在死去的城市"')).toEqual([dying, repost].sort());
      // 死去 is inside the token 死去的城市: found through the sub-words indexed beside it.
      expect(await ids('(滇池 OR 死去) NOT 难过')).toEqual([dianchi, dying].sort());
      expect(await ids('昆明 地铁')).toEqual([metro]);
      // 转发 is a stopword: refused with the reason rather than silently matching everything.
      await expect(archive.search({ q: '转发' })).rejects.toThrow(/no searchable word/);
      await expect(archive.search({ q: '昆明 AND' })).rejects.toBeInstanceOf(SearchQueryError);
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  pgTest('filters by time, scheme, platform, author, sentiment, cascade and ids', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const archive = await seeded(databaseUrl, pgSchema, archives);
      const ids = async (filter = {}) => (await archive.search(filter)).posts.map((p) => p.id).sort();
      const [metro, commute, dying, repost, dianchi, , bus] = corpus.map((p) => p.id);
      expect(await ids({ from: base + 60 * 60_000, to: '2015-10-20T02:00:00Z' })).toEqual([dying, repost].sort());
      expect(await ids({ from: '2015-10-21' })).toEqual([dianchi]);
      expect(await ids({ scheme: '地铁' })).toEqual([metro, commute, bus].sort());
      expect(await ids({ scheme: ['昆明衰落', '不存在'] })).toEqual([dying, repost].sort());
      expect(await ids({ author: 'alice' })).toEqual([metro, dianchi].sort());
      expect(await ids({ platform: 'douyin' })).toEqual([]);
      expect(await ids({ sentiment: 'negative', q: '地铁 OR 公交' })).toEqual([metro, bus].sort());
      expect(await ids({ sentiment: 'positive', q: '地铁' })).toEqual([commute]);
      expect(await ids({ rootId: dying })).toEqual([dying, repost].sort());
      expect(await ids({ ids: [bus, 'missing'] })).toEqual([bus]);
      await expect(archive.search({ from: 'yesterday' })).rejects.toBeInstanceOf(ArchiveInputError);
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  pgTest('pages with a cursor: newest first, every match once, total on each page', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const archive = await seeded(databaseUrl, pgSchema, archives);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await archive.search({}, { limit: 2, ...(cursor !== undefined && { cursor }) });
        expect(page.total).toBe(6);
        seen.push(...page.posts.map((p) => p.createdAt));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor !== undefined);
      expect(pages).toBe(3);
      expect(seen).toEqual([...seen].sort().reverse());
      expect(new Set(seen).size).toBe(6);
      const oldest = await archive.search({}, { order: 'oldest', limit: 1, withTotal: false });
      expect(oldest.total).toBeUndefined();
      expect(oldest.posts[0]!.id).toBe(corpus[0]!.id);
      await expect(archive.search({}, { cursor: 'garbage' })).rejects.toBeInstanceOf(ArchiveInputError);
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  pgTest('counts volume and negative share per hour and per day, quiet buckets included', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const archive = await seeded(databaseUrl, pgSchema, archives);
      const hours = await archive.histogram({ from: '2015-10-20T00:00:00Z', to: '2015-10-20T04:00:00Z' }, { interval: 'hour' });
      expect(hours.map((h) => [h.start, h.count])).toEqual([
        ['2015-10-20T00:00:00.000Z', 2],
        ['2015-10-20T01:00:00.000Z', 2],
        ['2015-10-20T02:00:00.000Z', 1],
        ['2015-10-20T03:00:00.000Z', 0],
      ]);
      const negatives = corpus.filter((p) => !p.spam && Date.parse(p.createdAt) < base + 3_600_000 && p.sentiment < 0).length;
      expect(hours[0]!.negative).toBe(negatives);
      expect(hours[0]!.negativeShare).toBeCloseTo(negatives / 2);
      // Days cut in Beijing time: 2015-10-20T00:00Z is 08:00 there, so the first day starts at 2015-10-19T16:00Z.
      const days = await archive.histogram({}, { interval: 'day', timeZone: 'Asia/Shanghai' });
      expect(days.map((d) => [d.start, d.count])).toEqual([
        ['2015-10-19T16:00:00.000Z', 5],
        ['2015-10-20T16:00:00.000Z', 1],
      ]);
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  pgTest('ranks the keywords, accounts and repost trees of the matches', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const archive = await seeded(databaseUrl, pgSchema, archives);
      const terms = await archive.topTerms({ q: '"死去的城市" OR 地铁' }, { limit: 5 });
      // Keywords of the two 死去的城市 posts, then the metro posts' words once each (spam left out).
      expect(terms.slice(0, 3).map((t) => [t.term, t.count]).sort()).toEqual([['一座', 2], ['昆明', 2], ['死去的城市', 2]]);
      expect(terms[3]!.count).toBe(1);
      const accounts = await archive.topAccounts({});
      expect(accounts.slice(0, 2).map((a) => [a.id, a.posts])).toEqual([
        ['alice', 2],
        ['bob', 2],
      ]);
      expect(accounts[0]).toMatchObject({ name: '爱丽丝', followers: 5100 });
      expect(accounts.find((a) => a.id === 'spam')).toBeUndefined();
      // One repost tree: the dying-city post's one repost (the root itself is not counted among its reposts).
      const cascades = await archive.topCascades({});
      expect(cascades).toEqual([{ rootId: corpus[2]!.id, posts: 1, negativeShare: corpus[3]!.sentiment < 0 ? 1 : 0, firstAt: corpus[3]!.createdAt, lastAt: corpus[3]!.createdAt }]);
      expect(await archive.topCascades({ q: '地铁' })).toEqual([]);
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  pgTest('gives evidence posts by id in the order asked, and exports CSV a spreadsheet reads', async ({ databaseUrl, pgSchema }) => {
    const archives: Archive[] = [];
    try {
      const archive = await seeded(databaseUrl, pgSchema, archives);
      const wanted = [corpus[3]!.id, 'not-archived', corpus[0]!.id, corpus[5]!.id];
      const evidence = await archive.postsByIds(wanted);
      expect(evidence.map((p) => p.id)).toEqual([corpus[3]!.id, corpus[0]!.id, corpus[5]!.id]);
      expect(evidence[0]).toMatchObject({ rootId: corpus[2]!.id, parentId: corpus[2]!.id, author: { id: 'dave', name: '戴夫' } });

      await archive.writePosts([post('=HYPERLINK("http://evil"),"昆明", 地铁\n第二行', 10)]);
      const stream = await archive.exportCsv({ q: '地铁' }, { order: 'oldest' });
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      const csv = Buffer.concat(chunks);
      expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const text = csv.subarray(3).toString('utf8');
      expect(text.split('\n')[0]).toBe(EXPORT_COLUMNS.join(','));
      expect(text).toContain(`"'=HYPERLINK(""http://evil""),""昆明"", 地铁\n第二行"`);
      expect(text).toContain('2015-10-20T00:00:00.000Z');
      await expect(archive.exportCsv({ q: '(' })).rejects.toBeInstanceOf(SearchQueryError);
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });
});
