import { parseEnrichedPost, type Alert, type EnrichedPost } from '@tingfeng/contracts';
import { createDetectorEngine, type DetectorConfig, type DetectorEngine, type DetectorSnapshot } from '@tingfeng/detect';
import { ConsumerRecovery, describeError, undecodableRecord, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage } from '@tingfeng/kafka';
import type { Logger } from '@tingfeng/logger';
import { AlertOutbox, type AlertSink } from '../alerts/outbox.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import type { DetectorMetrics } from '../metrics.js';

/** Where alerts go: the BullMQ queue in production. Must be idempotent by alert id. */
interface PartitionState {
  engine: DetectorEngine;
  /** The offset of the next message the engine has not seen. */
  nextOffset: bigint;
  /** Offset of the last checkpoint saved. */
  savedOffset: bigint;
  lastSaveWallMs: number;
  /** Alerts raised by posts the engine has seen and the sink has not accepted: no checkpoint while it holds any. */
  outbox: AlertOutbox;
}

export interface EnrichedConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  detectorConfig: Partial<DetectorConfig>;
  checkpoints: CheckpointStore<DetectorSnapshot>;
  checkpointIntervalMs: number;
  sessionTimeoutMs: number;
  sink: AlertSink;
  logger: Logger;
  metrics: DetectorMetrics;
  /** Called once when the consumer cannot go on (not an outage, or one longer than 5 minutes): exit the process. */
  onFailed?: (err: Error) => void;
}

/**
 * One detector engine per input partition. A partition's state is restored from its checkpoint the first time the
 * partition arrives here, messages the checkpoint already reflects are skipped, and state + offset are saved together.
 * Because each engine sees exactly its partition's messages in order, the alerts do not depend on how many
 * instances share the partitions, and a restart reproduces the alerts (same ids) that the queue then de-duplicates.
 */
