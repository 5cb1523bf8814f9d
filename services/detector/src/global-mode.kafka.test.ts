import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, EnrichedPost } from '@tingfeng/contracts';
import { campaignScenario, createDetectorEngine, dyingCityScenario, mergedOrder } from '@tingfeng/detect';
import { Redis } from '@tingfeng/redis';
import { consumeAll, createTestKafka, createTopics, deleteKeysWithPrefix, deleteTopics, producePosts, randomName, redisUrl } from '@tingfeng/testing';
import { createDetectorApp } from './app.js';
import type { GlobalCheckpoint } from './checkpoint/fenced-store.js';
import { DetectorServiceConfigSchema } from './config.js';
import type { GlobalRole } from './consumers/global-mode.js';
import { DEFAULT_CLOCK, detectorSettings, globalCheckpoint, globalReference, postsByPartition, queuedAlerts } from './testing.js';

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const PARTITIONS = 6;
const DAY_MS = 24 * 3600 * 1000;

const topic = randomName('enriched-global');
// The dying-city episode, then (two days later, event time) the copy-paste campaign: cascades, stories, responses
// and a coordinated campaign whose posts, keyed by their own ids, spread over every partition.
const posts: EnrichedPost[] = [
  ...dyingCityScenario().posts,
  ...campaignScenario().posts.map((p) => ({ ...p, createdAtMs: p.createdAtMs + 2 * DAY_MS, createdAt: new Date(p.createdAtMs + 2 * DAY_MS).toISOString() })),
];
let redis: Redis;
/** One engine fed every partition's messages in the merge's order (the rule in packages/detect/src/event-time/merge.ts). */
let expected: Map<string, Alert>;
/** One engine per partition over the same messages: what partitioned mode finds. */
let perPartitionTypes: Set<string>;
let highOffsets: Map<number, string>;

function settings(run: string, instance: string) {
  return detectorSettings(
    { run, topic, instance, mode: 'global' },
    {
      // Long enough that no partition counts as idle while the backlog is read; the tail waits this long.
      DETECTOR_IDLE_PARTITION_MS: '3000',
      // Long enough that a loaded machine (two files at once beside the broker) does not miss a whole TTL of renewals:
      // at 6 s a full suite beside other work lost the lock twice in the SIGKILL case (fencing token 4, not 2).
      DETECTOR_LEADER_TTL_MS: '12000',
      DETECTOR_LEADER_RENEW_MS: '1000',
      DETECTOR_LEADER_POLL_MS: '300',
      // Its own (empty) campaign registry: no response campaign of another run is tracked here.
      REDIS_PREFIX: `${run}:view:`,
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      KAFKA_SESSION_TIMEOUT_MS: '8000',
    },
  );
}

const checkpoint = (run: string) => globalCheckpoint(redis, run, topic);

async function waitUntilCaughtUp(run: string, isAlive: () => boolean = () => true): Promise<GlobalCheckpoint<unknown>> {
  const deadline = Date.now() + 200_000;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('detector exited early');
    const saved = await checkpoint(run);
    if (saved && [...highOffsets].every(([p, high]) => saved.partitions[p]?.resumeOffset === high)) return saved;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('detector did not catch up in time');
}

async function getJson(port: number, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: path === '/metrics' ? await res.text() : await res.json() };
}

