import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from '../../packages/redis/src/index.js';
import { consumeAll, createTopics, deleteKeysWithPrefix, deleteTopics, kafkaBrokers, makePosts, randomName, redisUrl, topicMessageCount } from '../../packages/testing/src/index.js';
import { createAnalyzerApp } from '../../services/analyzer/src/app.js';
import { AnalyzerConfigSchema } from '../../services/analyzer/src/config.js';
import { createIngestApp } from '../../services/ingest/src/app.js';
import { IngestConfigSchema } from '../../services/ingest/src/config.js';

/**
 * A crawler retries a request whose answer it never got (a 503 after Kafka took part of it, a dropped connection):
 * ingest writes those posts to `posts` again, and the analyzer absorbs the copies. Its Redis claim on
 * `(platform, id)` lets the first message that carried a post enrich it and skips every later one, so each post is
 * enriched once however often it was sent.
 */

const run = randomName('ingest-retry');
const topics = { posts: `${run}.posts`, enriched: `${run}.posts.enriched`, dlq: `${run}.posts.dlq` };
const token = 'crawler-retry-token-01';
const stops: (() => Promise<void>)[] = [];
let base: string;
let analyzerMetrics: string;

describe('a retried ingest request', () => {
  beforeAll(async () => {
    await createTopics([{ name: topics.posts, partitions: 3 }, { name: topics.enriched, partitions: 3 }, topics.dlq]);
    const ingest = createIngestApp(
      IngestConfigSchema.parse({
        KAFKA_BROKERS: kafkaBrokers().join(','),
        INGEST_TOPIC: topics.posts,
        INGEST_DLQ_TOPIC: topics.dlq,
        INGEST_HOST: '127.0.0.1',
        INGEST_PORT: '0',
        INGEST_TOKENS: token,
      }),
    );
    const analyzer = createAnalyzerApp(
      AnalyzerConfigSchema.parse({
        KAFKA_BROKERS: kafkaBrokers().join(','),
        REDIS_URL: redisUrl(),
        ANALYZER_INPUT_TOPIC: topics.posts,
        ANALYZER_OUTPUT_TOPIC: topics.enriched,
        ANALYZER_DLQ_TOPIC: topics.dlq,
        ANALYZER_GROUP_ID: `${run}-analyzer`,
        ANALYZER_INSTANCE_ID: run,
        ANALYZER_DEDUP_PREFIX: `${run}:seen:`,
        REDIS_PREFIX: `${run}:`,
        ANALYZER_WATCH_DICTIONARY: 'false',
        METRICS_PORT: '0',
      }),
    );
    for (const app of [analyzer, ingest]) {
      await app.start();
      stops.push(() => app.stop());
    }
    base = `http://127.0.0.1:${ingest.port}`;
    analyzerMetrics = `http://127.0.0.1:${analyzer.metricsPort}/metrics`;
  }, 120_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    const redis = new Redis(redisUrl());
    await deleteKeysWithPrefix(redis, `${run}:`);
    redis.disconnect();
    await deleteTopics(Object.values(topics));
  });

  it('is enriched once per (platform, id): the analyzer absorbs the copies ingest wrote again', async () => {
    const batch = makePosts(40, randomName('r'));
    // The same id on another platform is another post: it must not be taken for a copy.
    const twin = { ...batch[0]!, platform: 'wechat' };
    const body = [...batch, twin].map((p) => JSON.stringify(p)).join('\n');
    const send = () =>
      fetch(`${base}/ingest`, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` } });
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await send();
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ accepted: 41, rejected: 0 });
    }
    // Ingest itself keeps no memory of what it wrote: the copies are on `posts`.
    expect(await topicMessageCount(topics.posts)).toBe(3 * 41);

    // Wait until the analyzer has read every copy (41 enriched, 82 skipped as duplicates), then read all it wrote.
    const counter = async (name: string) => {
      const text = await (await fetch(analyzerMetrics)).text();
      return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    };
    const deadline = Date.now() + 60_000;
    while ((await counter('tingfeng_posts_enriched_total')) + (await counter('tingfeng_posts_duplicate_total')) < 3 * 41 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await counter('tingfeng_posts_duplicate_total')).toBe(2 * 41);
    const enriched = await consumeAll(topics.enriched, { idleMs: 2_000, isolation: 'read_committed' });
    const identities = enriched.map((m) => {
      const p = JSON.parse(m.value!) as { platform?: string; id: string };
      return `${p.platform ?? 'weibo'}:${p.id}`;
    });
    expect(identities).toHaveLength(41);
    expect(new Set(identities).size).toBe(41);
    expect(identities).toContain(`wechat:${batch[0]!.id}`);
    expect(identities).toContain(`weibo:${batch[0]!.id}`);
  });
});
