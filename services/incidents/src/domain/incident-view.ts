import type { Alert, Incident, IncidentEvent, Severity } from '@tingfeng/contracts';
import { SEVERITY_RANK } from '@tingfeng/contracts';

/** A response campaign the organisation started against the incident's narrative. */
export interface ResponseCampaign {
  accounts: string[];
  startedAt: string;
  by: string;
}

/**
 * The incident as the Redis view holds it: the contract's Incident plus its audit trail and the fields the
 * service needs (last alert time for auto-resolve). Everything here is derived from `incident-events` alone.
 */
export interface IncidentView extends Incident {
  /**
   * The newest events applied (at most `timelineMax`), in log order; the whole history is paged from the history list
   * (`GET /api/incidents/:id/timeline`) and kept for good in the log. `opened`/`alert_appended` carry the alert id, not
   * the whole alert (it is in `alerts`).
   */
  timeline: TimelineEntry[];
  /** Events applied in all (the `seq` of the newest). */
  timelineCount: number;
  /** Alerts the incident holds in all; `alerts` keeps the newest `alertsMax` of them. */
  alertCount: number;
  /** Wall time past which a resolved incident leaves Redis (resolvedAt + retention, or later once rebuilt); null while open. */
  retainedUntil?: string | null;
  /** Wall time the last alert was appended (the event's `at`): the quiet period counts from here. */
  lastAlertAt: string;
  /** Event time (`alert.at`) of the first and the latest alert. */
  firstAlertEventAt: string;
  lastAlertEventAt: string;
  response?: ResponseCampaign | null;
  /** Highest escalation level the notifier reported. */
  escalationLevel?: number;
}

/** An event whose alert the timeline holds by id (`alertId`), since the view's `alerts` hold it whole. */
type AlertReferenced<E extends IncidentEvent> = E extends { data: { alert: Alert } }
  ? Omit<E, 'data'> & { data: { [K in keyof E['data'] as K extends 'alert' ? never : K]: E['data'][K] } & { alertId: string } }
  : E;

/** An event as the timeline keeps it, numbered from 1 in the incident's log order. */
export type TimelineEntry = AlertReferenced<IncidentEvent> & { seq: number };

/** How much of its history an incident's view carries (INCIDENT_VIEW_TIMELINE_MAX, INCIDENT_VIEW_ALERTS_MAX). */
export interface ViewCaps {
  timelineMax: number;
  alertsMax: number;
}

/** Caps that keep everything: for tests and pure folds over a whole history. */
export const UNCAPPED: ViewCaps = { timelineMax: Number.POSITIVE_INFINITY, alertsMax: Number.POSITIVE_INFINITY };

/** The newest `max` items of `items`, plus `item`. */
function pushCapped<T>(items: readonly T[], item: T, max: number): T[] {
  const out = [...items, item];
  return out.length > max ? out.slice(out.length - max) : out;
}

/** What applying one event did. */
export type ApplyOutcome = 'applied' | 'duplicate' | 'orphan';

export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a;
}

export function isOpen(view: Pick<Incident, 'status'>): boolean {
  return view.status !== 'resolved';
}

/** The event as the timeline keeps it: an alert is referenced by id, since `alerts` holds it whole. */
export function timelineEntry(event: IncidentEvent, seq: number): TimelineEntry {
  if (event.kind === 'opened' || event.kind === 'alert_appended') {
    const { alert, ...rest } = event.data;
    return { ...event, data: { ...rest, alertId: alert.id }, seq };
  }
  return { ...event, seq };
}

function mergeSchemes(current: string[] | undefined, alert: Alert): string[] | undefined {
  const add = alert.schemes ?? [];
  if (add.length === 0) return current;
  return [...new Set([...(current ?? []), ...add])];
}

/**
 * Applies one event to the view, purely, keeping the newest `caps` timeline entries and alerts. Idempotent by
 * `eventId` as far as the view's timeline reaches (the applier checks the incident's whole history in Redis first).
 * An event for an incident the view does not hold (other than `opened`) is an orphan and changes nothing.
 */
