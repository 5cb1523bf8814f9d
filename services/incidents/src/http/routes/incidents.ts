import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { CampaignSeries } from '@tingfeng/contracts';
import type { ApiToken } from '../../config.js';
import type { IncidentCommands } from '../../commands/incident-commands.js';
import { CommandRejectedError, type Command } from '../../domain/commands.js';
import { incidentDetail } from '../../domain/detail.js';
import type { IncidentView } from '../../domain/incident-view.js';
import type { ViewStore } from '../../store/view-store.js';
import { errorAnswer, guarded, type Api } from '../api.js';
import { permissionsOf, type Permission } from '../auth.js';
import type { FixedWindowLimiter } from '../rate-limit.js';
import {
  AlertsPageSchema,
  AssignBodySchema,
  HistoryQuerySchema,
  IdParamsSchema,
  IncidentDetailSchema,
  IncidentListSchema,
  ListQuerySchema,
  NoteBodySchema,
  ResolveBodySchema,
  ResponseBodySchema,
  TimelinePageSchema,
  WhoamiSchema,
} from '../schemas.js';

export interface IncidentRoutesOptions {
  tokens: readonly ApiToken[];
  store: ViewStore;
  commands: IncidentCommands;
  notes: NoteLimits;
  /** Rebuilds one incident's view from the log (IncidentEventLog.rebuild). */
  rebuild: (id: string) => Promise<IncidentView | undefined>;
  /** INCIDENT_RETENTION_MS, for the 404's message. */
  retentionMs: number;
}

/** How large and how frequent notes may be (INCIDENT_NOTE_MAX_CHARS, INCIDENT_NOTES_PER_MINUTE). */
export interface NoteLimits {
  maxChars: number;
  /** Counts notes per principal. */
  limiter: FixedWindowLimiter;
}

/**
 * The incident detail answer: the view plus the evidence and series derived from its alerts, and, when the incident
 * is answered by a response campaign, `campaign` (accounts, startedAt) and the detector's `campaignSeries`.
 */
export function detailOf(view: IncidentView, campaignSeries?: CampaignSeries) {
  return {
    ...view,
    detail: incidentDetail(view),
    ...(view.response ? { campaign: { accounts: view.response.accounts, startedAt: view.response.startedAt, by: view.response.by } } : {}),
    ...(view.response && campaignSeries ? { campaignSeries } : {}),
  };
}

const TAGS = ['incidents'];

