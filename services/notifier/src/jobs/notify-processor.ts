import { JOB_NAMES, NotifyJobDataSchema, type NotifyJobData } from '@tingfeng/contracts';
import { RETRIED_JOB, UnrecoverableError, type Job } from '@tingfeng/queue';
import { activeSilence, routeIncident } from '../routing/routes.js';
import type { NotifierContext } from './context.js';
import { enqueueDeliveries } from './enqueue.js';
import { escalationJobId } from './job-ids.js';

/** Escalation levels looked at when cancelling: more than any sane chain, so a shortened chain leaves no job behind. */
const MAX_LEVELS = 10;

export type NotifyOutcome =
  | { outcome: 'routed'; channels: string[] }
  | { outcome: 'silenced'; silenceId: string }
  | { outcome: 'unrouted' };

/** Removes the pending escalation jobs of an incident. A job already running re-checks the status and does nothing. */
export async function cancelEscalations(ctx: NotifierContext, incidentId: string): Promise<number> {
  let removed = 0;
  for (let level = 1; level <= MAX_LEVELS; level++) removed += await ctx.escalations.remove(escalationJobId(incidentId, level)).catch(() => 0);
  return removed;
}

/**
 * Handles one incident change from `notifications`: cancels escalation on acknowledge/resolve, schedules it on open,
 * drops it under a silence, and otherwise fans out one delivery job per routed channel.
 */
export function createNotifyProcessor(ctx: NotifierContext) {
  return async (job: Job<NotifyJobData>): Promise<NotifyOutcome> => {
    // The incidents service wrote it: read through the contract, and fail at once what no retry can mend.
    const parsed = NotifyJobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`notify job ${job.id ?? ''} is not NotifyJobData: ${parsed.error.message.slice(0, 300)}`);
    const { eventId, change, incident } = parsed.data;
    const log = ctx.logger.child({ eventId, incidentId: incident.id, change });
    if (change === 'acknowledged' || change === 'resolved') {
      const removed = await cancelEscalations(ctx, incident.id);
      if (removed > 0) log.info({ removed }, 'escalation cancelled');
    }
    const config = await ctx.configStore.load();
    const decision = routeIncident(config.routes, incident, ctx.settings.fallback);
    const first = decision.escalation[0];
    if (change === 'opened' && incident.status === 'triggered' && first) {
      // Measured from when the notifier learns of the incident: `openedAt` may be replayed event time.
      await ctx.escalations.add(
        JOB_NAMES.escalate,
        { incidentId: incident.id, level: 1 },
        { ...RETRIED_JOB, jobId: escalationJobId(incident.id, 1), delay: first.afterMs },
      );
    }
    const silence = activeSilence(config.silences, incident, Date.now());
    if (silence) {
      ctx.metrics.notifications.inc({ change, outcome: 'silenced' });
      log.info({ silenceId: silence.id }, 'silenced');
      return { outcome: 'silenced', silenceId: silence.id };
    }
    const channels = decision.channels.filter((id) => {
      const channel = config.channels.get(id);
      if (!channel) log.warn({ channelId: id }, 'route names an unknown channel');
      return channel !== undefined && channel.enabled !== false;
    });
    if (channels.length === 0) {
      ctx.metrics.notifications.inc({ change, outcome: 'unrouted' });
      log.warn({ rules: decision.ruleIds }, 'no channel to notify');
      return { outcome: 'unrouted' };
    }
    await enqueueDeliveries(ctx, { eventId, change, incident }, channels);
    ctx.metrics.notifications.inc({ change, outcome: 'routed' });
    log.info({ channels, rules: decision.ruleIds }, 'routed');
    return { outcome: 'routed', channels };
  };
}
