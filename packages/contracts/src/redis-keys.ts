/** Default prefix of the Redis keys the services share (`REDIS_PREFIX` of every service that reads or writes them). */
export const DEFAULT_REDIS_PREFIX = 'tf:';

/**
 * Key of the monitoring schemes (JSON array of SchemeSchema) under `prefix`: written by the incidents API, polled by
 * the analyzer. Both derive it from their `REDIS_PREFIX` here, so the two cannot drift apart.
 */
export function schemesKey(prefix: string = DEFAULT_REDIS_PREFIX): string {
  return `${prefix}config:schemes`;
}
