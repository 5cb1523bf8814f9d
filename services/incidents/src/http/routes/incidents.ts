import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CampaignSeries } from '@tingfeng/queue';
import type { ApiToken } from '../../config.js';
import type { IncidentCommands } from '../../commands/incident-commands.js';
import { CommandRejectedError, type Command } from '../../domain/commands.js';
import { incidentDetail } from '../../domain/detail.js';
import type { IncidentView } from '../../domain/incident-view.js';
import type { ViewStore } from '../../store/view-store.js';
import { requires, type Permission } from '../auth.js';
import { AssignBodySchema, IdParamsSchema, ListQuerySchema, NoteBodySchema, ResolveBodySchema, ResponseBodySchema } from '../schemas.js';
import { parseOr400 } from '../validate.js';

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

export function registerIncidentRoutes(app: FastifyInstance, { tokens, store, commands }: IncidentRoutesOptions): void {
  app.get('/api/whoami', { preHandler: requires(tokens, 'read') }, async (req) => ({ principal: req.principal!.name, role: req.principal!.role }));

  app.get('/api/incidents', { preHandler: requires(tokens, 'read') }, async (req, reply) => {
    const q = await parseOr400(ListQuerySchema, req.query, reply);
    if (!q) return reply;
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
  });

  app.get('/api/incidents/:id', { preHandler: requires(tokens, 'read') }, async (req, reply) => {
    const p = await parseOr400(IdParamsSchema, req.params, reply);
    if (!p) return reply;
    const view = await store.get(p.id);
    if (!view) return reply.code(404).send({ error: 'not_found', message: `incident ${p.id} not found` });
    return detailOf(view, view.response ? await store.campaignSeries(view.id) : undefined);
  });

  const mutation = <S extends Parameters<typeof parseOr400>[0]>(
    path: string,
    permission: Permission,
    schema: S | undefined,
    toCommand: (body: never) => Command,
  ) => {
    app.post(`/api/incidents/:id/${path}`, { preHandler: requires(tokens, permission) }, async (req, reply) => {
      const p = await parseOr400(IdParamsSchema, req.params, reply);
      if (!p) return reply;
      let body: unknown = undefined;
      if (schema) {
        body = await parseOr400(schema, req.body ?? {}, reply);
        if (body === undefined) return reply;
      }
      return run(reply, () => commands.command(p.id, toCommand(body as never), req.principal!.name));
    });
  };
  mutation('ack', 'operate', undefined, () => ({ kind: 'acknowledge' }));
  mutation('resolve', 'operate', ResolveBodySchema, (b: { reason?: string }) => ({ kind: 'resolve', reason: b.reason }));
  mutation('notes', 'note', NoteBodySchema, (b: { text: string }) => ({ kind: 'note', text: b.text }));
  mutation('assign', 'operate', AssignBodySchema, (b: { assignee: string }) => ({ kind: 'assign', assignee: b.assignee }));
  mutation('response', 'operate', ResponseBodySchema, (b: { accounts: string[]; startedAt?: string }) => ({
    kind: 'response',
    accounts: b.accounts,
    startedAt: b.startedAt,
  }));
}

async function run(reply: FastifyReply, work: () => Promise<IncidentView>): Promise<unknown> {
  try {
    return detailOf(await work());
  } catch (err) {
    if (err instanceof CommandRejectedError) {
      return reply.code(err.status).send({ error: err.status === 404 ? 'not_found' : 'conflict', message: err.message });
    }
    throw err;
  }
}
