import { hostname } from 'node:os';
import { z } from 'zod';
import { GROUPS, TOPICS } from '@tingfeng/contracts';
import { ARCHIVE_SETTINGS, KAFKA_CONSUMER_SETTINGS, KAFKA_SETTINGS, SHUTDOWN_SETTINGS, loadConfig } from '@tingfeng/config';

export const ArchiverConfigSchema = z.object({
  ...KAFKA_SETTINGS,
  ...ARCHIVE_SETTINGS,
  /** Topic of enriched posts to archive. */
  ARCHIVER_INPUT_TOPIC: z.string().default(TOPICS.postsEnriched),
  /** Dead-letter topic for records that are not enriched posts, or that the database refuses for good. */
  ARCHIVER_DLQ_TOPIC: z.string().default(TOPICS.postsDlq),
  /** Consumer group; instances of one group share the input's partitions. */
  ARCHIVER_GROUP_ID: z.string().default(GROUPS.archiver),
  /** Distinguishes instances; the transactional id derives from it, so a restarted instance fences its predecessor. */
  ARCHIVER_INSTANCE_ID: z.string().default(hostname()),
  /** Most posts written in one statement (and committed with one offset): larger amortises the round trip, smaller redoes less after a crash. */
  ARCHIVER_MAX_BATCH_POSTS: z.coerce.number().int().min(1).max(50_000).default(5000),
  /** Partitions whose batches are written at the same time (each on its own connection). */
  ARCHIVER_PARTITIONS_CONCURRENTLY: z.coerce.number().int().min(1).max(16).default(2),
  /** Bytes fetched per partition per request; bigger fetches make bigger batches. */
  ARCHIVER_FETCH_BYTES_PER_PARTITION: z.coerce.number().int().min(64 * 1024).default(8 * 1024 * 1024),
  /** Months kept, the current one included; older monthly partitions are dropped and older posts not written. 0 keeps everything. */
  ARCHIVE_RETENTION_MONTHS: z.coerce.number().int().min(0).max(1200).default(0),
  /** How often retention runs (also once at start). */
  ARCHIVER_RETENTION_CHECK_MS: z.coerce.number().int().min(1000).default(60 * 60 * 1000),
  /** Worker threads that parse records and build their COPY rows while the main thread streams them (0: on the main thread). */
  ARCHIVER_ENCODE_THREADS: z.coerce.number().int().min(0).max(8).default(2),
  /** Connections to PostgreSQL. */
  ARCHIVER_DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9467),
  ...KAFKA_CONSUMER_SETTINGS,
  ...SHUTDOWN_SETTINGS,
});

export type ArchiverConfig = z.infer<typeof ArchiverConfigSchema>;

export function loadArchiverConfig(env: NodeJS.ProcessEnv = process.env): ArchiverConfig {
  return loadConfig(ArchiverConfigSchema, env);
}
