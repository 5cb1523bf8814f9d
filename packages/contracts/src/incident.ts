import type { Alert, Severity } from './alert.js';

export const INCIDENT_STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const ROLES = ['analyst', 'oncall', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Incident {
  id: string;
  key: string;
  type: string;
  status: IncidentStatus;
  severity: Severity;
  title: string;
  openedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy?: string | null;
  assignee?: string | null;
  alerts: Alert[];
  schemes?: string[];
}

/** One change to an incident, as recorded on `incident-events`, the log of record. */
export interface IncidentEvent {
  /** Unique per event; replays of the same change carry the same id. */
  eventId: string;
  incidentId: string;
  kind: 'opened' | 'alert_appended' | 'notified' | 'acknowledged' | 'resolved' | 'note_added' | 'assigned' | 'escalated' | 'response_started';
  /** Who did it: a user name, or `system:<component>`. */
  actor: string;
  /** Wall-clock time of the change, ISO-8601. */
  at: string;
  data: Record<string, unknown>;
}
