import { Queue } from 'bullmq';
import type { Redis } from '@tingfeng/redis';
import type { AlertSink } from './outbox.js';

/** How long finished alert jobs are kept: while kept, a replayed alert with the same id is not queued again. */
const KEEP_DONE_SECONDS = 7 * 24 * 3600;

/** The BullMQ `alerts` queue as an alert sink: job name `alert`, jobId = alert id, so a redelivered alert adds nothing. */
export function createAlertQueue(connection: Redis, name: string, prefix: string): { queue: Queue; sink: AlertSink } {
  const queue = new Queue(name, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: { age: KEEP_DONE_SECONDS }, removeOnFail: { age: KEEP_DONE_SECONDS }, attempts: 5, backoff: { type: 'exponential', delay: 1000 } },
  });
  const sink: AlertSink = async (alerts) => {
    await queue.addBulk(alerts.map((alert) => ({ name: 'alert', data: alert, opts: { jobId: alert.id } })));
  };
  return { queue, sink };
}
