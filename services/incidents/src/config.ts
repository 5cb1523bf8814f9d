import { z } from 'zod';
import { GROUPS, ROLES, TOPICS, type Role } from '@tingfeng/contracts';
import { ARCHIVE_SETTINGS, KAFKA_SETTINGS, MIN_TOKEN_LENGTH, QUEUE_SETTINGS, REDIS_KEY_SETTINGS, REDIS_SETTINGS, SHUTDOWN_SETTINGS, VIEW_REDIS_SETTINGS, list, loadConfig, parsedSetting, tokenFingerprint } from '@tingfeng/config';
import { NOTIFY_SETTINGS } from '@tingfeng/channels';

/** One API token: the secret, its role, and the principal name recorded as `actor` on the events it causes. */
export interface ApiToken {
  token: string;
  role: Role;
  principal: string;
}

/**
 * Parses `token:role` or `token:role:name` entries; a token is at least 16 characters. Without a name the principal
 * is `<role>#<fingerprint>` (8 hex digits of the token's SHA-256), enough to tell tokens apart in the audit trail
 * without writing any part of the secret into it. Errors name the entry by position, never by its text.
 */
export function parseApiTokens(value: string | undefined): ApiToken[] {
  const entries = list(value);
  return entries.map((entry, index) => {
    const [token = '', role = '', ...rest] = entry.split(':');
    const which = `entry ${index + 1} of ${entries.length}`;
    if (token.length < MIN_TOKEN_LENGTH) throw new Error(`${which}: the token is shorter than ${MIN_TOKEN_LENGTH} characters`);
    if (!(ROLES as readonly string[]).includes(role)) throw new Error(`${which}: the role is not one of ${ROLES.join(', ')}`);
    const name = rest.join(':').trim();
    return { token, role: role as Role, principal: name || `${role}#${tokenFingerprint(token)}` };
  });
}

/** An IANA time zone name this Node knows (`Asia/Shanghai`). */
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone, e.g. Asia/Shanghai');

export const IncidentsConfigSchema = z.object({
  ...KAFKA_SETTINGS,
  ...ARCHIVE_SETTINGS,
  /** Connections to the archive for search, evidence and reports. */
  INCIDENTS_DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  /** The organisation's time zone: a report's day, the search histogram's day buckets, times in messages. */
  TIME_ZONE: timeZone.default('Asia/Shanghai'),
  /** When the daily reports (舆情日报) are built and sent, `HH:MM` in TIME_ZONE; they cover the day before. */
  REPORT_DAILY_AT: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)')
    .default('07:30'),
  /** NOTIFY_ALLOWED_HOSTS: the non-public destinations the daily reports' announcements may reach, as the notifier's. */
  ...NOTIFY_SETTINGS,
  /** The Chromium that prints reports as PDF (Debian's package path). */
  CHROMIUM_PATH: z.string().default('/usr/bin/chromium'),
  ...REDIS_SETTINGS,
  ...VIEW_REDIS_SETTINGS,
  ...REDIS_KEY_SETTINGS,
  /** How often the view's epoch is checked: a wipe of the view's Redis is noticed within this (and the process exits). */
  INCIDENT_VIEW_CHECK_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  ...QUEUE_SETTINGS,
  /** The log of record the incident events are appended to and the view is rebuilt from (override for tests). */
  INCIDENT_EVENTS_TOPIC: z.string().default(TOPICS.incidentEvents),
  /** Consumer group of the view's applier; it commits nothing (its offsets live in Redis beside the view). */
  INCIDENTS_GROUP_ID: z.string().default(GROUPS.incidents),
  /** Address the API and dashboard listen on. */
  INCIDENTS_HOST: z.string().default('127.0.0.1'),
  /** Port of the API, the dashboard, /healthz, /readyz and /metrics; 0 picks a free one. */
  INCIDENTS_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Bearer tokens: comma-separated `token:role` or `token:role:name`; roles analyst, oncall, admin. */
  API_TOKENS: parsedSetting(parseApiTokens),
  /** Wall-clock quiet period after an incident's last alert before it resolves itself (default 2 h). */
  INCIDENT_AUTO_RESOLVE_MS: z.coerce.number().int().positive().default(2 * 60 * 60 * 1000),
  /** How often open incidents are checked against the quiet period; default a quarter of it, at most a minute. */
  INCIDENT_AUTO_RESOLVE_CHECK_MS: z.coerce.number().int().positive().optional(),
  /** Base URL of the dashboard, for links in notifications. */
  PUBLIC_URL: z.string().url().default('http://127.0.0.1:3000'),
  /** How long an appended event may take to show in the view before the command fails (and its job retries). */
  INCIDENT_APPLY_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** Newest timeline entries an incident's view carries (the detail page's timeline); older ones are paged from its history. */
  INCIDENT_VIEW_TIMELINE_MAX: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Newest alerts an incident's view carries (the detail, notifications, evidence, charts); older ones are paged from its history. */
  INCIDENT_VIEW_ALERTS_MAX: z.coerce.number().int().min(1).max(10_000).default(50),
  /** Newest timeline entries and alerts kept per incident in Redis for paging; the log keeps every one. */
  INCIDENT_HISTORY_MAX: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** How long a resolved incident stays in Redis after its resolution (default 30 days); then it is rebuilt from the log on demand. */
  INCIDENT_RETENTION_MS: z.coerce.number().int().min(0).default(30 * 24 * 3600 * 1000),
  /** How often resolved incidents past their retention are looked for. */
  INCIDENT_EXPIRY_CHECK_MS: z.coerce.number().int().positive().default(60_000),
  /** Longest note, in characters; a longer one answers 413 `note_too_large`. */
  INCIDENT_NOTE_MAX_CHARS: z.coerce.number().int().min(1).max(100_000).default(5000),
  /** Notes one caller (principal) may add per minute, over all incidents; past it 429 `rate_limited` with retry-after. */
  INCIDENT_NOTES_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  /** Most live streams (SSE clients) open at once; one more answers 503 `too_many_streams`. */
  INCIDENTS_SSE_MAX_CLIENTS: z.coerce.number().int().min(1).default(200),
  /** A stream client whose socket buffer stays full this long is disconnected (it has stopped reading). */
  INCIDENTS_SSE_SLOW_CLIENT_MS: z.coerce.number().int().positive().default(10_000),
  /** A stream client with more bytes than this waiting in the process (beyond what its socket holds) is disconnected at once. */
  INCIDENTS_SSE_MAX_BUFFER_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  /** How long a stream ticket (POST /api/stream/ticket) may wait before it is used; it is accepted once. */
  INCIDENTS_SSE_TICKET_TTL_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  ...SHUTDOWN_SETTINGS,
});

export type IncidentsConfig = z.infer<typeof IncidentsConfigSchema>;

/** Reads the settings from the environment; throws ConfigError naming the first bad variable. */
export function loadIncidentsConfig(env: NodeJS.ProcessEnv = process.env): IncidentsConfig {
  return loadConfig(IncidentsConfigSchema, env);
}
