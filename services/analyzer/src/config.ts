import { hostname } from 'node:os';
import { z } from 'zod';
import { GROUPS, TOPICS } from '@tingfeng/contracts';
import { KAFKA_CONSUMER_SETTINGS, KAFKA_SETTINGS, REDIS_KEY_SETTINGS, REDIS_SETTINGS, SHUTDOWN_SETTINGS, loadConfig } from '@tingfeng/config';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const AnalyzerConfigSchema = z.object({
  ...KAFKA_SETTINGS,
  ...REDIS_SETTINGS,
  /** Topic of raw posts to consume. */
  ANALYZER_INPUT_TOPIC: z.string().default(TOPICS.posts),
  /** Topic the enriched posts are written to. */
  ANALYZER_OUTPUT_TOPIC: z.string().default(TOPICS.postsEnriched),
  /** Dead-letter topic for refused messages. */
  ANALYZER_DLQ_TOPIC: z.string().default(TOPICS.postsDlq),
  /** Consumer group; instances of one group share the input's partitions. */
  ANALYZER_GROUP_ID: z.string().default(GROUPS.analyzer),
  /** Distinguishes instances; the transactional id derives from it, so a restarted instance fences its predecessor. */
  ANALYZER_INSTANCE_ID: z.string().default(hostname()),
  /** Key prefix of the de-duplication claims in Redis. */
  ANALYZER_DEDUP_PREFIX: z.string().default('tf:seen:'),
  /** How long a post's identity is remembered; a redelivery later than this is processed again. */
  ANALYZER_DEDUP_TTL_SECONDS: z.coerce.number().int().positive().default(7 * 24 * 3600),
  /** Most messages written in one Kafka transaction: larger amortises the commit, smaller redoes less after a crash. */
  ANALYZER_MAX_TX_MESSAGES: z.coerce.number().int().min(1).max(100_000).default(5000),
  /**
   * Largest enriched post written to the output topic; a larger one (a valid post near 1 MiB grows when enriched) is
   * dead-lettered as `too_large` instead of failing its transaction forever. Keep below the topic's max.message.bytes.
   */
  ANALYZER_MAX_OUTPUT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024 - 8 * 1024),
  /** Reload the user dictionary when its file changes. */
  ANALYZER_WATCH_DICTIONARY: bool.default(true),
  ...REDIS_KEY_SETTINGS,
  /** How often the schemes key is read; a change applies without a restart (one GET when nothing changed). */
  ANALYZER_SCHEMES_REFRESH_MS: z.coerce.number().int().min(100).default(5000),
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  ...KAFKA_CONSUMER_SETTINGS,
  ...SHUTDOWN_SETTINGS,
});

export type AnalyzerConfig = z.infer<typeof AnalyzerConfigSchema>;

export function loadAnalyzerConfig(env: NodeJS.ProcessEnv = process.env): AnalyzerConfig {
  return loadConfig(AnalyzerConfigSchema, env);
}
