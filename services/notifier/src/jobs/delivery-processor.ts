import { buildRequest, DeliveryError, sendRequest, type NotificationItem, type OutgoingMessage } from '@tingfeng/channels';
import type { IncidentEvent } from '@tingfeng/contracts';
import { UnrecoverableError, type Job } from '@tingfeng/queue';
import type { Channel } from '@tingfeng/contracts';
import { DelayedError } from 'bullmq';
import { NOTIFIER_ACTOR } from '../events/event-appender.js';
import { quietUntilMs } from '../routing/quiet-hours.js';
import type { NotifierContext } from './context.js';
import { holdForDigest } from './enqueue.js';
import { DELIVERY_JOB_NAMES, type DeliverJobData, type DeliveryJobData, type DigestJobData } from './types.js';

export type DeliveryOutcome = 'sent' | 'digested' | 'held' | 'empty';

/** Processes the `deliveries` queue: single deliveries and digests. */
export function createDeliveryProcessor(ctx: NotifierContext) {
  return async (job: Job<DeliveryJobData>, token?: string): Promise<DeliveryOutcome> =>
    job.name === DELIVERY_JOB_NAMES.digest ? digest(ctx, job as Job<DigestJobData>, token) : deliver(ctx, job as Job<DeliverJobData>);
}

async function channelOf(ctx: NotifierContext, channelId: string): Promise<Channel> {
  const channel = (await ctx.configStore.load()).channels.get(channelId);
  // Retrying cannot make a deleted channel appear; the job stays visible in the failed set.
  if (!channel) throw new UnrecoverableError(`channel ${channelId} is not configured`);
  return channel;
}

/**
 * One item to one channel. Quiet hours hold non-critical items for the digest sent when they end; over the rate
 * limit, items join the channel's rate digest; otherwise the message is sent, marked sent, and a `notified` event appended.
 */
async function deliver(ctx: NotifierContext, job: Job<DeliverJobData>): Promise<DeliveryOutcome> {
  const { channelId, item } = job.data;
  const jobId = job.id ?? `${item.eventId}/${channelId}`;
  const channel = await channelOf(ctx, channelId);
  const labels = { channel_type: channel.type };
  if (await ctx.store.wasSent(jobId)) {
    // Sent before a crash or a failed append: only the event is missing.
    await appendNotified(ctx, [item], channel, 'direct', jobId);
    ctx.metrics.deliveries.inc({ ...labels, outcome: 'duplicate' });
    return 'sent';
  }
  const nowMs = Date.now();
  if (item.incident.severity !== 'critical') {
    const quietEndMs = quietUntilMs(channel.quietHours ?? ctx.settings.defaultQuietHours, nowMs, ctx.settings.timeZone);
    if (quietEndMs !== undefined) {
      await holdForDigest(ctx, channelId, 'quiet', item, quietEndMs - nowMs);
      ctx.metrics.deliveries.inc({ ...labels, outcome: 'held' });
      return 'held';
    }
  }
  const slot = await ctx.store.acquire(channelId, nowMs, ctx.settings.rateWindowMs, channel.ratePerMinute ?? ctx.settings.ratePerWindow, `${jobId}#${job.attemptsMade}#${nowMs}`);
  if (!slot.allowed) {
    await holdForDigest(ctx, channelId, 'rate', item, slot.waitMs);
    ctx.metrics.deliveries.inc({ ...labels, outcome: 'digested' });
    return 'digested';
  }
  await send(ctx, job, channel, { kind: 'single', item }, jobId);
  await ctx.store.markSent(jobId);
  ctx.metrics.deliveries.inc({ ...labels, outcome: 'sent' });
  await appendNotified(ctx, [item], channel, 'direct', jobId);
  return 'sent';
}

