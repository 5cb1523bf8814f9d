import type { ConnectionOptions } from 'bullmq';

/** Default BullMQ key prefix (`QUEUE_PREFIX`); tests use a random one. */
export const DEFAULT_QUEUE_PREFIX = 'tf';

/**
 * BullMQ connection options for `REDIS_URL`. Each Queue/Worker opens its own connections from these;
 * `maxRetriesPerRequest: null` is what BullMQ requires of a worker's blocking connection.
 */
export function queueConnection(redisUrl: string): ConnectionOptions {
  return { url: redisUrl, maxRetriesPerRequest: null, enableReadyCheck: true };
}

/** Options every Queue/Worker of the system is built with: the connection and the key prefix. */
export interface QueueSettings {
  connection: ConnectionOptions;
  prefix: string;
}

/** The settings for `REDIS_URL` and `QUEUE_PREFIX`. */
export function queueSettings(redisUrl: string, prefix: string = DEFAULT_QUEUE_PREFIX): QueueSettings {
  return { connection: queueConnection(redisUrl), prefix };
}
