import type { Alert } from '@tingfeng/contracts';
import { describeError } from '@tingfeng/kafka';
import type { Logger } from '@tingfeng/logger';
import type { DetectorMetrics } from '../metrics.js';

/** Where the detector hands its alerts: resolves once they are durably accepted (enqueued), rejects otherwise. */
export type AlertSink = (alerts: Alert[]) => Promise<void>;

export interface AlertOutboxOptions {
  sink: AlertSink;
  logger: Logger;
  metrics: DetectorMetrics;
  /** First wait after a refused send; doubles on each refusal up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Alerts the engine has emitted and the sink has not yet accepted. The engine's state already reflects the posts that
 * raised them, so whoever owns an outbox must neither checkpoint nor commit offsets while it holds anything: a crash
 * then restores the checkpoint from before those posts and the same alerts (same ids) are emitted again. A refused
 * send (Redis answering OOM under noeviction, READONLY during a failover) keeps them here to be tried again with
 * backoff; nothing is dropped.
 */
export class AlertOutbox {
  private alerts: Alert[] = [];
  private receivedAtMs: number[] = [];
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private backoffMs: number;
  private nextAttemptWallMs = 0;
  private refusals = 0;

  constructor(private readonly options: AlertOutboxOptions) {
    this.initialBackoffMs = options.initialBackoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.backoffMs = this.initialBackoffMs;
  }

  /** Alerts waiting for the sink. */
  get pending(): number {
    return this.alerts.length;
  }

  /** Wall time before which {@link flush} will not try again. */
  get nextAttemptAtMs(): number {
    return this.nextAttemptWallMs;
  }

  /** Holds alerts for the next flush; `receivedAtMs` is each one's post receipt time, for the latency histogram. */
  add(alerts: readonly Alert[], receivedAtMs: readonly number[] = []): void {
    this.alerts.push(...alerts);
    this.receivedAtMs.push(...receivedAtMs);
    this.options.metrics.undeliveredAlerts.inc(alerts.length);
  }

  /**
   * Hands everything held to the sink, unless the backoff after a refusal has not passed yet. True when the outbox is
   * empty afterwards (the owner may checkpoint), false while the sink refuses.
   */
  async flush(nowWallMs: number = Date.now()): Promise<boolean> {
    if (this.alerts.length === 0) return true;
    if (nowWallMs < this.nextAttemptWallMs) return false;
    const { sink, metrics, logger } = this.options;
    const sending = this.alerts;
    try {
      await sink(sending);
    } catch (err) {
      this.refusals++;
      metrics.sinkRefusals.inc();
      // The first refusal of a run and then one in ten, so an outage of minutes does not flood the log.
      if (this.refusals === 1 || this.refusals % 10 === 0) {
        logger.warn({ err: describeError(err), pending: sending.length, refusals: this.refusals, retryInMs: this.backoffMs }, 'the alert queue refused alerts; holding them and the checkpoint');
      }
      this.nextAttemptWallMs = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(this.maxBackoffMs, this.backoffMs * 2);
      return false;
    }
    if (this.refusals > 0) logger.info({ delivered: sending.length, refusals: this.refusals }, 'the alert queue accepts alerts again');
    const doneWallMs = Date.now();
    for (const a of sending) metrics.alerts.inc({ type: a.type, severity: a.severity });
    for (const t of this.receivedAtMs) metrics.endToEndSeconds.observe(Math.max(0, doneWallMs - t) / 1000);
    metrics.undeliveredAlerts.dec(sending.length);
    this.alerts = [];
    this.receivedAtMs = [];
    this.refusals = 0;
    this.backoffMs = this.initialBackoffMs;
    this.nextAttemptWallMs = 0;
    return true;
  }

  /** Forgets what is held (the owner lost the state that raised it, and its successor will raise it again). */
  discard(): void {
    this.options.metrics.undeliveredAlerts.dec(this.alerts.length);
    this.alerts = [];
    this.receivedAtMs = [];
  }
}
