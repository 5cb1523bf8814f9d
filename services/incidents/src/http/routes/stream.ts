import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ApiToken } from '../../config.js';
import { summarize } from '../../domain/incident-view.js';
import type { AppliedEvent, IncidentEventLog } from '../../events/event-log.js';
import { requires } from '../auth.js';

const HEARTBEAT_MS = 15_000;

/**
 * `GET /api/stream`: server-sent events, one `incident` message per applied change
 * (`{ event: { eventId, kind, actor, at }, incident: summary }`). The token may come as `?token=`, since
 * EventSource cannot set headers. Open streams are ended when the server closes.
 */
export function registerStreamRoute(app: FastifyInstance, { tokens, log }: { tokens: readonly ApiToken[]; log: IncidentEventLog }): void {
  const open = new Set<ServerResponse>();
  // One listener per open dashboard: past ten, Node would warn of a leak that is not one (cleanup removes each).
  log.setMaxListeners(0);
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });

  app.get('/api/stream', { preHandler: requires(tokens, 'read', true) }, (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n: connected as ${req.principal?.name ?? ''}\n\n`);
    open.add(res);
    const onApplied = ({ event, view, outcome }: AppliedEvent) => {
      if (outcome !== 'applied' || !view) return;
      const payload = { event: { eventId: event.eventId, kind: event.kind, actor: event.actor, at: event.at }, incident: summarize(view) };
      res.write(`event: incident\nid: ${event.eventId}\ndata: ${JSON.stringify(payload)}\n\n`);
    };
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    log.on('applied', onApplied);
    const cleanup = () => {
      clearInterval(heartbeat);
      log.off('applied', onApplied);
      open.delete(res);
    };
    req.raw.on('close', cleanup);
    res.on('close', cleanup);
  });
}
