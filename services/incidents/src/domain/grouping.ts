import { createHash } from 'node:crypto';
import type { Alert, IncidentEvent } from '@tingfeng/contracts';
import { SEVERITY_RANK } from '@tingfeng/contracts';
import { isOpen, type IncidentView } from './incident-view.js';

/** The actor recorded on events the service decides by itself from alerts. */
export const GROUPING_ACTOR = 'system:incidents';

function shortHash(value: string, length = 16): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/**
 * The id of the incident an alert opens: derived from its key and its id, so a re-decided alert (a retried job,
 * a replay) names the same incident. No `:` in it: event ids built from it are BullMQ job ids.
 */
export function incidentIdFor(key: string, openingAlertId: string): string {
  return `inc-${shortHash(`${key}\n${openingAlertId}`)}`;
}

/** Event ids are deterministic for decisions from alerts, so appending one twice applies once. */
export function alertEventId(incidentId: string, kind: 'opened' | 'alert_appended', alertId: string): string {
  return kind === 'opened' ? `${incidentId}.opened` : `${incidentId}.alert.${shortHash(alertId)}`;
}

export type GroupingOutcome = 'opened' | 'appended' | 'duplicate';

export interface GroupingDecision {
  outcome: GroupingOutcome;
  incidentId: string | undefined;
  events: IncidentEvent[];
}

/** The incident an alert belongs to: its `incidentKey` when the detector linked it to a wider conversation, else its `key`. */
export function incidentKeyOf(alert: Alert): string {
  return alert.incidentKey ?? alert.key;
}

/**
 * PagerDuty-style grouping, purely: `open` is the current incident for {@link incidentKeyOf}(alert) (or undefined).
 * No open incident (none, or the last one resolved) → a new incident; an open one → the alert is appended and
 * may raise the severity, never lower it; an alert the incident already holds → nothing.
 * `nowIso` is the wall-clock time recorded on the events.
 */
export function decide(open: IncidentView | undefined, alert: Alert, nowIso: string): GroupingDecision {
  if (open && open.alerts.some((a) => a.id === alert.id)) return { outcome: 'duplicate', incidentId: open.id, events: [] };
  if (!open || !isOpen(open)) {
    const incidentId = incidentIdFor(incidentKeyOf(alert), alert.id);
    return {
      outcome: 'opened',
      incidentId,
      events: [{ eventId: alertEventId(incidentId, 'opened', alert.id), incidentId, kind: 'opened', actor: GROUPING_ACTOR, at: nowIso, data: { alert, severity: alert.severity } }],
    };
  }
  const raised = SEVERITY_RANK[alert.severity] > SEVERITY_RANK[open.severity];
  return {
    outcome: 'appended',
    incidentId: open.id,
    events: [
      {
        eventId: alertEventId(open.id, 'alert_appended', alert.id),
        incidentId: open.id,
        kind: 'alert_appended',
        actor: GROUPING_ACTOR,
        at: nowIso,
        data: { alert, severity: raised ? alert.severity : open.severity, ...(raised ? { previousSeverity: open.severity } : {}) },
      },
    ],
  };
}
