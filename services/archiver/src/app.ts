import { createArchive } from '@tingfeng/archive';
import { createKafka, createProducer, prepareTopics, parseBrokers } from '@tingfeng/kafka';
import { Fatal, ShutdownRegistry, type Service } from '@tingfeng/lifecycle';
import { createLogger } from '@tingfeng/logger';
import { createRegistry, startOpsServer } from '@tingfeng/metrics';
import type { ArchiverConfig } from './config.js';
import { EnrichedConsumer } from './consumers/enriched-consumer.js';
import { archiverMetrics } from './metrics.js';
import { createRowEncoder } from './pipeline/row-encoder.js';
import { RetentionJob, retentionHorizonMs } from './retention/retention.js';

export interface ArchiverApp extends Service {
  /** The port /metrics listens on, once started. */
  readonly metricsPort: number | undefined;
  readonly ready: boolean;
}

/** The composition root: builds every part; `stop` undoes `start` in reverse. */
export function createArchiverApp(config: ArchiverConfig): ArchiverApp {
  const logger = createLogger('archiver', { instance: config.ARCHIVER_INSTANCE_ID });
  const shutdown = new ShutdownRegistry(logger);
  const registry = createRegistry('archiver');
  const metrics = archiverMetrics(registry);
  const kafka = createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: `archiver-${config.ARCHIVER_INSTANCE_ID}` }, logger);
  let consumer: EnrichedConsumer | undefined;
  let metricsPort: number | undefined;
  const fatal = new Fatal();

  return {
    fatal,
    get metricsPort() {
      return metricsPort;
    },
    get ready() {
      return consumer?.ready ?? false;
    },
    async start() {
      // First: its threads load jieba while the archive migrates and the topics are checked.
      const encoder = createRowEncoder(config.ARCHIVER_ENCODE_THREADS, logger.child({ part: 'encoder' }));
      shutdown.register('encoder', () => encoder.close());

      const archive = createArchive({
        databaseUrl: config.DATABASE_URL,
        schema: config.ARCHIVE_SCHEMA,
        poolSize: config.ARCHIVER_DB_POOL_SIZE,
        logger: logger.child({ part: 'archive' }),
      });
      shutdown.register('archive', () => archive.close());
      await archive.migrate();
      metrics.databaseUp.set(1);

      const retention = new RetentionJob(archive, config.ARCHIVE_RETENTION_MONTHS, config.ARCHIVER_RETENTION_CHECK_MS, logger, (dropped) =>
        metrics.partitionsDropped.inc(dropped.length),
      );
      await retention.start();
      shutdown.register('retention', () => retention.stop());

      await prepareTopics(kafka, { replicationFactor: config.KAFKA_REPLICATION_FACTOR });

      const producer = createProducer(kafka, { transactionalId: `tingfeng-archiver-${config.ARCHIVER_INSTANCE_ID}` });
      await producer.connect();
      shutdown.register('producer', () => producer.disconnect());

      const ops = await startOpsServer({ port: config.METRICS_PORT, registry, isReady: () => consumer?.ready ?? false, isLive: () => consumer?.live ?? true });
      metricsPort = ops.port;
      shutdown.register('ops-server', () => ops.close());

      await encoder.ready();

      consumer = new EnrichedConsumer({
        kafka,
        producer,
        // The horizon moves with the wall clock: a post that expired while it waited in Kafka is not written.
        encode: (values) => encoder.encode(values, retentionHorizonMs(config.ARCHIVE_RETENTION_MONTHS, Date.now())),
        write: (rows) => archive.writeRows(rows),
        logger,
        metrics,
        groupId: config.ARCHIVER_GROUP_ID,
        inputTopic: config.ARCHIVER_INPUT_TOPIC,
        dlqTopic: config.ARCHIVER_DLQ_TOPIC,
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        maxBatchPosts: config.ARCHIVER_MAX_BATCH_POSTS,
        partitionsConsumedConcurrently: config.ARCHIVER_PARTITIONS_CONCURRENTLY,
        maxBytesPerPartition: config.ARCHIVER_FETCH_BYTES_PER_PARTITION,
        onFailed: (err) => fatal.raise(err),
      });
      const started = consumer;
      shutdown.register('consumer', () => started.stop());
      await consumer.start();
    },
    stop: () => shutdown.run(),
  };
}
