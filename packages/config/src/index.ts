import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * A setting is missing or malformed. The message is one line naming the variable and what is wrong with it; it never
 * repeats the value, which may be a token, a password or a URL with credentials.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`invalid configuration: ${variable}: ${problem}`);
  }
}

/**
 * Validates `env` against a service's settings schema, whose keys are the environment variable names.
 * Throws {@link ConfigError} naming the first bad variable; nothing is parsed at import time.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const source: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') source[k] = v;
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const variable = issue?.path.map(String).join('.') || '(environment)';
  // zod's own messages can quote the input (an enum's "received 'x'"): the problem is named by the issue's kind
  // for those, and custom messages (ours) are written never to include the value.
  throw new ConfigError(variable, issue ? describeIssue(issue) : 'invalid');
}

/** What is wrong, without the value: zod's messages for these kinds can quote the input. */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    default:
      return issue.message.replace(/\s+/g, ' ');
  }
}

/** Parses a comma-separated list setting. */
export function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * A setting read by `parse` (an allow-list, `token:role` entries): what `parse` throws is the setting's error, so
 * `parse` should name a bad entry by its position, never by its text (it may be a secret).
 */
export function parsedSetting<T>(parse: (value: string | undefined) => T) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      try {
        return parse(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
}

/** Settings every Kafka client service shares: spread them into its schema. */
export const KAFKA_SETTINGS = {
  /** Kafka brokers, comma-separated host:port. */
  KAFKA_BROKERS: z.string().default('127.0.0.1:9092'),
  /** Replicas of each partition of a topic this service creates when it is missing (1 suits one broker; 3 on a cluster). Existing topics keep theirs. */
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).default(1),
};

/** The settings of a service that consumes Kafka in a group. */
export const KAFKA_CONSUMER_SETTINGS = {
  /** How long the group waits for a silent member before giving its partitions to others (a crashed instance's). */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30_000),
};

/** The Redis connection of every service that uses Redis: spread it into its schema. */
export const REDIS_SETTINGS = {
  /** Redis this service connects to: redis://[user:password@]host:port[/db]. */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
};

/**
 * Where the incident view lives, for the services that read or write it (incidents, detector, notifier). The view is
 * derived from `incident-events` and rebuilt from it, so it may have a Redis of its own: wiping that one costs a
 * rebuild, not the queues. Unset, the view shares REDIS_URL. Resolve it with {@link viewRedisUrl}.
 */
export const VIEW_REDIS_SETTINGS = {
  /** Redis of the incident view (derived, rebuildable); default REDIS_URL. */
  INCIDENT_VIEW_REDIS_URL: z.string().url().optional(),
};

/** The incident view's Redis URL: INCIDENT_VIEW_REDIS_URL, or REDIS_URL when it is unset. */
export function viewRedisUrl(config: { REDIS_URL: string; INCIDENT_VIEW_REDIS_URL?: string | undefined }): string {
  return config.INCIDENT_VIEW_REDIS_URL ?? config.REDIS_URL;
}

/**
 * The prefix of the Redis keys services share (the incident view, the config objects), for every service that reads
 * or writes them; all must use the same. The default is `DEFAULT_REDIS_PREFIX` of `@tingfeng/contracts`, written out
 * because this package depends on none other (a test holds the two equal).
 */
export const REDIS_KEY_SETTINGS = {
  /** Prefix of the keys shared between services (`{p}incident:<id>`, `{p}config:schemes`, `{p}config:routes` …). */
  REDIS_PREFIX: z.string().default('tf:'),
};

/**
 * The BullMQ key prefix of every service with a queue (detector, incidents, notifier); all must use the same. The
 * default is `DEFAULT_QUEUE_PREFIX` of `@tingfeng/queue`, written out because this package depends on none other (a
 * test holds the two equal).
 */
export const QUEUE_SETTINGS = {
  /** Prefix of the BullMQ keys (`{p}:alerts:…`, `{p}:notifications:…`, the notifier's `deliveries` and `escalations`). */
  QUEUE_PREFIX: z.string().default('tf'),
};

/** Every service's stop deadline. */
export const SHUTDOWN_SETTINGS = {
  /** Graceful stop deadline: past it the process exits anyway. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(25_000),
};

/** Settings of every service that reads or writes the post archive (PostgreSQL): spread them into its schema. */
export const ARCHIVE_SETTINGS = {
  /** PostgreSQL holding the archive: postgres://user:password@host:port/database. */
  DATABASE_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/postgres'),
  /** Schema of the archive's tables in that database (lower-case identifier); the migrations create it at start. */
  ARCHIVE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case identifier ([a-z_][a-z0-9_]*)')
    .default('archive'),
};

/** The shortest token or secret a service accepts: a guessable one is refused at start. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * A comma-separated list of tokens, each at least {@link MIN_TOKEN_LENGTH} characters; a short one stops the service
 * with a message naming the variable and the entry's position, never any part of it.
 */
export function tokenListSetting() {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      const tokens = list(value);
      const short = tokens.findIndex((t) => t.length < MIN_TOKEN_LENGTH);
      if (short !== -1) {
        ctx.addIssue({ code: 'custom', message: `entry ${short + 1} of ${tokens.length} is shorter than ${MIN_TOKEN_LENGTH} characters` });
        return z.NEVER;
      }
      return tokens;
    });
}

/** One secret setting (a signing key, a bearer token): at least {@link MIN_TOKEN_LENGTH} characters. */
export function secretSetting() {
  return z.string().min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters`);
}

/**
 * The index of `candidate` in `tokens`, or -1, in time that depends on neither how much of a guess was right nor
 * which entry matched: both sides are hashed to one length and every entry is compared.
 */
export function matchToken(tokens: readonly string[], candidate: string): number {
  const given = createHash('sha256').update(candidate, 'utf8').digest();
  let found = -1;
  tokens.forEach((token, index) => {
    const expected = createHash('sha256').update(token, 'utf8').digest();
    if (timingSafeEqual(expected, given) && found === -1) found = index;
  });
  return found;
}

/**
 * The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, surrounding spaces dropped), or
 * undefined without one. Compare it with {@link matchToken}, never with `===` or `includes`.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
  return token === '' ? undefined : token;
}

/**
 * A short name for a token that reveals nothing of it (the first 8 hex digits of its SHA-256): enough to tell tokens
 * apart in an audit trail or a log line.
 */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 8);
}
