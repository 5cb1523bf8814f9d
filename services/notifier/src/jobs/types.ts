import type { NotificationItem } from '@tingfeng/channels';
import type { DigestBucket } from '../delivery/store.js';

/** The notifier's own queue: one job per (event, channel), and digest jobs. */
export const DELIVERIES_QUEUE = 'deliveries';

export const DELIVERY_JOB_NAMES = { deliver: 'deliver', digest: 'digest' } as const;

/** Send one item to one channel (jobId {@link deliveryJobId}). */
export interface DeliverJobData {
  channelId: string;
  item: NotificationItem;
}

/** Send a channel's pending batch as one digest (jobId {@link digestJobId}). */
export interface DigestJobData {
  channelId: string;
  bucket: DigestBucket;
  batch: number;
}

export type DeliveryJobData = DeliverJobData | DigestJobData;
