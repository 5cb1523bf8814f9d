import type { Logger } from '@tingfeng/logger';
import type { Queue } from '@tingfeng/queue';
import type { NotifierMetrics } from '../metrics.js';
import type { DeliveryJobData } from './../jobs/types.js';

/** A failed delivery as `GET /deliveries/failed` shows it: ids and the reason, never the channel's URL or secret. */
export interface FailedDelivery {
  jobId: string | undefined;
  kind: string;
  channelId: string;
  eventId: string | undefined;
  incidentId: string | undefined;
  attemptsMade: number;
  failedReason: string;
  failedAt: string | undefined;
}

const STATES = ['waiting', 'delayed', 'active', 'failed', 'completed'] as const;

/**
 * Samples queue depths into the metrics and keeps the latest failed deliveries for the ops endpoint (whose routes
 * answer synchronously, hence a snapshot refreshed every `intervalMs` rather than a query per request).
 */
export class OpsPoller {
  private timer: NodeJS.Timeout | undefined;
  private failed: FailedDelivery[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly queues: { name: string; queue: Queue }[],
    private readonly deliveries: Queue<DeliveryJobData>,
    private readonly metrics: NotifierMetrics,
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
    void this.refresh();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  failedDeliveries(): { count: number; deliveries: FailedDelivery[] } {
    return { count: this.failed.length, deliveries: this.failed };
  }

  /** Reads the queues now; concurrent calls share one read. */
  refresh(): Promise<void> {
    this.running ??= this.read().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async read(): Promise<void> {
    try {
      for (const { name, queue } of this.queues) {
        const counts = await queue.getJobCounts(...STATES);
        for (const state of STATES) this.metrics.queueJobs.set({ queue: name, state }, counts[state] ?? 0);
      }
      const jobs = await this.deliveries.getFailed(0, 99);
      this.failed = jobs.map((job) => {
        const data = job.data as Partial<{ channelId: string; item: { eventId: string; incident: { id: string } } }>;
        return {
          jobId: job.id,
          kind: job.name,
          channelId: data.channelId ?? '',
          eventId: data.item?.eventId,
          incidentId: data.item?.incident.id,
          attemptsMade: job.attemptsMade,
          failedReason: job.failedReason,
          failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
        };
      });
    } catch (err) {
      this.logger.warn({ err }, 'queue sampling failed');
    }
  }
}