/** A channel's pending batch as one message, once the window has room (or quiet hours are over). */
async function digest(ctx: NotifierContext, job: Job<DigestJobData>, token: string | undefined): Promise<DeliveryOutcome> {
  const { channelId, bucket, batch } = job.data;
  const jobId = job.id ?? `digest/${channelId}/${bucket}/${batch}`;
  const channel = await channelOf(ctx, channelId);
  const items = (await ctx.store.takeBatch(channelId, bucket, batch)).map((raw) => JSON.parse(raw) as NotificationItem);
  if (items.length === 0) return 'empty';
  if (!(await ctx.store.wasSent(jobId))) {
    const nowMs = Date.now();
    const slot = await ctx.store.acquire(channelId, nowMs, ctx.settings.rateWindowMs, channel.ratePerMinute ?? ctx.settings.ratePerWindow, `${jobId}#${job.attemptsMade}#${nowMs}`, true);
    if (!slot.allowed) {
      // Taken items stay with this batch; the job comes back when the window has room.
      await job.moveToDelayed(Date.now() + Math.max(250, slot.waitMs), token);
      throw new DelayedError();
    }
    const message: OutgoingMessage =
      items.length === 1 && items[0] ? { kind: 'single', item: items[0] } : { kind: 'digest', items, reason: bucket === 'rate' ? 'rate_limit' : 'quiet_hours' };
    await send(ctx, job, channel, message, jobId);
    await ctx.store.markSent(jobId);
    ctx.metrics.digests.inc({ channel_type: channel.type, reason: bucket });
    ctx.logger.info({ channelId, channelType: channel.type, bucket, batch, items: items.length }, 'digest sent');
  }
  await appendNotified(ctx, items, channel, 'digest', jobId);
  await ctx.store.finishBatch(channelId, bucket, batch);
  return 'sent';
}

/** Formats, signs and posts; a permanent refusal fails the job at once, a transient one lets BullMQ retry it. */
async function send(ctx: NotifierContext, job: Job<DeliveryJobData>, channel: Channel, message: OutgoingMessage, deliveryId: string): Promise<void> {
  const request = buildRequest(channel, message, {
    publicUrl: ctx.settings.publicUrl,
    timeZone: ctx.settings.timeZone,
    nowMs: Date.now(),
    deliveryId,
  });
  const stopTimer = ctx.metrics.sendSeconds.startTimer({ channel_type: channel.type });
  try {
    await sendRequest(channel.type, request, { timeoutMs: ctx.settings.sendTimeoutMs, allowList: ctx.settings.allowList, maxResponseBytes: ctx.settings.maxResponseBytes });
  } catch (err) {
    if (!(err instanceof DeliveryError)) throw err;
    const attempt = job.attemptsMade + 1;
    const last = !err.retriable || attempt >= (job.opts.attempts ?? 1);
    ctx.metrics.deliveries.inc({ channel_type: channel.type, outcome: last ? 'failed' : 'retried' });
    // Never the URL or the request: bot URLs carry keys.
    ctx.logger.warn(
      { channelId: channel.id, channelType: channel.type, jobId: job.id, attempt, status: err.status, vendorCode: err.vendorCode, reason: err.message, willRetry: !last },
      'delivery attempt failed',
    );
    if (!err.retriable) throw new UnrecoverableError(err.message);
    throw err;
  } finally {
    stopTimer();
  }
}

async function appendNotified(ctx: NotifierContext, items: readonly NotificationItem[], channel: Channel, via: 'direct' | 'digest', deliveryId: string): Promise<void> {
  const at = new Date().toISOString();
  const events: IncidentEvent[] = items.map((item) => ({
    eventId: `${item.eventId}.notified.${channel.id}`,
    incidentId: item.incident.id,
    kind: 'notified',
    actor: NOTIFIER_ACTOR,
    at,
    data: {
      channelId: channel.id,
      channelType: channel.type,
      change: item.change,
      sourceEventId: item.eventId,
      via,
      deliveryId,
      ...(item.escalationLevel !== undefined ? { escalationLevel: item.escalationLevel } : {}),
    },
  }));
  await ctx.events.append(events);
}
