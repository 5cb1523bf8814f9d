import { describe, expect } from 'vitest';
import { createLogger } from '@tingfeng/logger';
import { redisTest } from '@tingfeng/testing';
import { FencedCheckpointStore } from '../checkpoint/fenced-store.js';
import { LeaderElector } from './elector.js';
import { LeaderLock, type Lease } from './lock.js';

const keys = (prefix: string) => ({ lock: `${prefix}leader`, fence: `${prefix}fence` });
// Read through a function: TypeScript would otherwise narrow `state` across the awaits.
const stateOf = (e: LeaderElector): string => e.state;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LeaderLock', () => {
  redisTest('one holder at a time; every acquisition gets a larger fencing token', async ({ redis, prefix }) => {
    const lock = new LeaderLock(redis, keys(prefix), 10_000);
    const a = await lock.tryAcquire('a');
    expect(a?.token).toBe(1);
    expect(await lock.tryAcquire('b')).toBeUndefined();
    expect(await lock.renew(a!)).toBe(true);
    expect(await lock.release(a!)).toBe(true);
    const b = await lock.tryAcquire('b');
    expect(b?.token).toBe(2);
    // a's lease is over: it can neither renew nor release b's lock.
    expect(await lock.renew(a!)).toBe(false);
    expect(await lock.release(a!)).toBe(false);
    expect(await lock.holder()).toBe('b|2');
  });

  redisTest('an expired lease is taken over and cannot be renewed', async ({ redis, prefix }) => {
    const lock = new LeaderLock(redis, keys(prefix), 150);
    const a = (await lock.tryAcquire('a'))!;
    await sleep(300);
    const b = await lock.tryAcquire('b');
    expect(b?.token).toBe(2);
    expect(await lock.renew(a)).toBe(false);
  });

  redisTest('the checkpoint is written only by the current holder, never by a deposed one', async ({ redis, prefix }) => {
    const lock = new LeaderLock(redis, keys(prefix), 150);
    const store = new FencedCheckpointStore<{ n: number }>(redis, `${prefix}ckpt`, keys(prefix).lock);
    const a = (await lock.tryAcquire('a'))!;
    expect(await store.save(a, { topic: 't', partitions: {}, snapshot: { n: 1 } })).toBeGreaterThan(0);
    await sleep(300);
    const b = (await lock.tryAcquire('b'))!;
    expect(await store.save(a, { topic: 't', partitions: {}, snapshot: { n: 2 } })).toBe(0);
    expect(await store.save(b, { topic: 't', partitions: {}, snapshot: { n: 3 } })).toBeGreaterThan(0);
    // Even holding a lock value that somehow matched, an older token cannot overwrite a newer checkpoint.
    await redis.set(keys(prefix).lock, a.value);
    expect(await store.save(a, { topic: 't', partitions: {}, snapshot: { n: 4 } })).toBe(0);
    const saved = await store.load();
    expect(saved?.snapshot).toEqual({ n: 3 });
    expect(saved?.fencingToken).toBe(2);
  });
});

describe('LeaderElector', () => {
  redisTest('a standby takes over when the leader stops renewing; the old leader learns it lost', async ({ redis, prefix }) => {
    const logger = createLogger('elector-test');
    const lock = new LeaderLock(redis, keys(prefix), 400);
    const events: string[] = [];
    const make = (owner: string) =>
      new LeaderElector({
        lock,
        owner,
        ttlMs: 400,
        renewIntervalMs: 100,
        pollIntervalMs: 50,
        logger,
        onElected: (lease: Lease) => events.push(`${owner} elected ${lease.token}`),
        onLost: (lease: Lease) => events.push(`${owner} lost ${lease.token}`),
      });
    const a = make('a');
    a.start();
    while (stateOf(a) !== 'leader') await sleep(20);
    const b = make('b');
    b.start();
    await sleep(600);
    expect(b.state).toBe('standby');
    // Someone else takes the key (as after an expiry during a pause): a's next renewal is refused.
    await redis.set(keys(prefix).lock, 'intruder|99', 'PX', 200);
    while (stateOf(a) !== 'standby') await sleep(10);
    await a.stop();
    while (stateOf(b) !== 'leader') await sleep(20);
    await b.stop();
    expect(events).toEqual(['a elected 1', 'a lost 1', 'b elected 2']);
  });
});
