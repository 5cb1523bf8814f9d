// Needs Kafka and PostgreSQL (the global setup starts either when it does not answer).
import { afterAll, describe, expect } from 'vitest';
import pg from 'pg';
import { createArchive } from '@tingfeng/archive';
import type { EnrichedPost } from '@tingfeng/contracts';
import { consumeAll, createTestKafka, createTopics, deleteTopics, kafkaBrokers, makePosts, pgTest, randomName } from '@tingfeng/testing';
import { createAnalyzer } from '@tingfeng/text';
import { createArchiverApp, type ArchiverApp } from './app.js';
import { loadArchiverConfig } from './config.js';

const analyzer = createAnalyzer();
afterAll(() => analyzer.close());

function enriched(count: number, prefix: string): EnrichedPost[] {
  return makePosts(count, prefix).map((p) => analyzer.analyze({ ...p, createdAtMs: Date.parse(p.createdAt) }));
}

async function produce(topic: string, values: (string | Buffer)[]): Promise<void> {
  const producer = createTestKafka().producer({ idempotent: true });
  await producer.connect();
  try {
    for (let i = 0; i < values.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: values.slice(i, i + 500).map((value, j) => ({ key: String(i + j), value })) });
    }
  } finally {
    await producer.disconnect();
  }
}

async function countRows(url: string, schema: string): Promise<number> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.posts`)).rows[0]!.n);
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return 0; // not migrated yet
    throw err;
  } finally {
    await client.end();
  }
}

async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

async function metric(app: ArchiverApp, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && !l.startsWith('#'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('archiver', () => {
  pgTest('archives every enriched post once, dead-letters what is not one, and a redelivery changes nothing', async ({ databaseUrl, pgSchema }) => {
    const input = randomName('enriched');
    const dlq = randomName('dlq');
    await createTopics([{ name: input, partitions: 3 }, dlq]);
    const config = loadArchiverConfig({
      KAFKA_BROKERS: kafkaBrokers().join(','),
      DATABASE_URL: databaseUrl,
      ARCHIVE_SCHEMA: pgSchema,
      ARCHIVER_INPUT_TOPIC: input,
      ARCHIVER_DLQ_TOPIC: dlq,
      ARCHIVER_GROUP_ID: randomName('archiver'),
      ARCHIVER_INSTANCE_ID: randomName('archiver'),
      ARCHIVER_MAX_BATCH_POSTS: '300',
      METRICS_PORT: '0',
      KAFKA_SESSION_TIMEOUT_MS: '8000',
    });
    let app: ArchiverApp | undefined;
    try {
      const posts = enriched(2000, randomName('a'));
      const bad = ['{"id": "x"', '[1]', JSON.stringify({ id: 'no-tokens', platform: 'weibo', text: 'x', createdAt: '2015-10-20T00:00:00Z', createdAtMs: 1, author: { id: 'u' } })];
      await produce(input, [...posts.slice(0, 1000).map((p) => JSON.stringify(p)), ...bad, ...posts.slice(1000).map((p) => JSON.stringify(p))]);

      app = createArchiverApp(config);
      await app.start();
      const running = app;
      await waitFor(async () => (await countRows(databaseUrl, pgSchema)) === 2000 && (await metric(running, 'tingfeng_archiver_messages_total')) === 2003, 60_000, 'all posts archived');
      expect(app.ready).toBe(true);

      const letters = await consumeAll(dlq, { count: 3, isolation: 'read_committed' });
      const reasons = letters.map((l) => (JSON.parse(l.value!) as { reason: string; detail: string }).reason).sort();
      expect(reasons).toEqual(['missing_field', 'not_json', 'not_object']);

      // The same records again (a producer retry, a replay): nothing new in the archive, nothing more dead-lettered.
      await produce(input, posts.slice(0, 500).map((p) => JSON.stringify(p)));
      await waitFor(async () => (await metric(running, 'tingfeng_archiver_posts_duplicate_total')) === 500, 60_000, 'the redelivery seen');
      expect(await countRows(databaseUrl, pgSchema)).toBe(2000);
      expect(await metric(app, 'tingfeng_archiver_posts_written_total')).toBe(2000);

      const archive = createArchive({ databaseUrl, schema: pgSchema, subwords: false });
      try {
        const [first] = await archive.postsByIds([posts[0]!.id]);
        expect(first).toMatchObject({ id: posts[0]!.id, text: posts[0]!.text, createdAt: posts[0]!.createdAt });
      } finally {
        await archive.close();
      }
    } finally {
      await app?.stop();
      await deleteTopics([input, dlq]);
    }
  });
});
