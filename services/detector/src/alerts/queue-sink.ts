import { JOB_RETENTION, Queue } from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import type { AlertSink } from './outbox.js';

/**
 * The BullMQ `alerts` queue as an alert sink: job name `alert`, jobId = alert id, so a redelivered alert adds nothing
 * while the job is kept ({@link JOB_RETENTION}).
 */
export function createAlertQueue(connection: Redis, name: string, prefix: string): { queue: Queue; sink: AlertSink } {
  const queue = new Queue(name, {
    connection,
    prefix,
    defaultJobOptions: { ...JOB_RETENTION, attempts: 5, backoff: { type: 'exponential', delay: 1000 } },
  });
  const sink: AlertSink = async (alerts) => {
    await queue.addBulk(alerts.map((alert) => ({ name: 'alert', data: alert, opts: { jobId: alert.id } })));
  };
  return { queue, sink };
}
