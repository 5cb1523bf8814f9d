import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@tingfeng/contracts';
import { dyingCityScenario } from '@tingfeng/detect';
import { Redis } from '@tingfeng/redis';
import { consumeAll, createTestKafka, createTopics, deleteKeysWithPrefix, deleteTopics, hostileMessages, randomName, redisUrl, seededRandom } from '@tingfeng/testing';
import { createDetectorApp } from './app.js';
import { DetectorServiceConfigSchema } from './config.js';
import { detectorSettings, partitionedReference, queuedAlerts } from './testing.js';

const topic = randomName('enriched-hostile');
const run = randomName('hostile');
const posts = dyingCityScenario().posts;
// Raw posts, random bytes, truncations, deep nesting, wrong types: none of them is an enriched post.
const hostile = hostileMessages({ valid: 200, hostile: 600, prefix: randomName('h'), seed: 7 });

describe('detector fed hostile messages on posts.enriched', () => {
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(redisUrl());
    await createTopics([{ name: topic, partitions: 2, configs: { 'max.message.bytes': String(4 * 1024 * 1024) } }]);
    const rand = seededRandom(3);
    const messages = posts.map((p) => ({ key: p.rootId ?? p.id, value: Buffer.from(JSON.stringify(p)) as Buffer | null }));
    for (const m of hostile) messages.splice(Math.floor(rand() * messages.length), 0, { key: `h${Math.floor(rand() * 100)}`, value: m.value });
    const producer = createTestKafka().producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < messages.length; i += 200) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 200) });
    await producer.disconnect();
  }, 120_000);

  afterAll(async () => {
    await deleteKeysWithPrefix(redis, run);
    redis.disconnect();
    await deleteTopics([topic]);
  });

  it('skips each of them (counted) and emits exactly the alerts of the valid posts alone', async () => {
    const consumed = await consumeAll(topic, { count: posts.length + hostile.length, timeoutMs: 60_000 });
    const valid = consumed.filter((m) => m.value?.includes('"tokens"') && m.value.includes('"sentiment"'));
    expect(valid.length).toBe(posts.length);
    const { expected, highOffsets } = partitionedReference(valid);
    const high = new Map([...highOffsets.keys()].map((p) => [p, String(Math.max(...consumed.filter((m) => m.partition === p).map((m) => Number(m.offset))) + 1)]));
    const app = createDetectorApp(DetectorServiceConfigSchema.parse(detectorSettings({ run, topic, instance: 'solo', mode: 'partitioned' }, { METRICS_PORT: '0' })));
    await app.start();
    try {
      const deadline = Date.now() + 200_000;
      for (;;) {
        const saved = await Promise.all([...high].map(async ([p, offset]) => (await redis.hget(`${run}:ckpt:${topic}:${p}`, 'nextOffset')) === offset));
        if (saved.every(Boolean)) break;
        if (Date.now() > deadline) throw new Error('detector did not catch up');
        await new Promise((r) => setTimeout(r, 200));
      }
      const page = await (await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).text();
      const counter = (name: string) => Number(page.split('\n').find((l) => l.startsWith(name))?.split(' ').pop() ?? 0);
      expect(counter('tingfeng_detector_malformed_total')).toBe(hostile.length);
      expect(counter('tingfeng_detector_posts_total')).toBe(posts.length);
      expect((await fetch(`http://127.0.0.1:${app.metricsPort}/readyz`)).status).toBe(200);
      const byId = (alerts: Map<string, Alert>) => [...alerts.values()].sort((a, b) => a.id.localeCompare(b.id));
      expect(byId(await queuedAlerts(redis, run))).toEqual(byId(expected));
    } finally {
      await app.stop();
    }
  }, 300_000);
});
