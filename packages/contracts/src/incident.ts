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
