import { z } from 'zod';
import { AlertSchema, SEVERITIES } from './alert.js';
import { decodeJson } from './json.js';

/** Largest incident event read: events are small (an alert with at most 50 post ids is the biggest). */
export const MAX_INCIDENT_EVENT_BYTES = 1024 * 1024;

const SeveritySchema = z.enum(SEVERITIES);

/** The fields of every incident event; `kind` says what `data` holds. */
const eventFields = {
  /** Unique per event; replays of the same change carry the same id. */
  eventId: z.string(),
  incidentId: z.string(),
  /** Who did it: a user name, or `system:<component>`; `unknown` for a record that names no one. */
  actor: z.string().catch('unknown'),
  /** Wall-clock time of the change, ISO-8601. */
  at: z.string(),
};

/** An event of one kind. `data` is loose: a field a newer writer adds is kept in the view's timeline. */
function eventOf<K extends string, D extends z.core.$ZodShape>(kind: K, data: D) {
  return z.object({ ...eventFields, kind: z.literal(kind), data: z.looseObject(data) });
}

/**
 * One change to an incident, as recorded on `incident-events`, the log of record. The incidents service writes every
 * kind but `notified` and `escalated`, which the notifier writes; the incidents service folds them all into its view.
 */
export const IncidentEventSchema = z.discriminatedUnion('kind', [
  /** A new incident, opened by its first alert (by `system:incidents`). */
  eventOf('opened', { alert: AlertSchema, severity: SeveritySchema }),
  /** Another alert for an open incident; `previousSeverity` only when it raised the severity to `severity`. */
  eventOf('alert_appended', { alert: AlertSchema, severity: SeveritySchema, previousSeverity: SeveritySchema.optional() }),
  /** A change (`sourceEventId`) delivered to a channel, alone or in a digest. */
  eventOf('notified', {
    channelId: z.string(),
    channelType: z.string(),
    /** The notification's change (`opened`, `escalated`, …). */
    change: z.string(),
    sourceEventId: z.string(),
    via: z.enum(['direct', 'digest']),
    /** Id of the request that carried it (one per digest), also sent to the channel. */
    deliveryId: z.string(),
    escalationLevel: z.number().int().optional(),
  }),
  eventOf('acknowledged', {}),
  /** By a person (`reason` optional), or after the quiet period by `system:auto-resolve` (`auto`, `quietMs`, `lastAlertAt`). */
  eventOf('resolved', {
    reason: z.string().optional(),
    auto: z.boolean().optional(),
    quietMs: z.number().optional(),
    lastAlertAt: z.string().optional(),
  }),
  eventOf('note_added', { text: z.string() }),
  eventOf('assigned', { assignee: z.string(), previous: z.string().nullable().optional() }),
  /** An escalation level notified (`channels`, due `afterMs` after the incident opened), by the notifier. */
  eventOf('escalated', { level: z.number().int(), channels: z.array(z.string()), afterMs: z.number() }),
  /** A response campaign started by the organisation's `accounts` at `startedAt` (the event's `at` when absent). */
  eventOf('response_started', { accounts: z.array(z.string()).default([]), startedAt: z.string().optional() }),
]);

export type IncidentEvent = z.infer<typeof IncidentEventSchema>;
export type IncidentEventKind = IncidentEvent['kind'];
/** The event of one kind, e.g. `IncidentEventOf<'opened'>`. */
export type IncidentEventOf<K extends IncidentEventKind> = Extract<IncidentEvent, { kind: K }>;

/** An incident event as a Kafka record: keyed by incident (one partition keeps an incident's order), its kind in a header. */
export interface IncidentEventRecord {
  key: string;
  value: string;
  headers: { kind: IncidentEventKind };
}

/** The record both writers of `incident-events` (the incidents service, the notifier) produce for an event. */
export function encodeIncidentEvent(event: IncidentEvent): IncidentEventRecord {
  return { key: event.incidentId, value: JSON.stringify(event), headers: { kind: event.kind } };
}

/**
 * An incident event from a record's value, or undefined when it is not one (too large, not JSON, nested too deep, an
 * unknown kind, a field missing or of the wrong type). Never throws.
 */
export function decodeIncidentEvent(value: Uint8Array | string | null | undefined): IncidentEvent | undefined {
  if (value === null || value === undefined) return undefined;
  const decoded = decodeJson(value, { maxBytes: MAX_INCIDENT_EVENT_BYTES });
  if (!decoded.ok) return undefined;
  const parsed = IncidentEventSchema.safeParse(decoded.value);
  return parsed.success ? parsed.data : undefined;
}
