import { z } from 'zod';
import { TOPICS } from '@tingfeng/contracts';
import { KAFKA_SETTINGS, SHUTDOWN_SETTINGS, list, loadConfig } from '@tingfeng/config';

export const IngestConfigSchema = z.object({
  ...KAFKA_SETTINGS,
  /** Topic valid posts are produced to. */
  INGEST_TOPIC: z.string().default(TOPICS.posts),
  /** Topic refused posts are produced to, with the reason. */
  INGEST_DLQ_TOPIC: z.string().default(TOPICS.postsDlq),
  /** Address to listen on. */
  INGEST_HOST: z.string().default('0.0.0.0'),
  /** Port of POST /ingest, /healthz, /readyz and /metrics; 0 picks a free one. */
  INGEST_PORT: z.coerce.number().int().min(0).max(65535).default(3100),
  /** Largest request body accepted; a larger one is answered 413. */
  INGEST_MAX_BODY_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  /** How long a request waits for Kafka's acknowledgement before it is answered 503 (retry later). */
  INGEST_SEND_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  ...SHUTDOWN_SETTINGS,
  /** Bearer tokens accepted from crawlers and webhooks, comma-separated; empty accepts any caller (a trusted network). */
  INGEST_TOKENS: z
    .string()
    .optional()
    .transform((v) => list(v)),
});

export type IngestConfig = z.infer<typeof IngestConfigSchema>;

export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  return loadConfig(IngestConfigSchema, env);
}
