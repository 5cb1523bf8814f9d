import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REJECT_REASONS, type DeadLetter } from '@tingfeng/contracts';
import { consumeAll, createTestKafka, createTopics, deleteTopics, freePort, hostileMessages, kafkaBrokers, randomName, redisUrl, seededRandom, type HostileMessage } from '@tingfeng/testing';

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

const inputTopic = randomName('fuzz-posts');
const outputTopic = randomName('fuzz-enriched');
const dlqTopic = randomName('fuzz-dlq');
const scratch = mkdtempSync(join(tmpdir(), 'tf-fuzz-'));
const ROUTES = ['kafkajs', 'kcat', 'kcat -z snappy', 'kcat -z lz4', 'kcat -z zstd', 'kcat -z gzip'] as const;
type Route = (typeof ROUTES)[number];

const digest = (bytes: Buffer | null) => createHash('sha1').update(bytes ?? Buffer.alloc(0)).digest('hex');

/** Writes one route's messages: kafkajs directly, or kcat (librdkafka) with one file per message and the route's codec. */
async function produce(route: Route, messages: HostileMessage[]): Promise<void> {
  if (messages.length === 0) return;
  if (route === 'kafkajs') {
    const producer = createTestKafka().producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < messages.length; i += 50) {
      await producer.send({ topic: inputTopic, acks: -1, messages: messages.slice(i, i + 50).map((m) => ({ key: null, value: m.value })) });
    }
    await producer.disconnect();
    return;
  }
  const dir = mkdtempSync(join(scratch, 'route-'));
  const files = messages.map((m, i) => {
    const path = join(dir, String(i).padStart(6, '0'));
    writeFileSync(path, m.value ?? Buffer.alloc(0));
    return path;
  });
  const codec = route.split(' -z ')[1];
  const args = ['-P', '-b', kafkaBrokers().join(','), '-t', inputTopic, ...(codec ? ['-z', codec] : []), '-X', 'linger.ms=20', '-X', 'message.max.bytes=1000000', ...files];
  const result = spawnSync('kcat', args, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0 || /Delivery failed|ERROR/.test(result.stderr)) throw new Error(`kcat ${route}: ${result.error?.message ?? result.stderr.slice(0, 500)}`);
}

