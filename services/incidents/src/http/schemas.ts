import { z } from 'zod';
import { AlertSchema, IncidentSchema, INCIDENT_STATUSES, ROLES, SEVERITIES } from '@tingfeng/contracts';
import { PERMISSIONS } from './auth.js';
import { decodeListCursor } from '../store/view-store.js';

/**
 * The schemas the OpenAPI document names as components (`#/components/schemas/<id>`); everything else is inlined.
 * A registry of our own rather than zod's global one, so a library's schemas never leak into the document.
 */
export const apiSchemas = z.registry<{ id?: string; description?: string }>();

const named = <S extends z.ZodType>(id: string, schema: S, description?: string): S => {
  apiSchemas.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
};

const csv = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean))
    .pipe(z.array(item));

const time = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 time')
  .transform((s) => Date.parse(s));

/** Every error answer: a stable code and a sentence; validation errors add `issues`, scheme errors `scheme` and `position`. */
export const ErrorSchema = named(
  'Error',
  z.looseObject({
    error: z.string().describe('stable code: invalid_request, unauthorized, forbidden, not_found, conflict, invalid_scheme, not_ready, payload_too_large, note_too_large, rate_limited, too_many_streams, internal'),
    message: z.string().optional(),
    issues: z.array(z.object({ in: z.string(), path: z.string(), message: z.string() })).optional(),
  }),
  'An error: a stable code and a sentence',
);

/** `GET /api/incidents` query. Lists are comma-separated; since/until bound `openedAt` (wall time). */
export const ListQuerySchema = z.object({
  status: csv(z.enum(INCIDENT_STATUSES)).optional().describe('comma-separated: triggered,acknowledged,resolved'),
  type: csv(z.string().min(1)).optional().describe('comma-separated alert types'),
  severity: csv(z.enum(SEVERITIES)).optional().describe('comma-separated: info,warning,critical'),
  scheme: z.string().min(1).optional().describe('monitoring scheme name'),
  since: time.optional().describe('openedAt ≥ since (ISO-8601)'),
  until: time.optional().describe('openedAt ≤ until (ISO-8601)'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
  cursor: z
    .string()
    .max(400)
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      const c = decodeListCursor(v);
      if (!c) ctx.addIssue({ code: 'custom', message: 'not a cursor this API gave (nextCursor)' });
      return c;
    })
    .describe('the previous page’s nextCursor: the page after it (offset is then ignored)'),
});

/** `GET /api/incidents/:id/timeline` and `/alerts`: pages back from the newest. */
export const HistoryQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.coerce.number().int().min(1).optional().describe('the previous page’s nextCursor (a seq): the entries before it'),
});

export const IdParamsSchema = z.object({ id: z.string().min(1).max(200) });

/** Optional: a POST without a body (fastify reads it as null) resolves without a reason. */
export const ResolveBodySchema = z
  .object({ reason: z.string().max(2000).optional() })
  .nullable()
  .optional()
  .transform((b) => b ?? {});
/** The length cap is the route's (INCIDENT_NOTE_MAX_CHARS, answered 413), not the schema's: a too-long note is not malformed. */
export const NoteBodySchema = z.object({ text: z.string().trim().min(1, 'text must not be empty') });
export const AssignBodySchema = z.object({ assignee: z.string().trim().min(1, 'assignee must not be empty').max(200) });
export const ResponseBodySchema = z.object({
  accounts: z.array(z.string().trim().min(1)).min(1, 'name at least one account').max(200),
  startedAt: z.iso.datetime({ offset: true }).optional(),
});

const nullableString = z.string().nullable().optional();

const ResponseCampaignSchema = z.object({ accounts: z.array(z.string()), startedAt: z.string(), by: z.string() });

// Answers are objects that list every field (a field not named here is not sent), so the document is the answer;
// only the alerts are loose, as their contract is.

/** A list row: the incident without alerts and timeline. */
export const IncidentSummarySchema = named(
  'IncidentSummary',
  IncidentSchema.omit({ alerts: true, schemes: true }).extend({
    openedAt: z.string().describe('wall time the incident opened (ISO-8601)'),
    resolvedBy: nullableString,
    assignee: nullableString,
    alertCount: z.number().int(),
    lastAlertAt: z.string().describe('wall time of the last alert'),
    lastAlertEventAt: z.string().describe('event time of the last alert'),
    terms: z.array(z.string()).describe('the alerts’ terms, most frequent first (at most 8)'),
    schemes: z.array(z.string()).optional(),
    response: ResponseCampaignSchema.nullable(),
  }),
  'An incident as the list shows it',
);

export const IncidentListSchema = z.object({
  items: z.array(IncidentSummarySchema),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  nextCursor: z.string().nullable().describe('pass as cursor for the next page; null on the last'),
});

