import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@tingfeng/contracts';
import { DEFAULT_CONFIG, dyingCityScenario } from '@tingfeng/detect';
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
/** The episode's root: the post the scenario's cascade, and the stories and responses around it, belong to. */
const root = posts.find((p) => p.author.name === '来昆工作的外省人' && p.rootId === undefined)!;
const rootIncident = `cascade:${root.id}`;
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

/** Kind, key and severity of every alert, one line each in id order: a readable first diff when two runs differ. */
function outline(alerts: Map<string, Alert>): string[] {
  return [...alerts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, a]) => `${id} ${a.type} ${a.key} ${a.severity}`);
}

/** The same alert ids with the same alerts: every field, since the engine's output is a function of each partition's input alone. */
function expectSameAlerts(got: Map<string, Alert>, want: Map<string, Alert>): void {
  expect(outline(got)).toEqual(outline(want));
  for (const [id, alert] of want) expect(got.get(id), id).toEqual(alert);
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
    const alerts = [...expected.values()];
    const ofType = (type: string) => alerts.filter((a) => a.type === type);

    // The root's cascade, raised as it grows: info first, then warning, then critical.
    const cascade = ofType('cascade').filter((a) => a.key === rootIncident);
    expect(cascade.length).toBeGreaterThanOrEqual(3);
    const ranks = cascade.map((a) => a.severity);
    expect(ranks.slice(0, 3)).toEqual(['info', 'warning', 'critical']);
    for (const a of cascade) {
      expect(a).toMatchObject({ rootId: root.id, incidentKey: rootIncident, negativeShare: 1, rootAuthor: '来昆工作的外省人' });
      expect(a.terms).toEqual(expect.arrayContaining(['昆明', '死去', '城市']));
      expect(a.observed).toBeGreaterThan(0);
    }
    const observed = cascade.map((a) => a.observed!);
    expect(observed).toEqual([...observed].sort((x, y) => x - y));

    // The discussion of the root's words bursts as a story, counted into the root's incident.
    const stories = ofType('story').filter((a) => a.terms.includes('死去'));
    expect(stories.length).toBeGreaterThanOrEqual(1);
    const story = stories[0]!;
    expect(story.key).toMatch(/^story:/);
    expect(story).toMatchObject({ incidentKey: rootIncident, severity: 'info' });
    expect(story.terms).toEqual(expect.arrayContaining(['昆明', '死去']));
    expect(story.accounts!.length).toBeGreaterThan(0);
    expect(story.observed!).toBeGreaterThan(story.expected!);

    // The city's accounts answer that story: response alerts keyed on it, in the same incident, from official accounts only.
    const responses = ofType('response').filter((a) => a.respondsTo === story.key);
    expect(responses.length).toBeGreaterThanOrEqual(1);
    for (const a of responses) {
      expect(a).toMatchObject({ key: `response:${story.key}`, incidentKey: rootIncident, severity: 'info' });
      expect(a.accounts!.length).toBe(a.observed);
      for (const account of a.accounts!) expect(DEFAULT_CONFIG.officialAccounts).toContain(account);
    }
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
    expectSameAlerts(await queuedAlerts(redis, run), expected);
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

    expectSameAlerts(await queuedAlerts(redis, run), expected);
    await deleteTopics([killTopic]);
  }, 300_000);
});
