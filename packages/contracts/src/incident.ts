import { z } from 'zod';
import { AlertSchema, SEVERITIES } from './alert.js';
import { decodeJson } from './json.js';

export const INCIDENT_STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const ROLES = ['analyst', 'oncall', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * An incident as notifications carry it (`NotifyJobData.incident`) and as the notifier reads it from the incidents
 * service's Redis view (`{p}incident:<id>`). Parsing strips what the view adds (timeline, counts, service fields).
 */
export const IncidentSchema = z.object({
  id: z.string().min(1),
  /** The alerts' dedup key the incident groups. */
  key: z.string(),
  /** The opening alert's type. */
  type: z.string(),
  status: z.enum(INCIDENT_STATUSES),
  severity: z.enum(SEVERITIES),
  title: z.string(),
  /** Wall time of the `opened` event, ISO-8601. */
  openedAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.string().nullable().optional(),
  assignee: z.string().nullable().optional(),
  /** The newest alerts the view keeps (INCIDENT_VIEW_ALERTS_MAX). */
  alerts: z.array(AlertSchema),
  /** Monitoring schemes any of its alerts matched. */
  schemes: z.array(z.string()).optional(),
});
export type Incident = z.infer<typeof IncidentSchema>;

/** Largest incident view read: the view caps its alerts and timeline, so this is far above any real one. */
export const MAX_INCIDENT_VIEW_BYTES = 64 * 1024 * 1024;

/** The Incident in an incidents-view JSON from Redis, or undefined when it is not one. Never throws. */
export function decodeIncidentView(raw: string): Incident | undefined {
  const decoded = decodeJson(raw, { maxBytes: MAX_INCIDENT_VIEW_BYTES });
  if (!decoded.ok) return undefined;
  const parsed = IncidentSchema.safeParse(decoded.value);
  return parsed.success ? parsed.data : undefined;
}