export function applyEvent(view: IncidentView | undefined, event: IncidentEvent, caps: ViewCaps = UNCAPPED): { view: IncidentView | undefined; outcome: ApplyOutcome } {
  if (view?.timeline.some((e) => e.eventId === event.eventId)) return { view, outcome: 'duplicate' };
  if (event.kind === 'opened') {
    if (view) return { view, outcome: 'duplicate' };
    const { alert } = event.data;
    const opened: IncidentView = {
      id: event.incidentId,
      key: alert.incidentKey ?? alert.key,
      type: alert.type,
      status: 'triggered',
      severity: alert.severity,
      title: alert.title,
      openedAt: event.at,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      assignee: null,
      alerts: [alert],
      ...(alert.schemes && alert.schemes.length > 0 ? { schemes: [...new Set(alert.schemes)] } : {}),
      timeline: [timelineEntry(event, 1)],
      timelineCount: 1,
      alertCount: 1,
      retainedUntil: null,
      lastAlertAt: event.at,
      firstAlertEventAt: alert.at,
      lastAlertEventAt: alert.at,
      response: null,
    };
    return { view: opened, outcome: 'applied' };
  }
  if (!view) return { view, outcome: 'orphan' };
  const seq = (view.timelineCount ?? view.timeline.length) + 1;
  const next: IncidentView = { ...view, timeline: pushCapped(view.timeline, timelineEntry(event, seq), caps.timelineMax), timelineCount: seq };
  next.alertCount ??= view.alerts.length;
  switch (event.kind) {
    case 'alert_appended': {
      const { alert } = event.data;
      if (!next.alerts.some((a) => a.id === alert.id)) {
        next.alerts = pushCapped(next.alerts, alert, caps.alertsMax);
        next.alertCount += 1;
      }
      next.severity = maxSeverity(next.severity, alert.severity);
      next.lastAlertAt = event.at;
      if (Date.parse(alert.at) > Date.parse(next.lastAlertEventAt)) next.lastAlertEventAt = alert.at;
      const schemes = mergeSchemes(next.schemes, alert);
      if (schemes) next.schemes = schemes;
      break;
    }
    case 'acknowledged':
      if (next.status === 'triggered') {
        next.status = 'acknowledged';
        next.acknowledgedAt = event.at;
        next.acknowledgedBy = event.actor;
      }
      break;
    case 'resolved':
      if (next.status !== 'resolved') {
        next.status = 'resolved';
        next.resolvedAt = event.at;
        next.resolvedBy = event.actor;
      }
      break;
    case 'assigned':
      next.assignee = event.data.assignee;
      break;
    case 'response_started':
      next.response = {
        accounts: event.data.accounts,
        startedAt: event.data.startedAt ?? event.at,
        by: event.actor,
      };
      break;
    case 'escalated':
      next.escalationLevel = Math.max(next.escalationLevel ?? 0, event.data.level);
      break;
    case 'note_added':
    case 'notified':
      break;
  }
  return { view: next, outcome: 'applied' };
}

/** The contract's Incident (what notifications carry): the view without its timeline and service fields; `alerts` are the newest the view keeps. */
export function toIncident(view: IncidentView): Incident {
  const {
    timeline: _timeline,
    timelineCount: _tc,
    alertCount: _ac,
    retainedUntil: _ru,
    lastAlertAt: _l,
    firstAlertEventAt: _f,
    lastAlertEventAt: _le,
    response: _r,
    escalationLevel: _e,
    ...incident
  } = view;
  return incident;
}

/** A list row: the incident without alerts and timeline, with counts and the top terms. */
export interface IncidentSummary extends Omit<Incident, 'alerts'> {
  alertCount: number;
  lastAlertAt: string;
  lastAlertEventAt: string;
  terms: string[];
  response: ResponseCampaign | null;
}

export function summarize(view: IncidentView): IncidentSummary {
  const { alerts, timeline: _t, timelineCount: _tc, retainedUntil: _ru, firstAlertEventAt: _f, escalationLevel: _e, ...rest } = view;
  return { ...rest, response: view.response ?? null, alertCount: view.alertCount ?? alerts.length, terms: rankTerms(alerts).slice(0, 8) };
}

/**
 * The list indexes (`{p}incidents-idx:<dimension>:<value>` ZSETs scored by openedAt) the view belongs to: its status,
 * severity, type and each monitoring scheme. `GET /api/incidents` reads these instead of every stored incident.
 */
export function indexEntries(view: Pick<IncidentView, 'status' | 'severity' | 'type' | 'schemes'>): [dimension: IndexDimension, value: string][] {
  return [['status', view.status], ['severity', view.severity], ['type', view.type], ...(view.schemes ?? []).map((s): [IndexDimension, string] => ['scheme', s])];
}

/** What the incident list is indexed by. */
export type IndexDimension = 'status' | 'severity' | 'type' | 'scheme';

/** The alerts' terms, most frequent first, ties by first appearance. */
export function rankTerms(alerts: readonly Alert[]): string[] {
  const counts = new Map<string, number>();
  for (const a of alerts) for (const t of a.terms) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts.entries()].sort((x, y) => y[1] - x[1]).map(([t]) => t);
}
