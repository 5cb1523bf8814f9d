import { randomUUID } from 'node:crypto';
import type { DetectorConfig, DetectorSnapshot } from '@tingfeng/detect';
import type { Kafka } from '@tingfeng/kafka';
import { TIMED_OUT, withTimeout } from '@tingfeng/lifecycle';
import type { Logger } from '@tingfeng/logger';
import type { Redis } from '@tingfeng/redis';
import { FencedCheckpointStore } from '../checkpoint/fenced-store.js';
import { LeaderElector } from '../leader/elector.js';
import { LeaderLock, type Lease } from '../leader/lock.js';
import type { DetectorMetrics } from '../metrics.js';
import type { AlertSink } from '../alerts/outbox.js';
import { GlobalConsumer, type PostObserver } from './global-consumer.js';

export interface GlobalModeOptions {
  kafka: Kafka;
  redis: Redis;
  /** `DETECTOR_GROUP_ID`; the leader joins `<groupId>-global`. */
  groupId: string;
  topic: string;
  instanceId: string;
  /** Prefix of the lock, fencing counter and checkpoint keys. */
  keyPrefix: string;
  detectorConfig: Partial<DetectorConfig>;
  checkpointIntervalMs: number;
  idlePartitionMs: number;
  maxBufferedPerPartition: number;
  leaderTtlMs: number;
  leaderRenewMs: number;
  leaderPollMs: number;
  sessionTimeoutMs: number;
  sink: AlertSink;
  logger: Logger;
  metrics: DetectorMetrics;
  /** Makes the leader's post observer (the response campaign tracker), one per leadership. */
  observer?: (() => PostObserver) | undefined;
}

/** What `GET /role` answers. */
export interface GlobalRole {
  mode: 'global';
  role: 'leader' | 'standby' | 'stopped';
  instance: string;
  owner: string;
  fencingToken: number | null;
  consumer: ReturnType<GlobalConsumer['status']> | null;
}

/**
 * The global mode: a leader election in Redis; the lock holder runs one {@link GlobalConsumer} over every partition,
 * the other instances wait as hot standbys. Losing the lock aborts the consumer at once; winning it again starts a
 * fresh one from the last checkpoint.
 */
export class GlobalMode {
  private readonly elector: LeaderElector;
  private readonly lock: LeaderLock;
  private readonly checkpoints: FencedCheckpointStore<DetectorSnapshot>;
  private readonly owner: string;
  private consumer: GlobalConsumer | undefined;
  /** The aborted consumer of the last leadership, until it has left the group. */
  private retiring: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(private readonly options: GlobalModeOptions) {
    const base = `${options.keyPrefix}global:${options.topic}`;
    this.lock = new LeaderLock(options.redis, { lock: `${base}:leader`, fence: `${base}:fence` }, options.leaderTtlMs);
    this.checkpoints = new FencedCheckpointStore(options.redis, base, this.lock.keys.lock);
    this.owner = `${options.instanceId}:${randomUUID().slice(0, 8)}`;
    this.elector = new LeaderElector({
      lock: this.lock,
      owner: this.owner,
      ttlMs: options.leaderTtlMs,
      renewIntervalMs: options.leaderRenewMs,
      pollIntervalMs: options.leaderPollMs,
      logger: options.logger,
      onElected: (lease) => this.onElected(lease),
      onLost: () => this.onLost(),
    });
  }

  /** A standby is healthy (it is waiting by design); a leader is ready once assigned. */
  get ready(): boolean {
    if (this.elector.state === 'standby') return true;
    return this.elector.state === 'leader' && (this.consumer?.ready ?? false);
  }

  role(): GlobalRole {
    const state = this.elector.state;
    return {
      mode: 'global',
      role: state === 'leader' ? 'leader' : state === 'standby' ? 'standby' : 'stopped',
      instance: this.options.instanceId,
      owner: this.owner,
      fencingToken: this.elector.lease?.token ?? null,
      consumer: this.consumer?.status() ?? null,
    };
  }

  start(): void {
    this.options.metrics.leader.set(0);
    this.elector.start();
  }

  /** A leader checkpoints and commits, then gives the lock up so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    // Renewals go on while the consumer saves its last checkpoint.
    await this.consumer?.stop();
    await this.retiring;
    const lease = this.elector.lease;
    await this.elector.stop();
    if (lease) await this.lock.release(lease).catch((err: unknown) => this.options.logger.warn({ err }, 'could not release the leader lock'));
    this.options.metrics.leader.set(0);
  }

  private onElected(lease: Lease): void {
    if (this.stopping) {
      this.elector.resign();
      return;
    }
    const o = this.options;
    o.metrics.leader.set(1);
    const consumer = new GlobalConsumer({
      kafka: o.kafka,
      groupId: `${o.groupId}-global`,
      topic: o.topic,
      detectorConfig: o.detectorConfig,
      checkpoints: this.checkpoints,
      lease,
      checkpointIntervalMs: o.checkpointIntervalMs,
      idlePartitionMs: o.idlePartitionMs,
      maxBufferedPerPartition: o.maxBufferedPerPartition,
      sessionTimeoutMs: o.sessionTimeoutMs,
      sink: o.sink,
      logger: o.logger,
      metrics: o.metrics,
      observer: o.observer?.(),
      onGivenUp: (reason) => {
        o.logger.warn({ reason, fencingToken: lease.token }, 'global consumer gave up: stepping down');
        this.elector.resign(lease);
      },
    });
    this.consumer = consumer;
    // The consumer of the last leadership leaves the group first: joined beside it, this one would share the
    // partitions with a consumer that no longer reads them. A member that never leaves is evicted by the broker
    // after its session timeout, so the wait is bounded by that.
    const previous = this.retiring;
    const waitMs = o.sessionTimeoutMs + 5_000;
    // Settled either way counts as left: a retiring consumer that failed is gone too.
    const settled = previous.then(
      () => true,
      () => true,
    );
    void withTimeout(settled, waitMs)
      .then((left) => {
        if (left === TIMED_OUT) o.logger.warn({ waitMs }, 'the last leadership\'s consumer has not left the group: starting anyway');
        return consumer.start();
      })
      .catch((err: unknown) => {
        o.logger.error({ err, fencingToken: lease.token }, 'global consumer failed to start: stepping down');
        consumer.abort();
        this.elector.resign(lease);
      });
  }

  private onLost(): void {
    this.options.metrics.leader.set(0);
    const consumer = this.consumer;
    this.consumer = undefined;
    if (!consumer) return;
    consumer.abort();
    this.retiring = consumer.retired;
  }
}