export class EnrichedConsumer {
  readonly consumer: Consumer;
  private readonly partitions = new Map<number, PartitionState>();
  private assigned = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly recovery: ConsumerRecovery;
  /** Saves run one at a time, whether a batch or the timer asked for them. */
  private saving: Promise<void> = Promise.resolve();
  private inFlight: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(private readonly options: EnrichedConsumerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.floor(options.sessionTimeoutMs / 10),
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.assigned = true;
      const mine = new Set(e.payload.memberAssignment[options.topic] ?? []);
      // Partitions taken away: forget their engines; their new owner restores from the checkpoint.
      for (const [partition, state] of [...this.partitions]) {
        if (mine.has(partition)) continue;
        state.outbox.discard();
        this.partitions.delete(partition);
      }
      options.logger.info({ partitions: [...mine] }, 'assigned');
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.assigned = false;
      options.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
    });
    // An outage kafkajs gives up on is ridden out with backoff; anything else ends in onFailed.
    this.recovery = new ConsumerRecovery({ consumer: this.consumer, restart: () => this.run(), logger: options.logger, onFailed: (err) => options.onFailed?.(err) });
  }

  get ready(): boolean {
    return this.assigned;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.run();
    // A quiet partition still gets its last batch saved, not only when the next batch comes.
    this.saveTimer = setInterval(() => {
      for (const [partition, state] of this.partitions) {
        if (Date.now() - state.lastSaveWallMs >= this.options.checkpointIntervalMs) void this.save(partition, state).catch((err: unknown) => this.options.logger.warn({ err, partition }, 'checkpoint failed'));
      }
    }, Math.max(100, this.options.checkpointIntervalMs));
  }

  private run(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (p) => {
        if (this.stopping) return Promise.resolve();
        this.inFlight = this.onBatch(p);
        return this.inFlight;
      },
    });
  }

  /** Stops fetching, saves every partition's state and commits its offset, then leaves the group. */
  async stop(): Promise<void> {
    this.recovery.stop();
    clearInterval(this.saveTimer);
    // Let the batch in hand finish, then save and commit while the group is still joined (kafkajs forgets the
    // group on stop, and a commit after that fails), then leave.
    this.stopping = true;
    await this.inFlight.catch(() => undefined);
    for (const [partition, state] of this.partitions) await this.save(partition, state);
    await this.consumer.disconnect();
  }

  private async stateFor(partition: number): Promise<PartitionState> {
    const existing = this.partitions.get(partition);
    if (existing) return existing;
    const checkpoint = await this.options.checkpoints.load(this.options.topic, partition);
    const engine = createDetectorEngine(this.options.detectorConfig, checkpoint?.snapshot);
    const nextOffset = checkpoint ? BigInt(checkpoint.nextOffset) : 0n;
    const { sink, logger, metrics } = this.options;
    const outbox = new AlertOutbox({ sink, logger: logger.child({ partition }), metrics });
    const state: PartitionState = { engine, nextOffset, savedOffset: nextOffset, lastSaveWallMs: Date.now(), outbox };
    this.partitions.set(partition, state);
    this.options.logger.info({ partition, restoredOffset: checkpoint?.nextOffset ?? null }, 'partition state ready');
    return state;
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { metrics, logger } = this.options;
    if (!isRunning() || isStale()) return;
    const state = await this.stateFor(batch.partition);
    const alerts: Alert[] = [];
    const latencies: number[] = [];
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (offset < state.nextOffset) {
        metrics.replayed.inc();
        continue;
      }
      state.nextOffset = offset + 1n;
      const post = readEnrichedPost(message, batch.partition, metrics, logger);
      if (!post) continue;
      const emitted = processSafely(() => state.engine.process(post), message, batch.partition, metrics, logger);
      metrics.posts.inc();
      if (emitted.length > 0) {
        alerts.push(...emitted);
        if (typeof post.receivedAtMs === 'number') for (const _ of emitted) latencies.push(post.receivedAtMs);
      }
    }
    state.outbox.add(alerts, latencies);
    // Offsets and checkpoints move only once the sink has the alerts; until then this partition waits here, heartbeating.
    if (!(await this.deliver(batch.partition, state, heartbeat, () => isRunning() && !isStale()))) return;
    const last = batch.messages[batch.messages.length - 1];
    if (last) resolveOffset(last.offset);
    if (Date.now() - state.lastSaveWallMs >= this.options.checkpointIntervalMs) {
      // A refused checkpoint (Redis OOM, READONLY) is tried again at the next batch or tick; the offset waits for it.
      await this.save(batch.partition, state).catch((err: unknown) => logger.warn({ err: describeError(err), partition: batch.partition }, 'checkpoint failed'));
    }
    await heartbeat();
    const lag = Number(batch.offsetLag());
    metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number.isFinite(lag) ? lag : 0);
  }

  /**
   * Retries the partition's outbox until the sink takes it. When this consumer stops or loses the partition first,
   * the partition's state is dropped instead (its checkpoint is from before these posts: whoever reads them next
   * restores it and raises the same alerts again) and false is returned.
   */
  private async deliver(partition: number, state: PartitionState, heartbeat: () => Promise<void>, owned: () => boolean): Promise<boolean> {
    while (!(await state.outbox.flush())) {
      if (this.stopping || !owned()) {
        state.outbox.discard();
        if (this.partitions.get(partition) === state) this.partitions.delete(partition);
        return false;
      }
      await heartbeat();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(1_000, state.outbox.nextAttemptAtMs - Date.now()))));
    }
    return true;
  }

  /** Checkpoint first, then the Kafka offset: the committed offset never runs ahead of the saved state. */
  private save(partition: number, state: PartitionState): Promise<void> {
    const run = async () => {
      if (state.nextOffset === state.savedOffset || state.outbox.pending > 0) return;
      // Offset and snapshot are taken together, synchronously, so they describe the same moment.
      const nextOffset = state.nextOffset;
      const snapshot = state.engine.snapshot();
      const stopTimer = this.options.metrics.checkpointSeconds.startTimer();
      const bytes = await this.options.checkpoints.save(this.options.topic, partition, nextOffset.toString(), snapshot);
      stopTimer();
      if (bytes > 0) this.options.metrics.checkpointBytes.set({ partition: String(partition) }, bytes);
      state.savedOffset = nextOffset;
      state.lastSaveWallMs = Date.now();
      await this.consumer.commitOffsets([{ topic: this.options.topic, partition, offset: nextOffset.toString() }]);
    };
    this.saving = this.saving.then(run, run);
    return this.saving;
  }
}

/**
 * The enriched post a message carries, or undefined (counted and logged, at most the first 200 characters of why)
 * when it is not one: the detectors only ever see what {@link parseEnrichedPost} accepts.
 */
export function readEnrichedPost(message: KafkaMessage, partition: number, metrics: DetectorMetrics, logger: Logger): EnrichedPost | undefined {
  const undecodable = undecodableRecord(message.headers);
  const parsed = undecodable ? { ok: false as const, reason: undecodable.reason, detail: undecodable.detail } : parseEnrichedPost(message.value);
  if (parsed.ok) return parsed.post;
  metrics.malformed.inc();
  logger.warn({ partition, offset: message.offset, reason: parsed.reason, detail: parsed.detail.slice(0, 200) }, 'skipping a message that is not an enriched post');
  return undefined;
}

/**
 * Runs the detectors on one post. What they throw depends on the post alone and would throw again on every
 * redelivery, so it is counted, logged with where the post is, and the post skipped: one post cannot stop the stream.
 */
export function processSafely(work: () => Alert[], message: Pick<KafkaMessage, 'offset'>, partition: number, metrics: DetectorMetrics, logger: Logger): Alert[] {
  try {
    return work();
  } catch (err) {
    metrics.processingFailed.inc();
    logger.error({ partition, offset: message.offset, err: describeError(err) }, 'the detectors threw on a post; skipped');
    return [];
  }
}
