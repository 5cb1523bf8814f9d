import { describe, expect, it } from 'vitest';
import type { Alert } from '@tingfeng/contracts';
import { seededRandom } from '@tingfeng/testing';
import { createDetectorEngine } from '../engine.js';
import type { DetectorPost } from '../post.js';
import { dyingCityScenario } from '../scenarios/index.js';
import { EventTimeMerge, mergedOrder, type MergeItem, type PartitionMessage } from './merge.js';

const IDLE_MS = 1_000;
const CLOCK = { maxJumpMs: 600_000, confirmPosts: 8 };
const OPTIONS = { idlePartitionMs: IDLE_MS, clock: CLOCK };

/** Partitions whose event times mostly rise, with some posts minutes late and many equal times (ties). */
function makePartitions(random: () => number, partitions: number, perPartition: number): Map<number, PartitionMessage<string>[]> {
  const out = new Map<number, PartitionMessage<string>[]>();
  for (let p = 0; p < partitions; p++) {
    const list: PartitionMessage<string>[] = [];
    let t = 1_000_000 + Math.floor(random() * 5_000);
    for (let i = 0; i < perPartition; i++) {
      t += Math.floor(random() * 3) * 1_000;
      const late = random() < 0.1 ? Math.floor(random() * 300_000) : 0;
      list.push({ offset: BigInt(i), eventTimeMs: t - late, value: `${p}:${i}`, receivedAtMs: t });
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
    for (const m of list.slice(i, i + n)) merge.push(p, m.offset, m.eventTimeMs, m.value, 0, m.receivedAtMs);
    cursors.set(p, Math.min(list.length, i + n));
    out.push(...merge.release(0));
  }
  return out;
}

const values = (items: MergeItem<string>[]) => items.map((i) => i.value);

/** Items as the merge releases them, for toEqual: every field. */
const item = (partition: number, offset: bigint, eventTimeMs: number, mergeTimeMs: number, value: string, refused = false): MergeItem<string> => ({ partition, offset, eventTimeMs, mergeTimeMs, value, refused });

describe('EventTimeMerge', () => {
  it('releases the same order as the rule, whatever the interleaving of deliveries', () => {
    const random = seededRandom(7);
    const partitions = makePartitions(random, 5, 400);
    const expected = values(mergedOrder(partitions, CLOCK));
    for (let run = 0; run < 20; run++) {
      const merge = new EventTimeMerge<string>(OPTIONS);
      for (const p of partitions.keys()) merge.addPartition(p, 0);
      const got = feed(merge, partitions, random);
      // The stream has ended: once every partition is idle the rest comes out, still in order.
      got.push(...merge.release(IDLE_MS));
      expect(values(got)).toEqual(expected);
      expect(merge.buffered()).toBe(0);
    }
  });

  it('keeps partition order: an older post stays behind the posts its partition delivered before it', () => {
    const merge = new EventTimeMerge<string>(OPTIONS);
    merge.addPartition(0, 0);
    merge.addPartition(1, 0);
    merge.push(0, 0n, 100, 'a', 0, 100);
    merge.push(0, 1n, 50, 'b (older)', 0, 50);
    merge.push(1, 0n, 120, 'c', 0, 120);
    expect(values(merge.release(0))).toEqual(['a', 'b (older)']);
    expect(merge.watermarkMs(0)).toBe(100);
  });

  it('waits for an assigned partition that has delivered nothing until it has been idle', () => {
    const merge = new EventTimeMerge<string>(OPTIONS);
    merge.addPartition(0, 0);
    merge.addPartition(1, 0);
    merge.push(0, 0n, 100, 'a', 0, 100);
    expect(merge.release(IDLE_MS - 1)).toEqual([]);
    expect(merge.watermarkMs(IDLE_MS - 1)).toBeNull();
    expect(values(merge.release(IDLE_MS))).toEqual(['a']);
  });

  it('an idle partition stops holding the stream back; what it sends later comes out in arrival order', () => {
    const merge = new EventTimeMerge<string>(OPTIONS);
    merge.addPartition(0, 0);
    merge.addPartition(1, 0);
    merge.push(1, 0n, 10, 'x', 0, 10);
    merge.push(0, 0n, 100, 'a', 0, 100);
    expect(values(merge.release(0))).toEqual(['x']);
    merge.push(0, 1n, 200, 'b', 500, 200);
    expect(values(merge.release(IDLE_MS))).toEqual(['a', 'b']);
    merge.push(1, 1n, 150, 'late y', IDLE_MS + 10, 150);
    expect(values(merge.release(IDLE_MS + 10))).toEqual(['late y']);
  });

  it('ties at the watermark: the lowest partition holding it goes first, the others wait for it to move on', () => {
    const merge = new EventTimeMerge<string>(OPTIONS);
    for (const p of [0, 1, 2]) merge.addPartition(p, 0);
    merge.push(2, 0n, 100, 'c', 0, 100);
    merge.push(1, 0n, 100, 'b', 0, 100);
    merge.push(0, 0n, 90, 'a', 0, 90);
    expect(values(merge.release(0))).toEqual(['a']);
    merge.push(0, 1n, 100, 'a2', 0, 100);
    // Partition 0 may still send more at 100, which would come before b.
    expect(values(merge.release(0))).toEqual(['a2']);
    merge.push(0, 2n, 101, 'a3', 0, 101);
    merge.push(1, 1n, 101, 'b2', 0, 101);
    expect(values(merge.release(0))).toEqual(['b', 'c']);
  });

  it('skips duplicates and undecodable messages, and resumes exactly from its positions', () => {
    const random = seededRandom(11);
    const partitions = makePartitions(random, 4, 300);
    const expected = values(mergedOrder(partitions, CLOCK));
    for (let run = 0; run < 10; run++) {
      const first = new EventTimeMerge<string>(OPTIONS);
      for (const p of partitions.keys()) first.addPartition(p, 0);
      // Deliver a random prefix of each partition.
      const cut = new Map([...partitions.keys()].map((p) => [p, Math.floor(random() * 300)]));
      const before: MergeItem<string>[] = [];
      for (const [p, list] of partitions) for (const m of list.slice(0, cut.get(p))) first.push(p, m.offset, m.eventTimeMs, m.value, 0, m.receivedAtMs);
      before.push(...first.release(0));
      // Delivered twice: ignored.
      expect(first.push(0, 0n, 1, 'dup', 0, 1)).toBe(false);
      const positions = first.positions();

      // A new merge from the positions, fed every partition from the start as Kafka would redeliver it.
      const second = new EventTimeMerge<string>(OPTIONS);
      for (const p of partitions.keys()) second.addPartition(p, 0, positions.get(p));
      const after = feed(second, partitions, random);
      after.push(...second.release(IDLE_MS));
      expect([...values(before), ...values(after)]).toEqual(expected);
    }
  });

  it('positions point at the earliest buffered message, or past a skipped one when nothing waits', () => {
    const merge = new EventTimeMerge<string>(OPTIONS);
    merge.addPartition(0, 0);
    merge.addPartition(1, 0);
    merge.push(0, 0n, 100, 'a', 0, 100);
    merge.push(0, 1n, 300, 'b', 0, 300);
    expect(merge.skip(1, 0n, 0)).toBe(true);
    merge.push(1, 1n, 200, 'c', 0, 200);
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

  describe('one bogus far-future createdAt', () => {
    const DAY = 86_400_000;
    /** Two partitions of posts a second apart, received as they are written; partition 0's `bogusAt` post says a day later. */
    function stream(bogusAt: number | undefined, perPartition = 30): Map<number, PartitionMessage<string>[]> {
      const out = new Map<number, PartitionMessage<string>[]>();
      for (const p of [0, 1]) {
        const list: PartitionMessage<string>[] = [];
        for (let i = 0; i < perPartition; i++) {
          const t = 1_000_000 + i * 1_000 + p * 500;
          list.push({ offset: BigInt(i), eventTimeMs: p === 0 && i === bogusAt ? t + DAY : t, value: `${p}:${i}`, receivedAtMs: t });
        }
        out.set(p, list);
      }
      return out;
    }

    it('is refused by the posts after it, which come out in their own time, not a day later nor behind it', () => {
      const partitions = stream(5);
      const merge = new EventTimeMerge<string>(OPTIONS);
      for (const p of partitions.keys()) merge.addPartition(p, 0);
      const got = feed(merge, partitions, seededRandom(3));
      got.push(...merge.release(IDLE_MS));
      expect(got).toEqual(mergedOrder(partitions, CLOCK));
      expect(got.filter((i) => i.refused).map((i) => i.value)).toEqual(['0:5']);
      // Every other post's merge time is its own event time: nothing after the bogus one is held to its time.
      for (const i of got) if (!i.refused) expect(i.mergeTimeMs).toBe(i.eventTimeMs);
      // The stream is in event-time order (ties by partition): as if the bogus post had never been sent.
      const honest = got.filter((i) => !i.refused).map((i) => i.value);
      expect(honest).toEqual(values(mergedOrder(stream(undefined), CLOCK)).filter((v) => v !== '0:5'));
    });

    it('holds its partition only until the vote: the watermark moves on with the posts after it', () => {
      const merge = new EventTimeMerge<string>(OPTIONS);
      merge.addPartition(0, 0);
      merge.addPartition(1, 0);
      const t = 1_000_000;
      merge.push(1, 0n, t + 100_000, 'other', 0, t + 100_000);
      merge.push(0, 0n, t, 'a', 0, t);
      merge.push(0, 1n, t + DAY, 'bogus', 0, t + 1_000);
      expect(values(merge.release(0))).toEqual(['a']);
      expect(merge.watermarkMs(0)).toBe(t);
      for (let i = 2; i < 7; i++) merge.push(0, BigInt(i), t + i * 1_000, `b${i}`, 0, t + i * 1_000);
      // Five posts before it of the eight that vote: refused; the five are released in their own time.
      expect(merge.release(0)).toEqual([item(0, 1n, t + DAY, t, 'bogus', true), ...[2, 3, 4, 5, 6].map((i) => item(0, BigInt(i), t + i * 1_000, t + i * 1_000, `b${i}`))]);
      expect(merge.watermarkMs(0)).toBe(t + 6_000);
      expect(merge.positions().get(0)).toEqual({ resumeOffset: 7n, releasedMaxEventTimeMs: t + 6_000 });
    });

    it('alone at the end of a partition that falls silent, it is refused once the partition is idle', () => {
      const merge = new EventTimeMerge<string>(OPTIONS);
      merge.addPartition(0, 0);
      merge.addPartition(1, 0);
      const t = 1_000_000;
      merge.push(0, 0n, t, 'a', 0, t);
      merge.push(0, 1n, t + DAY, 'bogus', 0, t + 1_000);
      merge.push(1, 0n, t + 5_000, 'x', 0, t + 5_000);
      expect(values(merge.release(0))).toEqual(['a']);
      expect(merge.buffered(0)).toBe(1);
      expect(merge.positions().get(0)!.resumeOffset).toBe(1n);
      // Partition 0 is silent for the idle time: the jump is decided (no vote, a day ahead of its receipt: refused).
      expect(merge.release(IDLE_MS)).toEqual([item(0, 1n, t + DAY, t, 'bogus', true), item(1, 0n, t + 5_000, t + 5_000, 'x')]);
      // Its partition speaks again, in its own time: read on, neither late nor held.
      merge.push(0, 2n, t + 6_000, 'b', IDLE_MS + 1, t + 6_000);
      merge.push(1, 1n, t + 7_000, 'y', IDLE_MS + 1, t + 7_000);
      expect(merge.release(IDLE_MS + 1)).toEqual([item(0, 2n, t + 6_000, t + 6_000, 'b')]);
    });

    it('an old history replayed (no receipt near its time) with quiet days in a partition is read whole', () => {
      const merge = new EventTimeMerge<string>(OPTIONS);
      merge.addPartition(0, 0);
      const t = 1_000_000;
      const times = [t, t + 1_000, t + 3 * DAY, ...Array.from({ length: 8 }, (_, i) => t + 3 * DAY + (i + 1) * 1_000)];
      times.forEach((time, i) => merge.push(0, BigInt(i), time, `p${i}`, 0));
      const got = merge.release(IDLE_MS);
      expect(got.filter((i) => i.refused)).toEqual([]);
      expect(got.map((i) => i.mergeTimeMs)).toEqual(times);
    });

    it('on random streams with outliers, the merge releases what the rule says and refuses exactly the outliers', () => {
      const random = seededRandom(19);
      const partitions = makePartitions(random, 4, 300);
      const outliers = new Set<string>();
      for (const list of partitions.values()) {
        for (const m of list) {
          if (random() < 0.01) {
            m.eventTimeMs += (1 + Math.floor(random() * 1000)) * DAY;
            outliers.add(m.value);
          }
        }
      }
      const expected = mergedOrder(partitions, CLOCK);
      expect(new Set(expected.filter((i) => i.refused).map((i) => i.value))).toEqual(outliers);
      for (let run = 0; run < 5; run++) {
        const merge = new EventTimeMerge<string>(OPTIONS);
        for (const p of partitions.keys()) merge.addPartition(p, 0);
        const got = feed(merge, partitions, random);
        got.push(...merge.release(IDLE_MS));
        expect(got).toEqual(expected);
      }
    });
  });

  describe('a partition read to its end (caughtUp) with a jump held last', () => {
    const DAY = 86_400_000;
    const t = 1_000_000;

    it('a lone far-future post is refused at once, not after the idle time, and the clock stays where it was', () => {
      const merge = new EventTimeMerge<string>(OPTIONS);
      merge.addPartition(0, 0);
      merge.addPartition(1, 0);
      merge.push(0, 0n, t, 'a', 0, t);
      merge.push(0, 1n, t + 23 * 3600_000, '23 h ahead', 0, t + 1_000);
      merge.push(1, 0n, t + 5_000, 'x', 0, t + 5_000);
      expect(values(merge.release(0))).toEqual(['a']);
      merge.caughtUp(0, 0);
      expect(merge.release(0)).toEqual([item(0, 1n, t + 23 * 3600_000, t, '23 h ahead', true)]);
      expect(merge.watermarkMs(0)).toBe(t);
      expect(merge.positions().get(0)).toEqual({ resumeOffset: 2n, releasedMaxEventTimeMs: t });
      // The partition speaks again in its own time: released as soon as the other passes it, not a day later.
      merge.push(0, 2n, t + 6_000, 'b', 1, t + 6_000);
      expect(values(merge.release(1))).toEqual(['x']);
      merge.push(1, 1n, t + 7_000, 'y', 1, t + 7_000);
      expect(values(merge.release(1))).toEqual(['b']);
      expect(merge.watermarkMs(1)).toBe(t + 6_000);
    });

    it('a 2999 createdAt without a receipt time is judged against the wall clock: refused, even when a second one follows it', () => {
      const merge = new EventTimeMerge<string>(OPTIONS);
      const nowWallMs = Date.UTC(2026, 0, 1);
      const y2999 = Date.UTC(2999, 0, 1);
      merge.addPartition(0, nowWallMs);
      merge.push(0, 0n, t, 'a', nowWallMs);
      for (let i = 1; i < 8; i++) merge.push(0, BigInt(i), t + i * 1_000, `a${i}`, nowWallMs);
      merge.push(0, 8n, y2999, '2999', nowWallMs);
      merge.push(0, 9n, y2999 + 1, '2999 again', nowWallMs);
      expect(values(merge.release(nowWallMs))).toEqual(['a', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']);
      merge.caughtUp(0, nowWallMs);
      expect(merge.release(nowWallMs)).toEqual([item(0, 8n, y2999, t + 7_000, '2999', true), item(0, 9n, y2999 + 1, t + 7_000, '2999 again', true)]);
      expect(merge.watermarkMs(nowWallMs)).toBe(t + 7_000);
      expect(merge.buffered()).toBe(0);
    });

    it('a real jump (an old history after a quiet day, no receipt times) is accepted at once, in its own time', () => {
      const merge = new EventTimeMerge<string>(OPTIONS);
      const nowWallMs = Date.UTC(2026, 0, 1);
      merge.addPartition(0, nowWallMs);
      for (let i = 0; i < 8; i++) merge.push(0, BigInt(i), t + i * 1_000, `p${i}`, nowWallMs);
      merge.push(0, 8n, t + DAY, 'next day', nowWallMs);
      expect(merge.release(nowWallMs)).toHaveLength(8);
      merge.caughtUp(0, nowWallMs);
      expect(merge.release(nowWallMs)).toEqual([item(0, 8n, t + DAY, t + DAY, 'next day')]);
    });

    it('with the engine behind it, as the live leader runs them: a 23 h and two 2999 posts change no alert and make nothing late', () => {
      // The dying-city episode over three partitions, each post received as it is written (as the analyzer stamps it).
      const honest = new Map<number, PartitionMessage<DetectorPost>[]>();
      for (const [i, post] of dyingCityScenario().posts.entries()) {
        const list = honest.get(i % 3) ?? [];
        list.push({ offset: BigInt(list.length), eventTimeMs: post.createdAtMs, value: post, receivedAtMs: post.createdAtMs });
        honest.set(i % 3, list);
      }
      const y2999 = Date.UTC(2999, 0, 1);
      const withBogus = new Map([...honest].map(([p, list]) => [p, list.map((m) => ({ ...m }))]));
      /** Inserts at `index` of `partition` a copy of the post before it, under a new id and `createdAtMs`. */
      const insert = (partition: number, index: number, id: string, createdAtMs: number, receivedAtMs: number | undefined) => {
        const list = withBogus.get(partition)!;
        const base = list[index - 1]!.value;
        const value: DetectorPost = { ...base, id, createdAtMs, createdAt: new Date(createdAtMs).toISOString() };
        const m: PartitionMessage<DetectorPost> = { offset: 0n, eventTimeMs: createdAtMs, value };
        if (receivedAtMs !== undefined) m.receivedAtMs = receivedAtMs;
        list.splice(index, 0, m);
        list.forEach((x, i) => (x.offset = BigInt(i)));
      };
      const half = Math.floor(honest.get(0)!.length / 2);
      insert(0, half, 'bogus-23h', honest.get(0)![half - 1]!.eventTimeMs + 23 * 3600_000, honest.get(0)![half - 1]!.eventTimeMs);
      insert(1, half, 'bogus-2999', y2999, undefined);
      insert(2, withBogus.get(2)!.length, 'bogus-2999-tail', y2999, undefined);

      const nowWallMs = Date.now();
      const merge = new EventTimeMerge<DetectorPost>(OPTIONS);
      for (const p of withBogus.keys()) merge.addPartition(p, nowWallMs);
      const got: MergeItem<DetectorPost>[] = [];
      const random = seededRandom(23);
      const cursors = new Map([...withBogus.keys()].map((p) => [p, 0]));
      let maxWatermarkMs = 0;
      for (;;) {
        const open = [...cursors].filter(([p, i]) => i < withBogus.get(p)!.length);
        if (open.length === 0) break;
        const [p, i] = open[Math.floor(random() * open.length)]!;
        const list = withBogus.get(p)!;
        const n = 1 + Math.floor(random() * 200);
        for (const m of list.slice(i, i + n)) merge.push(p, m.offset, m.eventTimeMs, m.value, nowWallMs, m.receivedAtMs);
        cursors.set(p, Math.min(list.length, i + n));
        // As the consumer does when a fetch reaches the partition's high watermark.
        if (cursors.get(p) === list.length) merge.caughtUp(p, nowWallMs);
        got.push(...merge.release(nowWallMs));
        maxWatermarkMs = Math.max(maxWatermarkMs, merge.watermarkMs(nowWallMs) ?? 0);
      }
      // Every partition read to its end: the tails above the lowest partition's clock wait for it to go idle (the
      // 2999 post last in partition 2 among them, decided already: refused at its partition's clock).
      got.push(...merge.release(nowWallMs + IDLE_MS));
      expect(merge.buffered()).toBe(0);
      const refused = got.filter((i) => i.refused);
      expect(refused.map((i) => i.value.id).sort()).toEqual(['bogus-23h', 'bogus-2999', 'bogus-2999-tail']);
      const tail = honest.get(2)!;
      expect(refused.find((i) => i.value.id === 'bogus-2999-tail')!.mergeTimeMs).toBe(tail[tail.length - 1]!.eventTimeMs);
      const lastHonestMs = Math.max(...[...honest.values()].map((list) => list[list.length - 1]!.eventTimeMs));
      expect(maxWatermarkMs).toBeLessThanOrEqual(lastHonestMs);

      // The honest posts come out exactly as without the bogus ones, each at its own merge time.
      const reference = mergedOrder(honest, CLOCK, nowWallMs);
      expect(reference.filter((i) => i.refused)).toEqual([]);
      const key = (i: MergeItem<DetectorPost>) => `${i.value.id}@${i.mergeTimeMs}`;
      expect(got.filter((i) => !i.refused).map(key)).toEqual(reference.map(key));

      const run = (items: readonly MergeItem<DetectorPost>[]) => {
        const engine = createDetectorEngine();
        const alerts: Alert[] = [];
        for (const i of items) if (!i.refused) alerts.push(...engine.process(i.value));
        return { alerts, late: engine.stats().late };
      };
      const live = run(got);
      const clean = run(reference);
      expect(clean.alerts.length).toBeGreaterThan(0);
      expect(live.alerts).toEqual(clean.alerts);
      expect(live.late).toBe(clean.late);
      expect(live.late).toBe(0);
      // What the check guards against: the 23 h post let through drags the engine's event time and makes later posts late.
      const dragged = run(got.map((i) => (i.value.id === 'bogus-23h' ? { ...i, refused: false } : i)));
      expect(dragged.late).toBeGreaterThan(clean.late + 1_000);
    });
  });
});
