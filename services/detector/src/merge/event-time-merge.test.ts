import { describe, expect, it } from 'vitest';
import { seededRandom } from '@tingfeng/testing';
import { EventTimeMerge, mergedOrder, type MergeItem, type PartitionMessage } from './event-time-merge.js';

const IDLE_MS = 1_000;

/** Partitions whose event times mostly rise, with some posts minutes late and many equal times (ties). */
function makePartitions(random: () => number, partitions: number, perPartition: number): Map<number, PartitionMessage<string>[]> {
  const out = new Map<number, PartitionMessage<string>[]>();
  for (let p = 0; p < partitions; p++) {
    const list: PartitionMessage<string>[] = [];
    let t = 1_000_000 + Math.floor(random() * 5_000);
    for (let i = 0; i < perPartition; i++) {
      t += Math.floor(random() * 3) * 1_000;
      const late = random() < 0.1 ? Math.floor(random() * 300_000) : 0;
      list.push({ offset: BigInt(i), eventTimeMs: t - late, value: `${p}:${i}` });
    }
    out.set(p, list);
  }
  return out;
}

/** Delivers the partitions in random chunks, in a random interleaving, releasing after each chunk. */
function feed(merge: EventTimeMerge<string>, partitions: Map<number, PartitionMessage<string>[]>, random: () => number, fromOffsets = new Map<number, number>()): MergeItem<string>[] {
  const cursors = new Map([...partitions.keys()].map((p) => [p, fromOffsets.get(p) ?? 0]));
  const out: MergeItem<string>[] = [];
  for (;;) {
    const open = [...cursors].filter(([p, i]) => i < partitions.get(p)!.length);
    if (open.length === 0) break;
    const [p, i] = open[Math.floor(random() * open.length)]!;
    const list = partitions.get(p)!;
    const n = 1 + Math.floor(random() * 40);
    for (const m of list.slice(i, i + n)) merge.push(p, m.offset, m.eventTimeMs, m.value, 0);
    cursors.set(p, Math.min(list.length, i + n));
    out.push(...merge.release(0));
  }
  return out;
}

const values = (items: MergeItem<string>[]) => items.map((i) => i.value);

