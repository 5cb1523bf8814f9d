// Needs Kafka and PostgreSQL (the global setup starts either when it does not answer).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect } from 'vitest';
import { createTestKafka, createTopics, deleteTopics, freePort, kafkaBrokers, makePosts, pgTest, randomName } from '@tingfeng/testing';
import { createAnalyzer } from '@tingfeng/text';

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

async function query(url: string, sql: string): Promise<number> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return 0; // not migrated yet
    throw err;
  } finally {
    await client.end();
  }
}

async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

describe('archiver killed with SIGKILL mid-stream', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  pgTest('loses nothing and duplicates nothing after a restart', async ({ databaseUrl, pgSchema }) => {
    const input = randomName('enriched');
    const dlq = randomName('dlq');
    await createTopics([{ name: input, partitions: 3 }, dlq]);
    try {
      const analyzer = createAnalyzer();
      const posts = makePosts(20_000, randomName('k')).map((p) => analyzer.analyze({ ...p, createdAtMs: Date.parse(p.createdAt) }));
      analyzer.close();
      const producer = createTestKafka().producer({ idempotent: true });
      await producer.connect();
      for (let i = 0; i < posts.length; i += 1000) {
        const messages = posts.slice(i, i + 1000).map((p) => ({ key: p.rootId ?? p.id, value: JSON.stringify(p) }));
        await producer.send({ topic: input, messages, acks: -1 });
      }
      await producer.disconnect();

      const env = {
        ...process.env,
        KAFKA_BROKERS: kafkaBrokers().join(','),
        DATABASE_URL: databaseUrl,
        ARCHIVE_SCHEMA: pgSchema,
        ARCHIVER_INPUT_TOPIC: input,
        ARCHIVER_DLQ_TOPIC: dlq,
        ARCHIVER_GROUP_ID: randomName('archiver'),
        ARCHIVER_INSTANCE_ID: randomName('crash'),
        // Small batches: many commits, so the kill lands between a write and its offset commit as often as not.
        ARCHIVER_MAX_BATCH_POSTS: '400',
        METRICS_PORT: String(await freePort()),
        LOG_LEVEL: 'warn',
        KAFKA_SESSION_TIMEOUT_MS: '8000',
      };
      let stderr = '';
      const launch = () => {
        const child = spawn(process.execPath, ['--import', 'tsx', mainPath], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
        child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
        children.push(child);
        return child;
      };
      const archived = () => query(databaseUrl, `SELECT count(*) AS n FROM ${pgSchema}.posts`);

      const first = launch();
      // Kill it once part of the stream is in, with more still in flight.
      await waitFor(async () => {
        if (first.exitCode !== null) throw new Error(`archiver exited early with ${first.exitCode}: ${stderr}`);
        return (await archived()) >= 5000;
      }, 120_000, 'the first archiver wrote 5000 posts');
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      const beforeRestart = await archived();
      expect(beforeRestart).toBeLessThan(posts.length);

      const second = launch();
      await waitFor(async () => (await archived()) >= posts.length, 150_000, 'every post archived after the restart');
      // Let it settle, then stop it gracefully: nothing more may arrive.
      await new Promise((r) => setTimeout(r, 2000));
      second.kill('SIGTERM');
      await new Promise((r) => second.once('exit', r));
      expect(second.exitCode).toBe(0);

      expect(await archived()).toBe(posts.length);
      expect(await query(databaseUrl, `SELECT count(DISTINCT (platform, id)) AS n FROM ${pgSchema}.posts`)).toBe(posts.length);
      expect(await query(databaseUrl, `SELECT count(*) AS n FROM ${pgSchema}.post_keys`)).toBe(posts.length);
    } finally {
      await deleteTopics([input, dlq]);
    }
  }, 300_000);
});
