import { ConsumerRecovery, type Consumer, type EachBatchPayload, type Kafka, type Producer } from '@tingfeng/kafka';
import type { Logger } from '@tingfeng/logger';
import type { AnalyzerMetrics } from '../metrics.js';
import { processBatch, type Analyze, type ClaimFn, type InputMessage } from '../pipeline/process-batch.js';

export interface PostsConsumerOptions {
  kafka: Kafka;
  producer: Producer;
  analyzer: Analyze;
  claim: ClaimFn;
  logger: Logger;
  metrics: AnalyzerMetrics;
  groupId: string;
  inputTopic: string;
  outputTopic: string;
  dlqTopic: string;
  sessionTimeoutMs: number;
  /** Largest number of messages written in one transaction. */
  maxMessagesPerTransaction?: number;
  /** Largest enriched post written; a larger one is dead-lettered as `too_large` (the broker would refuse it). */
  maxOutputBytes?: number;
  /** Called once when the consumer cannot go on (not an outage, or one longer than `outageMaxMs`): exit the process. */
  onFailed?: (err: Error) => void;
  /** The longest broker outage ridden out in process (default 5 minutes). */
  outageMaxMs?: number;
}

interface OutgoingMessage {
  topic: string;
  message: { key: string | null; value: string; headers?: Record<string, string> };
}

/**
 * kafkajs writes everything one send holds for a partition as one record batch, and the broker refuses a batch over
 * the topic's `max.message.bytes` (1 MiB by default). Sends within a transaction are therefore cut to this size.
 */
const MAX_REQUEST_BYTES = 512 * 1024;

/** Consecutive slices of at most `maxBytes` of values each (a single larger message goes alone). */
function* sliceByBytes(messages: OutgoingMessage[], maxBytes: number): Generator<OutgoingMessage[]> {
  let slice: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.message.value.length * 3;
    if (slice.length > 0 && bytes + size > maxBytes) {
      yield slice;
      slice = [];
      bytes = 0;
    }
    slice.push(m);
    bytes += size;
  }
  if (slice.length > 0) yield slice;
}

function byTopic(slice: OutgoingMessage[]): { topic: string; messages: OutgoingMessage['message'][] }[] {
  const grouped = new Map<string, OutgoingMessage['message'][]>();
  for (const m of slice) {
    const list = grouped.get(m.topic) ?? [];
    list.push(m.message);
    grouped.set(m.topic, list);
  }
  return [...grouped].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * Consumes `posts` and writes enriched posts, dead letters and the consumed offsets in one Kafka transaction per chunk:
 * a crash before commit aborts the writes and the chunk is consumed again; after commit, nothing is consumed twice.
 */
export class PostsConsumer {
  readonly consumer: Consumer;
  private assigned = false;
  private crashed = false;
  private readonly recovery: ConsumerRecovery;

  constructor(private readonly options: PostsConsumerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.floor(options.sessionTimeoutMs / 10),
      readUncommitted: false,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.assigned = true;
      options.logger.info({ assignment: e.payload.memberAssignment }, 'joined group');
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.assigned = false;
      options.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
    });
    // kafkajs restarts after a retriable error only; an outage it gives up on is ridden out here, and anything else
    // fails liveness and goes to onFailed (the process exits instead of idling).
    this.recovery = new ConsumerRecovery({
      consumer: this.consumer,
      restart: () => this.run(),
      logger: options.logger,
      ...(options.outageMaxMs !== undefined ? { outageMaxMs: options.outageMaxMs } : {}),
      onFailed: (err) => {
        this.crashed = true;
        options.onFailed?.(err);
      },
    });
    this.consumer.on(this.consumer.events.STOP, () => {
      this.assigned = false;
    });
  }

  get ready(): boolean {
    return this.assigned;
  }

  /** False once the consumer cannot go on: `/healthz` fails (and onFailed has been called). */
  get live(): boolean {
    return !this.crashed;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.inputTopic, fromBeginning: true });
    await this.run();
  }

  private run(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    this.recovery.stop();
    // Disconnect waits for the batch in hand to finish; what it has not committed is consumed again by the next owner.
    await this.consumer.disconnect();
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { producer, analyzer, claim, metrics, logger } = this.options;
    const chunkSize = this.options.maxMessagesPerTransaction ?? 1000;
    for (let i = 0; i < batch.messages.length; i += chunkSize) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(i, i + chunkSize);
      const last = chunk[chunk.length - 1];
      if (!last) return;
      const stopTimer = metrics.batchSeconds.startTimer();
      const input: InputMessage[] = chunk.map((m) => ({ topic: batch.topic, partition: batch.partition, offset: m.offset, value: m.value, headers: m.headers }));
      const outcome = await processBatch(input, analyzer, claim, Date.now(), this.options.maxOutputBytes);
      const tx = await producer.transaction();
      try {
        const outgoing: OutgoingMessage[] = [
          ...outcome.enriched.map((m) => ({ topic: this.options.outputTopic, message: m })),
          ...outcome.deadLetters.map((d) => ({ topic: this.options.dlqTopic, message: { key: d.key, value: d.value, headers: { reason: d.reason } } })),
        ];
        for (const slice of sliceByBytes(outgoing, MAX_REQUEST_BYTES)) await tx.sendBatch({ topicMessages: byTopic(slice), acks: -1 });
        await tx.sendOffsets({
          consumerGroupId: this.options.groupId,
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }] }],
        });
        await tx.commit();
      } catch (err) {
        logger.error({ err, partition: batch.partition, offset: last.offset }, 'transaction failed; the chunk will be consumed again');
        await tx.abort().catch(() => undefined);
        throw err;
      }
      resolveOffset(last.offset);
      stopTimer();
      metrics.postsIn.inc(chunk.length);
      metrics.enriched.inc(outcome.enriched.length);
      metrics.duplicates.inc(outcome.duplicates);
      for (const d of outcome.deadLetters) metrics.rejected.inc({ reason: d.reason });
      for (const s of outcome.analyzeSeconds) metrics.analyzeSeconds.observe(s);
      if (outcome.deadLetters.length > 0) {
        logger.warn({ count: outcome.deadLetters.length, reasons: [...new Set(outcome.deadLetters.map((d) => d.reason))] }, 'messages dead-lettered');
      }
      await heartbeat();
    }
    const lag = Number(batch.offsetLag());
    metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number.isFinite(lag) ? lag : 0);
  }
}