describe('EventTimeMerge', () => {
  it('releases the same order as the rule, whatever the interleaving of deliveries', () => {
    const random = seededRandom(7);
    const partitions = makePartitions(random, 5, 400);
    const expected = values(mergedOrder(partitions));
    for (let run = 0; run < 20; run++) {
      const merge = new EventTimeMerge<string>({ idlePartitionMs: IDLE_MS });
      for (const p of partitions.keys()) merge.addPartition(p, 0);
      const got = feed(merge, partitions, random);
      // The stream has ended: once every partition is idle the rest comes out, still in order.
      got.push(...merge.release(IDLE_MS));
      expect(values(got)).toEqual(expected);
      expect(merge.buffered()).toBe(0);
    }
  });

  it('keeps partition order: an older post stays behind the posts its partition delivered before it', () => {
    const merge = new EventTimeMerge<string>({ idlePartitionMs: IDLE_MS });
    merge.addPartition(0, 0);
    merge.addPartition(1, 0);
    merge.push(0, 0n, 100, 'a', 0);
    merge.push(0, 1n, 50, 'b (older)', 0);
    merge.push(1, 0n, 120, 'c', 0);
    expect(values(merge.release(0))).toEqual(['a', 'b (older)']);
    expect(merge.watermarkMs(0)).toBe(100);
  });

  it('waits for an assigned partition that has delivered nothing until it has been idle', () => {
    const merge = new EventTimeMerge<string>({ idlePartitionMs: IDLE_MS });
    merge.addPartition(0, 0);
    merge.addPartition(1, 0);
    merge.push(0, 0n, 100, 'a', 0);
    expect(merge.release(IDLE_MS - 1)).toEqual([]);
    expect(merge.watermarkMs(IDLE_MS - 1)).toBeNull();
    expect(values(merge.release(IDLE_MS))).toEqual(['a']);
  });

  it('an idle partition stops holding the stream back; what it sends later comes out in arrival order', () => {
    const merge = new EventTimeMerge<string>({ idlePartitionMs: IDLE_MS });
    merge.addPartition(0, 0);
    merge.addPartition(1, 0);
    merge.push(1, 0n, 10, 'x', 0);
    merge.push(0, 0n, 100, 'a', 0);
    expect(values(merge.release(0))).toEqual(['x']);
    merge.push(0, 1n, 200, 'b', 500);
    expect(values(merge.release(IDLE_MS))).toEqual(['a', 'b']);
    merge.push(1, 1n, 150, 'late y', IDLE_MS + 10);
    expect(values(merge.release(IDLE_MS + 10))).toEqual(['late y']);
  });

  it('ties at the watermark: the lowest partition holding it goes first, the others wait for it to move on', () => {
    const merge = new EventTimeMerge<string>({ idlePartitionMs: IDLE_MS });
    for (const p of [0, 1, 2]) merge.addPartition(p, 0);
    merge.push(2, 0n, 100, 'c', 0);
    merge.push(1, 0n, 100, 'b', 0);
    merge.push(0, 0n, 90, 'a', 0);
    expect(values(merge.release(0))).toEqual(['a']);
    merge.push(0, 1n, 100, 'a2', 0);
    // Partition 0 may still send more at 100, which would come before b.
    expect(values(merge.release(0))).toEqual(['a2']);
    merge.push(0, 2n, 101, 'a3', 0);
    merge.push(1, 1n, 101, 'b2', 0);
    expect(values(merge.release(0))).toEqual(['b', 'c']);
  });

  it('skips duplicates and undecodable messages, and resumes exactly from its positions', () => {
    const random = seededRandom(11);
    const partitions = makePartitions(random, 4, 300);
    const expected = values(mergedOrder(partitions));
    for (let run = 0; run < 10; run++) {
      const first = new EventTimeMerge<string>({ idlePartitionMs: IDLE_MS });
      for (const p of partitions.keys()) first.addPartition(p, 0);
      // Deliver a random prefix of each partition.
      const cut = new Map([...partitions.keys()].map((p) => [p, Math.floor(random() * 300)]));
      const before: MergeItem<string>[] = [];
      for (const [p, list] of partitions) for (const m of list.slice(0, cut.get(p))) first.push(p, m.offset, m.eventTimeMs, m.value, 0);
      before.push(...first.release(0));
      // Delivered twice: ignored.
      expect(first.push(0, 0n, 1, 'dup', 0)).toBe(false);
      const positions = first.positions();

      // A new merge from the positions, fed every partition from the start as Kafka would redeliver it.
      const second = new EventTimeMerge<string>({ idlePartitionMs: IDLE_MS });
      for (const p of partitions.keys()) second.addPartition(p, 0, positions.get(p));
      const after = feed(second, partitions, random);
      after.push(...second.release(IDLE_MS));
      expect([...values(before), ...values(after)]).toEqual(expected);
    }
  });

  it('positions point at the earliest buffered message, or past a skipped one when nothing waits', () => {
    const merge = new EventTimeMerge<string>({ idlePartitionMs: IDLE_MS });
    merge.addPartition(0, 0);
    merge.addPartition(1, 0);
    merge.push(0, 0n, 100, 'a', 0);
    merge.push(0, 1n, 300, 'b', 0);
    expect(merge.skip(1, 0n, 0)).toBe(true);
    merge.push(1, 1n, 200, 'c', 0);
    expect(merge.skip(1, 1n, 0)).toBe(false);
    expect(values(merge.release(0))).toEqual(['a', 'c']);
    expect(merge.positions()).toEqual(
      new Map([
        [0, { resumeOffset: 1n, releasedMaxEventTimeMs: 100 }],
        [1, { resumeOffset: 2n, releasedMaxEventTimeMs: 200 }],
      ]),
    );
    expect(merge.buffered(0)).toBe(1);
  });
});
