import { describe, expect, it } from 'vitest';
import { redisTest } from '@tingfeng/testing';
import { jitteredBackoff } from './backoff.js';
import { DeliveryStore } from './store.js';

describe('DeliveryStore (real Redis)', () => {
  redisTest('a sliding window admits the limit, then says how long until room', async ({ redis, prefix }) => {
    const store = new DeliveryStore(redis, prefix);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) expect((await store.acquire('bot', t0 + i * 100, 60_000, 3, `m${i}`)).allowed).toBe(true);
    expect(await store.acquire('bot', t0 + 500, 60_000, 3, 'm3')).toEqual({ allowed: false, waitMs: 59_500 });
    expect((await store.acquire('bot', t0 + 60_001, 60_000, 3, 'm4')).allowed).toBe(true);
  });

  redisTest('while a rate digest is pending, new items join it unless forced', async ({ redis, prefix }) => {
    const store = new DeliveryStore(redis, prefix);
    await store.addPending('bot', 'rate', 'item-1', 1);
    expect(await store.acquire('bot', 10, 60_000, 3, 'a')).toEqual({ allowed: false, waitMs: 0 });
    expect((await store.acquire('bot', 10, 60_000, 3, 'b', true)).allowed).toBe(true);
  });

  redisTest('a batch is taken once: a retry gets the same items, later items go to the next batch', async ({ redis, prefix }) => {
    const store = new DeliveryStore(redis, prefix);
    expect(await store.addPending('bot', 'rate', 'a', 1)).toBe(0);
    expect(await store.addPending('bot', 'rate', 'b', 2)).toBe(0);
    expect(await store.addPending('bot', 'rate', 'a', 3)).toBe(0); // a retried job adds nothing
    expect(await store.takeBatch('bot', 'rate', 0)).toEqual(['a', 'b']);
    expect(await store.addPending('bot', 'rate', 'c', 4)).toBe(1);
    expect(await store.takeBatch('bot', 'rate', 0)).toEqual(['a', 'b']); // the digest job retried
    await store.finishBatch('bot', 'rate', 0);
    expect(await store.takeBatch('bot', 'rate', 0)).toEqual([]); // a stale job for a sent batch
    expect(await store.takeBatch('bot', 'rate', 1)).toEqual(['c']);
    expect(await store.pendingCount('bot', 'rate')).toBe(0);
  });
});

describe('jitteredBackoff', () => {
  it('doubles per attempt within [half, all] of the ceiling, capped', () => {
    const low = jitteredBackoff(1000, 10_000, () => 0);
    const high = jitteredBackoff(1000, 10_000, () => 1);
    expect([1, 2, 3, 4, 5, 6].map(low)).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect([1, 2, 3, 4, 5, 6].map(high)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});
