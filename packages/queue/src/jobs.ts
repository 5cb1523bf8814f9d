import type { Alert, Incident, IncidentEvent, Severity } from '@tingfeng/contracts';

/** Job names on the system's queues (queue names are QUEUES in @tingfeng/contracts). */
export const JOB_NAMES = {
  /** On `alerts`: data is an Alert, jobId is `alert.id`. */
  alert: 'alert',
  /** On `notifications`: data is NotifyJobData, jobId is the IncidentEvent's eventId. */
  notify: 'notify',
  /** On `escalations`: data is EscalationJobData, jobId `esc:<incidentId>:<level>`. */
  escalate: 'escalate',
} as const;

/** Data of a job on `alerts`. */
export type AlertJobData = Alert;

/**
 * Incident changes the incidents service tells people about. `change` is the IncidentEvent kind:
 * - `opened`: a new incident;
 * - `alert_appended`: only enqueued when the alert raised the severity (`previousSeverity` says from what);
 * - `acknowledged`;
 * - `resolved`: by a person, or by `system:auto-resolve` after the quiet period (`actor` and `incident.resolvedBy` say which).
 */
export type NotifyChange = Extract<IncidentEvent['kind'], 'opened' | 'alert_appended' | 'acknowledged' | 'resolved'>;

/** Data of a job on `notifications` (job name `notify`, jobId = eventId, so a retry never duplicates). */
export interface NotifyJobData {
  eventId: string;
  change: NotifyChange;
  /** The incident as it stood right after the change (no timeline). */
  incident: Incident;
  /** Who made the change (`system:incidents`, `system:auto-resolve`, or an API principal). */
  actor?: string;
  /** Wall-clock time of the change, ISO-8601. */
  at?: string;
  /** For `alert_appended`: the severity before the raise. */
  previousSeverity?: Severity;
  /** Absolute link to the incident page on the dashboard (`PUBLIC_URL/#/incidents/<id>`). */
  url?: string;
}

/** Data of a job on `escalations` (owned by the notifier). */
export interface EscalationJobData {
  incidentId: string;
  /** The escalation level this job notifies (1 = first escalation after the initial notification). */
  level: number;
}

/**
 * BullMQ retention for jobs whose id de-duplicates: completed ones are kept a week so a late retry still finds them;
 * failed ones a month, at most 10,000, so a long outage cannot grow Redis without bound.
 */
export const DEDUP_RETENTION = {
  removeOnComplete: { age: 7 * 24 * 3600, count: 50_000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
} as const;

/**
 * Retries of a `notify` or `escalate` job: one transient error (Redis or Kafka away, a slow failover) must not drop a
 * notification or end an escalation chain. Ten attempts 1 s, 2 s, 4 s … apart ride out about 17 minutes; both
 * processors are idempotent (their follow-up jobs and events carry fixed ids), so a retry adds nothing twice.
 */
export const RETRIED_JOB = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  ...DEDUP_RETENTION,
} as const;
