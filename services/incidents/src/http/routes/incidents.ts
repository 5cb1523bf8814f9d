import type { z } from 'zod';
import type { CampaignSeries } from '@tingfeng/queue';
import type { ApiToken } from '../../config.js';
import type { IncidentCommands } from '../../commands/incident-commands.js';
import { CommandRejectedError, type Command } from '../../domain/commands.js';
import { incidentDetail } from '../../domain/detail.js';
import type { IncidentView } from '../../domain/incident-view.js';
import type { ViewStore } from '../../store/view-store.js';
import { errorAnswer, guarded, type Api } from '../api.js';
import type { Permission } from '../auth.js';
import {
  AssignBodySchema,
  IdParamsSchema,
  IncidentDetailSchema,
  IncidentListSchema,
  ListQuerySchema,
  NoteBodySchema,
  ResolveBodySchema,
  ResponseBodySchema,
  WhoamiSchema,
} from '../schemas.js';

export interface IncidentRoutesOptions {
  tokens: readonly ApiToken[];
  store: ViewStore;
  commands: IncidentCommands;
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

export function registerIncidentRoutes(app: Api, { tokens, store, commands }: IncidentRoutesOptions): void {
  app.get(
    '/api/whoami',
    guarded(tokens, 'read', { summary: 'The caller’s principal and role', tags: ['auth'], response: { 200: WhoamiSchema } }),
    async (req) => ({ principal: req.principal!.name, role: req.principal!.role }),
  );

  app.get(
    '/api/incidents',
    guarded(tokens, 'read', { summary: 'Incidents, newest first by openedAt', tags: TAGS, querystring: ListQuerySchema, response: { 200: IncidentListSchema } }),
    async (req) => {
      const q = req.query;
      const { items, total } = await store.list({
        status: q.status,
        type: q.type,
        severity: q.severity,
        scheme: q.scheme,
        sinceMs: q.since,
        untilMs: q.until,
        limit: q.limit,
        offset: q.offset,
      });
      return { items, total, limit: q.limit, offset: q.offset };
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
      if (!view) return reply.code(404).send({ error: 'not_found', message: `incident ${req.params.id} not found` });
      return detailOf(view, view.response ? await store.campaignSeries(view.id) : undefined);
    },
  );

  const changed = {
    200: IncidentDetailSchema.describe('The incident after the change'),
    404: errorAnswer('No such incident'),
    409: errorAnswer('The incident’s state does not allow it (e.g. acknowledging a resolved incident)'),
  };
  const mutation = <B extends z.ZodType>(path: string, permission: Permission, summary: string, body: B | undefined, toCommand: (body: z.output<B>) => Command) => {
    const schema = {
      summary: `${summary}; recorded as an incident event with the caller as actor`,
      tags: TAGS,
      params: IdParamsSchema,
      ...(body ? { body } : {}),
      response: changed,
    };
    app.post(`/api/incidents/:id/${path}`, guarded(tokens, permission, schema), async (req, reply) => {
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
  mutation('notes', 'note', 'Add a note', NoteBodySchema, (b) => ({ kind: 'note', text: b.text }));
  mutation('assign', 'operate', 'Assign', AssignBodySchema, (b) => ({ kind: 'assign', assignee: b.assignee }));
  mutation('response', 'operate', 'Mark as answered by a response campaign', ResponseBodySchema, (b) => ({
    kind: 'response',
    accounts: b.accounts,
    startedAt: b.startedAt,
  }));
}
