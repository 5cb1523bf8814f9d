import { z } from 'zod';
import { SEVERITIES, type Alert } from './alert.js';
import { IncidentSchema } from './incident.js';

/** Job names on the system's queues (queue names are QUEUES). */
export const JOB_NAMES = {
  /** On `alerts`: data is an Alert, jobId is `alert.id`. */
  alert: 'alert',
  /** On `notifications`: data is NotifyJobData, jobId is the IncidentEvent's eventId. */
  notify: 'notify',
  /** On `escalations`: data is EscalationJobData, jobId `esc:<incidentId>:<level>`. */
  escalate: 'escalate',
} as const;

/** Data of a job on `alerts` (the detector writes it, the incidents service parses it with AlertSchema). */
export type AlertJobData = Alert;

/**
 * Incident changes the incidents service tells people about, each an IncidentEvent kind:
 * - `opened`: a new incident;
 * - `alert_appended`: only enqueued when the alert raised the severity (`previousSeverity` says from what);
 * - `acknowledged`;
 * - `resolved`: by a person, or by `system:auto-resolve` after the quiet period (`actor` and `incident.resolvedBy` say which).
 */
export const NOTIFY_CHANGES = ['opened', 'alert_appended', 'acknowledged', 'resolved'] as const;
export type NotifyChange = (typeof NOTIFY_CHANGES)[number];

/**
 * Data of a job on `notifications` (job name `notify`, jobId = eventId, so a retry never duplicates), written by the
 * incidents service and parsed with this schema by the notifier.
 */
export const NotifyJobDataSchema = z.object({
  eventId: z.string().min(1),
  change: z.enum(NOTIFY_CHANGES),
  /** The incident as it stood right after the change (no timeline). */
  incident: IncidentSchema,
  /** Who made the change (`system:incidents`, `system:auto-resolve`, or an API principal). */
  actor: z.string().optional(),
  /** Wall-clock time of the change, ISO-8601. */
  at: z.string().optional(),
  /** For `alert_appended`: the severity before the raise. */
  previousSeverity: z.enum(SEVERITIES).optional(),
  /** Absolute link to the incident page on the dashboard (`PUBLIC_URL/#/incidents/<id>`). */
  url: z.string().optional(),
});
export type NotifyJobData = z.infer<typeof NotifyJobDataSchema>;

/** Data of a job on `escalations` (written and read by the notifier alone). */
export interface EscalationJobData {
  incidentId: string;
  /** The escalation level this job notifies (1 = first escalation after the initial notification). */
  level: number;
}
