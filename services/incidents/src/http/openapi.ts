import { z } from 'zod';
import { ChannelsConfigSchema, RoutesConfigSchema } from '@tingfeng/queue';
import { NewSilenceSchema, SchemeSchema, SchemesConfigSchema } from './routes/config-objects.js';
import { AssignBodySchema, NoteBodySchema, ResolveBodySchema, ResponseBodySchema } from './schemas.js';

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errors = {
  '400': { description: 'Invalid input', content: { 'application/json': { schema: ref('Error') } } },
  '401': { description: 'No or unknown bearer token', content: { 'application/json': { schema: ref('Error') } } },
  '403': { description: 'The token’s role may not do this', content: { 'application/json': { schema: ref('Error') } } },
};
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };

const mutation = (summary: string, role: string, body?: z.ZodType) => ({
  post: {
    summary: `${summary} (role ${role} or above); recorded as an incident event with the caller as actor`,
    parameters: [idParam],
    ...(body ? { requestBody: { required: body !== ResolveBodySchema, content: json(body) } } : {}),
    responses: {
      '200': { description: 'The incident after the change', content: { 'application/json': { schema: ref('IncidentDetail') } } },
      '404': { description: 'No such incident' },
      '409': { description: 'The incident’s state does not allow it (e.g. acknowledging a resolved incident)' },
      ...errors,
    },
  },
});

