import type { IncidentEvent } from '@tingfeng/contracts';
import { JOB_NAMES, RETRIED_JOB, type NotifyChange, type NotifyJobData, type Queue } from '@tingfeng/queue';
import { toIncident, type IncidentView } from '../domain/incident-view.js';

/** Whether an event is a change people are told about, and as what. A severity raise travels as `alert_appended`. */
export function notifyChange(event: IncidentEvent): NotifyChange | undefined {
  switch (event.kind) {
    case 'opened':
    case 'acknowledged':
    case 'resolved':
      return event.kind;
    case 'alert_appended':
      return event.data['previousSeverity'] !== undefined ? 'alert_appended' : undefined;
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
  events: readonly IncidentEvent[],
  view: IncidentView,
  publicUrl: string,
): Promise<NotifyChange[]> {
  const changes: NotifyChange[] = [];
  for (const event of events) {
    const change = notifyChange(event);
    if (!change) continue;
    const previousSeverity = event.data['previousSeverity'];
    const data: NotifyJobData = {
      eventId: event.eventId,
      change,
      incident: toIncident(view),
      actor: event.actor,
      at: event.at,
      url: incidentUrl(publicUrl, view.id),
      ...(typeof previousSeverity === 'string' ? { previousSeverity: previousSeverity as NotifyJobData['previousSeverity'] & string } : {}),
    };
    await queue.add(JOB_NAMES.notify, data, { jobId: event.eventId, ...RETRIED_JOB });
    changes.push(change);
  }
  return changes;
}
