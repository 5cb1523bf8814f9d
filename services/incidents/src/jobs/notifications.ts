import type { IncidentEvent } from '@tingfeng/contracts';
import { RETRIED_JOB, type Queue } from '@tingfeng/queue';
import { JOB_NAMES, type NotifyChange, type NotifyJobData } from '@tingfeng/contracts';
import { toIncident, type IncidentView, type TimelineEntry } from '../domain/incident-view.js';

/** An event, or its entry in the timeline (an alert already grouped re-enqueues from there). */
export type NotableEvent = IncidentEvent | TimelineEntry;

/** Whether an event is a change people are told about, and as what. A severity raise travels as `alert_appended`. */
export function notifyChange(event: NotableEvent): NotifyChange | undefined {
  switch (event.kind) {
    case 'opened':
    case 'acknowledged':
    case 'resolved':
      return event.kind;
    case 'alert_appended':
      return event.data.previousSeverity !== undefined ? 'alert_appended' : undefined;
    default:
      return undefined;
  }
}

/** The link to an incident on the dashboard. */
export function incidentUrl(publicUrl: string, id: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/#/incidents/${encodeURIComponent(id)}`;
}

/**
 * Puts one `notify` job per notable event on `notifications`, jobId = eventId: enqueuing the same event again
 * (a retried alert job, a repeated command) adds nothing while BullMQ still holds the job. A job that throws is
 * retried with backoff ({@link RETRIED_JOB}).
 */
export async function enqueueNotifications(
  queue: Queue<NotifyJobData>,
  events: readonly NotableEvent[],
  view: IncidentView,
  publicUrl: string,
): Promise<NotifyChange[]> {
  const changes: NotifyChange[] = [];
  for (const event of events) {
    const change = notifyChange(event);
    if (!change) continue;
    const previousSeverity = event.kind === 'alert_appended' ? event.data.previousSeverity : undefined;
    const data: NotifyJobData = {
      eventId: event.eventId,
      change,
      incident: toIncident(view),
      actor: event.actor,
      at: event.at,
      url: incidentUrl(publicUrl, view.id),
      ...(previousSeverity !== undefined ? { previousSeverity } : {}),
    };
    await queue.add(JOB_NAMES.notify, data, { jobId: event.eventId, ...RETRIED_JOB });
    changes.push(change);
  }
  return changes;
}