/** `CampaignSeries` of `@tingfeng/queue` as the detector writes it: dense per bucket of event time from `startMs`. */
const CampaignSeriesSchema = z.object({
  incidentId: z.string(),
  bucketMs: z.number(),
  startMs: z.number().describe('epoch ms (event time) of the first bucket'),
  startedAtMs: z.number().describe('epoch ms (event time) the response began'),
  accounts: z.array(z.string()),
  narrative: z.array(z.number()).describe('narrative posts per bucket'),
  negative: z.array(z.number()).describe('narrative posts with sentiment below 0 per bucket'),
  response: z.array(z.number()).describe('posts by the campaign’s accounts per bucket'),
  reach: z.array(z.number()).describe('followers of those posts’ authors per bucket'),
  baseline: z.object({ narrative: z.number(), negative: z.number() }).nullable().optional(),
  lastAlertBucketMs: z.number().nullable().optional(),
  eventTimeMs: z.number().nullable().optional(),
});

const TimelineEntrySchema = z.object({
  eventId: z.string(),
  incidentId: z.string(),
  kind: z.string(),
  actor: z.string(),
  at: z.string(),
  data: z.record(z.string(), z.unknown()),
  seq: z.number().int().optional().describe('1 for the incident’s first event, then one more per event'),
});

const historyPage = <T extends z.ZodType>(item: T) =>
  z.object({
    incidentId: z.string(),
    items: z.array(item).describe('oldest first'),
    total: z.number().int().describe('entries the incident has had in all'),
    firstSeq: z.number().int().nullable().describe('the oldest seq Redis still holds (INCIDENT_HISTORY_MAX); older ones are in the log only'),
    nextCursor: z.number().int().nullable().describe('pass as cursor for the older entries; null when none is left here'),
  });

export const TimelinePageSchema = named('TimelinePage', historyPage(TimelineEntrySchema), 'A page of an incident’s timeline');
export const AlertsPageSchema = named('AlertsPage', historyPage(z.object({ seq: z.number().int(), alert: AlertSchema })), 'A page of an incident’s alerts');

/** One incident: the summary fields, its alerts and timeline, and what the page derives from them. */
export const IncidentDetailSchema = named(
  'IncidentDetail',
  IncidentSchema.omit({ alerts: true }).extend({
    resolvedBy: nullableString,
    assignee: nullableString,
    lastAlertAt: z.string().describe('wall time of the last alert'),
    firstAlertEventAt: z.string().describe('event time of the first alert'),
    lastAlertEventAt: z.string().describe('event time of the last alert'),
    escalationLevel: z.number().int().optional().describe('highest escalation level the notifier reported'),
    alerts: z.array(AlertSchema).describe('the newest alerts (INCIDENT_VIEW_ALERTS_MAX) as the detectors emitted them (contract Alert); all of them: GET …/alerts'),
    alertCount: z.number().int().optional().describe('alerts the incident holds in all'),
    timeline: z.array(TimelineEntrySchema).describe('the newest incident events applied (INCIDENT_VIEW_TIMELINE_MAX), in log order; all of them: GET …/timeline'),
    timelineCount: z.number().int().optional().describe('events applied in all'),
    retainedUntil: z.string().nullable().optional().describe('a resolved incident leaves Redis at this wall time (the log keeps it; POST …/rebuild brings it back)'),
    response: ResponseCampaignSchema.nullable().optional(),
    campaign: ResponseCampaignSchema.optional().describe('present when answered by a response campaign'),
    campaignSeries: CampaignSeriesSchema.optional().describe('the detector’s curves for the campaign, once it has written them'),
    detail: z.object({
      postIds: z.array(z.string()),
      samples: z.array(z.object({ id: z.string(), text: z.string(), author: z.string().optional(), at: z.string().optional() })),
      terms: z.array(z.string()),
      accounts: z.array(z.string()),
      volume: z
        .array(
          z.object({
            alertId: z.string(),
            at: z.string(),
            windowStart: z.string().nullable(),
            windowEnd: z.string().nullable(),
            observed: z.number(),
            expected: z.number(),
            score: z.number().nullable(),
            severity: z.string(),
          }),
        )
        .describe('observed vs expected per alert window'),
      series: z
        .array(z.object({ field: z.string(), alertId: z.string(), xIsTime: z.boolean(), points: z.array(z.object({ x: z.number(), y: z.number() })) }))
        .describe('numeric series the alerts carry (growth curve, …)'),
    }),
  }),
  'An incident with its alerts, timeline, evidence and series',
);

export const WhoamiSchema = z.object({
  principal: z.string(),
  role: z.enum(ROLES),
  /** What the role may do (the dashboard enables its controls by these, so the grants are stated on the server only). */
  permissions: z.array(z.enum(PERMISSIONS)),
});
