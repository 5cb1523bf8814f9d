import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@tingfeng/contracts';
import { dyingCityScenario } from '@tingfeng/detect';
import { Redis } from '@tingfeng/redis';
import { consumeAll, createTopics, deleteKeysWithPrefix, deleteTopics, producePosts, randomName, redisUrl } from '@tingfeng/testing';
import { createDetectorApp } from './app.js';
import { DetectorServiceConfigSchema } from './config.js';
import { detectorSettings, partitionedReference, queuedAlerts } from './testing.js';

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const PARTITIONS = 3;

const topic = randomName('enriched');
const posts = dyingCityScenario().posts;
let redis: Redis;
/** What one uninterrupted engine per partition emits over the same messages: the reference. */
let expected: Map<string, Alert>;
let highOffsets: Map<number, string>;

function settings(run: string, instance: string) {
  return detectorSettings({ run, topic, instance, mode: 'partitioned' }, { METRICS_PORT: '0', LOG_LEVEL: 'warn', KAFKA_SESSION_TIMEOUT_MS: '8000' });
}

async function waitUntilCaughtUp(run: string, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('detector exited early');
    let done = true;
    for (const [partition, high] of highOffsets) {
      const saved = await redis.hget(`${run}:ckpt:${topic}:${partition}`, 'nextOffset');
      if (saved !== high) done = false;
    }
    if (done) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('detector did not catch up in time');
}

describe('live detector, partitioned mode, on a real broker', () => {
  const runs: string[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    redis = new Redis(redisUrl());
    await createTopics([{ name: topic, partitions: PARTITIONS }]);
    await producePosts(topic, posts);

    // The reference: each partition's messages, in offset order, through one engine.
    const consumed = await consumeAll(topic, { count: posts.length, timeoutMs: 60_000 });
    expect(consumed.length).toBe(posts.length);
    ({ expected, highOffsets } = partitionedReference(consumed));
  }, 180_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const run of runs) await deleteKeysWithPrefix(redis, run);
    redis.disconnect();
    await deleteTopics([topic]);
  });

  it('the scenario yields cascade, story and response alerts to check against', () => {
    const types = new Set([...expected.values()].map((a) => a.type));
    expect(types.has('cascade')).toBe(true);
    expect(expected.size).toBeGreaterThan(3);
  });

  it('two instances sharing the partitions emit exactly the alerts of one uninterrupted engine per partition', async () => {
    const run = randomName('det2');
    runs.push(run);
    const apps = [createDetectorApp(DetectorServiceConfigSchema.parse(settings(run, 'a'))), createDetectorApp(DetectorServiceConfigSchema.parse(settings(run, 'b')))];
    try {
      await Promise.all(apps.map((a) => a.start()));
      await waitUntilCaughtUp(run);
    } finally {
      await Promise.all(apps.map((a) => a.stop()));
    }
    const got = await queuedAlerts(redis, run);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, alert] of expected) expect(got.get(id)).toEqual(alert);
  }, 200_000);

  it('killed with SIGKILL mid-stream and restarted, it emits the same alerts as an uninterrupted run', async () => {
    const run = randomName('detkill');
    runs.push(run);
    const env = { ...process.env, ...settings(run, 'solo') };
    const launch = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', mainPath], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(child);
      return child;
    };
    const first = launch();
    // Wait until some state has been checkpointed, then kill it without warning.
    const deadline = Date.now() + 120_000;
    let progressed = false;
    while (!progressed && Date.now() < deadline) {
      if (first.exitCode !== null) throw new Error(`detector exited early with ${first.exitCode}`);
      for (const partition of highOffsets.keys()) {
        const saved = await redis.hget(`${run}:ckpt:${topic}:${partition}`, 'nextOffset');
        if (saved !== null && saved !== highOffsets.get(partition)) progressed = true;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    const second = launch();
    await waitUntilCaughtUp(run, () => second.exitCode === null);
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
    expect(second.exitCode).toBe(0);

    const got = await queuedAlerts(redis, run);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
  }, 300_000);
});
