import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '@tingfeng/logger';

export { Redis };

/**
 * A Redis client for a component. `maxRetriesPerRequest: null` is what BullMQ requires of the connections it is given,
 * and it keeps a command waiting through a short Redis restart instead of failing it.
 */
export function createRedis(url: string, logger: Logger, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...options });
  client.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis error'));
  return client;
}

/** Quits gracefully, disconnecting if QUIT fails; safe on a closed client. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
