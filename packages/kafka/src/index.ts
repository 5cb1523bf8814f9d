import kafkajs from 'kafkajs';
import { Kafka, logLevel, Partitioners, type Admin, type KafkaConfig, type LogEntry, type Producer, type ProducerConfig } from 'kafkajs';
import { TOPIC_SPECS, type TopicSpec } from '@tingfeng/contracts';
import type { Logger } from '@tingfeng/logger';
import { registerCodecs } from './codecs.js';

export type { Admin, Consumer, EachBatchPayload, IHeaders, Producer, KafkaMessage, Transaction } from 'kafkajs';
export { Kafka };
export { registerCodecs, undecodableRecord, MAX_DECOMPRESSED_BATCH_BYTES, UNDECODABLE_HEADER } from './codecs.js';
export type { Undecodable } from './codecs.js';
export { attemptBounded, describeError, MAX_PROCESSING_ATTEMPTS } from './poison.js';
export type { Attempted } from './poison.js';
export { ConsumerRecovery, isTransientKafkaError } from './recovery.js';
export type { ConsumerRecoveryOptions, ConsumerRecoveryState } from './recovery.js';

// Not among the names Node finds in kafkajs's CommonJS exports, so they are read off the default export.
const { ConfigResourceTypes, ConfigSource } = kafkajs;

export interface KafkaSettings {
  /** Broker list, `host:port` each. */
  brokers: string[];
  /** Client id reported to the broker; shows in its logs and quotas. */
  clientId: string;
}

/**
 * The one Kafka client factory: kafkajs with its log lines routed to our logger, and every codec Kafka has (snappy,
 * lz4 and zstd registered, gzip bounded), so no producer's choice of compression can stop a consumer.
 */
export function createKafka(settings: KafkaSettings, logger: Logger, extra: Partial<KafkaConfig> = {}): Kafka {
  registerCodecs();
  const log = logger.child({ lib: 'kafkajs' });
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 8 },
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        // The broker asks a transactional producer to wait a moment after a commit; kafkajs retries that by itself.
        if (String(rest.error ?? message).includes('concurrent operation on the same transaction')) log.debug(rest, message);
        else if (level === logLevel.ERROR) log.error(rest, message);
        else if (level === logLevel.WARN) log.warn(rest, message);
        else log.debug(rest, message);
      },
    ...extra,
  });
}

/**
 * An idempotent producer (acks from all in-sync replicas, no duplicates from its own retries).
 * With `transactionalId`, it can also write atomically with consumer offsets.
 */
export function createProducer(kafka: Kafka, config: Pick<ProducerConfig, 'transactionalId'> = {}): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // An idempotent producer keeps its guarantees only while it keeps retrying; maxRetryTime still bounds a send.
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000, initialRetryTime: 200 },
    createPartitioner: Partitioners.DefaultPartitioner,
    ...config,
  });
}

/**
 * What a service does at start: connects an admin client, {@link ensureTopics}, and disconnects the client whether
 * that succeeded or threw (a client left connected after a failed start keeps its socket and timers).
 */
export async function prepareTopics(kafka: Kafka, options: EnsureTopicsOptions = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, options);
  } finally {
    await admin.disconnect();
  }
}

/** Which topics {@link ensureTopics} sees to, and how it creates the missing ones. */
export interface EnsureTopicsOptions {
  /** The topics; default every topic the system declares (`TOPIC_SPECS`). */
  specs?: readonly TopicSpec[];
  /**
   * Replicas of each partition of a topic created here (a service's `KAFKA_REPLICATION_FACTOR`); default 1, right
   * for one broker only. Existing topics keep theirs: Kafka changes a replication factor only by reassignment.
   */
  replicationFactor?: number;
}

/**
 * Creates missing topics with the partition counts and configs the code declares, with `replicationFactor` replicas.
 * Existing topics get the declared configs applied again (so a raised size limit reaches an old topic), keeping their
 * other topic-level settings (such as `min.insync.replicas` set by an operator); their partition counts are left alone.
 */
export async function ensureTopics(admin: Admin, options: EnsureTopicsOptions = {}): Promise<void> {
  const specs = options.specs ?? TOPIC_SPECS;
  const existing = new Set(await admin.listTopics());
  const present = specs.filter((s) => existing.has(s.name) && s.configs && Object.keys(s.configs).length > 0);
  if (present.length > 0) {
    // kafkajs sends the legacy AlterConfigs, which replaces a topic's whole set of overrides: without the current
    // ones sent back, every service start would reset what was set by hand (checked on Kafka 3.9).
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name })),
    });
    const changed = [];
    for (const spec of present) {
      const entries = described.resources.find((r) => r.resourceName === spec.name)?.configEntries ?? [];
      const overrides = new Map(entries.filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG).map((e) => [e.configName, e.configValue]));
      const declared = Object.entries(spec.configs ?? {});
      if (declared.every(([name, value]) => overrides.get(name) === value)) continue;
      for (const [name, value] of declared) overrides.set(name, value);
      changed.push({
        type: ConfigResourceTypes.TOPIC,
        name: spec.name,
        configEntries: [...overrides].map(([name, value]) => ({ name, value })),
      });
    }
    if (changed.length > 0) await admin.alterConfigs({ validateOnly: false, resources: changed });
  }
  const missing = specs.filter((s) => !existing.has(s.name));
  if (missing.length === 0) return;
  const replicationFactor = options.replicationFactor ?? 1;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor,
        configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (err) {
    // kafkajs says only "Topic creation errors"; the start-up failure should name the topic and the broker's reason
    // (a replication factor above the broker count reads "Replication-factor is invalid").
    if (!(err instanceof kafkajs.KafkaJSAggregateError)) throw err;
    const reasons = err.errors.map((e) => (typeof e === 'string' ? e : 'topic' in e && typeof e.topic === 'string' ? `${e.topic}: ${e.message}` : e.message));
    throw new Error(`could not create topics with replication factor ${replicationFactor}: ${reasons.join('; ')}`, { cause: err });
  }
}

/** Consumer lag per partition of a group on a topic: the latest offset minus the committed one. */
export async function consumerLag(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const [latest, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const committedBy = new Map<number, number>();
  for (const p of committed[0]?.partitions ?? []) committedBy.set(p.partition, Number(p.offset));
  const lag = new Map<number, number>();
  for (const p of latest) {
    const done = committedBy.get(p.partition) ?? -1;
    const high = Number(p.high);
    lag.set(p.partition, done < 0 ? high - Number(p.low) : Math.max(0, high - done));
  }
  return lag;
}

/** Splits `KAFKA_BROKERS`. */
export function parseBrokers(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
