import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, EnrichedPost } from '@tingfeng/contracts';
import { createDetectorEngine, dyingCityScenario, mergedOrder } from '@tingfeng/detect';
import { Redis } from '@tingfeng/redis';
import { consumeAll, createTestKafka, createTopics, deleteTopics, producePosts, randomName, startPrivateRedis, type ConsumedMessage, type PrivateRedis } from '@tingfeng/testing';
import { createDetectorApp, type DetectorApp } from './app.js';
import { DetectorServiceConfigSchema } from './config.js';
import { DEFAULT_CLOCK, detectorSettings, globalCheckpoint, partitionedReference, postsByPartition, queuedAlerts } from './testing.js';

const PARTITIONS = 3;
const posts: EnrichedPost[] = dyingCityScenario().posts;
// The refusal starts after the first 40% of event time has been taken in, before the episode's alerts.
const firstPart = posts.slice(0, Math.floor(posts.length * 0.4));
const rest = posts.slice(firstPart.length);

/**
 * One post per partition a day after the rest: in global mode it lets the merge's watermark pass every real post
 * without any partition having to go idle (the one place the merge's order depends on timing). The watermark is then
 * the sentinels' time: the first of them in merged order (partition 0's) is released too, the others stay buffered.
 */
async function produceSentinels(topic: string): Promise<void> {
  const producer = createTestKafka().producer({ idempotent: true });
  await producer.connect();
  const last = posts[posts.length - 1]!;
  const messages = Array.from({ length: PARTITIONS }, (_, partition) => {
    const createdAtMs = last.createdAtMs + 24 * 3600_000;
    return { partition, key: `sentinel-${partition}`, value: JSON.stringify({ ...last, id: `sentinel-${partition}`, createdAtMs, createdAt: new Date(createdAtMs).toISOString() }) };
  });
  await producer.send({ topic, messages, acks: -1 });
  await producer.disconnect();
}

/** Global mode's reference: one engine over the merged order, up to and including the first sentinel. */
function globalReferenceToSentinel(all: readonly ConsumedMessage[]): Map<string, Alert> {
  const engine = createDetectorEngine();
  const expected = new Map<string, Alert>();
  for (const item of mergedOrder(postsByPartition(all), DEFAULT_CLOCK, Date.now())) {
    if (item.refused) continue;
    for (const alert of engine.process(item.value)) expected.set(alert.id, alert);
    if (item.value.id.startsWith('sentinel-')) break;
  }
  return expected;
}

/** A counter or gauge's value from a /metrics page (0 when absent). */
function metric(page: string, name: string): number {
  const line = page.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 200_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Each partition's next offset after the messages consumed so far. */
function highOffsets(consumed: readonly ConsumedMessage[]): Map<number, string> {
  const high = new Map<number, string>();
  for (const m of consumed) if (BigInt(m.offset) + 1n > BigInt(high.get(m.partition) ?? '0')) high.set(m.partition, (BigInt(m.offset) + 1n).toString());
  return high;
}

describe.each(['partitioned', 'global'] as const)('detector, %s mode, when Redis refuses writes mid-stream', (mode) => {
  const topic = randomName(`enriched-refuse-${mode}`);
  const run = randomName(`refuse-${mode}`);
  let redisServer: PrivateRedis;
  let redis: Redis;
  let app: DetectorApp | undefined;

  beforeAll(async () => {
    // Its own redis-server: CONFIG SET maxmemory on the shared one would break every other test running.
    redisServer = await startPrivateRedis();
    redis = new Redis(redisServer.url);
    await createTopics([{ name: topic, partitions: PARTITIONS }]);
  }, 60_000);

  afterAll(async () => {
    await app?.stop().catch(() => undefined);
    redis?.disconnect();
    await redisServer?.stop();
    await deleteTopics([topic]);
  });

  /** Whether the detector has saved state up to `high` on every partition (global: up to the sentinels, still buffered). */
  async function caughtUp(high: Map<number, string>): Promise<boolean> {
    if (mode === 'global') {
      const saved = await globalCheckpoint(redis, run, topic);
      return saved !== undefined && [...high].every(([p, offset]) => BigInt(saved.partitions[p]?.resumeOffset ?? '0') >= BigInt(offset));
    }
    for (const [partition, offset] of high) if ((await redis.hget(`${run}:ckpt:${topic}:${partition}`, 'nextOffset')) !== offset) return false;
    return true;
  }

  it('holds the alerts and its checkpoint until Redis takes writes again, then queues exactly the alerts of an uninterrupted run', async () => {
    const settings = detectorSettings(
      { run, topic, instance: 'solo', mode },
      // No partition goes idle in global mode (the merge's order is then the rule's alone): the sentinels end the stream.
      { REDIS_URL: redisServer.url, METRICS_PORT: '0', DETECTOR_IDLE_PARTITION_MS: mode === 'global' ? '600000' : '3000', REDIS_PREFIX: `${run}:view:`, KAFKA_SESSION_TIMEOUT_MS: '10000' },
    );
    app = createDetectorApp(DetectorServiceConfigSchema.parse(settings));
    await app.start();
    const metrics = async () => (await fetch(`http://127.0.0.1:${app!.metricsPort}/metrics`)).text();

    await producePosts(topic, firstPart);
    const before = await consumeAll(topic, { count: firstPart.length, timeoutMs: 60_000 });
    if (mode === 'partitioned') await until('the first part checkpointed', async () => ((await caughtUp(highOffsets(before))) ? true : undefined));
    // Global mode holds each partition's tail until the others pass it: the first part is in once alerts are queued.
    else await until('the first alerts queued', async () => ((await queuedAlerts(redis, run)).size > 0 ? true : undefined));
    const queuedBefore = (await queuedAlerts(redis, run)).size;

    // noeviction (the default) with a 1-byte limit: every write is refused with OOM, reads still answer.
    await redisServer.command('CONFIG', 'SET', 'maxmemory', '1');
    await producePosts(topic, rest);
    if (mode === 'global') await produceSentinels(topic);
    const held = await until('alerts held while Redis refuses them', async () => {
      const page = await metrics();
      const undelivered = metric(page, 'tingfeng_detector_undelivered_alerts');
      return undelivered > 0 && metric(page, 'tingfeng_detector_alert_sink_refusals_total') >= 3 ? { undelivered, page } : undefined;
    });
    const refusedSends = metric(await metrics(), 'tingfeng_detector_alert_sink_refusals_total');
    await redisServer.command('CONFIG', 'SET', 'maxmemory', '0');

    const all = await consumeAll(topic, { count: posts.length + (mode === 'global' ? PARTITIONS : 0), timeoutMs: 60_000 });
    const real = all.filter((m) => !m.key?.startsWith('sentinel-'));
    const expected = mode === 'global' ? globalReferenceToSentinel(all) : partitionedReference(real).expected;
    await until('everything checkpointed', async () => ((await caughtUp(highOffsets(real))) ? true : undefined));
    const queued = await queuedAlerts(redis, run);
    const byId = (alerts: Map<string, Alert>) => [...alerts.values()].sort((a, b) => a.id.localeCompare(b.id));
    console.log(
      `[alert-sink ${mode}] uninterrupted reference: ${expected.size} alerts; interrupted run: ${queued.size} queued ` +
        `(${queuedBefore} before the refusal, ${held.undelivered} held at once while refused, ${refusedSends} sends refused)`,
    );
    expect(queuedBefore).toBeLessThan(expected.size);
    expect(byId(queued)).toEqual(byId(expected));
    expect(metric(await metrics(), 'tingfeng_detector_undelivered_alerts')).toBe(0);
  }, 300_000);
});
