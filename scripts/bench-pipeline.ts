/**
 * pnpm bench:pipeline [--posts N]
 *
 * The live analyzer through the real broker, beside a baseline measured in the same run on the same input: a plain
 * kafkajs consume → produce copy of the same messages (no parsing, no analysis, no transactions, no Redis). The
 * ratio says what validation, de-duplication, analysis and exactly-once writing cost on top of moving the bytes.
 * Needs Kafka and Redis (`pnpm kafka start`).
 */
import { parseArgs } from 'node:util';
import { createKafka, createProducer, parseBrokers } from '@tingfeng/kafka';
import { createLogger } from '@tingfeng/logger';
import { Redis } from '@tingfeng/redis';
import { createTopics, deleteTopics, kafkaBrokers, redisUrl } from '@tingfeng/testing/infra';
import { createAnalyzerApp } from '../services/analyzer/src/app.js';
import { AnalyzerConfigSchema } from '../services/analyzer/src/config.js';
import { makePosts } from '../packages/testing/src/posts.js';

const { values } = parseArgs({ options: { posts: { type: 'string', default: '50000' } } });
const total = Number(values.posts);
process.env.LOG_LEVEL ??= 'warn';
const logger = createLogger('bench-pipeline');
const run = `bench-${Date.now().toString(36)}`;
const PARTITIONS = 3;
const input = `${run}.posts`;
const copyOut = `${run}.copy`;
const enrichedOut = `${run}.enriched`;
const dlq = `${run}.dlq`;
const brokers = kafkaBrokers().join(',');
const kafka = createKafka({ brokers: parseBrokers(brokers), clientId: 'bench-pipeline' }, logger);

/**
 * Watches a topic until `expected` messages arrived. Returns the steady-state time (first message to last), so
 * start-up (dictionaries, connections, the group join) is reported apart, as `startMs` (start to first message).
 */
async function timeUntil(topic: string, expected: number, sinceMs: () => number): Promise<{ ms: number; startMs: number }> {
  const consumer = kafka.consumer({ groupId: `${run}-count-${topic}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let firstMs = 0;
  const done = new Promise<{ ms: number; startMs: number }>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (seen === 0) firstMs = Date.now();
        seen += batch.messages.length;
        if (seen >= expected) resolve({ ms: Date.now() - firstMs, startMs: firstMs - sinceMs() });
      },
    });
  });
  const result = await done;
  await consumer.disconnect();
  return result;
}

async function main(): Promise<void> {
  await createTopics([
    { name: input, partitions: PARTITIONS },
    { name: copyOut, partitions: PARTITIONS },
    { name: enrichedOut, partitions: PARTITIONS },
    dlq,
  ]);
  const posts = makePosts(total, run);
  const producer = createProducer(kafka);
  await producer.connect();
  for (let i = 0; i < posts.length; i += 2000) {
    await producer.send({ topic: input, acks: -1, messages: posts.slice(i, i + 2000).map((p) => ({ key: p.rootId ?? p.id, value: JSON.stringify(p) })) });
  }
  const bytes = posts.reduce((sum, p) => sum + Buffer.byteLength(JSON.stringify(p)), 0);
  process.stderr.write(`bench-pipeline: ${total} posts (${(bytes / 1e6).toFixed(1)} MB) in ${input}, ${PARTITIONS} partitions\n`);

  // Baseline: consume and produce the same bytes, batch by batch.
  let copyStartMs = 0;
  const copier = kafka.consumer({ groupId: `${run}-copy` });
  await copier.connect();
  await copier.subscribe({ topic: input, fromBeginning: true });
  const copyTimer = timeUntil(copyOut, total, () => copyStartMs);
  copyStartMs = Date.now();
  await copier.run({
    eachBatch: async ({ batch }) => {
      await producer.send({ topic: copyOut, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
    },
  });
  const copy = await copyTimer;
  const copyMs = copy.ms;
  await copier.disconnect();

  // The analyzer, as deployed: validation, Redis claims, analysis, one transaction per chunk with the offsets.
  const app = createAnalyzerApp(
    AnalyzerConfigSchema.parse({
      KAFKA_BROKERS: brokers,
      REDIS_URL: redisUrl(),
      ANALYZER_INPUT_TOPIC: input,
      ANALYZER_OUTPUT_TOPIC: enrichedOut,
      ANALYZER_DLQ_TOPIC: dlq,
      ANALYZER_GROUP_ID: `${run}-analyzer`,
      ANALYZER_INSTANCE_ID: run,
      ANALYZER_DEDUP_PREFIX: `${run}:seen:`,
      REDIS_PREFIX: `${run}:`,
      ANALYZER_WATCH_DICTIONARY: 'false',
      METRICS_PORT: '0',
    }),
  );
  let analyzerStartMs = 0;
  const analyzerTimer = timeUntil(enrichedOut, total, () => analyzerStartMs);
  analyzerStartMs = Date.now();
  await app.start();
  const analyzer = await analyzerTimer;
  const analyzerMs = analyzer.ms;
  const metrics = await (await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).text();
  const read = (name: string) => Number(metrics.split('\n').find((l) => l.startsWith(name))?.split(' ').pop() ?? 0);
  const transactions = read('tingfeng_batch_duration_seconds_count');
  const txSeconds = read('tingfeng_batch_duration_seconds_sum');
  const analyzeSeconds = read('tingfeng_analyze_duration_seconds_sum');
  await app.stop();
  await producer.disconnect();

  const rate = (ms: number) => Math.round(total / (ms / 1000));
  const mbps = (ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(1);
  process.stdout.write(
    [
      `baseline  kafkajs consume → produce copy: ${rate(copyMs)} posts/s, ${mbps(copyMs)} MB/s (${copyMs} ms after the first message; ${copy.startMs} ms to start)`,
      `analyzer  validate, dedupe, analyze, transactional write: ${rate(analyzerMs)} posts/s, ${mbps(analyzerMs)} MB/s (${analyzerMs} ms after the first message; ${analyzer.startMs} ms to start)`,
      `ratio     analyzer / baseline: ${(copyMs / analyzerMs).toFixed(2)}`,
      `          ${transactions} transactions, ${((txSeconds * 1000) / Math.max(1, transactions)).toFixed(1)} ms each on average; analysis ${(analyzeSeconds * 1000).toFixed(0)} ms of it`,
      '',
    ].join('\n'),
  );

  const redis = new Redis(redisUrl());
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${run}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  await deleteTopics([input, copyOut, enrichedOut, dlq]);
}

main()
  .then(() => process.exit(0))
  .catch((err: unknown) => {
    process.stderr.write(`bench-pipeline: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
