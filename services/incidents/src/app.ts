import { createArchive } from '@tingfeng/archive';
import { QUEUES, TOPIC_SPECS, TOPICS, type TopicName, type TopicSpec } from '@tingfeng/contracts';
import { createKafka, createProducer, ensureTopics, parseBrokers } from '@tingfeng/kafka';
import { Fatal, ShutdownRegistry, type Service } from '@tingfeng/lifecycle';
import { createLogger } from '@tingfeng/logger';
import { createRegistry } from '@tingfeng/metrics';
import { Queue, queueSettings, redisKeys } from '@tingfeng/queue';
import type { NotifyJobData } from '@tingfeng/contracts';
import { viewRedisUrl } from '@tingfeng/config';
import { closeRedis, createRedis } from '@tingfeng/redis';
import { ArchiveGate } from './archive/archive-gate.js';
import { IncidentCommands } from './commands/incident-commands.js';
import type { IncidentsConfig } from './config.js';
import { IncidentEventLog } from './events/event-log.js';
import { FixedWindowLimiter } from './http/rate-limit.js';
import { buildHttpServer } from './http/server.js';
import { StreamTickets } from './http/stream-tickets.js';
import { createAlertWorker } from './jobs/alert-worker.js';
import { incidentsMetrics } from './metrics.js';
import { DailyReports } from './reports/daily-reports.js';
import { PdfPrinter } from './reports/pdf-printer.js';
import { ViewEpoch } from './store/view-epoch.js';
import { ViewStore } from './store/view-store.js';
import { ViewWriter } from './store/view-writer.js';

export interface IncidentsApp extends Service {
  /** The bound HTTP port, once started. */
  readonly port: number | undefined;
  /** True once the view has caught up with the log and alerts are being taken. */
  readonly ready: boolean;
}

/**
 * The composition root of the incidents service: the `alerts` worker, the `incident-events` log and its applier
 * (the Redis view), auto-resolve, the notifications queue, and the HTTP API + dashboard. `stop` undoes `start`.
 */
