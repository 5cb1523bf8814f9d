import { hostname } from 'node:os';
import { z } from 'zod';
import { GROUPS, QUEUES, TOPICS } from '@tingfeng/contracts';
import { loadConfig } from '@tingfeng/config';

export const DetectorServiceConfigSchema = z.object({
  /** Kafka brokers, comma-separated host:port. */
  KAFKA_BROKERS: z.string().default('127.0.0.1:9092'),
  /** Redis holding checkpoints and the BullMQ alerts queue. */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Topic of enriched posts to consume. */
  DETECTOR_INPUT_TOPIC: z.string().default(TOPICS.postsEnriched),
  /** Consumer group; instances share the input's partitions, each partition's detector state moves with it. */
  DETECTOR_GROUP_ID: z.string().default(GROUPS.detector),
  /** Distinguishes instances in logs and client ids. */
  DETECTOR_INSTANCE_ID: z.string().default(hostname()),
  /** Key prefix of the per-partition checkpoints in Redis. */
  DETECTOR_CHECKPOINT_PREFIX: z.string().default('tf:detector:'),
  /** How often a partition's state and offset are checkpointed (wall time); a crash replays at most this much. */
  DETECTOR_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().nonnegative().default(5_000),
  /** Optional JSON file of detector settings overriding the defaults (see packages/detect/README.md). */
  DETECTOR_CONFIG_FILE: z.string().optional(),
  /** The one knob: above 1 alerts earlier and more often, below 1 later and less. */
  DETECTOR_SENSITIVITY: z.coerce.number().min(0.25).max(4).optional(),
  /** BullMQ key prefix. */
  QUEUE_PREFIX: z.string().default('tf'),
  /** BullMQ queue the alerts go to. */
  ALERTS_QUEUE: z.string().default(QUEUES.alerts),
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  /** How long the group waits for a silent member before giving its partitions to others (a crashed instance's). */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30_000),
  /** Graceful stop deadline. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(25_000),
});

export type DetectorServiceConfig = z.infer<typeof DetectorServiceConfigSchema>;

export function loadDetectorServiceConfig(env: NodeJS.ProcessEnv = process.env): DetectorServiceConfig {
  return loadConfig(DetectorServiceConfigSchema, env);
}
