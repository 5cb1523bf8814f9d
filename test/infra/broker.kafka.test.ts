import { afterAll, describe, expect, it } from 'vitest';
// The root package does not depend on @tingfeng/testing (yet), so it is imported by path.
import { consumeAll, createTestKafka, createTopics, deleteTopics, randomName } from '../../packages/testing/src/index.js';

// Proves the local broker (infra/kafka) does what kafkajs 2.2.4 needs from it:
// multi-partition topics, idempotent produce, consumer groups, and transactions
// with offsets committed inside them (the analyzer's consume-transform-produce).

const kafka = createTestKafka('broker-kafka-test');
const created: string[] = [];

async function topic(prefix: string, partitions: number): Promise<string> {
  const name = randomName(prefix);
  created.push(name);
  await createTopics([name], partitions);
  return name;
}

afterAll(async () => {
  await deleteTopics(created);
});

describe('local Kafka broker with kafkajs 2.2.4', () => {
  it('creates a 3-partition topic, takes idempotent writes and serves a consumer group', async () => {
    const name = await topic('broker-idempotent', 3);
    const admin = kafka.admin();
    await admin.connect();
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [name] })).topics;
    await admin.disconnect();
    expect(metadata?.partitions).toHaveLength(3);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: name,
      acks: -1,
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` })),
    });
    await producer.disconnect();

    const messages = await consumeAll(name, { count: 30 });
    expect(messages.map((m) => m.value).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `value-${i}`).sort());
    expect(new Set(messages.map((m) => m.partition)).size).toBeGreaterThan(1);
  });

  it('commits a transaction with its consumer offsets and hides an aborted one from read_committed readers', async () => {
    const input = await topic('broker-tx-in', 3);
    const output = await topic('broker-tx-out', 3);
    const groupId = randomName('broker-tx-group');

    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: input, messages: [{ key: 'a', value: 'in-1', partition: 0 }, { key: 'b', value: 'in-2', partition: 0 }] });
    await plain.disconnect();

    const producer = kafka.producer({ transactionalId: randomName('broker-tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();

    const committed = await producer.transaction();
    await committed.send({ topic: output, messages: [{ key: 'a', value: 'out-committed-1' }, { key: 'b', value: 'out-committed-2' }] });
    // The input offsets advance atomically with the output: the next offset to read is 2.
    await committed.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '2' }] }] });
    await committed.commit();

    const aborted = await producer.transaction();
    await aborted.send({ topic: output, messages: [{ key: 'c', value: 'out-aborted' }] });
    await aborted.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '99' }] }] });
    await aborted.abort();
    await producer.disconnect();

    const readCommitted = await consumeAll(output, { isolation: 'read_committed', idleMs: 2_000 });
    expect(readCommitted.map((m) => m.value).sort()).toEqual(['out-committed-1', 'out-committed-2']);

    // The aborted records did reach the log: a read_uncommitted reader sees them.
    const readUncommitted = await consumeAll(output, { isolation: 'read_uncommitted', idleMs: 2_000 });
    expect(readUncommitted.map((m) => m.value)).toContain('out-aborted');

    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
    await admin.disconnect();
    expect(offsets[0]?.partitions.find((p) => p.partition === 0)?.offset).toBe('2');
  });
});
