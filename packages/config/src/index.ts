import type { z } from 'zod';

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
