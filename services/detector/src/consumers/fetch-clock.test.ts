import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, EventTimeMerge } from '@tingfeng/detect';
import { FetchClock } from './fetch-clock.js';

describe('FetchClock', () => {
  it('stands at the latest answer whose batches have all been handled, -Infinity before the first', () => {
    const clock = new FetchClock();
    expect(clock.nowMs(1_000)).toBe(Number.NEGATIVE_INFINITY);
    clock.fetchStarted(1, 1_000);
    clock.fetchAnswered(1, 1_200);
    // Answered, its batches not yet handled: a partition it brought something for may not have had it handed over.
    expect(clock.nowMs(1_300)).toBe(Number.NEGATIVE_INFINITY);
    clock.fetchStarted(1, 9_000);
    expect(clock.nowMs(9_000)).toBe(1_200);
    clock.fetchAnswered(1, 9_500);
    clock.fetchStarted(1, 9_600);
    expect(clock.nowMs(9_600)).toBe(9_500);
  });

  it('is held back by the node that has handled the least; a node silent for a minute no longer counts', () => {
    const clock = new FetchClock();
    for (const node of [1, 2]) {
      clock.fetchStarted(node, 0);
      clock.fetchAnswered(node, 100);
    }
    clock.fetchStarted(1, 200);
    expect(clock.nowMs(200)).toBe(Number.NEGATIVE_INFINITY);
    clock.fetchStarted(2, 300);
    expect(clock.nowMs(300)).toBe(100);
    clock.fetchAnswered(1, 5_000);
    clock.fetchStarted(1, 5_100);
    expect(clock.nowMs(5_100)).toBe(100);
    clock.fetchAnswered(1, 70_000);
    clock.fetchStarted(1, 70_100);
    expect(clock.nowMs(70_100)).toBe(70_000);
  });

  it('starts over with a new group generation', () => {
    const clock = new FetchClock();
    clock.fetchStarted(1, 0);
    clock.fetchAnswered(1, 100);
    clock.fetchStarted(1, 200);
    clock.reset();
    expect(clock.nowMs(300)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('keeps a partition whose backlog waits unread while the consumer is busy from counting as idle', () => {
    const clock = new FetchClock();
    // One answer brings both partitions' first batches; partition 1's is handled first, then partition 0's.
    clock.fetchStarted(1, 0);
    clock.fetchAnswered(1, 100);
    const loaded = () => {
      const merge = new EventTimeMerge<string>({ idlePartitionMs: 3_000, clock: { maxJumpMs: DEFAULT_CONFIG.clockMaxJumpMs, confirmPosts: DEFAULT_CONFIG.clockConfirmPosts } });
      merge.addPartition(0, 0);
      merge.addPartition(1, 0);
      merge.push(1, 0n, 10, 'p1-a', 150, 10);
      merge.push(0, 0n, 20, 'p0-a', 200, 20);
      merge.push(0, 1n, 50, 'p0-b', 200, 50);
      // Partition 1 (event time 10) holds the watermark: p0-a and p0-b wait.
      expect(merge.release(clock.nowMs(200)).map((m) => m.value)).toEqual(['p1-a']);
      return merge;
    };
    // Handling them takes the consumer 5 s while partition 1 has more in the broker, not yet fetched. By the wall
    // clock partition 1 has been silent past the idle time, and partition 0 runs ahead of it.
    expect(loaded().release(5_200).map((m) => m.value)).toEqual(['p0-a', 'p0-b']);
    // By the fetch clock it has not: no answer since its last message has been handled.
    const merge = loaded();
    expect(merge.release(clock.nowMs(5_200))).toEqual([]);
    // The next fetch brings partition 1's next message, and the order is the rule's.
    clock.fetchStarted(1, 5_200);
    clock.fetchAnswered(1, 5_300);
    merge.push(1, 1n, 30, 'p1-b', 5_350, 30);
    expect(merge.release(clock.nowMs(5_350)).map((m) => m.value)).toEqual(['p0-a', 'p1-b']);
  });
});
