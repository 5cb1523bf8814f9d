import { schemesKey } from '@tingfeng/contracts';
import { createKafka, createProducer, prepareTopics, parseBrokers } from '@tingfeng/kafka';
import { Fatal, ShutdownRegistry, type Service } from '@tingfeng/lifecycle';
import { createLogger } from '@tingfeng/logger';
import { createRegistry, startOpsServer } from '@tingfeng/metrics';
import { closeRedis, createRedis } from '@tingfeng/redis';
import { createAnalyzer } from '@tingfeng/text';
import type { AnalyzerConfig } from './config.js';
import { PostsConsumer } from './consumers/posts-consumer.js';
import { analyzerMetrics } from './metrics.js';
import { redisClaims } from './pipeline/dedup.js';
import { SchemeSource } from './schemes/scheme-source.js';

export interface AnalyzerApp extends Service {
  /** The port /metrics listens on, once started. */
  readonly metricsPort: number | undefined;
  readonly ready: boolean;
}

/** The composition root: builds every part; `stop` undoes `start` in reverse. */
export function createAnalyzerApp(config: AnalyzerConfig): AnalyzerApp {
  const logger = createLogger('analyzer', { instance: config.ANALYZER_INSTANCE_ID });
  const shutdown = new ShutdownRegistry(logger);
  const registry = createRegistry('analyzer');
  const metrics = analyzerMetrics(registry);
  const kafka = createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: `analyzer-${config.ANALYZER_INSTANCE_ID}` }, logger);
  let consumer: PostsConsumer | undefined;
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
      const analyzer = createAnalyzer({ watchDictionary: config.ANALYZER_WATCH_DICTIONARY });
      shutdown.register('analyzer', () => analyzer.close());

      const redis = createRedis(config.REDIS_URL, logger);
      shutdown.register('redis', () => closeRedis(redis));

      // Monitoring schemes from the incidents API's key, loaded before the first post and polled after.
      const schemes = new SchemeSource({
        redis,
        key: schemesKey(config.REDIS_PREFIX),
        refreshMs: config.ANALYZER_SCHEMES_REFRESH_MS,
        apply: (next) => analyzer.setSchemes(next),
        logger: logger.child({ part: 'schemes' }),
        onApplied: (active, invalid) => {
          metrics.schemesActive.set(active);
          metrics.schemesInvalid.set(invalid);
        },
      });
      await schemes.start();
      shutdown.register('schemes', () => schemes.stop());

      await prepareTopics(kafka, { replicationFactor: config.KAFKA_REPLICATION_FACTOR });

      const producer = createProducer(kafka, { transactionalId: `tingfeng-analyzer-${config.ANALYZER_INSTANCE_ID}` });
      await producer.connect();
      shutdown.register('producer', () => producer.disconnect());

      const ops = await startOpsServer({ port: config.METRICS_PORT, registry, isReady: () => consumer?.ready ?? false, isLive: () => consumer?.live ?? true });
      metricsPort = ops.port;
      shutdown.register('ops-server', () => ops.close());

      consumer = new PostsConsumer({
        kafka,
        producer,
        analyzer,
        claim: redisClaims(redis, config.ANALYZER_DEDUP_PREFIX, config.ANALYZER_DEDUP_TTL_SECONDS),
        logger,
        metrics,
        groupId: config.ANALYZER_GROUP_ID,
        inputTopic: config.ANALYZER_INPUT_TOPIC,
        outputTopic: config.ANALYZER_OUTPUT_TOPIC,
        dlqTopic: config.ANALYZER_DLQ_TOPIC,
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        maxMessagesPerTransaction: config.ANALYZER_MAX_TX_MESSAGES,
        maxOutputBytes: config.ANALYZER_MAX_OUTPUT_BYTES,
        onFailed: (err) => fatal.raise(err),
      });
      const started = consumer;
      shutdown.register('consumer', () => started.stop());
      await consumer.start();
    },
    stop: () => shutdown.run(),
  };
}
