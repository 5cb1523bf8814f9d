import { z } from 'zod';
import { TOPICS } from '@tingfeng/contracts';
import { ConfigError, KAFKA_SETTINGS, SHUTDOWN_SETTINGS, loadConfig, tokenListSetting } from '@tingfeng/config';

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
  /** Most items (array elements or NDJSON lines) in one request; more is answered 413 and nothing is written. */
  INGEST_MAX_ITEMS: z.coerce.number().int().positive().default(5_000),
  /** Message bytes per produce request: a request's posts and dead letters are written in slices of at most this (one larger message goes alone). */
  INGEST_SEND_SLICE_BYTES: z.coerce.number().int().min(1024).default(512 * 1024),
  /** How long a request waits for Kafka's acknowledgement before it is answered 503 (retry later). */
  INGEST_SEND_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  ...SHUTDOWN_SETTINGS,
  /** Bearer tokens accepted from crawlers and webhooks, comma-separated, each at least 16 characters; required unless INGEST_ALLOW_ANONYMOUS. */
  INGEST_TOKENS: tokenListSetting(),
  /** `true` accepts callers without a token: only for a demo on a trusted machine (`pnpm start` sets it). */
  INGEST_ALLOW_ANONYMOUS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export type IngestConfig = z.infer<typeof IngestConfigSchema>;

/** Reads the settings; ingest is closed by default, so it needs tokens or an explicit INGEST_ALLOW_ANONYMOUS=true. */
export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const config = loadConfig(IngestConfigSchema, env);
  if (config.INGEST_TOKENS.length === 0 && !config.INGEST_ALLOW_ANONYMOUS) {
    throw new ConfigError('INGEST_TOKENS', 'required: at least one token (or INGEST_ALLOW_ANONYMOUS=true for a demo on a trusted machine)');
  }
  if (config.INGEST_TOKENS.length > 0 && config.INGEST_ALLOW_ANONYMOUS) {
    throw new ConfigError('INGEST_ALLOW_ANONYMOUS', 'cannot be true while INGEST_TOKENS is set: choose one');
  }
  return config;
}