export function createIncidentsApp(config: IncidentsConfig): IncidentsApp {
  const logger = createLogger('incidents');
  const shutdown = new ShutdownRegistry(logger);
  const registry = createRegistry('incidents');
  const keys = redisKeys(config.REDIS_PREFIX);
  const settings = queueSettings(config.REDIS_URL, config.QUEUE_PREFIX);
  const kafka = createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: 'incidents' }, logger);
  let ready = false;
  let port: number | undefined;
  let started = false;
  const fatal = new Fatal();

  return {
    fatal,
    get port() {
      return port;
    },
    get ready() {
      return ready;
    },
    async start() {
      if (started) throw new Error('incidents app already started');
      started = true;
      const redis = createRedis(config.REDIS_URL, logger);
      shutdown.register('redis', () => closeRedis(redis));
      // The view (derived from incident-events) may have a Redis of its own, so that losing it costs a rebuild only.
      const separateView = viewRedisUrl(config) !== config.REDIS_URL;
      const viewRedis = separateView ? createRedis(viewRedisUrl(config), logger) : redis;
      if (separateView) shutdown.register('view-redis', () => closeRedis(viewRedis));
      const store = new ViewStore(viewRedis, keys, redis);
      const writer = new ViewWriter(viewRedis, keys, { historyMax: config.INCIDENT_HISTORY_MAX, retentionMs: config.INCIDENT_RETENTION_MS }, redis);
      const cleared = await writer.ensureLayout();
      if (cleared > 0) logger.warn({ keys: cleared }, 'incident view of an older layout (or a wiped one) removed: it is rebuilt from incident-events');
      // From here on a wipe of the view's Redis is noticed: commands refuse to decide from it and the process exits.
      const epoch = new ViewEpoch({ redis: viewRedis, keys, checkMs: config.INCIDENT_VIEW_CHECK_MS, logger, onLost: (err) => fatal.raise(err) });
      const opened = await epoch.open();
      // A first start, a start after a wipe, or the first start of the version that brought the epoch.
      if (opened.started) logger.info({ epoch: opened.id }, 'new incident view epoch');
      epoch.start();
      shutdown.register('view-epoch', () => epoch.stop());
      // The archive is opened without waiting on it: incidents and notifications do not depend on PostgreSQL.
      const archive = new ArchiveGate({
        archive: createArchive({ databaseUrl: config.DATABASE_URL, schema: config.ARCHIVE_SCHEMA, poolSize: config.INCIDENTS_DB_POOL_SIZE, logger }),
        logger,
      });
      shutdown.register('archive', () => archive.stop());
      await archive.start();
      const metrics = incidentsMetrics(registry, () => store.counts());

      const admin = kafka.admin();
      await admin.connect();
      shutdown.register('kafka-admin', () => admin.disconnect());
      const base = TOPIC_SPECS.find((s) => s.name === TOPICS.incidentEvents)!;
      // The topic name may be a test's own; the spec (one partition, kept forever) is the declared one.
      const spec: TopicSpec = { ...base, name: config.INCIDENT_EVENTS_TOPIC as TopicName };
      await ensureTopics(admin, { specs: [spec], replicationFactor: config.KAFKA_REPLICATION_FACTOR });

      const producer = createProducer(kafka);
      await producer.connect();
      shutdown.register('producer', () => producer.disconnect());

      const notifications = new Queue<NotifyJobData>(QUEUES.notifications, settings);
      shutdown.register('notifications-queue', () => notifications.close());

      const log = new IncidentEventLog({
        kafka,
        producer,
        redis: viewRedis,
        keys,
        epoch,
        topic: config.INCIDENT_EVENTS_TOPIC,
        groupId: config.INCIDENTS_GROUP_ID,
        logger,
        metrics,
        applyTimeoutMs: config.INCIDENT_APPLY_TIMEOUT_MS,
        writer,
        caps: { timelineMax: config.INCIDENT_VIEW_TIMELINE_MAX, alertsMax: config.INCIDENT_VIEW_ALERTS_MAX },
        onFailed: (err) => fatal.raise(err),
      });
      shutdown.register('event-log', () => log.stop());

      const commands = new IncidentCommands({
        store,
        log,
        notifications,
        metrics,
        logger,
        publicUrl: config.PUBLIC_URL,
        autoResolveMs: config.INCIDENT_AUTO_RESOLVE_MS,
        epoch,
      });

      const reports = new DailyReports({
        archive,
        store,
        redis,
        keys,
        queue: settings,
        timeZone: config.TIME_ZONE,
        publicUrl: config.PUBLIC_URL,
        dailyAt: config.REPORT_DAILY_AT,
        allowList: config.NOTIFY_ALLOWED_HOSTS,
        logger,
      });
      shutdown.register('daily-reports', () => reports.stop());
      await reports.start();
      const printer = new PdfPrinter(config.CHROMIUM_PATH);
      if (!printer.available) logger.info({ chromium: config.CHROMIUM_PATH }, 'no Chromium: reports are served as HTML, format=pdf answers 501');

      const http = await buildHttpServer({
        logger,
        tokens: config.API_TOKENS,
        store,
        commands,
        log,
        redis,
        keys,
        registry,
        metrics,
        archive,
        timeZone: config.TIME_ZONE,
        reports,
        printer,
        publicUrl: config.PUBLIC_URL,
        retentionMs: config.INCIDENT_RETENTION_MS,
        notes: { maxChars: config.INCIDENT_NOTE_MAX_CHARS, limiter: new FixedWindowLimiter(redis, keys.noteRate, config.INCIDENT_NOTES_PER_MINUTE, 60_000) },
        stream: {
          tickets: new StreamTickets(redis, keys.streamTicket, config.INCIDENTS_SSE_TICKET_TTL_MS),
          maxClients: config.INCIDENTS_SSE_MAX_CLIENTS,
          limits: { slowClientMs: config.INCIDENTS_SSE_SLOW_CLIENT_MS, maxBufferBytes: config.INCIDENTS_SSE_MAX_BUFFER_BYTES },
        },
        isReady: () => ready && log.live,
        // Without its applier the view never moves again; a restart replays the log from the stored offset.
        isLive: () => log.state !== 'failed',
      });
      await http.listen({ host: config.INCIDENTS_HOST, port: config.INCIDENTS_PORT });
      shutdown.register('http', () => http.close());
      const address = http.server.address();
      port = typeof address === 'object' && address ? address.port : config.INCIDENTS_PORT;
      logger.info({ port, tokens: config.API_TOKENS.length }, 'listening');

      // Alerts are grouped only against a view that holds the whole log; otherwise a restart could open duplicates.
      await log.start(admin);
      await epoch.markCaughtUp();

      const worker = createAlertWorker(settings, commands, metrics, logger);
      void worker.run().catch((err: unknown) => logger.error({ err }, 'alert worker stopped'));
      shutdown.register('alert-worker', () => worker.close());

      const checkMs = config.INCIDENT_AUTO_RESOLVE_CHECK_MS ?? Math.min(60_000, Math.max(1_000, Math.floor(config.INCIDENT_AUTO_RESOLVE_MS / 4)));
      const timer = setInterval(() => {
        commands.autoResolve().catch((err: unknown) => logger.error({ err }, 'auto-resolve sweep failed'));
      }, checkMs);
      timer.unref();
      shutdown.register('auto-resolve', () => clearInterval(timer));

      const expiry = setInterval(() => {
        log.expire().catch((err: unknown) => logger.error({ err }, 'expiry sweep failed'));
      }, config.INCIDENT_EXPIRY_CHECK_MS);
      expiry.unref();
      shutdown.register('expiry', () => clearInterval(expiry));

      ready = true;
      shutdown.register('readiness', () => {
        ready = false;
      });
    },
    stop: () => shutdown.run(),
  };
}
