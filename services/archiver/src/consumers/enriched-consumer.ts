import { ConsumerRecovery, type Consumer, type EachBatchPayload, type Kafka, type Producer } from '@tingfeng/kafka';
import type { Logger } from '@tingfeng/logger';
import type { ArchiverMetrics } from '../metrics.js';
import { archiveBatch, encodeBatch, type BatchOutcome, type EncodedBatch, type EncodeFn, type InputMessage, type OutgoingDeadLetter, type WriteFn } from '../pipeline/archive-batch.js';

export interface EnrichedConsumerOptions {
  kafka: Kafka;
  /** Transactional: dead letters and consumed offsets commit together. */
  producer: Producer;
  /** Records to rows (on a worker thread): a chunk is encoded while the one before it is written. */
  encode: EncodeFn;
  write: WriteFn;
  logger: Logger;
  metrics: ArchiverMetrics;
  groupId: string;
  inputTopic: string;
  dlqTopic: string;
  sessionTimeoutMs: number;
  maxBatchPosts: number;
  partitionsConsumedConcurrently: number;
  maxBytesPerPartition: number;
  /** Called once when the consumer cannot go on (not an outage, or one longer than 5 minutes): exit the process. */
  onFailed?: (err: Error) => void;
}

/**
 * The states of the consumer, as `status` reports them:
 * - `idle`: built, not started;
 * - `joining`: connected, waiting for partitions;
 * - `consuming`: partitions assigned, writing batches;
 * - `stopped`: disconnected by `stop()`;
 * - `failed`: it cannot go on (a crash that is not a broker outage, or an outage past 5 minutes): liveness fails
 *   and `onFailed` is called, so the process exits and is restarted.
 */
export type EnrichedConsumerStatus = 'idle' | 'joining' | 'consuming' | 'stopped' | 'failed';

/**
 * Consumes `posts.enriched` in batches: each chunk is written to the archive (durable when `write` returns), then
 * its dead letters and the next offset are committed in one Kafka transaction. A crash before that commit means the
 * chunk is consumed again and written again, which the archive turns into nothing (`(platform, id)` is unique).
 */
export class EnrichedConsumer {
  readonly consumer: Consumer;
  private state: EnrichedConsumerStatus = 'idle';
  /** Chunks written whose offsets wait for the transaction under way to end; see {@link commit}. */
  private readonly pendingCommits: PendingCommit[] = [];
  private committing: Promise<void> | undefined;
  private readonly recovery: ConsumerRecovery;

