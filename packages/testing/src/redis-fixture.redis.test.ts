import { Redis } from 'ioredis';
import { describe, expect, inject } from 'vitest';
import { redisUrl } from './env.js';
import { redisTest } from './redis-fixture.js';

describe('redisTest fixture', () => {
  let leftBehind = '';

  redisTest('gives a connected client and a private prefix', async ({ redis, prefix }) => {
    expect(await redis.ping()).toBe('PONG');
    expect(prefix).toMatch(/^test-.+:$/);
    // global-setup may have started its own redis-server; workers must see its URL.
    expect(redisUrl()).toBe(inject('redisUrl'));
    await redis.set(`${prefix}a`, '1');
    await redis.hset(`${prefix}b`, { field: 'x' });
    leftBehind = prefix;
  });

  redisTest('deleted the previous test’s keys', async ({ redis, prefix }) => {
    expect(prefix).not.toBe(leftBehind);
    expect(await redis.keys(`${leftBehind}*`)).toEqual([]);
  });

  redisTest('cleans up after a test that closed its own client', async ({ redis, prefix }) => {
    await redis.set(`${prefix}x`, '1');
    await redis.quit();
    leftBehind = prefix;
  });

  redisTest('…and that clean-up happened', async () => {
    const other = new Redis(redisUrl());
    try {
      expect(await other.exists(`${leftBehind}x`)).toBe(0);
    } finally {
      other.disconnect();
    }
  });
});
