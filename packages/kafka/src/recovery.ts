import type { Consumer } from 'kafkajs';
import type { Logger } from '@tingfeng/logger';
import { describeError } from './poison.js';

/**
 * kafkajs errors that mean "the cluster cannot be reached right now", whatever kafkajs calls them. It gives up on
 * some of them for good: with the broker down, the coordinator lookup fails with `KafkaJSGroupCoordinatorNotFound`,
 * a `KafkaJSNonRetriableError`, and the consumer stops without restarting (seen when the broker stopped for 15 s).
 */
const UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSBrokerNotFound',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSLockTimeout',
]);

/** True when `err`, or an error it was caused by, is retriable or says the cluster is out of reach. */
export function isTransientKafkaError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (UNREACHABLE.has(e.name) || (e as { retriable?: unknown }).retriable === true) return true;
    // kafkajs keeps the last attempt's error in `originalError` rather than `cause` on some paths.
    const original = (e as { originalError?: unknown }).originalError;
    if (original instanceof Error && (UNREACHABLE.has(original.name) || (original as { retriable?: unknown }).retriable === true)) return true;
  }
  return false;
}

/**
 * `watching` (running, or restarted by kafkajs itself) → `waiting` (crashed on an outage; a restart is scheduled) →
 * `watching` …; → `failed` (a crash that is not an outage, or an outage longer than `outageMaxMs`); `stopped` by stop().
 */
export type ConsumerRecoveryState = 'watching' | 'waiting' | 'failed' | 'stopped';

export interface ConsumerRecoveryOptions {
  consumer: Consumer;
  /** Runs the consumer again (`consumer.run` with the same handlers); kafkajs keeps the subscription. */
  restart: () => Promise<void>;
  logger: Logger;
  /** Called once when the consumer cannot go on: the owner exits the process (crash-only) or steps down. */
  onFailed: (err: Error) => void;
  /** The longest outage ridden out in process; after it, the consumer is given up. Default 5 minutes. */
  outageMaxMs?: number;
  /** First wait before a restart; doubles per failed restart up to `maxBackoffMs`. Defaults 1 s and 30 s. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Rides a consumer through a broker outage: when kafkajs stops it for good on an error that only means the cluster
 * is away, it is run again after a backoff that doubles (1 s … 30 s) until it joins its group again; any other crash,
 * or an outage longer than `outageMaxMs`, goes to `onFailed`. kafkajs's own restarts (retriable errors) are left to it.
 */
export class ConsumerRecovery {
  private stateValue: ConsumerRecoveryState = 'watching';
  private outageSinceWallMs: number | undefined;
  private backoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly outageMaxMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly options: ConsumerRecoveryOptions) {
    this.outageMaxMs = options.outageMaxMs ?? 5 * 60_000;
    this.initialBackoffMs = options.initialBackoffMs ?? 1_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.backoffMs = this.initialBackoffMs;
    const { consumer } = options;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (this.outageSinceWallMs !== undefined) options.logger.info({ outageMs: Date.now() - this.outageSinceWallMs }, 'consumer back in its group after an outage');
      this.outageSinceWallMs = undefined;
      this.backoffMs = this.initialBackoffMs;
    });
    consumer.on(consumer.events.CRASH, (e) => this.onCrash(e.payload.error, e.payload.restart));
  }

  get state(): ConsumerRecoveryState {
    return this.stateValue;
  }

  /** No more restarts (the owner is stopping the consumer). */
  stop(): void {
    this.stateValue = 'stopped';
    clearTimeout(this.timer);
  }

  private onCrash(error: Error, kafkajsRestarts: boolean): void {
    if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    const transient = kafkajsRestarts || isTransientKafkaError(error);
    if (!transient) return this.fail(error, 'a crash that is not an outage');
    const nowWallMs = Date.now();
    this.outageSinceWallMs ??= nowWallMs;
    if (nowWallMs - this.outageSinceWallMs > this.outageMaxMs) return this.fail(error, `an outage longer than ${this.outageMaxMs} ms`);
    if (kafkajsRestarts) return;
    const waitMs = this.backoffMs;
    this.backoffMs = Math.min(this.maxBackoffMs, this.backoffMs * 2);
    this.stateValue = 'waiting';
    this.options.logger.warn({ err: describeError(error), retryInMs: waitMs, outageMs: nowWallMs - this.outageSinceWallMs }, 'Kafka out of reach: the consumer runs again after a backoff');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.stateValue !== 'waiting') return;
      this.stateValue = 'watching';
      // A run that cannot reach the broker crashes again (CRASH), which schedules the next attempt.
      this.options.restart().catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err)), 'the restart threw'));
    }, waitMs);
  }

  private fail(error: Error, why: string): void {
    if (this.stateValue === 'failed' || this.stateValue === 'stopped') return;
    this.stateValue = 'failed';
    clearTimeout(this.timer);
    this.options.logger.error({ err: describeError(error), why }, 'the consumer cannot go on');
    this.options.onFailed(error);
  }
}
