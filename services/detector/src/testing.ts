import { Queue } from 'bullmq';
import { QUEUES, type Alert, type EnrichedPost } from '@tingfeng/contracts';
import { createDetectorEngine, DEFAULT_CONFIG, mergedOrder, type EventClockOptions, type PartitionMessage } from '@tingfeng/detect';
import type { Redis } from '@tingfeng/redis';
import { kafkaBrokers, redisUrl, type ConsumedMessage } from '@tingfeng/testing';
import type { GlobalCheckpoint } from './checkpoint/fenced-store.js';

/** One detector test run: every Redis key, the group and the alerts queue sit under `run`. */
export interface DetectorRun {
  run: string;
  topic: string;
  instance: string;
  mode: 'partitioned' | 'global';
}

/**
 * Settings (as env) for a detector reading `topic` against the test Kafka and Redis: group `<run>-group`,
 * checkpoints under `<run>:` every 300 ms, alerts queued under prefix `run`. `extra` adds or overrides settings.
 */
export function detectorSettings({ run, topic, instance, mode }: DetectorRun, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: kafkaBrokers().join(','),
    REDIS_URL: redisUrl(),
    DETECTOR_MODE: mode,
    DETECTOR_INPUT_TOPIC: topic,
    DETECTOR_GROUP_ID: `${run}-group`,
    DETECTOR_INSTANCE_ID: instance,
    DETECTOR_CHECKPOINT_PREFIX: `${run}:`,
    DETECTOR_CHECKPOINT_INTERVAL_MS: '300',
    QUEUE_PREFIX: run,
    ...extra,
  };
}

/** Every alert on the `alerts` queue under `prefix`, whatever its job's state, by job id. */
export async function queuedAlerts(redis: Redis, prefix: string): Promise<Map<string, Alert>> {
  const queue = new Queue(QUEUES.alerts, { connection: redis, prefix });
  try {
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'completed', 'failed', 'active'], 0, -1);
    return new Map(jobs.map((j) => [j.id!, j.data as Alert]));
  } finally {
    await queue.close();
  }
}

/** Global mode's saved checkpoint for `topic` under `run`, if any. */
export async function globalCheckpoint(redis: Redis, run: string, topic: string): Promise<GlobalCheckpoint<unknown> | undefined> {
  const state = await redis.hget(`${run}:global:${topic}`, 'state');
  return state ? (JSON.parse(state) as GlobalCheckpoint<unknown>) : undefined;
}

/** What a detector should emit over `consumed`, and each partition's offset after its last message (where a caught-up detector resumes). */
export interface DetectorReference {
  expected: Map<string, Alert>;
  highOffsets: Map<number, string>;
}

/** The consumed posts by partition, each list in offset order. */
export function postsByPartition(consumed: readonly ConsumedMessage[]): Map<number, PartitionMessage<EnrichedPost>[]> {
  const byPartition = new Map<number, PartitionMessage<EnrichedPost>[]>();
  for (const m of consumed) {
    const post = JSON.parse(m.value!) as EnrichedPost;
    const list = byPartition.get(m.partition) ?? [];
    list.push({ offset: BigInt(m.offset), eventTimeMs: post.createdAtMs, value: post });
    byPartition.set(m.partition, list);
  }
  for (const list of byPartition.values()) list.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  return byPartition;
}

function highOffsetsOf(byPartition: Map<number, PartitionMessage<EnrichedPost>[]>): Map<number, string> {
  return new Map([...byPartition].map(([p, list]) => [p, (list[list.length - 1]!.offset + 1n).toString()]));
}

/** Partitioned mode's reference: each partition's messages, in offset order, through one engine of its own. */
export function partitionedReference(consumed: readonly ConsumedMessage[]): DetectorReference {
  const byPartition = postsByPartition(consumed);
  const expected = new Map<string, Alert>();
  for (const list of byPartition.values()) {
    const engine = createDetectorEngine();
    for (const { value } of list) for (const alert of engine.process(value)) expected.set(alert.id, alert);
  }
  return { expected, highOffsets: highOffsetsOf(byPartition) };
}

/** The event clock of each partition of the live merge with the default detector settings. */
export const DEFAULT_CLOCK: EventClockOptions = { maxJumpMs: DEFAULT_CONFIG.clockMaxJumpMs, confirmPosts: DEFAULT_CONFIG.clockConfirmPosts };

/**
 * Global mode's reference: one engine fed every partition's messages in the merge's order (the rule in
 * packages/detect/src/event-time/merge.ts), posts the clock refuses left out as the live detector does.
 */
export function globalReference(consumed: readonly ConsumedMessage[]): DetectorReference {
  const byPartition = postsByPartition(consumed);
  const engine = createDetectorEngine();
  const expected = new Map<string, Alert>();
  for (const item of mergedOrder(byPartition, DEFAULT_CLOCK, Date.now())) {
    if (item.refused) continue;
    for (const alert of engine.process(item.value)) expected.set(alert.id, alert);
  }
  return { expected, highOffsets: highOffsetsOf(byPartition) };
}
