import { z } from 'zod';

/** A setting is missing or malformed. The message is one line naming the variable. */
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
  const given = issue ? source[variable] : undefined;
  const problem = issue?.message ?? 'invalid';
  throw new ConfigError(variable, given === undefined ? problem : `${problem} (got ${JSON.stringify(given.slice(0, 40))})`);
}

/** Parses a comma-separated list setting. */
export function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
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
