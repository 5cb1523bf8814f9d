import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@tingfeng/logger';
import { redisKeys } from '@tingfeng/queue';
import { Redis } from '@tingfeng/redis';
import { randomName, startPrivateRedis, type PrivateRedis } from '@tingfeng/testing';
import { ViewEpoch } from './view-epoch.js';
import { ViewLostError } from './view-lost-error.js';
import { ViewWriter } from './view-writer.js';

// A Redis of this file's own: the tests FLUSHALL it and stop it, which the shared instance must never see.
let server: PrivateRedis;
let redis: Redis;
const logger = createLogger('view-epoch-test');

beforeAll(async () => {
  server = await startPrivateRedis({ persistent: true });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  // The outage case stops the server on purpose: its refused reconnections are expected.
  redis.on('error', () => undefined);
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

function epochOf(prefix: string, checkMs = 50): { epoch: ViewEpoch; lost: ViewLostError[] } {
  const lost: ViewLostError[] = [];
  const epoch = new ViewEpoch({ redis, keys: redisKeys(prefix), checkMs, logger, onLost: (err) => lost.push(err) });
  return { epoch, lost };
}

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the incident view epoch', () => {
  it('is started on an empty Redis and adopted by the next process; caught up is recorded', async () => {
    const prefix = `${randomName('epoch')}:`;
    const first = epochOf(prefix).epoch;
    const opened = await first.open();
    expect(opened.started).toBe(true);
    const second = epochOf(prefix).epoch;
    expect(await second.open()).toEqual({ id: opened.id, started: false });
    expect(await redis.hexists(redisKeys(prefix).viewEpoch, 'caughtUpAt')).toBe(0);
    await second.markCaughtUp();
    expect(await redis.hexists(redisKeys(prefix).viewEpoch, 'caughtUpAt')).toBe(1);
    await first.verify();
  });

  it('a FLUSHALL is noticed by the watch alone, once, and every later check refuses', async () => {
    const prefix = `${randomName('epoch')}:`;
    const { epoch, lost } = epochOf(prefix);
    await epoch.open();
    epoch.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(lost).toEqual([]);
    await redis.flushall();
    await until('the wipe noticed', () => lost.length > 0);
    expect(epoch.state).toBe('lost');
    expect(lost[0]!.message).toMatch(/wiped/);
    await expect(epoch.verify()).rejects.toBeInstanceOf(ViewLostError);
    await new Promise((r) => setTimeout(r, 200));
    expect(lost).toHaveLength(1);
    epoch.stop();
  });

  it('verify refuses at once after a wipe, before any periodic check', async () => {
    const prefix = `${randomName('epoch')}:`;
    const { epoch, lost } = epochOf(prefix, 60_000);
    await epoch.open();
    epoch.start();
    await epoch.verify();
    await redis.flushdb();
    await expect(epoch.verify()).rejects.toThrow(ViewLostError);
    expect(lost).toHaveLength(1);
    epoch.stop();
  });

  it('a view started again by another process (its layout removed, a new epoch) is a loss too', async () => {
    const prefix = `${randomName('epoch')}:`;
    const keys = redisKeys(prefix);
    const { epoch, lost } = epochOf(prefix, 60_000);
    await epoch.open();
    // What a successor does at start after a wipe: remove what is left of the view (the epoch included), begin anew.
    await redis.del(keys.viewVersion);
    await redis.set(keys.incident('left-over'), '{}');
    const writer = new ViewWriter(redis, keys, { historyMax: 10, retentionMs: 1000 });
    expect(await writer.ensureLayout()).toBe(2);
    const successor = epochOf(prefix).epoch;
    expect((await successor.open()).started).toBe(true);
    await expect(epoch.verify()).rejects.toThrow(/another process/);
    expect(lost).toHaveLength(1);
  });

  it('an outage is not a wipe: Redis stopped and started again (its data kept), the watch goes on', async () => {
    const prefix = `${randomName('epoch')}:`;
    const { epoch, lost } = epochOf(prefix);
    await epoch.open();
    epoch.start();
    await server.stop();
    await new Promise((r) => setTimeout(r, 1_000));
    await server.start();
    await epoch.verify();
    await new Promise((r) => setTimeout(r, 300));
    expect(lost).toEqual([]);
    expect(epoch.state).toBe('watching');
    epoch.stop();
    expect(epoch.state).toBe('stopped');
  }, 60_000);
});
