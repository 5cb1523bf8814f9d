import { Redis, type RedisOptions } from 'ioredis';
import { TIMED_OUT, withTimeout } from '@tingfeng/lifecycle';
import type { Logger } from '@tingfeng/logger';

export { Redis };

/**
 * A Redis client for a component. `maxRetriesPerRequest: null` is what BullMQ requires of the connections it is given,
 * and it keeps a command waiting through a short Redis restart instead of failing it.
 */
export function createRedis(url: string, logger: Logger, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...options });
  client.on('error', (err: Error) => logger.warn({ err }, 'redis error'));
  return client;
}

/** How long QUIT may wait for its answer before the connection is simply dropped. */
const QUIT_TIMEOUT_MS = 2_000;

/**
 * Quits gracefully when connected, disconnecting if QUIT fails or goes unanswered; safe on a closed client. A client
 * that is not connected (Redis down, reconnecting) is disconnected at once: with `maxRetriesPerRequest: null` its QUIT
 * would wait in the offline queue for a Redis that may never come back, holding up the whole shutdown.
 */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    if ((await withTimeout(client.quit(), QUIT_TIMEOUT_MS)) === TIMED_OUT) client.disconnect();
  } catch {
    client.disconnect();
  }
}
