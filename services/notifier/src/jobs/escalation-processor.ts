import { decodeIncidentView, type IncidentEvent } from '@tingfeng/contracts';
import { RETRIED_JOB, type Job } from '@tingfeng/queue';
import { JOB_NAMES, type EscalationJobData } from '@tingfeng/contracts';
import { NOTIFIER_ACTOR } from '../events/event-appender.js';
import { activeSilence, routeIncident } from '../routing/routes.js';
import type { NotifierContext } from './context.js';
import { enqueueDeliveries } from './enqueue.js';
import { escalationJobId } from './job-ids.js';

export type EscalationOutcome = 'escalated' | 'not_triggered' | 'silenced' | 'missing' | 'no_level';

/**
 * Runs when an escalation level is due: re-reads the incident from the Redis view and, only if it is still
 * `triggered` and not silenced, notifies that level's channels, appends an `escalated` event and schedules the next level.
 */
export function createEscalationProcessor(ctx: NotifierContext) {
  return async (job: Job<EscalationJobData>): Promise<EscalationOutcome> => {
    const { incidentId, level } = job.data;
    const outcome = await escalate(ctx, incidentId, level);
    ctx.metrics.escalations.inc({ outcome });
    ctx.logger.info({ incidentId, level, outcome }, 'escalation checked');
    return outcome;
  };
}

async function escalate(ctx: NotifierContext, incidentId: string, level: number): Promise<EscalationOutcome> {
  // A view still being rebuilt from the log (after a wipe of its Redis) may lack the incident or an ack: retried with backoff.
  if (!(await ctx.viewRedis.hexists(ctx.keys.viewEpoch, 'caughtUpAt'))) throw new Error(`the incident view is being rebuilt; incident ${incidentId} not read yet`);
  const raw = await ctx.viewRedis.get(ctx.keys.incident(incidentId));
  if (!raw) return 'missing';
  const incident = decodeIncidentView(raw);
  // Half written, or mid-failover: the job is retried with backoff (RETRIED_JOB) until the view reads.
  if (!incident) throw new Error(`the view of incident ${incidentId} is not an Incident`);
  if (incident.status !== 'triggered') return 'not_triggered';
  const config = await ctx.configStore.load();
  if (activeSilence(config.silences, incident, Date.now())) return 'silenced';
  const chain = routeIncident(config.routes, incident, ctx.settings.fallback).escalation;
  const current = chain[level - 1];
  if (!current) return 'no_level';
  const channels = current.channels.filter((id) => {
    const channel = config.channels.get(id);
    return channel !== undefined && channel.enabled !== false;
  });
  const eventId = `${incidentId}.escalated.${level}`;
  await enqueueDeliveries(ctx, { eventId, change: 'escalated', incident, escalationLevel: level }, channels);
  const event: IncidentEvent = {
    eventId,
    incidentId,
    kind: 'escalated',
    actor: NOTIFIER_ACTOR,
    at: new Date().toISOString(),
    data: { level, channels, afterMs: current.afterMs },
  };
  await ctx.events.append([event]);
  const next = chain[level];
  if (next) {
    await ctx.escalations.add(
      JOB_NAMES.escalate,
      { incidentId, level: level + 1 },
      { ...RETRIED_JOB, jobId: escalationJobId(incidentId, level + 1), delay: Math.max(1_000, next.afterMs - current.afterMs) },
    );
  }
  return 'escalated';
}