  constructor(private readonly options: EnrichedConsumerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.floor(options.sessionTimeoutMs / 10),
      readUncommitted: false,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxBytes: Math.max(options.maxBytesPerPartition * 2, 16 * 1024 * 1024),
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.state = 'consuming';
      options.logger.info({ assignment: e.payload.memberAssignment }, 'joined group');
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (this.state !== 'failed') this.state = 'joining';
      options.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
    });
    // An outage kafkajs gives up on is ridden out with backoff; anything else ends in onFailed.
    this.recovery = new ConsumerRecovery({
      consumer: this.consumer,
      restart: () => this.run(),
      logger: options.logger,
      onFailed: (err) => {
        this.state = 'failed';
        options.onFailed?.(err);
      },
    });
    this.consumer.on(this.consumer.events.STOP, () => {
      if (this.state !== 'failed') this.state = 'stopped';
    });
  }

  get status(): EnrichedConsumerStatus {
    return this.state;
  }

  get ready(): boolean {
    return this.state === 'consuming';
  }

  get live(): boolean {
    return this.state !== 'failed';
  }

  async start(): Promise<void> {
    this.state = 'joining';
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.inputTopic, fromBeginning: true });
    await this.run();
  }

  private run(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    this.recovery.stop();
    // Waits for the batches in hand; what they have not committed is consumed again by the next owner.
    await this.consumer.disconnect();
    this.state = 'stopped';
  }

  /**
   * Chunk by chunk: encode and write, then commit its offset. A chunk is encoded while the one before is written,
   * and written while the one before commits its offset: commits go strictly in order, each once its own rows (and
   * so every earlier chunk's) are durable, and none runs after one that failed, so an offset never passes a chunk
   * whose dead letters were not sent.
   */
  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { metrics, logger, maxBatchPosts } = this.options;
    let committed: Promise<void> = Promise.resolve();
    let commitFailed = false;
    const chunks: EachBatchPayload['batch']['messages'][] = [];
    for (let i = 0; i < batch.messages.length; i += maxBatchPosts) chunks.push(batch.messages.slice(i, i + maxBatchPosts));
    const encodings: Promise<EncodedBatch>[] = [];
    const encoded = (i: number): Promise<EncodedBatch> | undefined => {
      const chunk = chunks[i];
      if (chunk === undefined || encodings[i] !== undefined) return encodings[i];
      const input: InputMessage[] = chunk.map((m) => ({ topic: batch.topic, partition: batch.partition, offset: m.offset, value: m.value }));
      const encoding = encodeBatch(input, this.options.encode, Date.now());
      // Awaited in turn; one left behind (the batch stopped early) must not surface as an unhandled rejection.
      encoding.catch(() => undefined);
      return (encodings[i] = encoding);
    };
    try {
      for (let i = 0; i < chunks.length; i++) {
        if (!isRunning() || isStale() || commitFailed) break;
        const chunk = chunks[i]!;
        const last = chunk[chunk.length - 1];
        if (!last) break;
        const stopTimer = metrics.batchSeconds.startTimer();
        let input: EncodedBatch;
        try {
          input = await encoded(i)!;
          // The next chunk is encoded while this one is written; asked for only now, so the first chunks of the
          // other partitions in hand are not queued behind it.
          void encoded(i + 1);
        } catch (err) {
          logger.error({ err, partition: batch.partition, offset: chunk[0]?.offset }, 'encoding records failed; the chunk will be consumed again');
          throw err;
        }
        let outcome: BatchOutcome;
        try {
          outcome = await archiveBatch(input, this.options.write, Date.now());
          metrics.databaseUp.set(1);
        } catch (err) {
          metrics.databaseUp.set(0);
          logger.error({ err, partition: batch.partition, offset: chunk[0]?.offset }, 'archive write failed; the chunk will be consumed again');
          throw err;
        }
        // Counted once the rows are durable, before the offset commit: a chunk whose commit fails comes again and its
        // posts are then duplicates, so written_total stays the number of rows archived (not those rows minus a chunk).
        metrics.written.inc(outcome.written);
        metrics.duplicates.inc(outcome.duplicates);
        metrics.expired.inc(outcome.expired);
        const nextOffset = (BigInt(last.offset) + 1n).toString();
        const done = outcome;
        committed = committed.then(async () => {
          try {
            await this.commit(batch.topic, batch.partition, nextOffset, done.deadLetters);
          } catch (err) {
            commitFailed = true;
            throw err;
          }
          resolveOffset(last.offset);
          stopTimer();
          metrics.consumed.inc(chunk.length);
          for (const d of done.deadLetters) metrics.rejected.inc({ reason: d.reason });
          if (done.deadLetters.length > 0) {
            logger.warn({ count: done.deadLetters.length, reasons: [...new Set(done.deadLetters.map((d) => d.reason))] }, 'records dead-lettered');
          }
          await heartbeat();
        });
        // Awaited below; until then a failed commit must not surface as an unhandled rejection.
        committed.catch(() => undefined);
      }
    } catch (err) {
      await committed.catch(() => undefined);
      throw err;
    }
    await committed;
    const lag = Number(batch.offsetLag());
    metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number.isFinite(lag) ? lag : 0);
  }

  /**
   * Dead letters and the consumed offset in one transaction, after the rows are committed in PostgreSQL. The
   * producer runs one transaction at a time, and the broker answers the next one CONCURRENT_TRANSACTIONS for a while
   * after a commit (kafkajs then backs off from 200 ms): so commits asked for while one is under way wait, and go
   * together in the next transaction, every chunk's dead letters with its partition's offset. Resolves once that
   * transaction is committed; a failure fails every chunk in it.
   */
  private commit(topic: string, partition: number, offset: string, deadLetters: OutgoingDeadLetter[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingCommits.push({ topic, partition, offset, deadLetters, resolve, reject });
      this.committing ??= this.commitPending();
    });
  }

  private async commitPending(): Promise<void> {
    while (this.pendingCommits.length > 0) {
      const group = this.pendingCommits.splice(0);
      try {
        await this.commitGroup(group);
        for (const c of group) c.resolve();
      } catch (err) {
        for (const c of group) c.reject(err as Error);
      }
    }
    this.committing = undefined;
  }

  /**
   * One transaction for a group of chunks. The broker finishes a committed transaction after answering, so the next
   * one may be told CONCURRENT_TRANSACTIONS; past kafkajs's own retries that is waited out here (a few tries, backing
   * off) rather than thrown: a throw restarts the consumer, and every chunk in flight is then consumed and written
   * again (a `pnpm start` run saw 67 such restarts and 1,574 posts written twice).
   */
  private async commitGroup(group: readonly PendingCommit[]): Promise<void> {
    // Each partition's highest offset (its chunks commit in order, so the latest asked for).
    const offsets = new Map<string, { topic: string; partition: number; offset: string }>();
    for (const c of group) {
      const key = `${c.topic}\u0000${c.partition}`;
      const seen = offsets.get(key);
      if (seen === undefined || BigInt(c.offset) > BigInt(seen.offset)) offsets.set(key, { topic: c.topic, partition: c.partition, offset: c.offset });
    }
    const deadLetters = group.flatMap((c) => c.deadLetters);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.commitOnce([...offsets.values()], deadLetters);
      } catch (err) {
        if (!isConcurrentTransaction(err) || attempt >= COMMIT_RETRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 50 * 2 ** attempt)));
      }
    }
  }

  private async commitOnce(offsets: readonly { topic: string; partition: number; offset: string }[], deadLetters: readonly OutgoingDeadLetter[]): Promise<void> {
    const tx = await this.options.producer.transaction();
    try {
      if (deadLetters.length > 0) {
        await tx.send({
          topic: this.options.dlqTopic,
          acks: -1,
          messages: deadLetters.map((d) => ({ key: d.key, value: d.value, headers: { reason: d.reason } })),
        });
      }
      const topics = new Map<string, { partition: number; offset: string }[]>();
      for (const o of offsets) topics.set(o.topic, [...(topics.get(o.topic) ?? []), { partition: o.partition, offset: o.offset }]);
      await tx.sendOffsets({ consumerGroupId: this.options.groupId, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) });
      await tx.commit();
    } catch (err) {
      if (isConcurrentTransaction(err)) this.options.logger.debug({ offsets }, 'offset commit met the previous transaction still closing; trying again');
      else this.options.logger.error({ err, offsets }, 'offset commit failed; the chunks will be consumed again (their rows are already archived)');
      await tx.abort().catch(() => undefined);
      throw err;
    }
  }
}

interface PendingCommit {
  topic: string;
  partition: number;
  offset: string;
  deadLetters: OutgoingDeadLetter[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Tries of an offset commit the broker refuses while the previous transaction is still closing. */
const COMMIT_RETRIES = 8;

function isConcurrentTransaction(err: unknown): boolean {
  const e = err as { type?: unknown; originalError?: { type?: unknown } } | null;
  return e?.type === 'CONCURRENT_TRANSACTIONS' || e?.originalError?.type === 'CONCURRENT_TRANSACTIONS';
}
