import { readFileSync } from 'node:fs';
import { ConfigError } from '@tingfeng/config';
import type { DetectorConfig, DetectorSnapshot } from '@tingfeng/detect';
import { createKafka, prepareTopics, parseBrokers } from '@tingfeng/kafka';
import { Fatal, ShutdownRegistry, type Service } from '@tingfeng/lifecycle';
import { createLogger } from '@tingfeng/logger';
import { createRegistry, startOpsServer } from '@tingfeng/metrics';
import { viewRedisUrl } from '@tingfeng/config';
import { closeRedis, createRedis } from '@tingfeng/redis';
import { redisKeys } from '@tingfeng/queue';
import { createAlertQueue } from './alerts/queue-sink.js';
import { CampaignSync } from './campaigns/campaign-sync.js';
import { CheckpointStore } from './checkpoint/store.js';
import type { DetectorServiceConfig } from './config.js';
import { EnrichedConsumer } from './consumers/enriched-consumer.js';
import { GlobalMode } from './consumers/global-mode.js';
import { detectorMetrics } from './metrics.js';

export interface DetectorApp extends Service {
  readonly metricsPort: number | undefined;
  /** Partitioned: assigned. Global: a standby, or a leader that is assigned. */
  readonly ready: boolean;
  /** What `GET /role` answers: the mode, and in global mode leader or standby with the merge's state. */
  role(): unknown;
}

/**
 * The detector settings file named by DETECTOR_CONFIG_FILE, read once at start. A file that cannot be read, is not
 * JSON or is not an object is a configuration error (one line, exit 78), not a stack trace.
 */
export function readDetectorConfigFile(path: string): Partial<DetectorConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('DETECTOR_CONFIG_FILE', `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('DETECTOR_CONFIG_FILE', `the file is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('DETECTOR_CONFIG_FILE', 'the file must hold a JSON object of detector settings');
  }
  return parsed as Partial<DetectorConfig>;
}

function detectorSettings(config: DetectorServiceConfig): Partial<DetectorConfig> {
  const fromFile = config.DETECTOR_CONFIG_FILE ? readDetectorConfigFile(config.DETECTOR_CONFIG_FILE) : {};
  return config.DETECTOR_SENSITIVITY === undefined ? fromFile : { ...fromFile, sensitivity: config.DETECTOR_SENSITIVITY };
}

/** The composition root of the live detector. */
export function createDetectorApp(config: DetectorServiceConfig): DetectorApp {
  const logger = createLogger('detector', { instance: config.DETECTOR_INSTANCE_ID });
  const shutdown = new ShutdownRegistry(logger);
  const registry = createRegistry('detector');
  const metrics = detectorMetrics(registry);
  const kafka = createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: `detector-${config.DETECTOR_INSTANCE_ID}` }, logger);
  const settings = detectorSettings(config);
  let consumer: EnrichedConsumer | undefined;
  let global: GlobalMode | undefined;
  let metricsPort: number | undefined;
  const fatal = new Fatal();
  const isReady = (): boolean => (config.DETECTOR_MODE === 'global' ? (global?.ready ?? false) : (consumer?.ready ?? false));
  const role = () => global?.role() ?? { mode: config.DETECTOR_MODE, role: config.DETECTOR_MODE === 'partitioned' ? 'member' : 'starting', instance: config.DETECTOR_INSTANCE_ID };

  return {
    fatal,
    get metricsPort() {
      return metricsPort;
    },
    get ready() {
      return isReady();
    },
    role,
    async start() {
      const redis = createRedis(config.REDIS_URL, logger);
      shutdown.register('redis', () => closeRedis(redis));
      // The campaign registry is part of the incident view, which may have a Redis of its own.
      const viewUrl = viewRedisUrl(config);
      const viewRedis = viewUrl !== config.REDIS_URL && config.DETECTOR_MODE === 'global' ? createRedis(viewUrl, logger) : redis;
      if (viewRedis !== redis) shutdown.register('view-redis', () => closeRedis(viewRedis));
      const { queue, sink } = createAlertQueue(redis, config.ALERTS_QUEUE, config.QUEUE_PREFIX);
      shutdown.register('alerts-queue', () => queue.close());

      await prepareTopics(kafka, { replicationFactor: config.KAFKA_REPLICATION_FACTOR });

      const ops = await startOpsServer({ port: config.METRICS_PORT, registry, isReady, routes: { '/role': role } });
      metricsPort = ops.port;
      shutdown.register('ops-server', () => ops.close());

      if (config.DETECTOR_MODE === 'global') {
        const mode = new GlobalMode({
          kafka,
          redis,
          groupId: config.DETECTOR_GROUP_ID,
          topic: config.DETECTOR_INPUT_TOPIC,
          instanceId: config.DETECTOR_INSTANCE_ID,
          keyPrefix: config.DETECTOR_CHECKPOINT_PREFIX,
          detectorConfig: settings,
          checkpointIntervalMs: config.DETECTOR_CHECKPOINT_INTERVAL_MS,
          idlePartitionMs: config.DETECTOR_IDLE_PARTITION_MS,
          maxBufferedPerPartition: config.DETECTOR_MERGE_MAX_BUFFERED,
          leaderTtlMs: config.DETECTOR_LEADER_TTL_MS,
          leaderRenewMs: config.DETECTOR_LEADER_RENEW_MS,
          leaderPollMs: config.DETECTOR_LEADER_POLL_MS,
          sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
          sink,
          logger,
          metrics,
          // Response campaigns need every post, so they are tracked in global mode only, by the leader.
          observer: () =>
            new CampaignSync({
              redis,
              viewRedis,
              keys: redisKeys(config.REDIS_PREFIX),
              settings: {
                bucketMs: config.CAMPAIGN_BUCKET_MS,
                maxBuckets: config.CAMPAIGN_BUCKETS,
                checkAfterMs: config.CAMPAIGN_CHECK_AFTER_MS,
                riseFactor: config.CAMPAIGN_RISE_FACTOR,
                minPosts: config.CAMPAIGN_MIN_POSTS,
                maxCampaigns: config.CAMPAIGN_MAX,
                backfillPosts: config.CAMPAIGN_BACKFILL_POSTS,
              },
              refreshMs: config.CAMPAIGN_REFRESH_MS,
              flushMs: config.CAMPAIGN_FLUSH_MS,
              logger,
              metrics,
            }),
        });
        global = mode;
        shutdown.register('global-mode', () => mode.stop());
        mode.start();
        return;
      }

      consumer = new EnrichedConsumer({
        kafka,
        groupId: config.DETECTOR_GROUP_ID,
        topic: config.DETECTOR_INPUT_TOPIC,
        detectorConfig: settings,
        checkpoints: new CheckpointStore<DetectorSnapshot>(redis, config.DETECTOR_CHECKPOINT_PREFIX),
        checkpointIntervalMs: config.DETECTOR_CHECKPOINT_INTERVAL_MS,
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        sink,
        logger,
        metrics,
        onFailed: (err) => fatal.raise(err),
      });
      const started = consumer;
      shutdown.register('consumer', () => started.stop());
      await consumer.start();
    },
    stop: () => shutdown.run(),
  };
}
