import { QUEUES } from '@tingfeng/contracts';
import { createKafka, createProducer, prepareTopics, parseBrokers } from '@tingfeng/kafka';
import { ShutdownRegistry, type Service } from '@tingfeng/lifecycle';
import { createLogger } from '@tingfeng/logger';
import { createRegistry, startOpsServer } from '@tingfeng/metrics';
import { Queue, queueSettings, redisKeys, Worker } from '@tingfeng/queue';
import type { Channel, EscalationJobData, NotifyJobData } from '@tingfeng/contracts';
import { viewRedisUrl } from '@tingfeng/config';
import { closeRedis, createRedis } from '@tingfeng/redis';
import { parseEscalationLevels, type NotifierConfig } from './config.js';
import { jitteredBackoff } from './delivery/backoff.js';
import { DeliveryStore } from './delivery/store.js';
import { EventAppender } from './events/event-appender.js';
import type { NotifierContext, NotifierSettings } from './jobs/context.js';
import { createDeliveryProcessor } from './jobs/delivery-processor.js';
import { createEscalationProcessor } from './jobs/escalation-processor.js';
import { createNotifyProcessor } from './jobs/notify-processor.js';
import { DELIVERIES_QUEUE, type DeliveryJobData } from './jobs/types.js';
import { notifierMetrics } from './metrics.js';
import { OpsPoller } from './ops/ops-poller.js';
import { ConfigStore } from './routing/config-store.js';
import { parseQuietHours } from './routing/quiet-hours.js';
import { defaultEscalation } from './routing/routes.js';

/** The id of the channel built from NOTIFY_DEFAULT_WEBHOOK_URL. */
export const DEFAULT_CHANNEL_ID = 'default';

export interface NotifierApp extends Service {
  /** The ops port (/healthz, /readyz, /metrics, /deliveries/failed), once started. */
  readonly port: number | undefined;
  readonly ready: boolean;
}

/** Resolves the settings the processors use from the configuration. */
export function notifierSettings(config: NotifierConfig): NotifierSettings {
  const hasDefault = config.NOTIFY_DEFAULT_WEBHOOK_URL !== undefined;
  return {
    publicUrl: config.PUBLIC_URL,
    timeZone: config.NOTIFY_TIME_ZONE,
    ratePerWindow: config.NOTIFY_RATE_PER_MINUTE,
    rateWindowMs: config.NOTIFY_RATE_WINDOW_MS,
    deliveryAttempts: config.NOTIFY_DELIVERY_ATTEMPTS,
    sendTimeoutMs: config.NOTIFY_SEND_TIMEOUT_MS,
    allowList: config.NOTIFY_ALLOWED_HOSTS,
    maxResponseBytes: config.NOTIFY_MAX_RESPONSE_BYTES,
    defaultQuietHours: parseQuietHours(config.NOTIFY_QUIET_HOURS, config.NOTIFY_TIME_ZONE),
    fallback: {
      channels: hasDefault ? [DEFAULT_CHANNEL_ID] : [],
      escalation: defaultEscalation(parseEscalationLevels(config.ESCALATION_LEVELS), config.ESCALATION_AFTER_MS),
    },
  };
}

function environmentChannels(config: NotifierConfig): Channel[] {
  if (!config.NOTIFY_DEFAULT_WEBHOOK_URL) return [];
  return [
    {
      id: DEFAULT_CHANNEL_ID,
      type: 'webhook',
      name: 'NOTIFY_DEFAULT_WEBHOOK_URL',
      url: config.NOTIFY_DEFAULT_WEBHOOK_URL,
      ...(config.NOTIFY_DEFAULT_WEBHOOK_SECRET ? { secret: config.NOTIFY_DEFAULT_WEBHOOK_SECRET } : {}),
    },
  ];
}

/**
 * The composition root of the notifier: workers on `notifications` (routing, fan-out), `deliveries` (sending,
 * rate limits, digests, retries) and `escalations`; a Kafka producer for `notified`/`escalated` events; the ops server.
 * `stop` undoes `start` in reverse.
 */
