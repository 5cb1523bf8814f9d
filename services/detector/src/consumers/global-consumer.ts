import type { Alert, EnrichedPost } from '@tingfeng/contracts';
import { createDetectorEngine, EventTimeMerge, resolveConfig, type DetectorConfig, type DetectorEngine, type DetectorSnapshot, type MergeItem, type PartitionPosition } from '@tingfeng/detect';
import { ConsumerRecovery, describeError, type Consumer, type EachBatchPayload, type Kafka } from '@tingfeng/kafka';
import type { Logger } from '@tingfeng/logger';
import { AlertOutbox } from '../alerts/outbox.js';
import type { FencedCheckpointStore, SavedPosition } from '../checkpoint/fenced-store.js';
import type { Lease } from '../leader/lock.js';
import { FetchClock } from './fetch-clock.js';
import type { DetectorMetrics } from '../metrics.js';
import type { AlertSink } from '../alerts/outbox.js';
import { processSafely, readEnrichedPost } from './enriched-consumer.js';

/** Posts processed between two yields to the event loop while a drain releases a backlog. */
const RELEASE_SLICE = 1_000;

/**
 * `created` → `starting` → `running` → `stopping` → `stopped` (a graceful stop, with a last checkpoint), or
 * → `aborted` from any of them (leadership lost or the consumer failed: no checkpoint, nothing more sent).
 */
export type GlobalConsumerState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'aborted';

/**
 * Sees every post the engine processes, in the merge's order, after the engine, and may raise alerts of its own
 * (the response campaign tracker). Its state is not in the checkpoint: it keeps its own.
 */
export interface PostObserver {
  /** Loads its state; called once the checkpoint is loaded, before the first post. */
  start(): Promise<void>;
  observe(post: EnrichedPost): Alert[];
  /** `flush`: a graceful stop (save what it holds); false when leadership is lost (write nothing more). */
  stop(flush: boolean): Promise<void>;
}

export interface GlobalConsumerOptions {
  kafka: Kafka;
  /** The leader's own consumer group, so it alone is assigned every partition. */
  groupId: string;
  topic: string;
  detectorConfig: Partial<DetectorConfig>;
  checkpoints: FencedCheckpointStore<DetectorSnapshot>;
  /** The lease this consumer runs under: every checkpoint is fenced by it. */
  lease: Lease;
  checkpointIntervalMs: number;
  idlePartitionMs: number;
  /** A partition with this many posts waiting in the merge is paused until it drains to half. */
  maxBufferedPerPartition: number;
  sessionTimeoutMs: number;
  sink: AlertSink;
  logger: Logger;
  metrics: DetectorMetrics;
  /** Optional: sees each released post after the engine (response campaigns). */
  observer?: PostObserver | undefined;
  /** Called once when it stops on its own: a checkpoint was refused (the lease is gone) or the consumer died. */
  onGivenUp: (reason: 'fenced' | 'crashed') => void;
}

/**
 * The global mode's consumer: every partition of the input, through one event-time merge (the backtest's event clock
 * on each partition: a far-future `createdAt` is refused, not followed), into one detector engine. Checkpoints hold the
 * engine snapshot and each partition's first unreleased offset (posts still in the merge are not in the snapshot),
 * saved by a compare-and-set fenced by the leader's lease; Kafka offsets are committed after it.
 */
export class GlobalConsumer {
  private readonly consumer: Consumer;
  private readonly merge: EventTimeMerge<EnrichedPost>;
  /** What the merge decides idleness by: how far the broker's answers are handled, not the wall clock. */
  private readonly fetchClock = new FetchClock();
  private engine: DetectorEngine | undefined;
  private restored = new Map<number, PartitionPosition>();
  private stateValue: GlobalConsumerState = 'created';
  private assigned = false;
  private readonly paused = new Set<number>();
  private tickTimer: NodeJS.Timeout | undefined;
  /** Draining and saving run one at a time, whether a batch or the timer asked. */
  private serial: Promise<void> = Promise.resolve();
  private lastSaveWallMs = Date.now();
  private lastSavedPositions = '';
  /**
   * Set when a graceful stop cut a release short: where the engine stopped in each partition it left posts of. The
   * merge counts those posts as released; the last checkpoint must not.
   */
  private cutShort: Map<number, PartitionPosition> | undefined;
  /** Alerts of released posts the sink has not accepted: while it holds any, nothing more is released or saved. */
  private readonly outbox: AlertOutbox;
  /** The kafkajs steps of start() (connect, subscribe, run: joining the group), settled or not. */
  private joining: Promise<unknown> = Promise.resolve();
  /** Set by abort(): resolves once the kafkajs consumer has left the group (or gave up trying). */
  private retiredValue: Promise<void> | undefined;
  private readonly recovery: ConsumerRecovery;

