import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeAll, createTestKafka, createTopics, deleteTopics, makePosts, MALFORMED, randomName, redisUrl, seededRandom, kafkaBrokers } from '@tingfeng/testing';
import type { DeadLetter } from '@tingfeng/contracts';
import { createAnalyzerApp, type AnalyzerApp } from './app.js';
import { AnalyzerConfigSchema } from './config.js';

const inputTopic = randomName('posts');
const outputTopic = randomName('enriched');
const dlqTopic = randomName('dlq');
const valid = makePosts(10_000, randomName('p'));
const rand = seededRandom(7);

/** 10,000 valid posts, 100 of them sent twice (1%), and 100 malformed messages (1%), shuffled. */
function buildInput(): { key: string | null; value: Buffer }[] {
  const messages: { key: string | null; value: Buffer }[] = valid.map((p) => ({ key: p.rootId ?? p.id, value: Buffer.from(JSON.stringify(p)) }));
  for (let i = 0; i < 100; i++) {
    const p = valid[i * 97]!;
    messages.push({ key: p.rootId ?? p.id, value: Buffer.from(JSON.stringify(p)) });
  }
  for (let i = 0; i < 98; i++) messages.push({ key: null, value: MALFORMED[i % MALFORMED.length]!.value });
  // Over the contract's 1 MiB: the topic allows it, so the analyzer is the one to refuse it.
  for (let i = 0; i < 2; i++) messages.push({ key: null, value: Buffer.alloc(1024 * 1024 + 10, 0x20) });
  for (let i = messages.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [messages[i], messages[j]] = [messages[j]!, messages[i]!];
  }
  return messages;
}

describe('analyzer on a real broker', () => {
  let app: AnalyzerApp;

  beforeAll(async () => {
    await createTopics([{ name: inputTopic, partitions: 3, configs: { 'max.message.bytes': String(2 * 1024 * 1024) } }, { name: outputTopic, partitions: 3 }, { name: dlqTopic, partitions: 1, configs: { 'max.message.bytes': String(4 * 1024 * 1024) } }]);
    const producer = createTestKafka().producer({ idempotent: true });
    await producer.connect();
    const input = buildInput();
    for (let i = 0; i < input.length; i += 500) await producer.send({ topic: inputTopic, messages: input.slice(i, i + 500), acks: -1 });
    await producer.disconnect();

    const config = AnalyzerConfigSchema.parse({
      KAFKA_BROKERS: kafkaBrokers().join(','),
      REDIS_URL: redisUrl(),
      ANALYZER_INPUT_TOPIC: inputTopic,
      ANALYZER_OUTPUT_TOPIC: outputTopic,
      ANALYZER_DLQ_TOPIC: dlqTopic,
      ANALYZER_GROUP_ID: randomName('analyzer'),
      ANALYZER_INSTANCE_ID: randomName('i'),
      ANALYZER_DEDUP_PREFIX: `${randomName('seen')}:`,
      ANALYZER_WATCH_DICTIONARY: 'false',
      METRICS_PORT: '0',
    });
    app = createAnalyzerApp(config);
    await app.start();
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await deleteTopics([inputTopic, outputTopic, dlqTopic]);
  });

  it('publishes exactly the valid, distinct posts, enriched, and dead-letters every malformed one with its reason', async () => {
    const enriched = await consumeAll(outputTopic, { count: valid.length, isolation: 'read_committed', timeoutMs: 120_000 });
    // Nothing more trails behind: read again until the topic stays idle.
    const all = await consumeAll(outputTopic, { idleMs: 3000, isolation: 'read_committed' });
    expect(all.length).toBe(valid.length);
    const ids = all.map((m) => (JSON.parse(m.value!) as { id: string }).id);
    expect(new Set(ids).size).toBe(valid.length);
    expect(new Set(ids)).toEqual(new Set(valid.map((p) => p.id)));
    expect(enriched.length).toBe(valid.length);

    const first = JSON.parse(all[0]!.value!) as Record<string, unknown>;
    for (const field of ['tokens', 'keywords', 'emoticons', 'mentions', 'topics', 'urls', 'spam', 'sentiment']) expect(first).toHaveProperty(field);
    const byId = new Map(valid.map((p) => [p.id, p]));
    for (const m of all.slice(0, 200)) {
      const post = JSON.parse(m.value!) as { id: string; rootId?: string };
      expect(m.key).toBe(byId.get(post.id)!.rootId ?? post.id);
    }

    const letters = await consumeAll(dlqTopic, { count: 100, idleMs: 3000, isolation: 'read_committed' });
    expect(letters.length).toBe(100);
    const reasons = letters.map((m) => (JSON.parse(m.value!) as DeadLetter).reason);
    const expected = [...Array.from({ length: 98 }, (_, i) => MALFORMED[i % MALFORMED.length]!.reason), 'too_large', 'too_large'];
    expect(reasons.sort()).toEqual(expected.sort());
    const letter = JSON.parse(letters[0]!.value!) as DeadLetter;
    expect(letter.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(letter.detail.length).toBeGreaterThan(0);
    expect(letter.source).toMatchObject({ topic: inputTopic });
    expect(letters[0]!.headers.reason).toBe(letter.reason);
  }, 180_000);

  it('writes a batch of long posts in slices the broker accepts (no record batch over max.message.bytes)', async () => {
    // 300 posts of 15,000 characters: several MB of enriched output from one fetch, far over the 1 MiB default.
    const long = makePosts(300, randomName('long')).map((p) => ({ ...p, text: `${p.text} ${'昆明的天气很好，滇池边的海鸥又回来了。'.repeat(750)}` }));
    const producer = createTestKafka().producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < long.length; i += 20) {
      await producer.send({ topic: inputTopic, acks: -1, messages: long.slice(i, i + 20).map((p) => ({ key: p.id, value: JSON.stringify(p) })) });
    }
    await producer.disconnect();
    const ids = new Set(long.map((p) => p.id));
    const all = await consumeAll(outputTopic, { count: valid.length + long.length, isolation: 'read_committed', timeoutMs: 120_000 });
    const arrived = all.map((m) => (JSON.parse(m.value!) as { id: string }).id).filter((id) => ids.has(id));
    expect(new Set(arrived).size).toBe(long.length);
    expect(arrived.length).toBe(long.length);
  }, 180_000);
});
