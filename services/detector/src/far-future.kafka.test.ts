/**
 * Global mode with bogus far-future `createdAt`s among the posts: a 23-hour one (a crawler's time-zone bug, stamped
 * with its receipt time as the analyzer does) and a 2999 one (no receipt time, sent straight to the topic) mid-stream,
 * and another 2999 one last in its partition. Each partition's event clock refuses them: the leader emits the alerts
 * of the input without them, no post is late, and the one at the tail holds nothing back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, EnrichedPost } from '@tingfeng/contracts';
import { createDetectorEngine, dyingCityScenario, mergedOrder, type DetectorSnapshot } from '@tingfeng/detect';
import { Redis } from '@tingfeng/redis';
import { consumeAll, createTestKafka, createTopics, deleteKeysWithPrefix, deleteTopics, producePosts, randomName, redisUrl } from '@tingfeng/testing';
import { createDetectorApp } from './app.js';
import { DetectorServiceConfigSchema } from './config.js';
import { DEFAULT_CLOCK, detectorSettings, globalCheckpoint, postsByPartition, queuedAlerts } from './testing.js';

const PARTITIONS = 3;
const HOUR_MS = 3600_000;
const Y2999_MS = Date.UTC(2999, 0, 1);
const posts: EnrichedPost[] = dyingCityScenario().posts;
const firstHalf = posts.slice(0, Math.floor(posts.length / 2));
const secondHalf = posts.slice(firstHalf.length);

/** A copy of the first post under a new id and `createdAtMs`: were it let through, it would count like any post. */
function bogus(id: string, createdAtMs: number, receivedAtMs?: number): EnrichedPost {
  const { receivedAtMs: _, ...base } = posts[0]!;
  return { ...base, id, createdAtMs, createdAt: new Date(createdAtMs).toISOString(), ...(receivedAtMs === undefined ? {} : { receivedAtMs }) };
}

async function produceTo(topic: string, partition: number, post: EnrichedPost): Promise<void> {
  const producer = createTestKafka().producer({ idempotent: true });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ partition, key: post.id, value: JSON.stringify(post) }], acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

/** A counter's value from a /metrics page (0 when absent). */
function metric(page: string, name: string): number {
  const line = page.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('live detector, global mode, with far-future createdAt among the posts', () => {
  const topic = randomName('enriched-future');
  const run = randomName('future');
  const bogusIds = new Set(['bogus-23h', 'bogus-2999', 'bogus-2999-tail']);
  let redis: Redis;
  /** One engine over the merged order of the posts without the bogus ones. */
  let expected: Map<string, Alert>;
  let expectedLate: number;
  let highOffsets: Map<number, string>;
  /** Each partition's last honest event time: no clock may pass it. */
  let lastHonestMs: Map<number, number>;

  beforeAll(async () => {
    redis = new Redis(redisUrl());
    await createTopics([{ name: topic, partitions: PARTITIONS }]);
    await producePosts(topic, firstHalf);
    const halfwayMs = firstHalf[firstHalf.length - 1]!.createdAtMs;
    await produceTo(topic, 0, bogus('bogus-23h', halfwayMs + 23 * HOUR_MS, halfwayMs));
    await produceTo(topic, 1, bogus('bogus-2999', Y2999_MS));
    await producePosts(topic, secondHalf);
    await produceTo(topic, 2, bogus('bogus-2999-tail', Y2999_MS));

    const consumed = await consumeAll(topic, { count: posts.length + bogusIds.size, timeoutMs: 60_000 });
    expect(consumed.length).toBe(posts.length + bogusIds.size);
    const all = postsByPartition(consumed);
    highOffsets = new Map([...all].map(([p, list]) => [p, (list[list.length - 1]!.offset + 1n).toString()]));
    // The bogus ones where they were meant to be: mid-stream on partitions 0 and 1, last on partition 2.
    const at = (id: string) => [...all].flatMap(([p, list]) => list.map((m, i) => ({ p, i, last: i === list.length - 1, id: m.value.id }))).find((m) => m.id === id)!;
    expect([at('bogus-23h').p, at('bogus-23h').last]).toEqual([0, false]);
    expect([at('bogus-2999').p, at('bogus-2999').last]).toEqual([1, false]);
    expect([at('bogus-2999-tail').p, at('bogus-2999-tail').last]).toEqual([2, true]);

    const honest = postsByPartition(consumed.filter((m) => !bogusIds.has((JSON.parse(m.value!) as EnrichedPost).id)));
    lastHonestMs = new Map([...honest].map(([p, list]) => [p, list[list.length - 1]!.eventTimeMs]));
    const engine = createDetectorEngine();
    expected = new Map();
    for (const item of mergedOrder(honest, DEFAULT_CLOCK, Date.now())) for (const alert of engine.process(item.value)) expected.set(alert.id, alert);
    expectedLate = engine.stats().late;
  }, 180_000);

  afterAll(async () => {
    await deleteKeysWithPrefix(redis, run);
    redis.disconnect();
    await deleteTopics([topic]);
  });

  it('refuses the three, holds nothing back, and emits exactly the alerts of the input without them, none late', async () => {
    const settings = detectorSettings(
      { run, topic, instance: 'solo', mode: 'global' },
      // Idle well beyond a drain of the first fetch on a loaded machine (seconds): no partition is taken for idle
      // while its backlog waits unread, so the order is the rule's alone.
      { DETECTOR_IDLE_PARTITION_MS: '10000', REDIS_PREFIX: `${run}:view:`, METRICS_PORT: '0', KAFKA_SESSION_TIMEOUT_MS: '8000', DETECTOR_LEADER_TTL_MS: '6000', DETECTOR_LEADER_RENEW_MS: '1000' },
    );
    const app = createDetectorApp(DetectorServiceConfigSchema.parse(settings));
    let page: string;
    let saved: Awaited<ReturnType<typeof globalCheckpoint>>;
    try {
      await app.start();
      // Every partition checkpointed to its end, the 2999 post last in partition 2 included: nothing is held.
      const deadline = Date.now() + 200_000;
      for (;;) {
        saved = await globalCheckpoint(redis, run, topic);
        if (saved && [...highOffsets].every(([p, high]) => saved!.partitions[p]?.resumeOffset === high)) break;
        if (Date.now() > deadline) throw new Error(`not caught up: ${JSON.stringify(saved?.partitions)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      page = await (await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).text();
    } finally {
      await app.stop();
    }
    expect(metric(page, 'tingfeng_detector_refused_future_total')).toBe(bogusIds.size);
    // No partition's clock was dragged forward by them, and the engine counted no post late.
    for (const [p, pos] of Object.entries(saved!.partitions)) expect(pos.releasedMaxEventTimeMs).toBe(lastHonestMs.get(Number(p)));
    const snapshot = saved!.snapshot as DetectorSnapshot;
    expect(snapshot.counters.late).toBe(expectedLate);
    expect(expectedLate).toBe(0);
    expect(snapshot.counters.posts).toBe(posts.length);
    const got = await queuedAlerts(redis, run);
    expect(expected.size).toBeGreaterThan(0);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, alert] of expected) expect(got.get(id)).toEqual(alert);
  }, 240_000);
});
