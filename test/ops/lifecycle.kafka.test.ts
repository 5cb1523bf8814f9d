/**
 * Graceful stop on a real broker: SIGTERM mid-stream makes a service finish or hand back its batch, commit what it
 * processed and exit 0 (runMain exits 1 when its deadline passes, so exit 0 also means "within the deadline");
 * a restart then continues where it stopped, with nothing lost and nothing duplicated downstream.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert, EnrichedPost } from '@tingfeng/contracts';
import { createDetectorEngine, dyingCityScenario } from '@tingfeng/detect';
import { Redis } from '@tingfeng/redis';
import { consumeAll, createTestKafka, createTopics, deleteKeysWithPrefix, deleteTopics, kafkaBrokers, makePosts, randomName, redisUrl } from '@tingfeng/testing';
import { freePort, metricValue, startService, waitFor, type ServiceProcess } from './child-process.js';

const running: ServiceProcess[] = [];

afterAll(() => {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

function launch(dir: string, env: Record<string, string>): ServiceProcess {
  const proc = startService(dir, env);
  running.push(proc);
  return proc;
}

async function produce(topic: string, values: { key: string; value: string }[]): Promise<void> {
  const producer = createTestKafka().producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < values.length; i += 1000) await producer.send({ topic, messages: values.slice(i, i + 1000), acks: -1 });
  await producer.disconnect();
}

async function stopWithSigterm(proc: ServiceProcess): Promise<void> {
  proc.child.kill('SIGTERM');
  const { code, signal } = await proc.exited;
  expect({ code, signal }, proc.stderr()).toEqual({ code: 0, signal: null });
  expect(proc.stderr()).not.toContain('exceeded its deadline');
}

describe('analyzer stopped with SIGTERM mid-stream', () => {
  const inputTopic = randomName('posts');
  const outputTopic = randomName('enriched');
  const dlqTopic = randomName('dlq');

  afterAll(async () => {
    await deleteTopics([inputTopic, outputTopic, dlqTopic]);
  });

  it('exits 0 within its deadline, and after a restart nothing is lost or duplicated', async () => {
    await createTopics([{ name: inputTopic, partitions: 3 }, { name: outputTopic, partitions: 3 }, dlqTopic]);
    const posts = makePosts(20_000, randomName('g'));
    await produce(inputTopic, posts.map((p) => ({ key: p.rootId ?? p.id, value: JSON.stringify(p) })));

    const port = await freePort();
    const env = {
      KAFKA_BROKERS: kafkaBrokers().join(','),
      REDIS_URL: redisUrl(),
      ANALYZER_INPUT_TOPIC: inputTopic,
      ANALYZER_OUTPUT_TOPIC: outputTopic,
      ANALYZER_DLQ_TOPIC: dlqTopic,
      ANALYZER_GROUP_ID: randomName('analyzer'),
      ANALYZER_INSTANCE_ID: randomName('term'),
      ANALYZER_DEDUP_PREFIX: `${randomName('seen')}:`,
      ANALYZER_WATCH_DICTIONARY: 'false',
      METRICS_PORT: String(port),
      SHUTDOWN_GRACE_MS: '20000',
    };

    const first = launch('analyzer', env);
    await waitFor(
      async () => {
        if (first.child.exitCode !== null) throw new Error(`analyzer exited early: ${first.stderr()}`);
        return (await metricValue(port, 'tingfeng_posts_enriched_total')) >= 3000;
      },
      120_000,
      'first 3000 posts enriched',
    );
    await stopWithSigterm(first);
    const beforeStop = await consumeAll(outputTopic, { idleMs: 1000, isolation: 'read_committed' });
    // Stopped mid-stream: part of the input is still unprocessed.
    expect(beforeStop.length).toBeLessThan(posts.length);
    expect(new Set(beforeStop.map((m) => m.key)).size).toBeGreaterThan(0);

    const second = launch('analyzer', env);
    const all = await consumeAll(outputTopic, { count: posts.length, isolation: 'read_committed', timeoutMs: 150_000 });
    expect(all.length).toBe(posts.length);
    await stopWithSigterm(second);

    const settled = await consumeAll(outputTopic, { idleMs: 2000, isolation: 'read_committed' });
    const ids = settled.map((m) => (JSON.parse(m.value!) as { id: string }).id);
    expect(settled.length).toBe(posts.length);
    expect(new Set(ids).size).toBe(posts.length);
  }, 300_000);
});

describe('detector (partitioned mode) stopped with SIGTERM mid-stream', () => {
  const topic = randomName('enriched');
  const run = randomName('detterm');
  const redis = new Redis(redisUrl());

  afterAll(async () => {
    await deleteKeysWithPrefix(redis, run);
    redis.disconnect();
    await deleteTopics([topic]);
  });

  /** Alerts on the BullMQ queue `alerts` under the run's prefix: job hashes `<prefix>:alerts:<jobId>` holding `data`. */
  async function queuedAlerts(): Promise<Map<string, Alert>> {
    const out = new Map<string, Alert>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${run}:alerts:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        if ((await redis.type(key)) !== 'hash') continue;
        const data = await redis.hget(key, 'data');
        if (data) out.set(key.slice(`${run}:alerts:`.length), JSON.parse(data) as Alert);
      }
    } while (cursor !== '0');
    return out;
  }

  it('exits 0, and after a restart the queued alerts are exactly those of an uninterrupted run', async () => {
    const posts = dyingCityScenario().posts;
    await createTopics([{ name: topic, partitions: 3 }]);
    await produce(topic, posts.map((p) => ({ key: p.rootId ?? p.id, value: JSON.stringify(p) })));

    // The reference: each partition's messages in offset order through one engine.
    const consumed = await consumeAll(topic, { count: posts.length, timeoutMs: 60_000 });
    const byPartition = new Map<number, { offset: bigint; post: EnrichedPost }[]>();
    for (const m of consumed) {
      const list = byPartition.get(m.partition) ?? [];
      list.push({ offset: BigInt(m.offset), post: JSON.parse(m.value!) as EnrichedPost });
      byPartition.set(m.partition, list);
    }
    const expected = new Map<string, Alert>();
    const highOffsets = new Map<number, string>();
    for (const [partition, list] of byPartition) {
      list.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
      const engine = createDetectorEngine();
      for (const { post } of list) for (const alert of engine.process(post)) expected.set(alert.id, alert);
      highOffsets.set(partition, (list[list.length - 1]!.offset + 1n).toString());
    }
    expect(expected.size).toBeGreaterThan(0);

    const port = await freePort();
    const env = {
      KAFKA_BROKERS: kafkaBrokers().join(','),
      REDIS_URL: redisUrl(),
      // One engine per partition, so the reference is per partition; global mode's failover has its own tests beside it.
      DETECTOR_MODE: 'partitioned',
      DETECTOR_INPUT_TOPIC: topic,
      DETECTOR_GROUP_ID: `${run}-group`,
      DETECTOR_INSTANCE_ID: 'term',
      DETECTOR_CHECKPOINT_PREFIX: `${run}:`,
      DETECTOR_CHECKPOINT_INTERVAL_MS: '300',
      QUEUE_PREFIX: run,
      METRICS_PORT: String(port),
      SHUTDOWN_GRACE_MS: '20000',
    };
    const caughtUp = async () => {
      for (const [partition, high] of highOffsets) {
        if ((await redis.hget(`${run}:ckpt:${topic}:${partition}`, 'nextOffset')) !== high) return false;
      }
      return true;
    };

    const first = launch('detector', env);
    await waitFor(
      async () => {
        if (first.child.exitCode !== null) throw new Error(`detector exited early: ${first.stderr()}`);
        return (await metricValue(port, 'tingfeng_detector_posts_total')) >= Math.min(2000, posts.length / 4);
      },
      120_000,
      'detector under way',
    );
    await stopWithSigterm(first);
    const stoppedEarly = !(await caughtUp());

    const second = launch('detector', env);
    await waitFor(
      async () => {
        if (second.child.exitCode !== null) throw new Error(`detector exited early: ${second.stderr()}`);
        return caughtUp();
      },
      150_000,
      'detector caught up after restart',
    );
    await stopWithSigterm(second);

    const got = await queuedAlerts();
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, alert] of expected) expect(got.get(id), id).toEqual(alert);
    // Reported rather than asserted: a fast machine may finish the scenario before the signal lands.
    if (!stoppedEarly) console.warn('detector finished the scenario before SIGTERM; the restart had nothing left to do');
  }, 300_000);
});
