import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '@tingfeng/logger';
import type { Registry } from '@tingfeng/metrics';
import type { RedisKeys } from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import type { IncidentCommands } from '../commands/incident-commands.js';
import type { ApiToken } from '../config.js';
import type { IncidentEventLog } from '../events/event-log.js';
import type { IncidentsMetrics } from '../metrics.js';
import type { ViewStore } from '../store/view-store.js';
import { openApiDocument } from './openapi.js';
import { registerConfigRoutes } from './routes/config-objects.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { registerIncidentRoutes } from './routes/incidents.js';
import { registerStreamRoute } from './routes/stream.js';

export interface HttpServerOptions {
  logger: Logger;
  tokens: readonly ApiToken[];
  store: ViewStore;
  commands: IncidentCommands;
  log: IncidentEventLog;
  redis: Redis;
  keys: RedisKeys;
  registry: Registry;
  metrics: IncidentsMetrics;
  publicUrl: string;
  isReady: () => boolean;
  /** False once a part failed for good (the applier crashed without restarting): `/healthz` answers 503. */
  isLive?: () => boolean;
}

/** The API, the live stream, the dashboard and the ops endpoints on one fastify instance. */
export function buildHttpServer(o: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: o.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
  });

  // Until the view has caught up with the log, a command would be decided against a stale view.
  app.addHook('onRequest', async (req, reply) => {
    if (!o.isReady() && req.method !== 'GET' && req.url.startsWith('/api/')) {
      await reply.code(503).send({ error: 'not_ready', message: 'the incident view is still catching up with incident-events' });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    if (!req.url.startsWith('/api/')) return;
    o.metrics.apiRequests.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });
  app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    // The path only: /api/stream takes its bearer token as ?token=, which must never reach the logs.
    if (status === 500) req.log.error({ err, url: req.url.split('?')[0] }, 'request failed');
    await reply.code(status).send({ error: status === 500 ? 'internal' : 'bad_request', message: status === 500 ? 'internal error' : err.message });
  });

  app.get('/healthz', async (_req, reply) => {
    const live = o.isLive?.() ?? true;
    return reply.code(live ? 200 : 503).send({ status: live ? 'ok' : 'failed' });
  });
  app.get('/readyz', async (_req, reply) => reply.code(o.isReady() ? 200 : 503).send({ ready: o.isReady() }));
  app.get('/metrics', async (_req, reply) => reply.type(o.registry.contentType).send(await o.registry.metrics()));
  const document = openApiDocument(o.publicUrl);
  app.get('/api/openapi.json', async () => document);

  registerIncidentRoutes(app, { tokens: o.tokens, store: o.store, commands: o.commands });
  registerStreamRoute(app, { tokens: o.tokens, log: o.log });
  registerConfigRoutes(app, { tokens: o.tokens, redis: o.redis, keys: o.keys, logger: o.logger });
  registerDashboardRoutes(app);
  return app;
}
