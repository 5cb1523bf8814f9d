import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@tingfeng/logger';
import { closeRedis, createRedis } from './index.js';

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

describe('closeRedis', () => {
  it('closes a client whose Redis is down instead of waiting for it to come back', async () => {
    const client = createRedis(`redis://127.0.0.1:${await deadPort()}`, createLogger('test'));
    await new Promise<void>((resolve) => client.once('error', () => resolve()));
    // A command waiting for Redis (a poll, a claim): QUIT used to queue behind it and wait as long.
    void client.get('k').catch(() => undefined);
    await closeRedis(client);
    // The socket closes on the next turns of the event loop; nothing reconnects it.
    await expect.poll(() => client.status).toBe('end');
    await closeRedis(client);
  });

  it('returns for a client waiting to reconnect', async () => {
    const client = createRedis(`redis://127.0.0.1:${await deadPort()}`, createLogger('test'));
    await new Promise<void>((resolve) => client.once('reconnecting', () => resolve()));
    void client.get('k').catch(() => undefined);
    // Before, QUIT sat in the offline queue behind the GET and this never returned.
    await closeRedis(client);
    // Closed for good: the reconnect timer is cleared, so no further attempt is made. ioredis leaves `status` at
    // 'reconnecting' here and the GET pending (redis/ioredis#2169), so what is checked is that nothing retries: the
    // default strategy retries after 50, 100, 150… ms, so half a second would see several attempts.
    const attempts: string[] = [];
    client.on('reconnecting', () => attempts.push('reconnecting'));
    client.on('connect', () => attempts.push('connect'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(attempts).toEqual([]);
  });
});