describe('analyzer fuzzed with hostile messages through the real broker, from kafkajs and kcat with every codec', () => {
  let child: ChildProcess | undefined;
  let liveness: NodeJS.Timeout | undefined;

  afterAll(async () => {
    clearInterval(liveness);
    if (child?.exitCode === null) child.kill('SIGKILL');
    rmSync(scratch, { recursive: true, force: true });
    await deleteTopics([inputTopic, outputTopic, dlqTopic]);
  });

  it('enriches every valid post exactly once, dead-letters every other message with a reason, and stays live', async () => {
    await createTopics([
      { name: inputTopic, partitions: 3, configs: { 'max.message.bytes': String(2 * 1024 * 1024) } },
      { name: outputTopic, partitions: 3 },
      { name: dlqTopic, partitions: 1, configs: { 'max.message.bytes': String(4 * 1024 * 1024) } },
    ]);
    const prefix = randomName('fz');
    const messages = hostileMessages({ valid: 1500, hostile: 2500, prefix, seed: 2015 });
    const rand = seededRandom(20151020);
    // kcat's own limit is 1,000,000 bytes a message, and a file cannot say null: those go through kafkajs.
    const routeOf = (m: HostileMessage): Route => {
      const bytes = m.value?.byteLength ?? 0;
      return bytes === 0 || bytes > 900_000 ? 'kafkajs' : ROUTES[Math.floor(rand() * ROUTES.length)]!;
    };
    const byRoute = new Map<Route, HostileMessage[]>(ROUTES.map((r) => [r, []]));
    const routed = messages.map((m) => ({ m, route: routeOf(m) }));
    for (const { m, route } of routed) byRoute.get(route)!.push(m);

    // Its own process, as deployed: the liveness probe below is then a client from outside, like the kubelet's.
    const port = await freePort();
    const env = {
      ...process.env,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      REDIS_URL: redisUrl(),
      ANALYZER_INPUT_TOPIC: inputTopic,
      ANALYZER_OUTPUT_TOPIC: outputTopic,
      ANALYZER_DLQ_TOPIC: dlqTopic,
      ANALYZER_GROUP_ID: randomName('fuzz'),
      ANALYZER_INSTANCE_ID: randomName('fuzz'),
      ANALYZER_DEDUP_PREFIX: `${randomName('fuzz-seen')}:`,
      ANALYZER_WATCH_DICTIONARY: 'false',
      METRICS_PORT: String(port),
      LOG_LEVEL: 'warn',
    };
    let stderr = '';
    child = spawn(process.execPath, ['--import', 'tsx', mainPath], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const healthz = `http://127.0.0.1:${port}/healthz`;
    for (const deadline = Date.now() + 120_000; ; ) {
      if (child.exitCode !== null) throw new Error(`analyzer exited with ${child.exitCode}: ${stderr}`);
      if ((await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0)) === 200) break;
      if (Date.now() > deadline) throw new Error('analyzer not ready');
      await new Promise((r) => setTimeout(r, 200));
    }
    // Green means every probe answered 200 (a slow answer on a loaded machine still counts; a 503 or no answer does
    // not). Each probe opens a connection of its own, as the kubelet's do: no keep-alive race with the server.
    const probes = { ok: 0, failed: [] as string[] };
    let probing = false;
    const probe = () =>
      new Promise<number>((resolve, reject) => {
        const req = get(healthz, { agent: false, timeout: 60_000 }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
        req.on('error', reject);
      });
    liveness = setInterval(() => {
      if (probing) return;
      probing = true;
      probe()
        .then((status) => (status === 200 ? probes.ok++ : probes.failed.push(`${status} at ${new Date().toISOString()}`)))
        .catch((err: unknown) => probes.failed.push(`${String(err)} at ${new Date().toISOString()}`))
        .finally(() => (probing = false));
    }, 250);

    // The routes run one after another while the analyzer consumes: valid and hostile interleave within each.
    for (const route of ROUTES) await produce(route, byRoute.get(route)!);

    const validIds = new Set(messages.flatMap((m) => (m.expect.valid ? [m.expect.id] : [])));
    const refusedCount = messages.length - validIds.size;
    const enriched = await consumeAll(outputTopic, { count: validIds.size, isolation: 'read_committed', timeoutMs: 240_000 });
    const letters = await consumeAll(dlqTopic, { count: refusedCount, isolation: 'read_committed', timeoutMs: 120_000 });
    // Nothing more trails behind.
    const allEnriched = await consumeAll(outputTopic, { idleMs: 3000, isolation: 'read_committed' });
    const allLetters = await consumeAll(dlqTopic, { idleMs: 3000, isolation: 'read_committed' });
    clearInterval(liveness);
    expect(enriched.length).toBe(validIds.size);
    expect(letters.length).toBe(refusedCount);

    // Every valid post enriched exactly once.
    const enrichedIds = allEnriched.map((m) => (JSON.parse(m.value!) as { id: string }).id);
    expect(enrichedIds.length).toBe(validIds.size);
    expect(new Set(enrichedIds)).toEqual(validIds);

    // Every other message dead-lettered once, matched by its bytes, with a known reason (the class's, where it has one).
    const expectedByDigest = new Map<string, HostileMessage[]>();
    for (const m of messages) if (!m.expect.valid) expectedByDigest.set(digest(m.value), [...(expectedByDigest.get(digest(m.value)) ?? []), m]);
    const table = new Map<string, { sent: number; enriched: number; reasons: Map<string, number>; routes: Set<Route> }>();
    const row = (kind: string) => table.get(kind) ?? (table.set(kind, { sent: 0, enriched: 0, reasons: new Map(), routes: new Set() }), table.get(kind)!);
    for (const { m, route } of routed) {
      const r = row(m.kind);
      r.sent++;
      r.routes.add(route);
      if (m.expect.valid) r.enriched++;
    }
    const mismatched: string[] = [];
    expect(allLetters.length).toBe(refusedCount);
    for (const l of allLetters) {
      const letter = JSON.parse(l.value!) as DeadLetter;
      expect(REJECT_REASONS).toContain(letter.reason);
      expect(letter.detail.length).toBeGreaterThan(0);
      const candidates = expectedByDigest.get(digest(Buffer.from(letter.rawBase64, 'base64')));
      const m = candidates?.shift();
      if (!m) {
        mismatched.push(`unexpected letter ${letter.reason}: ${letter.detail}`);
        continue;
      }
      if (!m.expect.valid && m.expect.reason && m.expect.reason !== letter.reason) mismatched.push(`${m.kind}: expected ${m.expect.reason}, got ${letter.reason} (${letter.detail})`);
      const reasons = row(m.kind).reasons;
      reasons.set(letter.reason, (reasons.get(letter.reason) ?? 0) + 1);
    }
    expect(mismatched).toEqual([]);
    expect([...expectedByDigest.values()].flat().map((m) => m.kind)).toEqual([]);

    const lines = [...table]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, r]) => {
        const outcome = r.enriched > 0 ? `enriched ${r.enriched}` : [...r.reasons].map(([reason, count]) => `${reason} ${count}`).join(', ');
        return `  ${kind.padEnd(44)} ${String(r.sent).padStart(5)}  ${outcome}`;
      });
    const perRoute = ROUTES.map((route) => `${route}: ${byRoute.get(route)!.length}`).join(', ');
    console.log(
      `[fuzz] ${messages.length} messages (${validIds.size} valid, ${refusedCount} hostile); by producer: ${perRoute}\n` +
        `  ${'class'.padEnd(44)} ${'sent'.padStart(5)}  outcome\n${lines.join('\n')}\n` +
        `  liveness probes: ${probes.ok} answered 200, ${probes.failed.length} did not`,
    );
    expect(probes.failed).toEqual([]);
    expect(probes.ok).toBeGreaterThan(0);
    expect(child.exitCode).toBeNull();
  }, 600_000);
});
