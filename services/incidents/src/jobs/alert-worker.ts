import { AlertSchema, QUEUES } from '@tingfeng/contracts';
import type { Logger } from '@tingfeng/logger';
import { UnrecoverableError, Worker, type Job, type QueueSettings } from '@tingfeng/queue';
import type { AlertJobData } from '@tingfeng/contracts';
import type { IncidentCommands } from '../commands/incident-commands.js';
import type { IncidentsMetrics } from '../metrics.js';

/**
 * The BullMQ worker of `alerts`, concurrency 1: alerts are grouped one at a time, in arrival order.
 * An alert that breaks the contract fails for good (it stays visible as a failed job); anything else is retried.
 */
export function createAlertWorker(settings: QueueSettings, commands: IncidentCommands, metrics: IncidentsMetrics, logger: Logger): Worker<AlertJobData> {
  const worker = new Worker<AlertJobData>(
    QUEUES.alerts,
    async (job: Job<AlertJobData>) => {
      const parsed = AlertSchema.safeParse(job.data);
      if (!parsed.success) {
        metrics.alerts.inc({ outcome: 'invalid' });
        const issue = parsed.error.issues[0];
        throw new UnrecoverableError(`alert breaks the contract: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
      }
      const result = await commands.handleAlert(parsed.data);
      logger.debug({ alertId: parsed.data.id, key: parsed.data.key, ...result }, 'alert grouped');
      return result;
    },
    { ...settings, concurrency: 1, autorun: false },
  );
  worker.on('failed', (job, err) => logger.warn({ jobId: job?.id, err, attempts: job?.attemptsMade }, 'alert job failed'));
  worker.on('error', (err) => logger.error({ err }, 'alert worker error'));
  return worker;
}
