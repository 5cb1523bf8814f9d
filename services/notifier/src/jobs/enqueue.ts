import type { NotificationItem } from '@tingfeng/channels';
import { JOB_RETENTION } from '@tingfeng/queue';
import { JITTER_BACKOFF } from '../delivery/backoff.js';
import type { DigestBucket } from '../delivery/store.js';
import type { NotifierContext } from './context.js';
import { deliveryJobId, digestJobId } from './job-ids.js';
import { DELIVERY_JOB_NAMES } from './types.js';

/** Retries with jittered exponential backoff, kept as every job is ({@link JOB_RETENTION}: ids still de-duplicate for a week). */
export function deliveryJobOptions(ctx: NotifierContext) {
  return {
    attempts: ctx.settings.deliveryAttempts,
    backoff: { type: JITTER_BACKOFF },
    ...JOB_RETENTION,
  };
}

/** One delivery job per channel; the job id makes a second enqueue of the same (event, channel) a no-op. */
export async function enqueueDeliveries(ctx: NotifierContext, item: NotificationItem, channelIds: readonly string[]): Promise<void> {
  if (channelIds.length === 0) return;
  const opts = deliveryJobOptions(ctx);
  await ctx.deliveries.addBulk(
    channelIds.map((channelId) => ({
      name: DELIVERY_JOB_NAMES.deliver,
      data: { channelId, item },
      opts: { ...opts, jobId: deliveryJobId(item.eventId, channelId) },
    })),
  );
}

/**
 * Puts an item into a channel's pending digest and makes sure the digest job of its batch exists, due in `delayMs`.
 * Adding the job again (every overflowing item does) is a no-op, and it also re-creates a job a crash lost.
 */
export async function holdForDigest(ctx: NotifierContext, channelId: string, bucket: DigestBucket, item: NotificationItem, delayMs: number): Promise<void> {
  const batch = await ctx.store.addPending(channelId, bucket, JSON.stringify(item), Date.now());
  await ctx.deliveries.add(
    DELIVERY_JOB_NAMES.digest,
    { channelId, bucket, batch },
    { ...deliveryJobOptions(ctx), jobId: digestJobId(channelId, bucket, batch), delay: Math.max(0, Math.ceil(delayMs)) },
  );
}
