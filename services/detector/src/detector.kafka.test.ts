import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@tingfeng/contracts';
import { dyingCityScenario } from '@tingfeng/detect';
import { Redis } from '@tingfeng/redis';
import { consumeAll, createTopics, deleteKeysWithPrefix, deleteTopics, freePort, producePosts, randomName, redisUrl } from '@tingfeng/testing';
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

async function waitUntilCaughtUp(run: string, isAlive: () => boolean = () => true, on = topic): Promise<void> {
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('detector exited early');
    let done = true;
    for (const [partition, high] of highOffsets) {
      const saved = await redis.hget(`${run}:ckpt:${on}:${partition}`, 'nextOffset');
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
    // Its own topic, filled in two halves: the kill lands while the second half is being taken in, whatever the
    // machine's speed. Keys and order per partition are those of the reference topic, so the reference holds.
    const killTopic = randomName('enriched-kill');
    await createTopics([{ name: killTopic, partitions: PARTITIONS }]);
    const half = Math.floor(posts.length / 2);
    await producePosts(killTopic, posts.slice(0, half));
    const port = await freePort();
    const env = {
      ...process.env,
      ...detectorSettings({ run, topic: killTopic, instance: 'solo', mode: 'partitioned' }, { METRICS_PORT: String(port), LOG_LEVEL: 'warn', KAFKA_SESSION_TIMEOUT_MS: '8000' }),
    };
    const launch = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', mainPath], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(child);
      return child;
    };
    const processed = async () => {
      try {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return Number(text.split('\n').find((l) => l.startsWith('tingfeng_detector_posts_total'))?.split(' ').pop() ?? 0);
      } catch {
        return 0;
      }
    };
    const waitFor = async (what: string, child: ChildProcess, ok: () => Promise<boolean>) => {
      const deadline = Date.now() + 120_000;
      while (!(await ok())) {
        if (child.exitCode !== null) throw new Error(`detector exited early with ${child.exitCode} waiting for ${what}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    const first = launch();
    await waitFor('the first half', first, async () => (await processed()) >= half);
    const secondHalf = producePosts(killTopic, posts.slice(half));
    await waitFor('some of the second half', first, async () => (await processed()) > half);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await secondHalf;

    const second = launch();
    await waitFor('the restarted detector to be ready', second, async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true);
    await waitUntilCaughtUp(run, () => second.exitCode === null, killTopic);
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
    expect(second.exitCode).toBe(0);

    const got = await queuedAlerts(redis, run);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    await deleteTopics([killTopic]);
  }, 300_000);
});
