import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopicName, TopicSpec } from '@tingfeng/contracts';
import { createTestKafka, deleteTopics, randomName } from '@tingfeng/testing';
import { ensureTopics, type Admin } from './index.js';

const { ConfigResourceTypes } = kafkajs;

let admin: Admin;
const created: string[] = [];

function spec(configs?: Record<string, string>): TopicSpec {
  const name = randomName('ensure');
  created.push(name);
  // A test's own topic, with a declared spec's shape.
  return { name: name as TopicName, partitions: 2, ...(configs ? { configs } : {}) };
}

/** The topic's own overrides (not broker or default values). */
async function overrides(topic: string): Promise<Record<string, string>> {
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  const entries = described.resources[0]?.configEntries ?? [];
  return Object.fromEntries(entries.filter((e) => e.configSource === kafkajs.ConfigSource.TOPIC_CONFIG).map((e) => [e.configName, e.configValue]));
}

async function replicas(topic: string): Promise<number[]> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]!.partitions.map((p) => p.replicas.length);
}

beforeAll(async () => {
  admin = createTestKafka('tingfeng-test-ensure').admin();
  await admin.connect();
});

afterAll(async () => {
  await admin.disconnect();
  await deleteTopics(created);
});

describe('ensureTopics on a real broker', () => {
  it('creates a missing topic with its partitions and configs, one replica by default', async () => {
    const s = spec({ 'retention.ms': '-1' });
    await ensureTopics(admin, { specs: [s] });
    expect(await replicas(s.name)).toEqual([1, 1]);
    expect(await overrides(s.name)).toEqual({ 'retention.ms': '-1' });
  });

  it('asks the broker for the replication factor it is given (one broker here refuses 2)', async () => {
    const s = spec();
    await expect(ensureTopics(admin, { specs: [s], replicationFactor: 2 })).rejects.toThrow(`could not create topics with replication factor 2: ${s.name}: Replication-factor is invalid`);
    await ensureTopics(admin, { specs: [s], replicationFactor: 1 });
    expect(await replicas(s.name)).toEqual([1, 1]);
  });

  it('re-applies the declared configs to an existing topic and keeps the overrides an operator set by hand', async () => {
    const s = spec({ 'max.message.bytes': String(2 * 1024 * 1024) });
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: s.name, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'min.insync.replicas', value: '1' }, { name: 'retention.ms', value: '123456789' }] }],
    });
    await ensureTopics(admin, { specs: [s] });
    expect(await overrides(s.name)).toEqual({ 'max.message.bytes': String(2 * 1024 * 1024), 'min.insync.replicas': '1', 'retention.ms': '123456789' });
    // Already as declared: nothing changes on the next start.
    await ensureTopics(admin, { specs: [s] });
    expect(await overrides(s.name)).toEqual({ 'max.message.bytes': String(2 * 1024 * 1024), 'min.insync.replicas': '1', 'retention.ms': '123456789' });
  });
});