export function registerIncidentRoutes(app: Api, { tokens, store, commands, notes, rebuild, retentionMs }: IncidentRoutesOptions): void {
  const days = Math.round((retentionMs / 86_400_000) * 10) / 10;
  const notFound = (id: string) => ({
    error: 'not_found',
    message: `incident ${id} not found (a resolved incident leaves the view ${days} days after its resolution; an admin can bring it back from the log: POST /api/incidents/${id}/rebuild)`,
  });
  app.get(
    '/api/whoami',
    guarded(tokens, 'read', { summary: 'The caller’s principal, role and what the role may do', tags: ['auth'], response: { 200: WhoamiSchema } }),
    async (req) => ({ principal: req.principal!.name, role: req.principal!.role, permissions: permissionsOf(req.principal!.role) }),
  );

  app.get(
    '/api/incidents',
    guarded(tokens, 'read', {
      summary: 'Incidents, newest first by openedAt',
      description: 'Read from sorted-set indexes by status, severity, type and scheme, scored by openedAt; page with nextCursor (or offset).',
      tags: TAGS,
      querystring: ListQuerySchema,
      response: { 200: IncidentListSchema },
    }),
    async (req) => {
      const q = req.query;
      const { items, total, nextCursor } = await store.list({
        status: q.status,
        type: q.type,
        severity: q.severity,
        scheme: q.scheme,
        sinceMs: q.since,
        untilMs: q.until,
        limit: q.limit,
        offset: q.cursor ? 0 : q.offset,
        cursor: q.cursor,
      });
      return { items, total, limit: q.limit, offset: q.cursor ? 0 : q.offset, nextCursor };
    },
  );

  app.get(
    '/api/incidents/:id',
    guarded(tokens, 'read', {
      summary: 'One incident with its timeline, alerts, evidence and series',
      tags: TAGS,
      params: IdParamsSchema,
      response: { 200: IncidentDetailSchema, 404: errorAnswer('No such incident') },
    }),
    async (req, reply) => {
      const view = await store.get(req.params.id);
      if (!view) return reply.code(404).send(notFound(req.params.id));
      return detailOf(view, view.response ? await store.campaignSeries(view.id) : undefined);
    },
  );

  app.get(
    '/api/incidents/:id/timeline',
    guarded(tokens, 'read', {
      summary: 'An incident’s timeline, a page at a time, from the newest back',
      description: 'The view carries the newest INCIDENT_VIEW_TIMELINE_MAX entries; Redis keeps the newest INCIDENT_HISTORY_MAX for paging; the log keeps all.',
      tags: TAGS,
      params: IdParamsSchema,
      querystring: HistoryQuerySchema,
      response: { 200: TimelinePageSchema, 404: errorAnswer('No such incident') },
    }),
    async (req, reply) => {
      const page = await store.timeline(req.params.id, req.query.limit, req.query.cursor);
      if (!page) return reply.code(404).send(notFound(req.params.id));
      return { incidentId: req.params.id, ...page };
    },
  );

  app.get(
    '/api/incidents/:id/alerts',
    guarded(tokens, 'read', {
      summary: 'An incident’s alerts, a page at a time, from the newest back',
      description: 'The view carries the newest INCIDENT_VIEW_ALERTS_MAX alerts; Redis keeps the newest INCIDENT_HISTORY_MAX for paging; the log keeps all.',
      tags: TAGS,
      params: IdParamsSchema,
      querystring: HistoryQuerySchema,
      response: { 200: AlertsPageSchema, 404: errorAnswer('No such incident') },
    }),
    async (req, reply) => {
      const page = await store.alerts(req.params.id, req.query.limit, req.query.cursor);
      if (!page) return reply.code(404).send(notFound(req.params.id));
      return { incidentId: req.params.id, ...page };
    },
  );

  app.post(
    '/api/incidents/:id/rebuild',
    guarded(tokens, 'admin', {
      summary: 'Rebuild one incident’s view from the log (after it expired, or to repair it); kept for INCIDENT_RETENTION_MS from now',
      description: 'Reads incident-events from its start: seconds on a long log. Records nothing in the log.',
      tags: TAGS,
      params: IdParamsSchema,
      response: { 200: IncidentDetailSchema.describe('The incident as rebuilt'), 404: errorAnswer('The log holds no such incident') },
    }),
    async (req, reply) => {
      const view = await rebuild(req.params.id);
      if (!view) return reply.code(404).send({ error: 'not_found', message: `incident-events holds no incident ${req.params.id}` });
      return detailOf(view, view.response ? await store.campaignSeries(view.id) : undefined);
    },
  );

  const changed = {
    200: IncidentDetailSchema.describe('The incident after the change'),
    404: errorAnswer('No such incident'),
    409: errorAnswer('The incident’s state does not allow it (e.g. acknowledging a resolved incident)'),
  };
  /** `check` may answer first (a limit): it returns true when it has sent the answer. */
  type Check<B extends z.ZodType> = (body: z.output<B>, req: { principal?: { name: string } | undefined }, reply: FastifyReply) => Promise<boolean>;
  const mutation = <B extends z.ZodType>(
    path: string,
    permission: Permission,
    summary: string,
    body: B | undefined,
    toCommand: (body: z.output<B>) => Command,
    limits: { bodyLimit?: number; response?: Record<number, ReturnType<typeof errorAnswer>>; check?: Check<B>; description?: string } = {},
  ) => {
    const schema = {
      summary: `${summary}; recorded as an incident event with the caller as actor`,
      ...(limits.description ? { description: limits.description } : {}),
      tags: TAGS,
      params: IdParamsSchema,
      ...(body ? { body } : {}),
      response: { ...changed, ...limits.response },
    };
    app.post(`/api/incidents/:id/${path}`, { ...guarded(tokens, permission, schema), ...(limits.bodyLimit ? { bodyLimit: limits.bodyLimit } : {}) }, async (req, reply) => {
      if (limits.check && (await limits.check(req.body as z.output<B>, req, reply))) return reply;
      try {
        return detailOf(await commands.command(req.params.id, toCommand(req.body as z.output<B>), req.principal!.name));
      } catch (err) {
        if (!(err instanceof CommandRejectedError)) throw err;
        return reply.code(err.status === 404 ? 404 : 409).send({ error: err.status === 404 ? 'not_found' : 'conflict', message: err.message });
      }
    });
  };
  mutation('ack', 'operate', 'Acknowledge', undefined, () => ({ kind: 'acknowledge' }));
  mutation('resolve', 'operate', 'Resolve', ResolveBodySchema, (b) => ({ kind: 'resolve', reason: b.reason }));
  mutation('notes', 'note', 'Add a note', NoteBodySchema, (b) => ({ kind: 'note', text: b.text }), {
    // JSON may spell each character as a six-byte \\u escape; anything beyond that is not a note.
    bodyLimit: notes.maxChars * 6 + 1024,
    description: `At most ${notes.maxChars} characters (413 note_too_large), at most ${notes.limiter.limit} notes a minute per caller (429 rate_limited, with retry-after).`,
    response: {
      413: errorAnswer('The note is longer than INCIDENT_NOTE_MAX_CHARS (`note_too_large`, with `maxChars`), or the body larger than the route takes (`payload_too_large`)'),
      429: errorAnswer('The caller added INCIDENT_NOTES_PER_MINUTE notes this minute (`rate_limited`, with `retryAfterSec` and a retry-after header)'),
    },
    check: async (b, req, reply) => {
      const chars = [...b.text].length;
      if (chars > notes.maxChars) {
        await reply.code(413).send({ error: 'note_too_large', message: `a note holds at most ${notes.maxChars} characters; this one has ${chars}`, maxChars: notes.maxChars });
        return true;
      }
      const rate = await notes.limiter.take(req.principal!.name);
      if (rate.allowed) return false;
      const retryAfterSec = Math.max(1, Math.ceil(rate.retryAfterMs / 1000));
      await reply
        .code(429)
        .header('retry-after', String(retryAfterSec))
        .send({ error: 'rate_limited', message: `at most ${notes.limiter.limit} notes a minute per caller; try again in ${retryAfterSec} s`, retryAfterSec });
      return true;
    },
  });
  mutation('assign', 'operate', 'Assign', AssignBodySchema, (b) => ({ kind: 'assign', assignee: b.assignee }));
  mutation('response', 'operate', 'Mark as answered by a response campaign', ResponseBodySchema, (b) => ({
    kind: 'response',
    accounts: b.accounts,
    startedAt: b.startedAt,
  }));
}
