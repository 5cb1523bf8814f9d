import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ApiToken } from '../../config.js';
import { summarize } from '../../domain/incident-view.js';
import type { AppliedEvent, IncidentEventLog } from '../../events/event-log.js';
import { guarded, type Api } from '../api.js';

const HEARTBEAT_MS = 15_000;

/**
 * `GET /api/stream`: server-sent events, one `incident` message per applied change
 * (`{ event: { eventId, kind, actor, at }, incident: summary }`). The token may come as `?token=`, since
 * EventSource cannot set headers. Open streams are ended when the server closes.
 */
export function registerStreamRoute(app: Api, { tokens, log }: { tokens: readonly ApiToken[]; log: IncidentEventLog }): void {
  const open = new Set<ServerResponse>();
  // One listener per open dashboard: past ten, Node would warn of a leak that is not one (cleanup removes each).
  log.setMaxListeners(0);
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });

  const schema = {
    summary: 'Server-sent events: one `incident` event per applied change, data `{ event: { eventId, kind, actor, at }, incident: summary }`; the token may come as ?token=',
    tags: ['incidents'],
    querystring: z.object({ token: z.string().optional().describe('the bearer token, for EventSource, which cannot set headers') }),
    response: { 200: { description: 'An event stream (text/event-stream); a comment line every 15 s keeps it open', content: { 'text/event-stream': { schema: z.string() } } } },
  };
  app.get('/api/stream', guarded(tokens, 'read', schema, { queryToken: true }), (req, reply) => {
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
