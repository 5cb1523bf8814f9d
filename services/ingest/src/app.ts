import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { createKafka, createProducer, prepareTopics, parseBrokers } from '@tingfeng/kafka';
import { ShutdownRegistry, type Service } from '@tingfeng/lifecycle';
import { createLogger } from '@tingfeng/logger';
import { Counter, createRegistry } from '@tingfeng/metrics';
import type { IngestConfig } from './config.js';
import { registerIngestRoute } from './routes/ingest.js';

export interface IngestApp extends Service {
  /** The bound port, once started. */
  readonly port: number | undefined;
}

/** The composition root of the HTTP ingest service. */
export function createIngestApp(config: IngestConfig): IngestApp {
  const logger = createLogger('ingest');
  const shutdown = new ShutdownRegistry(logger);
  const registry = createRegistry('ingest');
  const accepted = new Counter({ name: 'tingfeng_ingest_accepted_total', help: 'Posts accepted over HTTP', registers: [registry] });
  const rejected = new Counter({
    name: 'tingfeng_ingest_rejected_total',
    help: 'Posts refused over HTTP, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const kafka = createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: 'ingest' }, logger);
  const producer = createProducer(kafka);
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, bodyLimit: config.INGEST_MAX_BODY_BYTES,
    logController: new LogController({ disableRequestLogging: true }),
  });
  let ready = false;
  let port: number | undefined;

  registerIngestRoute(app, {
    producer,
    topic: config.INGEST_TOPIC,
    dlqTopic: config.INGEST_DLQ_TOPIC,
    tokens: config.INGEST_TOKENS,
    allowAnonymous: config.INGEST_ALLOW_ANONYMOUS,
    maxItems: config.INGEST_MAX_ITEMS,
    sendSliceBytes: config.INGEST_SEND_SLICE_BYTES,
    sendTimeoutMs: config.INGEST_SEND_TIMEOUT_MS,
    accepted,
    rejected,
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => reply.code(ready ? 200 : 503).send({ ready }));
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  return {
    get port() {
      return port;
    },
    async start() {
      await prepareTopics(kafka, { replicationFactor: config.KAFKA_REPLICATION_FACTOR });
      await producer.connect();
      shutdown.register('producer', () => producer.disconnect());
      await app.listen({ host: config.INGEST_HOST, port: config.INGEST_PORT });
      shutdown.register('http', () => app.close());
      const address = app.server.address();
      port = typeof address === 'object' && address ? address.port : config.INGEST_PORT;
      ready = true;
      shutdown.register('readiness', () => {
        ready = false;
      });
      logger.info({ port, tokens: config.INGEST_TOKENS.length, anonymous: config.INGEST_ALLOW_ANONYMOUS }, 'listening');
      if (config.INGEST_ALLOW_ANONYMOUS) logger.warn('INGEST_ALLOW_ANONYMOUS=true: any caller that reaches the port can post');
    },
    stop: () => shutdown.run(),
  };
}
