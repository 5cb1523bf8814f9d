import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Logger } from '@tingfeng/logger';
import type { Registry } from '@tingfeng/metrics';
import type { RedisKeys } from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import type { ArchiveGate } from '../archive/archive-gate.js';
import type { IncidentCommands } from '../commands/incident-commands.js';
import type { ApiToken } from '../config.js';
import type { IncidentEventLog } from '../events/event-log.js';
import type { IncidentsMetrics } from '../metrics.js';
import type { DailyReports } from '../reports/daily-reports.js';
import type { PdfPrinter } from '../reports/pdf-printer.js';
import type { ViewStore } from '../store/view-store.js';
import { configureApi, type Api } from './api.js';
import { registerConfigRoutes } from './routes/config-objects.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { registerIncidentRoutes, type NoteLimits } from './routes/incidents.js';
import { registerPostRoutes } from './routes/posts.js';
import { registerReportRoutes } from './routes/reports.js';
import { registerStreamRoute } from './routes/stream.js';
import { apiSchemas } from './schemas.js';
import type { SseLimits } from './sse-client.js';
import type { StreamTickets } from './stream-tickets.js';
import { registerSecurityHeaders } from './security-headers.js';

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
  /** The post archive behind search, evidence and reports. */
  archive: ArchiveGate;
  /** The organisation's time zone (TIME_ZONE). */
  timeZone: string;
  /** The daily reports (舆情日报) and the browser that prints them. */
  reports: DailyReports;
  printer: PdfPrinter;
  publicUrl: string;
  /** INCIDENT_RETENTION_MS. */
  retentionMs: number;
  /** Note size and rate limits. */
  notes: NoteLimits;
  /** The live stream's tickets, client cap and slow-client limits. */
  stream: { tickets: StreamTickets; maxClients: number; limits: SseLimits };
  isReady: () => boolean;
  /** False once a part failed for good (the applier crashed without restarting): `/healthz` answers 503. */
  isLive?: () => boolean;
}

const DESCRIPTION =
  'Incidents grouped from alerts (PagerDuty semantics: triggered → acknowledged → resolved). Bearer tokens from API_TOKENS; ' +
  'roles analyst (read, notes), oncall (+ ack, resolve, assign, response), admin (+ routes, silences, channels, monitoring schemes). ' +
  'Generated from the zod schemas the routes validate with; every operation names the least role it takes (`x-permission`).';

/**
 * Registers @fastify/swagger on `app` so that every route declared after it is described in the OpenAPI 3.1
 * document, from the same zod schemas that validate its input and serialise its answer, and serves that document
 * at `GET /api/openapi.json`. Register routes after awaiting this.
 */
export async function registerOpenApi(app: Api, publicUrl: string): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Tingfeng 听风 incident API', version: '0.2.0', description: DESCRIPTION },
      servers: [{ url: publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: createJsonSchemaTransform({ schemaRegistry: apiSchemas }),
    transformObject: createJsonSchemaTransformObject({ schemaRegistry: apiSchemas }),
  });
  app.get('/api/openapi.json', { schema: { summary: 'This document', tags: ['ops'] } }, async () => app.swagger());
}

/** The API, the live stream, the dashboard and the ops endpoints on one fastify instance. */
export async function buildHttpServer(o: HttpServerOptions): Promise<Api> {
  const app = configureApi(
    Fastify({
      loggerInstance: o.logger as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: 1024 * 1024,
    }),
  );

  // Until the view has caught up with the log, a command would be decided against a stale view.
  app.addHook('onRequest', async (req, reply) => {
    // A stream ticket changes nothing in the view: the dashboard may connect while the view catches up.
    if (!o.isReady() && req.method !== 'GET' && req.url.startsWith('/api/') && req.url !== '/api/stream/ticket') {
      await reply.code(503).send({ error: 'not_ready', message: 'the incident view is still catching up with incident-events' });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    if (!req.url.startsWith('/api/')) return;
    o.metrics.apiRequests.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  await registerSecurityHeaders(app);
  await registerOpenApi(app, o.publicUrl);
  const ops = { tags: ['ops'] };
  app.get('/healthz', { schema: { ...ops, summary: 'Liveness: 503 once a part failed for good', response: { 200: z.object({ status: z.literal('ok') }), 503: z.object({ status: z.literal('failed') }) } } }, async (_req, reply) =>
    (o.isLive?.() ?? true) ? reply.code(200).send({ status: 'ok' }) : reply.code(503).send({ status: 'failed' }),
  );
  const Readiness = z.object({ ready: z.boolean(), archive: z.enum(['connecting', 'ready', 'stopped']).describe('the post archive: search, evidence and reports need it; incidents do not') });
  app.get(
    '/readyz',
    { schema: { ...ops, summary: 'Readiness: the view has caught up with incident-events (the archive’s state is reported, not required)', response: { 200: Readiness, 503: Readiness } } },
    async (_req, reply) => reply.code(o.isReady() ? 200 : 503).send({ ready: o.isReady(), archive: o.archive.state }),
  );
  app.get('/metrics', { schema: { ...ops, summary: 'Prometheus metrics', response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } } } }, async (_req, reply) =>
    reply.type(o.registry.contentType).send(await o.registry.metrics()),
  );

  registerIncidentRoutes(app, { tokens: o.tokens, store: o.store, commands: o.commands, notes: o.notes, rebuild: (id) => o.log.rebuild(id), retentionMs: o.retentionMs });
  registerPostRoutes(app, { tokens: o.tokens, store: o.store, archive: o.archive, timeZone: o.timeZone });
  registerReportRoutes(app, { tokens: o.tokens, reports: o.reports, printer: o.printer, tickets: o.stream.tickets });
  registerStreamRoute(app, { tokens: o.tokens, log: o.log, metrics: o.metrics, ...o.stream });
  registerConfigRoutes(app, { tokens: o.tokens, redis: o.redis, keys: o.keys, logger: o.logger });
  registerDashboardRoutes(app);
  return app;
}