/** The OpenAPI 3.1 document of the incident API, served at `GET /api/openapi.json`. Request bodies come from the zod schemas the routes validate with. */
export function openApiDocument(publicUrl: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tingfeng 听风 incident API',
      version: '0.1.0',
      description:
        'Incidents grouped from alerts (PagerDuty semantics: triggered → acknowledged → resolved). Bearer tokens from API_TOKENS; roles analyst (read, notes), oncall (+ ack, resolve, assign, response), admin (+ routes, silences, channels, monitoring schemes).',
    },
    servers: [{ url: publicUrl }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } }, required: ['error'] },
        IncidentSummary: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            key: { type: 'string' },
            type: { type: 'string' },
            status: { type: 'string', enum: ['triggered', 'acknowledged', 'resolved'] },
            severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
            title: { type: 'string' },
            openedAt: { type: 'string', format: 'date-time' },
            acknowledgedAt: { type: ['string', 'null'] },
            acknowledgedBy: { type: ['string', 'null'] },
            resolvedAt: { type: ['string', 'null'] },
            resolvedBy: { type: ['string', 'null'] },
            assignee: { type: ['string', 'null'] },
            alertCount: { type: 'integer' },
            lastAlertAt: { type: 'string', description: 'wall time of the last alert' },
            lastAlertEventAt: { type: 'string', description: 'event time of the last alert' },
            terms: { type: 'array', items: { type: 'string' } },
            schemes: { type: 'array', items: { type: 'string' } },
          },
        },
        IncidentDetail: {
          allOf: [
            ref('IncidentSummary'),
            {
              type: 'object',
              properties: {
                alerts: { type: 'array', items: { type: 'object', description: 'Alerts as the detectors emitted them (contract Alert)' } },
                timeline: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { eventId: { type: 'string' }, kind: { type: 'string' }, actor: { type: 'string' }, at: { type: 'string' }, data: { type: 'object' } },
                  },
                },
                response: { type: ['object', 'null'] },
                campaign: { type: 'object', description: 'present when answered by a response campaign: { accounts, startedAt, by }' },
                campaignSeries: {
                  type: 'object',
                  description:
                    'the detector’s curves for the campaign, per bucket of event time from startMs: narrative, negative, response, reach (arrays), bucketMs, startedAtMs, baseline',
                },
                detail: {
                  type: 'object',
                  properties: {
                    postIds: { type: 'array', items: { type: 'string' } },
                    samples: { type: 'array', items: { type: 'object' } },
                    terms: { type: 'array', items: { type: 'string' } },
                    accounts: { type: 'array', items: { type: 'string' } },
                    volume: { type: 'array', items: { type: 'object', description: 'observed vs expected per alert window' } },
                    series: { type: 'array', items: { type: 'object', description: 'numeric series the alerts carry (growth curve, …)' } },
                  },
                },
              },
            },
          ],
        },
      },
    },
    paths: {
      '/healthz': { get: { security: [], summary: 'Liveness', responses: { '200': { description: 'ok' } } } },
      '/readyz': { get: { security: [], summary: 'Readiness: the view has caught up with incident-events', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
      '/metrics': { get: { security: [], summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
      '/api/whoami': {
        get: { summary: 'The caller’s principal and role (role analyst or above)', responses: { '200': { description: '{ principal, role }' }, ...errors } },
      },
      '/api/incidents': {
        get: {
          summary: 'Incidents, newest first (role analyst or above)',
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string' }, description: 'comma-separated: triggered,acknowledged,resolved' },
            { name: 'type', in: 'query', schema: { type: 'string' }, description: 'comma-separated alert types' },
            { name: 'severity', in: 'query', schema: { type: 'string' }, description: 'comma-separated: info,warning,critical' },
            { name: 'scheme', in: 'query', schema: { type: 'string' }, description: 'monitoring scheme name' },
            { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'openedAt ≥ since' },
            { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'openedAt ≤ until' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          ],
          responses: {
            '200': {
              description: 'One page',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { items: { type: 'array', items: ref('IncidentSummary') }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } } },
                },
              },
            },
            ...errors,
          },
        },
      },
      '/api/incidents/{id}': {
        get: {
          summary: 'One incident with its timeline, alerts, evidence and series (role analyst or above)',
          parameters: [idParam],
          responses: { '200': { description: 'The incident', content: { 'application/json': { schema: ref('IncidentDetail') } } }, '404': { description: 'No such incident' }, ...errors },
        },
      },
      '/api/incidents/{id}/ack': mutation('Acknowledge', 'oncall'),
      '/api/incidents/{id}/resolve': mutation('Resolve', 'oncall', ResolveBodySchema),
      '/api/incidents/{id}/notes': mutation('Add a note', 'analyst', NoteBodySchema),
      '/api/incidents/{id}/assign': mutation('Assign', 'oncall', AssignBodySchema),
      '/api/incidents/{id}/response': mutation('Mark as answered by a response campaign', 'oncall', ResponseBodySchema),
      '/api/stream': {
        get: {
          summary: 'Server-sent events: one `incident` event per change (role analyst or above; token also accepted as ?token=)',
          parameters: [{ name: 'token', in: 'query', schema: { type: 'string' } }],
          responses: { '200': { description: 'text/event-stream' }, ...errors },
        },
      },
      '/api/routes': {
        get: { summary: 'Routing rules (admin)', responses: { '200': { description: 'RoutesConfig', content: json(RoutesConfigSchema) }, ...errors } },
        put: { summary: 'Replace the routing rules (admin; audited)', requestBody: { required: true, content: json(RoutesConfigSchema) }, responses: { '200': { description: 'Stored' }, ...errors } },
      },
      '/api/silences': {
        get: { summary: 'Silences, with `active` (admin)', responses: { '200': { description: 'Silence[]' }, ...errors } },
        post: { summary: 'Add a silence (admin; audited)', requestBody: { required: true, content: json(NewSilenceSchema) }, responses: { '201': { description: 'Created' }, ...errors } },
      },
      '/api/silences/{id}': { delete: { summary: 'Remove a silence (admin; audited)', parameters: [idParam], responses: { '204': { description: 'Removed' }, '404': { description: 'No such silence' }, ...errors } } },
      '/api/channels': {
        get: { summary: 'Channels with secrets and URL keys redacted (admin)', responses: { '200': { description: 'Channel[]' }, ...errors } },
        put: {
          summary: 'Replace the channels (admin; audited). A secret sent back as "[redacted]" keeps the stored value.',
          requestBody: { required: true, content: json(ChannelsConfigSchema) },
          responses: { '200': { description: 'Stored, redacted' }, ...errors },
        },
      },
      '/api/schemes': {
        get: { summary: 'Monitoring schemes (监测方案) the analyzer tags posts with (admin)', responses: { '200': { description: 'Scheme[]', content: json(SchemesConfigSchema) }, ...errors } },
        put: {
          summary:
            'Replace the monitoring schemes (admin; audited). Every rule is compiled as the analyzer does; the first bad one answers 400 `{ error: "invalid_scheme", scheme, message, position? }` (position: 0-based offset in the rule). The analyzer applies a change within ANALYZER_SCHEMES_REFRESH_MS, without a restart.',
          requestBody: { required: true, content: json(SchemesConfigSchema) },
          responses: { '200': { description: 'Stored' }, ...errors },
        },
      },
      '/api/schemes/{name}': {
        put: {
          summary: 'Create or replace one monitoring scheme (admin; audited); validated like PUT /api/schemes',
          parameters: [nameParam],
          requestBody: { required: true, content: json(SchemeSchema.partial({ name: true })) },
          responses: { '200': { description: 'Stored' }, ...errors },
        },
        delete: { summary: 'Remove a monitoring scheme (admin; audited)', parameters: [nameParam], responses: { '204': { description: 'Removed' }, '404': { description: 'No such scheme' }, ...errors } },
      },
      '/api/audit': { get: { summary: 'The last 200 configuration changes, newest first (admin)', responses: { '200': { description: 'Audit records' }, ...errors } } },
      '/api/openapi.json': { get: { security: [], summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    },
  };
}
