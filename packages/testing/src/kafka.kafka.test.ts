import { TOPIC_SPECS } from '@tingfeng/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { consumeAll, createTestKafka, createTopics, deleteTopics } from './kafka.js';
import { randomName } from './names.js';

const created: string[] = [];
afterAll(async () => {
  await deleteTopics(created);
});

describe('kafka helpers', () => {
  it('global setup created the system topics with their declared partition counts', async () => {
    const admin = createTestKafka().admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: TOPIC_SPECS.map((spec) => spec.name) });
      for (const spec of TOPIC_SPECS) {
        expect(topics.find((topic) => topic.name === spec.name)?.partitions.length, spec.name).toBeGreaterThanOrEqual(spec.partitions);
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('createTopics is idempotent and consumeAll stops at the expected count', async () => {
    const name = randomName('helpers');
    created.push(name);
    await createTopics([name], 2);
    await createTopics([name], 2);

    const producer = createTestKafka().producer();
    await producer.connect();
    await producer.send({ topic: name, messages: [1, 2, 3].map((n) => ({ key: `k${n}`, value: `v${n}`, headers: { n: String(n) } })) });
    await producer.disconnect();

    const messages = await consumeAll(name, { count: 3 });
    expect(messages.map((m) => m.value).sort()).toEqual(['v1', 'v2', 'v3']);
    expect(messages.find((m) => m.key === 'k2')?.headers).toEqual({ n: '2' });
  });

  it('consumeAll returns an empty list for an empty topic once idle', async () => {
    const name = randomName('helpers-empty');
    created.push(name);
    await createTopics([name]);
    expect(await consumeAll(name, { idleMs: 500 })).toEqual([]);
  });
});
