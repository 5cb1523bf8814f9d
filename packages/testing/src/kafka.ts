import { logLevel, type Admin, type IHeaders, type Kafka, type KafkaConfig, type logCreator } from 'kafkajs';
import { TOPIC_SPECS } from '@tingfeng/contracts';
import { createKafka } from '@tingfeng/kafka';
import { createLogger } from '@tingfeng/logger';
import { kafkaBrokers } from './env.js';
import { randomName } from './names.js';

// kafkajs logs every error response at ERROR, including the retriable ones a
// fresh broker gives while a coordinator loads; the caller sees real failures
// as rejections anyway, so per-response and per-retry errors are not printed.
const quietLogCreator: logCreator =
  () =>
  ({ namespace, label, log }) => {
    if (label !== 'ERROR' || namespace === 'Connection' || 'retryCount' in log) return;
    console.error(JSON.stringify({ level: label, logger: 'kafkajs', namespace, ...log }));
  };

/**
 * A kafkajs client on the test brokers, from the services' own factory (`createKafka`: the same retries and codecs,
 * so a test reads what a service reads). Only the log routing differs: kafkajs's own lines are kept to non-retriable errors.
 */
export function createTestKafka(clientId = 'tingfeng-test', overrides: Partial<KafkaConfig> = {}): Kafka {
  return createKafka({ clientId, brokers: kafkaBrokers() }, createLogger('test-kafka'), { logLevel: logLevel.ERROR, logCreator: quietLogCreator, ...overrides });
}

async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = createTestKafka('tingfeng-test-admin').admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** What `createTopics` accepts per topic: a name, or a name with its own partition count and configs. */
export type TopicRequest = string | { name: string; partitions?: number; configs?: Record<string, string> };

/**
 * Creates the topics that do not exist yet (replication factor 1) and waits for
 * their leaders, so a producer can write at once. Existing topics are left as they are.
 */
export async function createTopics(topics: readonly TopicRequest[], partitions = 1): Promise<void> {
  const requests = topics.map((topic) => (typeof topic === 'string' ? { name: topic } : topic));
  await withAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = requests.filter((topic) => !existing.has(topic.name));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions ?? partitions,
        replicationFactor: 1,
        configEntries: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  });
}

/**
 * Creates the system's topics (`TOPIC_SPECS` from `@tingfeng/contracts`) where
 * missing, and adds partitions where an existing one has fewer than declared.
 */
export async function ensureStandardTopics(): Promise<void> {
  await createTopics(TOPIC_SPECS);
  await withAdmin(async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: TOPIC_SPECS.map((spec) => spec.name) });
    const short = TOPIC_SPECS.filter((spec) => {
      const found = topics.find((topic) => topic.name === spec.name);
      return found !== undefined && found.partitions.length < spec.partitions;
    });
    if (short.length > 0) {
      await admin.createPartitions({ topicPartitions: short.map((spec) => ({ topic: spec.name, count: spec.partitions })) });
    }
  });
}

/** Deletes the topics that exist; missing ones are ignored. */
export async function deleteTopics(names: readonly string[]): Promise<void> {
  await withAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = names.filter((name) => existing.has(name));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  });
}

/** How many records `topic` holds (high watermark minus low, summed over its partitions). */
export async function topicMessageCount(topic: string): Promise<number> {
  return withAdmin(async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  });
}

/** Produces posts to `topic` as JSON in batches of 1000, keyed by `rootId ?? id`, acknowledged by every in-sync replica. */
export async function producePosts(topic: string, posts: readonly { id: string; rootId?: string }[]): Promise<void> {
  const producer = createTestKafka().producer({ idempotent: true });
  await producer.connect();
  try {
    for (let i = 0; i < posts.length; i += 1000) {
      const messages = posts.slice(i, i + 1000).map((p) => ({ key: p.rootId ?? p.id, value: JSON.stringify(p) }));
      await producer.send({ topic, messages, acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
}

/** One consumed record, decoded to strings. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  timestamp: string;
}

/** When `consumeAll` stops: after `count` messages, or once nothing arrived for `idleMs`, whichever comes first. */
export interface ConsumeAllOptions {
  /** Stop as soon as this many messages arrived. */
  count?: number;
  /** Stop once no message arrived for this long (counted from joining the group). Default 2000 with no `count`, else 30000. */
  idleMs?: number;
  /** Give up (returning what arrived) after this long in total. Default 45000. */
  timeoutMs?: number;
  /** `read_committed` hides aborted and open transactions; default `read_uncommitted`, like kafkajs. */
  isolation?: 'read_committed' | 'read_uncommitted';
  /** Consumer group; default a fresh random group, so every call reads from the beginning. */
  groupId?: string;
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    decoded[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return decoded;
}

/**
 * Reads a topic from the beginning in a throwaway consumer group and returns
 * what arrived, in arrival order. It never throws for a short read: compare the
 * length with what you expected, so a failing test shows what did arrive.
 */
export async function consumeAll(topic: string, options: ConsumeAllOptions = {}): Promise<ConsumedMessage[]> {
  const { count, timeoutMs = 45_000 } = options;
  const idleMs = options.idleMs ?? (count === undefined ? 2_000 : 30_000);
  const kafka = createTestKafka('tingfeng-test-consume-all');
  const consumer = kafka.consumer({
    groupId: options.groupId ?? randomName('consume-all'),
    readUncommitted: (options.isolation ?? 'read_uncommitted') === 'read_uncommitted',
    maxWaitTimeInMs: 200,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  const messages: ConsumedMessage[] = [];
  // Idle time only counts once the group has been joined: the first join on a
  // fresh broker (creating __consumer_offsets) alone can take seconds.
  let joined = false;
  let lastActivityAtMs = Date.now();
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });

  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    lastActivityAtMs = Date.now();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic: from, partition, message }) => {
        lastActivityAtMs = Date.now();
        messages.push({
          topic: from,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: decodeHeaders(message.headers),
          timestamp: message.timestamp,
        });
        if (count !== undefined && messages.length >= count) finish();
      },
    });
    const startedAtMs = Date.now();
    const ticker = setInterval(() => {
      const nowMs = Date.now();
      if ((joined && nowMs - lastActivityAtMs >= idleMs) || nowMs - startedAtMs >= timeoutMs) finish();
    }, 50);
    try {
      await finished;
    } finally {
      clearInterval(ticker);
    }
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
