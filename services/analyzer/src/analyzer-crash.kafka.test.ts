import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { consumeAll, createTestKafka, createTopics, deleteTopics, freePort, kafkaBrokers, makePosts, randomName, redisUrl } from '@tingfeng/testing';

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));


async function enrichedSoFar(port: number): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('tingfeng_posts_enriched_total'));
    return line ? Number(line.split(' ').pop()) : 0;
  } catch {
    return 0;
  }
}

async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('analyzer killed with SIGKILL mid-stream', () => {
  const inputTopic = randomName('posts');
  const outputTopic = randomName('enriched');
  const dlqTopic = randomName('dlq');
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await deleteTopics([inputTopic, outputTopic, dlqTopic]);
  });

  it('loses nothing and duplicates nothing downstream after a restart', async () => {
    await createTopics([{ name: inputTopic, partitions: 3 }, { name: outputTopic, partitions: 3 }, dlqTopic]);
    const posts = makePosts(20_000, randomName('k'));
    const producer = createTestKafka().producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < posts.length; i += 1000) {
      const chunk = posts.slice(i, i + 1000).map((p) => ({ key: p.rootId ?? p.id, value: JSON.stringify(p) }));
      await producer.send({ topic: inputTopic, messages: chunk, acks: -1 });
    }
    await producer.disconnect();

    const port = await freePort();
    const env = {
      ...process.env,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      REDIS_URL: redisUrl(),
      ANALYZER_INPUT_TOPIC: inputTopic,
      ANALYZER_OUTPUT_TOPIC: outputTopic,
      ANALYZER_DLQ_TOPIC: dlqTopic,
      ANALYZER_GROUP_ID: randomName('analyzer'),
      ANALYZER_INSTANCE_ID: randomName('crash'),
      ANALYZER_DEDUP_PREFIX: `${randomName('seen')}:`,
      ANALYZER_WATCH_DICTIONARY: 'false',
      METRICS_PORT: String(port),
      LOG_LEVEL: 'warn',
      KAFKA_SESSION_TIMEOUT_MS: '8000',
    };
    let stderr = '';
    const launch = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', mainPath], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4000);
      });
      children.push(child);
      return child;
    };

    const first = launch();
    // Kill it once a part of the stream is through, with more still in flight.
    await waitFor(async () => {
      if (first.exitCode !== null) throw new Error(`analyzer exited early with ${first.exitCode}: ${stderr}`);
      return (await enrichedSoFar(port)) >= 3000;
    }, 120_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const beforeCrash = await consumeAll(outputTopic, { idleMs: 1000, isolation: 'read_committed' });
    expect(beforeCrash.length).toBeLessThan(posts.length);

    const second = launch();
    const all = await consumeAll(outputTopic, { count: posts.length, isolation: 'read_committed', timeoutMs: 150_000 });
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
    expect(second.exitCode).toBe(0);

    const settled = await consumeAll(outputTopic, { idleMs: 2000, isolation: 'read_committed' });
    const ids = settled.map((m) => (JSON.parse(m.value!) as { id: string }).id);
    expect(all.length).toBe(posts.length);
    expect(settled.length).toBe(posts.length);
    expect(new Set(ids).size).toBe(posts.length);
  }, 300_000);
});