describe('live detector, global mode, on a real broker', () => {
  const runs: string[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    redis = new Redis(redisUrl());
    await createTopics([{ name: topic, partitions: PARTITIONS }]);
    await producePosts(topic, posts);

    const consumed = await consumeAll(topic, { count: posts.length, timeoutMs: 60_000 });
    expect(consumed.length).toBe(posts.length);
    ({ expected, highOffsets } = globalReference(consumed));

    perPartitionTypes = new Set();
    for (const list of postsByPartition(consumed).values()) {
      const own = createDetectorEngine();
      for (const item of mergedOrder(new Map([[0, list]]), DEFAULT_CLOCK)) if (!item.refused) for (const alert of own.process(item.value)) perPartitionTypes.add(alert.type);
    }
  }, 180_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const run of runs) await deleteKeysWithPrefix(redis, run);
    redis.disconnect();
    await deleteTopics([topic]);
  });

  it('the merged stream yields story and coordination alerts that one engine per partition misses', () => {
    const types = new Set([...expected.values()].map((a) => a.type));
    expect(types).toEqual(new Set(['cascade', 'story', 'response', 'coordination']));
    expect(byType(expected, 'story')).toBeGreaterThanOrEqual(3);
    expect(perPartitionTypes.has('coordination')).toBe(false);
  });

  it('two instances: exactly one leads, and it emits exactly the alerts of one engine fed the merged stream', async () => {
    const run = randomName('glob2');
    runs.push(run);
    const apps = [createDetectorApp(DetectorServiceConfigSchema.parse(settings(run, 'a'))), createDetectorApp(DetectorServiceConfigSchema.parse(settings(run, 'b')))];
    try {
      await Promise.all(apps.map((a) => a.start()));
      await waitUntilCaughtUp(run);
      const roles = apps.map((a) => a.role() as GlobalRole);
      expect(roles.map((r) => r.role).sort()).toEqual(['leader', 'standby']);
      const leaderIndex = roles.findIndex((r) => r.role === 'leader');
      for (const [i, app] of apps.entries()) {
        const port = app.metricsPort!;
        expect((await getJson(port, '/readyz')).status).toBe(200);
        const role = (await getJson(port, '/role')).body as GlobalRole;
        expect(role.role).toBe(i === leaderIndex ? 'leader' : 'standby');
        const metrics = (await getJson(port, '/metrics')).body as string;
        expect(metrics).toMatch(new RegExp(`^tingfeng_detector_leader\\{[^}]*\\} ${i === leaderIndex ? 1 : 0}$`, 'm'));
      }
      const leaderRole = roles[leaderIndex]!;
      expect(leaderRole.fencingToken).toBe(1);
      expect(leaderRole.consumer?.partitions).toEqual([0, 1, 2, 3, 4, 5]);
      expect(leaderRole.consumer?.buffered).toBe(0);
    } finally {
      await Promise.all(apps.map((a) => a.stop()));
    }
    const got = await queuedAlerts(redis, run);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, alert] of expected) expect(got.get(id)).toEqual(alert);
  }, 240_000);

  it('a leader whose lock is taken stops at once without checkpointing, and leads again from the checkpoint when it wins', async () => {
    const run = randomName('globlost');
    runs.push(run);
    const app = createDetectorApp(DetectorServiceConfigSchema.parse(settings(run, 'solo')));
    const lockKey = `${run}:global:${topic}:leader`;
    try {
      await app.start();
      const before = await waitUntilCaughtUp(run);
      // Another holder (as after a pause longer than the TTL): the next renewal is refused.
      await redis.set(lockKey, 'intruder|99', 'PX', 60_000);
      const deadline = Date.now() + 20_000;
      while ((app.role() as GlobalRole).role !== 'standby' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect((app.role() as GlobalRole).role).toBe('standby');
      expect((await getJson(app.metricsPort!, '/readyz')).status).toBe(200);
      expect((await getJson(app.metricsPort!, '/metrics')).body).toMatch(/^tingfeng_detector_leader\{[^}]*\} 0$/m);
      expect(await checkpoint(run)).toEqual(before);
      // The lock frees up: it wins with the next token and resumes from the checkpoint, nothing to redo.
      await redis.del(lockKey);
      while (!((app.role() as GlobalRole).role === 'leader' && app.ready) && Date.now() < deadline + 30_000) await new Promise((r) => setTimeout(r, 50));
      expect((app.role() as GlobalRole).fencingToken).toBe(2);
    } finally {
      await app.stop();
    }
    const got = await queuedAlerts(redis, run);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
  }, 240_000);

  it('a leader that loses its lock again and again, even while it starts, leaves no consumer behind and ends with the uninterrupted alerts', async () => {
    const run = randomName('globflap');
    runs.push(run);
    const app = createDetectorApp(DetectorServiceConfigSchema.parse(settings(run, 'flap')));
    const lockKey = `${run}:global:${topic}:leader`;
    const role = () => app.role() as GlobalRole;
    const until = async (what: string, probe: () => boolean, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!probe()) {
        if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (role ${JSON.stringify(role())})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      await app.start();
      // As when a busy event loop misses renewals for longer than the TTL: the lock passes to another holder for a
      // moment, first while the new leader is still starting (joining the group), then once it reads.
      for (const [token, moment] of [[1, 'starting'], [2, 'starting'], [3, 'reading']] as const) {
        await until(`leader with token ${token}`, () => role().role === 'leader' && role().fencingToken === token);
        if (moment === 'reading') await until('assigned', () => app.ready);
        await redis.set(lockKey, 'intruder|99', 'PX', 1_500);
        await until(`standby after losing token ${token}`, () => role().role === 'standby');
      }
      const final = await waitUntilCaughtUp(run);
      expect(final.fencingToken).toBe(4);
      expect([role().role, role().fencingToken]).toEqual(['leader', 4]);
      // No consumer of a lost leadership is still in the group, holding partitions it no longer reads.
      const admin = createTestKafka().admin();
      await admin.connect();
      try {
        const { groups } = await admin.describeGroups([`${run}-group-global`]);
        expect(groups[0]?.members.length).toBe(1);
      } finally {
        await admin.disconnect();
      }
    } finally {
      await app.stop();
    }
    const got = await queuedAlerts(redis, run);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, alert] of expected) expect(got.get(id)).toEqual(alert);
  }, 240_000);

  it('SIGKILL of the leader mid-stream: the standby takes over from the checkpoint and the alerts are the uninterrupted ones', async () => {
    const run = randomName('globkill');
    runs.push(run);
    const launch = (instance: string) => {
      const child = spawn(process.execPath, ['--import', 'tsx', mainPath], { cwd: repoRoot, env: { ...process.env, ...settings(run, instance) }, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(child);
      return child;
    };
    const processes = new Map([
      ['one', launch('one')],
      ['two', launch('two')],
    ]);
    // Wait for a checkpoint part-way through the input, then kill whichever instance leads, without warning.
    const deadline = Date.now() + 150_000;
    let leader: string | undefined;
    while (!leader && Date.now() < deadline) {
      for (const [name, child] of processes) if (child.exitCode !== null) throw new Error(`${name} exited early with ${child.exitCode}`);
      const saved = await checkpoint(run);
      const partial = saved && Object.values(saved.partitions).some((pos) => pos.resumeOffset !== '0') && [...highOffsets].some(([p, high]) => saved.partitions[p]?.resumeOffset !== high);
      if (partial) leader = (await redis.get(`${run}:global:${topic}:leader`))?.split(':')[0];
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(leader).toBeDefined();
    const victim = processes.get(leader!)!;
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    const survivor = [...processes].find(([name]) => name !== leader)![1];

    const final = await waitUntilCaughtUp(run, () => survivor.exitCode === null);
    expect(final.fencingToken).toBe(2);
    survivor.kill('SIGTERM');
    await new Promise((r) => survivor.once('exit', r));
    expect(survivor.exitCode).toBe(0);
    // A graceful stop gives the lock up.
    expect(await redis.get(`${run}:global:${topic}:leader`)).toBeNull();

    const got = await queuedAlerts(redis, run);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, alert] of expected) expect(got.get(id)).toEqual(alert);
  }, 300_000);
});

function byType(alerts: Map<string, Alert>, type: string): number {
  return [...alerts.values()].filter((a) => a.type === type).length;
}
