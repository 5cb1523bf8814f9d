import { z } from 'zod';
import type { ApiToken } from '../../config.js';
import { summarize } from '../../domain/incident-view.js';
import type { AppliedEvent, IncidentEventLog } from '../../events/event-log.js';
import type { IncidentsMetrics } from '../../metrics.js';
import { errorAnswer, guarded, type Api } from '../api.js';
import { SseClient, type SseLimits } from '../sse-client.js';
import type { StreamTickets } from '../stream-tickets.js';

const HEARTBEAT_MS = 15_000;

export interface StreamRouteOptions {
  tokens: readonly ApiToken[];
  log: IncidentEventLog;
  tickets: StreamTickets;
  metrics: IncidentsMetrics;
  /** Most streams open at once (INCIDENTS_SSE_MAX_CLIENTS); one more answers 503 `too_many_streams`. */
  maxClients: number;
  limits: SseLimits;
}

/**
 * `POST /api/stream/ticket` and `GET /api/stream`: server-sent events, one `incident` message per applied change
 * (`{ event: { eventId, kind, actor, at }, incident: summary }`). A browser first takes a single-use ticket with its
 * bearer token and opens `GET /api/stream?ticket=` (EventSource cannot set headers); other clients may send the
 * Authorization header instead. At most `maxClients` streams are open; a client that stops reading is dropped
 * (see SseClient). Open streams are ended when the server closes.
 */
export function registerStreamRoute(app: Api, { tokens, log, tickets, metrics, maxClients, limits }: StreamRouteOptions): void {
  const open = new Set<SseClient>();
  // One listener per open dashboard: past ten, Node would warn of a leak that is not one (cleanup removes each).
  log.setMaxListeners(0);
  app.addHook('preClose', async () => {
    for (const client of open) client.end();
    open.clear();
  });

  app.post(
    '/api/stream/ticket',
    guarded(tokens, 'read', {
      summary: `A single-use ticket for GET /api/stream?ticket= (EventSource cannot send the bearer token); it expires ${Math.round(tickets.ttlMs / 1000)} s after it is issued`,
      tags: ['incidents'],
      response: { 200: z.object({ ticket: z.string(), expiresAt: z.string(), url: z.string().describe('the stream URL with the ticket, relative') }) },
    }),
    async (req) => {
      const issued = await tickets.issue(req.principal!);
      return { ...issued, url: `/api/stream?ticket=${encodeURIComponent(issued.ticket)}` };
    },
  );

  const schema = {
    summary: 'Server-sent events: one `incident` event per applied change, data `{ event: { eventId, kind, actor, at }, incident: summary }`; authenticated by ?ticket= (POST /api/stream/ticket) or the Authorization header',
    tags: ['incidents'],
    querystring: z.object({ ticket: z.string().max(100).optional().describe('a ticket from POST /api/stream/ticket: used once, short-lived') }),
    response: {
      200: { description: 'An event stream (text/event-stream); a comment line every 15 s keeps it open', content: { 'text/event-stream': { schema: z.string() } } },
      503: errorAnswer('INCIDENTS_SSE_MAX_CLIENTS streams are open (`too_many_streams`, with retry-after)'),
    },
  };
  const byTicket = async (req: { query: unknown }) => {
    const ticket = (req.query as Record<string, unknown> | undefined)?.['ticket'];
    return typeof ticket === 'string' ? tickets.redeem(ticket) : undefined;
  };
  app.get('/api/stream', guarded(tokens, 'read', schema, { alternative: byTicket }), async (req, reply) => {
    if (open.size >= maxClients) {
      metrics.sseRefused.inc();
      return reply.code(503).header('retry-after', '10').send({ error: 'too_many_streams', message: `${maxClients} live streams are open, the most this server keeps; try again shortly` });
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client = new SseClient(res, limits, (reason) => {
      metrics.sseDropped.inc({ reason });
      req.log.warn({ principal: req.principal?.name, reason }, 'slow stream client dropped');
    });
    client.write(`retry: 2000\n: connected as ${req.principal?.name ?? ''}\n\n`);
    open.add(client);
    metrics.sseClients.inc();
    const onApplied = ({ event, view, outcome }: AppliedEvent) => {
      if (outcome !== 'applied' || !view) return;
      const payload = { event: { eventId: event.eventId, kind: event.kind, actor: event.actor, at: event.at }, incident: summarize(view) };
      client.write(`event: incident\nid: ${event.eventId}\ndata: ${JSON.stringify(payload)}\n\n`);
    };
    const heartbeat = setInterval(() => client.write(': keep-alive\n\n'), HEARTBEAT_MS);
    log.on('applied', onApplied);
    let cleaned = false;
    const cleanup = () => {
      if (cleaned) return;
      cleaned = true;
      metrics.sseClients.dec();
      clearInterval(heartbeat);
      log.off('applied', onApplied);
      open.delete(client);
    };
    req.raw.on('close', cleanup);
    res.on('close', cleanup);
    return reply;
  });
}
