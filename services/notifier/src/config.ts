import { hostname } from 'node:os';
import { z } from 'zod';
import { TOPICS } from '@tingfeng/contracts';
import { KAFKA_SETTINGS, QUEUE_SETTINGS, REDIS_KEY_SETTINGS, REDIS_SETTINGS, SHUTDOWN_SETTINGS, VIEW_REDIS_SETTINGS, loadConfig, secretSetting } from '@tingfeng/config';
import { NOTIFY_SETTINGS } from '@tingfeng/channels';

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;

export const NotifierConfigSchema = z.object({
  ...KAFKA_SETTINGS,
  ...REDIS_SETTINGS,
  ...VIEW_REDIS_SETTINGS,
  ...REDIS_KEY_SETTINGS,
  ...QUEUE_SETTINGS,
  /** The log of record `notified` and `escalated` events are appended to. */
  INCIDENT_EVENTS_TOPIC: z.string().default(TOPICS.incidentEvents),
  /** Base URL of the dashboard: messages link to `${PUBLIC_URL}/#/incidents/<id>`. */
  PUBLIC_URL: z.string().url().default('http://127.0.0.1:3000'),
  /** Generic webhook used (as channel `default`) when `{p}config:routes` is absent, and available to routes by that id. */
  NOTIFY_DEFAULT_WEBHOOK_URL: z.string().url().optional(),
  /** HMAC secret of the default webhook, at least 16 characters. */
  NOTIFY_DEFAULT_WEBHOOK_SECRET: secretSetting().optional(),
  ...NOTIFY_SETTINGS,
  /** Bytes of a receiver's answer read at most (the bots answer a few dozen). */
  NOTIFY_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).default(64 * 1024),
  /** Messages per window a channel accepts when it sets no `ratePerMinute`; the bots allow about 20 a minute. */
  NOTIFY_RATE_PER_MINUTE: z.coerce.number().int().positive().default(20),
  /** The rate-limit window; one minute in production, shorter in tests. */
  NOTIFY_RATE_WINDOW_MS: z.coerce.number().int().positive().default(60_000),
  /** Attempts per delivery before it stays in the failed set. */
  NOTIFY_DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
  /** First retry delay; each next one doubles, with jitter, up to NOTIFY_BACKOFF_MAX_MS. */
  NOTIFY_BACKOFF_BASE_MS: z.coerce.number().int().positive().default(2_000),
  /** Longest retry delay. */
  NOTIFY_BACKOFF_MAX_MS: z.coerce.number().int().positive().default(5 * 60_000),
  /** Timeout of one HTTP attempt. */
  NOTIFY_SEND_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Quiet hours `HH:MM-HH:MM` for channels that set none (empty: none); only critical incidents are sent then. */
  NOTIFY_QUIET_HOURS: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.split('-').length === 2 && v.split('-').every((p) => hhmm.test(p)), 'expected HH:MM-HH:MM'),
  /** Time zone of quiet hours and of times shown in messages. */
  NOTIFY_TIME_ZONE: z.string().default('Asia/Shanghai'),
  /** Escalation delay per level when routes define no escalation of their own (level n fires n × this after opening). */
  ESCALATION_AFTER_MS: z.coerce.number().int().positive().default(15 * 60_000),
  /** Default escalation levels: channel ids, `,` within a level, `;` between levels (e.g. `duty-lead;director`). */
  ESCALATION_LEVELS: z.string().optional(),
  /** Deliveries sent at once. */
  NOTIFIER_CONCURRENCY: z.coerce.number().int().positive().max(64).default(4),
  /** Port of /healthz, /readyz, /metrics and /deliveries/failed; 0 picks a free one. */
  NOTIFIER_PORT: z.coerce.number().int().min(0).max(65535).default(9466),
  /** Bearer token of GET /deliveries/failed (at least 16 characters); unset, that route answers loopback callers only. */
  NOTIFIER_OPS_TOKEN: secretSetting().optional(),
  /** Names this instance in logs and the Kafka client id. */
  NOTIFIER_INSTANCE_ID: z.string().default(hostname()),
  ...SHUTDOWN_SETTINGS,
});

export type NotifierConfig = z.infer<typeof NotifierConfigSchema>;

/** Reads the settings from the environment; throws ConfigError naming the first bad variable. */
export function loadNotifierConfig(env: NodeJS.ProcessEnv = process.env): NotifierConfig {
  return loadConfig(NotifierConfigSchema, env);
}

/** `a,b;c` → `[['a','b'],['c']]`. */
export function parseEscalationLevels(value: string | undefined): string[][] {
  return (value ?? '')
    .split(';')
    .map((level) => level.split(',').map((s) => s.trim()).filter(Boolean))
    .filter((level) => level.length > 0);
}
