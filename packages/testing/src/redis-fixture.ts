import { Redis } from 'ioredis';
import { test } from 'vitest';
import { redisUrl } from './env.js';
import { randomName } from './names.js';

/** What `redisTest` adds to each test's context. */
export interface RedisFixtures {
  /** A connected ioredis client on `REDIS_URL`; closed after the test. */
  redis: Redis;
  /** A key prefix no other test uses, ending in `:`; every key under it is deleted after the test. */
  prefix: string;
}

/** Deletes every key that starts with `prefix` (SCAN, never KEYS, so a shared Redis is not blocked). */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/**
 * `test` with a real Redis: `redisTest('…', async ({ redis, prefix }) => …)`.
 * Put every key under `prefix` (BullMQ: `{ prefix }`), so tests can run in parallel.
 */
export const redisTest = test.extend<RedisFixtures>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads fixture dependencies from the destructuring
  prefix: async ({}, use) => {
    await use(`${randomName('test')}:`);
  },
  redis: async ({ prefix }, use) => {
    const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 3 });
    await redis.connect();
    try {
      await use(redis);
    } finally {
      redis.disconnect();
      // A fresh client: the test may have quit, broken or put its own into subscriber mode.
      const cleaner = new Redis(redisUrl(), { maxRetriesPerRequest: 3 });
      try {
        await deleteKeysWithPrefix(cleaner, prefix);
      } finally {
        cleaner.disconnect();
      }
    }
  },
});