export function createNotifierApp(config: NotifierConfig): NotifierApp {
  const logger = createLogger('notifier', { instance: config.NOTIFIER_INSTANCE_ID });
  const shutdown = new ShutdownRegistry(logger);
  const registry = createRegistry('notifier');
  const metrics = notifierMetrics(registry);
  const settings = notifierSettings(config);
  const kafka = createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: `notifier-${config.NOTIFIER_INSTANCE_ID}` }, logger);
  let workersRunning = false;
  let port: number | undefined;

  return {
    get port() {
      return port;
    },
    get ready() {
      return workersRunning;
    },
    async start() {
      const redis = createRedis(config.REDIS_URL, logger);
      shutdown.register('redis', () => closeRedis(redis));
      const viewUrl = viewRedisUrl(config);
      const viewRedis = viewUrl !== config.REDIS_URL ? createRedis(viewUrl, logger) : redis;
      if (viewRedis !== redis) shutdown.register('view-redis', () => closeRedis(viewRedis));

      await prepareTopics(kafka, { replicationFactor: config.KAFKA_REPLICATION_FACTOR });
      const producer = createProducer(kafka);
      await producer.connect();
      shutdown.register('producer', () => producer.disconnect());

      const bull = queueSettings(config.REDIS_URL, config.QUEUE_PREFIX);
      const deliveries = new Queue<DeliveryJobData>(DELIVERIES_QUEUE, bull);
      const escalations = new Queue<EscalationJobData>(QUEUES.escalations, bull);
      const notifications = new Queue<NotifyJobData>(QUEUES.notifications, bull);
      shutdown.register('queues', async () => {
        await Promise.allSettled([deliveries.close(), escalations.close(), notifications.close()]);
      });

      const keys = redisKeys(config.REDIS_PREFIX);
      const ctx: NotifierContext = {
        settings,
        redis,
        viewRedis,
        keys,
        configStore: new ConfigStore(redis, keys, environmentChannels(config), logger),
        store: new DeliveryStore(redis, config.REDIS_PREFIX),
        deliveries,
        escalations,
        events: new EventAppender(producer, config.INCIDENT_EVENTS_TOPIC),
        metrics,
        logger,
      };

      const poller = new OpsPoller(
        [
          { name: QUEUES.notifications, queue: notifications },
          { name: DELIVERIES_QUEUE, queue: deliveries as Queue },
          { name: QUEUES.escalations, queue: escalations as Queue },
        ],
        deliveries,
        metrics,
        logger,
      );
      const ops = await startOpsServer({
        port: config.NOTIFIER_PORT,
        registry,
        isReady: () => workersRunning,
        // Failure reasons tell which hosts answer and which do not: not for anyone who can reach the port.
        guardedRoutes: { '/deliveries/failed': () => poller.failedDeliveries() },
        opsToken: config.NOTIFIER_OPS_TOKEN,
      });
      port = ops.port;
      shutdown.register('ops-server', () => ops.close());
      poller.start();
      shutdown.register('ops-poller', () => poller.stop());

      const backoff = jitteredBackoff(config.NOTIFY_BACKOFF_BASE_MS, config.NOTIFY_BACKOFF_MAX_MS);
      const workers = [
        new Worker<NotifyJobData>(QUEUES.notifications, createNotifyProcessor(ctx), { ...bull, concurrency: 2 }),
        new Worker<DeliveryJobData>(DELIVERIES_QUEUE, createDeliveryProcessor(ctx), {
          ...bull,
          concurrency: config.NOTIFIER_CONCURRENCY,
          settings: { backoffStrategy: (attemptsMade: number) => backoff(attemptsMade) },
        }),
        new Worker<EscalationJobData>(QUEUES.escalations, createEscalationProcessor(ctx), { ...bull, concurrency: 2 }),
      ];
      for (const worker of workers) {
        worker.on('error', (err) => logger.warn({ queue: worker.name, err }, 'worker error'));
        worker.on('failed', (job, err) => {
          if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) logger.error({ queue: worker.name, jobId: job.id, reason: err.message }, 'job failed for good');
        });
      }
      // Workers close first on stop: a job in hand finishes before its queues and connections go.
      shutdown.register('workers', async () => {
        workersRunning = false;
        await Promise.allSettled(workers.map((w) => w.close()));
      });
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      workersRunning = true;
      logger.info({ port, defaultChannel: settings.fallback.channels.length > 0, escalationLevels: settings.fallback.escalation.length }, 'notifier started');
    },
    stop: () => shutdown.run(),
  };
}
