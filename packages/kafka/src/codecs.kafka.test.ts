import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@tingfeng/logger';
import { createTopics, deleteTopics, kafkaBrokers, randomName } from '@tingfeng/testing';
import { createKafka, MAX_DECOMPRESSED_BATCH_BYTES, undecodableRecord, type KafkaMessage } from './index.js';

const topics: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'tf-codecs-'));

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await deleteTopics(topics);
});

/** Produces with kcat (librdkafka), the way most producers outside Node write; one message per line or per file. */
function kcat(topic: string, codec: string, input: { lines?: string[]; files?: string[] }, extra: string[] = []): void {
  const args = ['-P', '-b', kafkaBrokers().join(','), '-t', topic, '-z', codec, '-X', 'linger.ms=50', ...extra, ...(input.files ?? [])];
  const result = spawnSync('kcat', args, { input: input.lines ? `${input.lines.join('\n')}\n` : undefined, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0 || /Delivery failed|ERROR/.test(result.stderr)) throw new Error(`kcat ${args.join(' ')}: ${result.error?.message ?? result.stderr}`);
}

/** Everything on a topic, through the project's own client factory. */
async function consume(topic: string, count: number): Promise<KafkaMessage[]> {
  const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'codec-test' }, createLogger('codec-test'));
  const consumer = kafka.consumer({ groupId: randomName('codec'), maxBytesPerPartition: 8 * 1024 * 1024 });
  const seen: KafkaMessage[] = [];
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(message);
      if (seen.length >= count) done();
    },
  });
  await all;
  await consumer.disconnect();
  return seen;
}

describe('a kafkajs consumer made by createKafka', () => {
  for (const codec of ['snappy', 'lz4', 'zstd', 'gzip']) {
    it(`reads what kcat wrote with -z ${codec}`, async () => {
      const topic = randomName(`codec-${codec}`);
      topics.push(topic);
      await createTopics([topic]);
      const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ id: `${codec}-${i}`, text: `昆明 ${'滇池'.repeat(i % 50)}` }));
      kcat(topic, codec, { lines });
      const messages = await consume(topic, lines.length);
      expect(messages.map((m) => m.value?.toString())).toEqual(lines);
      expect(messages.every((m) => undecodableRecord(m.headers) === undefined)).toBe(true);
    });
  }

  it('marks each record of a zstd batch that expands past the limit, and reads on past it', async () => {
    const topic = randomName('codec-bomb');
    topics.push(topic);
    await createTopics([topic]);
    // 70 records of a MiB of zeros: one batch of a few kB that expands past the 64 MiB bound.
    const files = Array.from({ length: Math.ceil(MAX_DECOMPRESSED_BATCH_BYTES / 1_000_000) + 4 }, (_, i) => {
      const path = join(scratch, `zero-${i}`);
      writeFileSync(path, Buffer.alloc(1_000_000));
      return path;
    });
    kcat(topic, 'zstd', { files }, ['-X', 'message.max.bytes=1000000000', '-X', 'batch.size=1000000000', '-X', 'linger.ms=2000']);
    kcat(topic, 'zstd', { lines: ['after the bomb'] });
    const messages = await consume(topic, files.length + 1);
    const marked = messages.filter((m) => undecodableRecord(m.headers)?.reason === 'too_large');
    expect(marked.length).toBe(files.length);
    expect(marked.map((m) => Number(m.offset))).toEqual(files.map((_, i) => i));
    expect(messages.at(-1)?.value?.toString()).toBe('after the bomb');
  }, 120_000);
});