  constructor(private readonly options: GlobalConsumerOptions) {
    const { clockMaxJumpMs, clockConfirmPosts } = resolveConfig(options.detectorConfig);
    this.merge = new EventTimeMerge({ idlePartitionMs: options.idlePartitionMs, clock: { maxJumpMs: clockMaxJumpMs, confirmPosts: clockConfirmPosts } });
    this.outbox = new AlertOutbox({ sink: options.sink, logger: options.logger, metrics: options.metrics });
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.floor(options.sessionTimeoutMs / 10),
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      // A join that completes after leadership was lost (kafkajs finishes one under way, or restarts after a crash)
      // takes no partition into the merge; the fetch loop it starts is stopped below.
      if (this.stateValue === 'aborted' || this.stateValue === 'stopped') return;
      const mine = e.payload.memberAssignment[options.topic] ?? [];
      const nowWallMs = Date.now();
      this.fetchClock.reset();
      for (const partition of mine) this.merge.addPartition(partition, nowWallMs, this.restored.get(partition));
      this.assigned = true;
      options.logger.info({ partitions: mine, fencingToken: options.lease.token }, 'assigned (global)');
    });
    this.consumer.on(this.consumer.events.FETCH, (e) => this.fetchClock.fetchAnswered(e.payload.nodeId, Date.now()));
    this.consumer.on(this.consumer.events.FETCH_START, (e) => {
      this.fetchClock.fetchStarted(e.payload.nodeId, Date.now());
      // Fetching after abort(): this consumer would hold partitions the next leader needs, reading none of them
      // (seen under load as a "fencing token 1" member beside the leader with token 4, and a stall). Leave. Only
      // now does kafkajs's stop() act: while it joins, its runner is not yet "running" and stop() does nothing.
      if (this.stateValue !== 'aborted') return;
      options.logger.warn({ fencingToken: options.lease.token }, 'fetching after leadership was lost: leaving the group');
      this.retiredValue = this.retired.then(() => this.consumer.disconnect()).catch((err: unknown) => options.logger.warn({ err }, 'disconnect after a late join failed'));
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.assigned = false;
      options.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
    });
    // An outage kafkajs gives up on is ridden out with backoff, still leading; anything else steps down.
    this.recovery = new ConsumerRecovery({
      consumer: this.consumer,
      restart: async () => {
        if (this.stateValue === 'running' || this.stateValue === 'starting') await this.runConsumer();
      },
      logger: options.logger,
      onFailed: () => this.giveUp('crashed'),
    });
  }

  get state(): GlobalConsumerState {
    return this.stateValue;
  }

  /** Assigned and consuming. */
  get ready(): boolean {
    return this.stateValue === 'running' && this.assigned;
  }

  /** Merge watermark (event time, epoch ms) and posts waiting in it, for /role. */
  status(): { state: GlobalConsumerState; partitions: number[]; watermarkMs: number | null; buffered: number } {
    return { state: this.stateValue, partitions: this.merge.partitions(), watermarkMs: this.merge.watermarkMs(this.mergeNowMs()), buffered: this.merge.buffered() };
  }

  async start(): Promise<void> {
    if (this.stateValue !== 'created') return;
    this.stateValue = 'starting';
    const { topic, logger } = this.options;
    const checkpoint = await this.options.checkpoints.load();
    this.engine = createDetectorEngine(this.options.detectorConfig, checkpoint?.snapshot);
    for (const [partition, saved] of Object.entries(checkpoint?.partitions ?? {})) {
      this.restored.set(Number(partition), { resumeOffset: BigInt(saved.resumeOffset), releasedMaxEventTimeMs: saved.releasedMaxEventTimeMs });
    }
    logger.info({ fromFencingToken: checkpoint?.fencingToken ?? null, savedAt: checkpoint?.savedAt ?? null, partitions: checkpoint?.partitions ?? {} }, 'global state restored');
    if (this.stateValue !== 'starting') return;
    await this.options.observer?.start();
    if (this.stateValue !== 'starting') return;
    // kafkajs's stop() does nothing to a consumer still joining (its runner is not "running" yet) and the join then
    // completes: abort() waits for these steps to settle before it disconnects.
    const joining = (async () => {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic, fromBeginning: true });
      if (this.stateValue !== 'starting') return;
      await this.runConsumer();
    })();
    this.joining = joining;
    try {
      await joining;
    } catch (err) {
      // Aborted meanwhile: its disconnect is what broke the join; nothing to report.
      if ((this.stateValue as GlobalConsumerState) === 'aborted') return;
      throw err;
    }
    if (this.stateValue !== 'starting') return;
    this.stateValue = 'running';
    // Idle partitions leave the watermark on the wall clock's time, not only when a batch comes; quiet state gets saved.
    const tickMs = Math.max(50, Math.min(1_000, Math.floor(this.options.idlePartitionMs / 4), this.options.checkpointIntervalMs));
    this.tickTimer = setInterval(() => {
      this.enqueue(() => this.drain()).catch((err: unknown) => logger.warn({ err }, 'merge tick failed'));
    }, tickMs);
  }

  /**
   * Leadership is gone: stop at once, without a checkpoint or another alert. Safe to call more than once. The
   * consumer leaves the group in the background; {@link retired} says when.
   */
  abort(): void {
    if (this.stateValue === 'aborted' || this.stateValue === 'stopped') return;
    this.stateValue = 'aborted';
    this.assigned = false;
    this.recovery.stop();
    clearInterval(this.tickTimer);
    // The next leader restores the last checkpoint, from before these alerts' posts, and raises them again.
    this.outbox.discard();
    this.options.observer?.stop(false).catch((err: unknown) => this.options.logger.warn({ err }, 'observer stop after abort failed'));
    this.retiredValue = this.joining
      .catch(() => undefined)
      .then(() => this.consumer.disconnect())
      .catch((err: unknown) => this.options.logger.warn({ err }, 'disconnect after abort failed'));
  }

  /** After abort(): resolves once the kafkajs consumer has left the group (errors are logged, never thrown). */
  get retired(): Promise<void> {
    return this.retiredValue ?? Promise.resolve();
  }

  /** Graceful stop while still the leader: finish the work in hand, save a last checkpoint, commit, leave the group. */
  async stop(): Promise<void> {
    if (this.stateValue === 'aborted' || this.stateValue === 'stopped') return;
    const wasRunning = this.stateValue === 'running';
    this.stateValue = 'stopping';
    this.recovery.stop();
    clearInterval(this.tickTimer);
    await this.serial.catch(() => undefined);
    if (wasRunning) await this.save();
    await this.options.observer?.stop(wasRunning);
    await this.joining.catch(() => undefined);
    await this.consumer.disconnect();
    if (this.stateValue === 'stopping') this.stateValue = 'stopped';
  }

  private runConsumer(): Promise<void> {
    return this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.onBatch(p) });
  }

  /**
   * The wall time the merge's idle rule is given: a partition counts as idle only once the broker, asked at least
   * `idlePartitionMs` after its last message, answered with nothing for it (see {@link FetchClock}).
   */
  private mergeNowMs(): number {
    return this.fetchClock.nowMs(Date.now());
  }

  private live(): boolean {
    return this.stateValue === 'running';
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.serial.then(work, work);
    this.serial = next.catch(() => undefined);
    return next;
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { metrics, logger, topic } = this.options;
    if (!this.live() || !isRunning() || isStale()) return;
    const { partition } = batch;
    const nowWallMs = Date.now();
    this.merge.addPartition(partition, nowWallMs, this.restored.get(partition));
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (!this.merge.isNew(partition, offset)) {
        metrics.replayed.inc();
        continue;
      }
      const post = readEnrichedPost(message, partition, metrics, logger);
      if (post) this.merge.push(partition, offset, post.createdAtMs, post, nowWallMs, post.receivedAtMs);
      else this.merge.skip(partition, offset, nowWallMs);
    }
    // Read to the end of its log: a jump held last in it has had every vote there is for now. Deciding it here, not
    // after the idle time, keeps a lone far-future post at the tail from holding the partition (it is refused) and a
    // real jump from waiting (it is accepted); later posts are read on from the clock so decided.
    if (batch.offsetLag() === '0') this.merge.caughtUp(partition, nowWallMs);
    // The messages are held in the merge now; Kafka's committed offset moves only after a checkpoint.
    const last = batch.messages[batch.messages.length - 1];
    if (last) resolveOffset(last.offset);
    if (this.merge.buffered(partition) >= this.options.maxBufferedPerPartition && !this.paused.has(partition)) {
      this.paused.add(partition);
      this.consumer.pause([{ topic, partitions: [partition] }]);
    }
    await this.enqueue(() => this.drain());
    if (!this.live()) return;
    await heartbeat();
    const lag = Number(batch.offsetLag());
    metrics.lag.set({ topic: batch.topic, partition: String(partition) }, Number.isFinite(lag) ? lag : 0);
  }

  /**
   * Releases what the watermark allows into the engine, sends the alerts, and checkpoints when it is time. While the
   * sink refuses alerts already raised, it only retries them: the merge holds what came since (pausing partitions
   * that fill up) and no checkpoint moves past the posts that raised them.
   */
  private async drain(): Promise<void> {
    const engine = this.engine;
    if (!this.live() || !engine) return;
    const { metrics, topic, observer } = this.options;
    if (!(await this.outbox.flush())) return;
    const before = this.merge.positions();
    const released = this.merge.release(this.mergeNowMs());
    const alerts: Alert[] = [];
    const receivedAtMs: number[] = [];
    for (const [i, item] of released.entries()) {
      // A long backlog released at once would hold the event loop for seconds on a busy machine, and the lock's
      // renewals with it: the lease could lapse mid-drain. Yield between slices; leadership lost meanwhile stops here.
      // A graceful stop stops here too, and its last checkpoint holds only the posts the engine has seen.
      if (i > 0 && i % RELEASE_SLICE === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        if (this.stateValue === 'aborted') return;
        if (this.stateValue === 'stopping') {
          this.cutShort = positionsWithin(before, released, i);
          break;
        }
      }
      if (item.refused) {
        // Far ahead of its receipt time or of the posts after it: the detectors never see it (their own event time
        // would follow it and make every later post late), as in the backtest. Its offset is passed like any other's.
        metrics.refusedFuture.inc();
        this.options.logger.warn({ partition: item.partition, offset: item.offset.toString(), createdAtMs: item.eventTimeMs, clockMs: item.mergeTimeMs }, 'post refused: createdAt far ahead of its partition');
        continue;
      }
      const message = { offset: item.offset.toString() };
      const fromEngine = processSafely(() => engine.process(item.value), message, item.partition, metrics, this.options.logger);
      const emitted = observer ? [...fromEngine, ...processSafely(() => observer.observe(item.value), message, item.partition, metrics, this.options.logger)] : fromEngine;
      metrics.posts.inc();
      for (const alert of emitted) {
        alerts.push(alert);
        if (typeof item.value.receivedAtMs === 'number') receivedAtMs.push(item.value.receivedAtMs);
      }
    }
    for (const partition of [...this.paused]) {
      if (this.merge.buffered(partition) * 2 <= this.options.maxBufferedPerPartition) {
        this.paused.delete(partition);
        this.consumer.resume([{ topic, partitions: [partition] }]);
      }
    }
    metrics.mergeBuffered.set(this.merge.buffered());
    const watermarkMs = this.merge.watermarkMs(this.mergeNowMs());
    if (watermarkMs !== null) metrics.mergeWatermark.set(watermarkMs / 1000);
    // Sent before the checkpoint that reflects them: a crash in between re-sends them (same ids), never loses them.
    this.outbox.add(alerts, receivedAtMs);
    if (!(await this.outbox.flush())) return;
    if (this.live() && Date.now() - this.lastSaveWallMs >= this.options.checkpointIntervalMs) {
      // A refused checkpoint (Redis OOM, READONLY) is tried again at the next interval; the offsets wait for it.
      await this.save().catch((err: unknown) => this.options.logger.warn({ err: describeError(err) }, 'checkpoint failed'));
    }
  }

  /** Checkpoint first, then the Kafka offsets: the committed offset never runs ahead of the saved state. */
  private async save(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    const { topic, metrics, logger } = this.options;
    // The engine reflects posts whose alerts the sink has not taken: saving it now could lose them in a crash.
    if (this.outbox.pending > 0 && !(await this.outbox.flush(Number.POSITIVE_INFINITY))) {
      logger.warn({ pending: this.outbox.pending }, 'checkpoint skipped: the alert queue still refuses alerts');
      return;
    }
    // Positions and snapshot are taken together, synchronously, so they describe the same moment.
    const positions = this.merge.positions();
    for (const [partition, pos] of this.cutShort ?? []) positions.set(partition, pos);
    const partitions: Record<string, SavedPosition> = {};
    for (const [partition, pos] of positions) partitions[partition] = { resumeOffset: pos.resumeOffset.toString(), releasedMaxEventTimeMs: pos.releasedMaxEventTimeMs };
    const fingerprint = JSON.stringify(partitions);
    this.lastSaveWallMs = Date.now();
    if (fingerprint === this.lastSavedPositions) return;
    const snapshot = engine.snapshot();
    const stopTimer = metrics.checkpointSeconds.startTimer();
    const bytes = await this.options.checkpoints.save(this.options.lease, { topic, partitions, snapshot });
    stopTimer();
    if (bytes === 0) {
      logger.error({ fencingToken: this.options.lease.token }, 'checkpoint refused: this instance no longer holds the leader lock');
      this.giveUp('fenced');
      return;
    }
    this.lastSavedPositions = fingerprint;
    metrics.checkpointBytes.set({ partition: 'global' }, bytes);
    // Partitions never read and never checkpointed have nothing to commit (0 could move a real offset back).
    const commits = [...positions].filter(([, pos]) => pos.resumeOffset > 0n).map(([partition, pos]) => ({ topic, partition, offset: pos.resumeOffset.toString() }));
    if (commits.length === 0) return;
    try {
      await this.consumer.commitOffsets(commits);
    } catch (err) {
      // Only where a restart starts fetching: the checkpoint skips what it already reflects.
      logger.warn({ err }, 'offset commit failed after a checkpoint');
    }
  }

  private giveUp(reason: 'fenced' | 'crashed'): void {
    if (this.stateValue === 'aborted' || this.stateValue === 'stopped') return;
    this.abort();
    this.options.onGivenUp(reason);
  }
}

/**
 * Where each partition stands once only the first `processed` of `released` have been processed, for the partitions
 * with released posts left over. `before` is the merge's positions just before it released them; a partition's
 * released posts are in offset order, so its first one left over is where it resumes.
 */
function positionsWithin<T>(before: ReadonlyMap<number, PartitionPosition>, released: readonly MergeItem<T>[], processed: number): Map<number, PartitionPosition> {
  const lastProcessedMs = new Map<number, number>();
  // A refused post leaves its partition's clock where it was.
  for (const item of released.slice(0, processed)) if (!item.refused) lastProcessedMs.set(item.partition, item.mergeTimeMs);
  const out = new Map<number, PartitionPosition>();
  for (const item of released.slice(processed)) {
    if (out.has(item.partition)) continue;
    const releasedMaxEventTimeMs = lastProcessedMs.get(item.partition) ?? before.get(item.partition)?.releasedMaxEventTimeMs ?? null;
    out.set(item.partition, { resumeOffset: item.offset, releasedMaxEventTimeMs });
  }
  return out;
}
