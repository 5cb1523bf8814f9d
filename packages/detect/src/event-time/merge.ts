import { EventClock, settleIdle, type EventClockOptions } from './event-clock.js';

/**
 * The deterministic event-time merge of several partitions into one ordered stream, each partition read through its
 * own {@link EventClock} (the backtest's rule), so that one bogus far-future `createdAt` on a partition neither holds
 * that partition's later posts back nor makes them late: it is held until the posts after it vote, and refused when
 * they contradict it.
 *
 * The rule: within a partition, a message the clock accepts gets as merge time the clock after it (the running
 * maximum of accepted event times, so a post older than one before it keeps its place behind it: partition order is
 * kept); a refused message gets the clock as it stands and is released, marked `refused`, for its owner to count and
 * skip. The merged stream is every message in (merge time, partition, offset) order. Each partition's merge times
 * never decrease, so this order is fixed by the messages alone (their event and receipt times), whatever the
 * interleaving of fetches.
 *
 * Releasing: the watermark is the minimum over active partitions of their clocks. A partition's future messages
 * (those held by its clock included) can only come at or after its clock, so a buffered message is released once its
 * key is below (watermark, the lowest partition holding the watermark, +∞). Released messages therefore form, at every
 * step, a prefix of the merged stream, and each partition's buffer is a contiguous tail of what it has delivered.
 *
 * A jump held at the end of what a partition has delivered waits for posts that are not there yet. Its owner says so
 * ({@link EventTimeMerge.caughtUp}: live, the partition's log is read to its end) and the jump is decided at once
 * from the votes so far, as at the end of a file ({@link settleIdle}: one from the future is refused, any other
 * accepted on a tie), rather than after `idlePartitionMs`: a lone far-future post last in its partition neither moves
 * the clock nor holds the partition, and a real jump (a replayed history's quiet days) is not left waiting.
 *
 * The one exception is by design: a partition with no message for `idlePartitionMs` (wall time) is first made to
 * decide a jump it holds (the same way), then, with nothing buffered, left out of the minimum so it cannot stall the
 * stream. If it speaks again with an older merge time than the watermark, its messages are released at once, in
 * arrival order. That, and a partition caught up while its producer is still writing (a vote decided on fewer posts
 * than its input will hold), are the places where the order depends on timing.
 */

/** One message waiting in, or released from, the merge. */
export interface MergeItem<T> {
  partition: number;
  offset: bigint;
  /** The message's own event time, epoch ms. */
  eventTimeMs: number;
  /** Its place in the merged stream: its partition's clock after it, epoch ms. */
  mergeTimeMs: number;
  value: T;
  /** True when its partition's clock refused it (far ahead of the posts after it): it must not reach the detectors. */
  refused: boolean;
}

/** Where a partition stands: enough to resume it exactly after a restart. */
export interface PartitionPosition {
  /** The first offset not yet released: the earliest buffered message's, or the next offset when none is buffered. */
  resumeOffset: bigint;
  /** The clock after the last accepted message released (null before any): where its partition's clock resumes. */
  releasedMaxEventTimeMs: number | null;
}

export interface EventTimeMergeOptions {
  /** Wall time without a message after which a partition decides a held jump and, empty, stops holding the watermark back. */
  idlePartitionMs: number;
  /** Each partition's clock (the detector config's `clockMaxJumpMs`, `clockConfirmPosts`). */
  clock: EventClockOptions;
}

/** A message inside a partition's clock, before its verdict. */
interface Incoming<T> {
  offset: bigint;
  value: T;
}

interface PartitionLane<T> {
  buffer: MergeItem<T>[];
  /** Index of the first unreleased item in `buffer` (released items are dropped in chunks, not one by one). */
  head: number;
  /** The next offset expected: messages below it were seen already. */
  nextOffset: bigint;
  /** Decides each message, in offset order, into `buffer`; holds a jump and the messages after it until they vote. */
  clock: EventClock<Incoming<T>>;
  releasedMaxMergeTimeMs: number | null;
  lastMessageWallMs: number;
}

const compareItems = <T>(a: MergeItem<T>, b: MergeItem<T>): number =>
  a.mergeTimeMs - b.mergeTimeMs || a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0);

/** Buffers messages per partition and releases them in merged order (see the module comment for the rule). */
export class EventTimeMerge<T> {
  private readonly lanes = new Map<number, PartitionLane<T>>();

  constructor(private readonly options: EventTimeMergeOptions) {}

  /**
   * Makes a partition part of the merge (no-op when it already is). `from` is its checkpointed position; without it,
   * the partition starts at offset 0 with no history. Its idle clock starts now.
   */
  addPartition(partition: number, nowWallMs: number, from?: PartitionPosition): void {
    if (this.lanes.has(partition)) return;
    const buffer: MergeItem<T>[] = [];
    const lane: PartitionLane<T> = {
      buffer,
      head: 0,
      nextOffset: from?.resumeOffset ?? 0n,
      clock: new EventClock<Incoming<T>>(
        this.options.clock,
        ({ offset, value }, eventTimeMs, accepted, clockMs) => {
          // A refused message takes the clock as it stands (before any accepted one: its own time, which nothing
          // after it can precede, since the clock starts at the first accepted).
          lane.buffer.push({ partition, offset, eventTimeMs, mergeTimeMs: clockMs ?? Number.NEGATIVE_INFINITY, value, refused: !accepted });
        },
        from?.releasedMaxEventTimeMs ?? null,
      ),
      releasedMaxMergeTimeMs: from?.releasedMaxEventTimeMs ?? null,
      lastMessageWallMs: nowWallMs,
    };
    this.lanes.set(partition, lane);
  }

  /** The partitions in the merge. */
  partitions(): number[] {
    return [...this.lanes.keys()].sort((a, b) => a - b);
  }

  /**
   * Buffers a message (through its partition's clock; `receivedAtMs` is its wall-clock receipt, where known: a post
   * within `maxJumpMs` of it is current and never held). Returns false, buffering nothing, for an offset below the
   * partition's next offset (already released before a restart, or delivered twice).
   */
  push(partition: number, offset: bigint, eventTimeMs: number, value: T, nowWallMs: number, receivedAtMs?: number): boolean {
    const lane = this.lane(partition);
    if (offset < lane.nextOffset) return false;
    lane.nextOffset = offset + 1n;
    lane.lastMessageWallMs = nowWallMs;
    lane.clock.push({ offset, value }, eventTimeMs, receivedAtMs);
    return true;
  }

  /**
   * The partition has delivered every message its log holds for now (live: the last fetch reached its high
   * watermark): a jump it holds is decided from the votes so far ({@link settleIdle}, `nowWallMs` standing in for the
   * receipt time of a post that has none) instead of waiting for votes that may never come.
   */
  caughtUp(partition: number, nowWallMs: number): void {
    const lane = this.lane(partition);
    if (lane.clock.held > 0) lane.clock.settle(settleIdle(this.options.clock.maxJumpMs, nowWallMs));
  }

  /** Whether `offset` is one the partition has not delivered yet (push or skip would take it). */
  isNew(partition: number, offset: bigint): boolean {
    return offset >= this.lane(partition).nextOffset;
  }

  /** Moves past a message that carries no post (not JSON): it is never released. False when seen before. */
  skip(partition: number, offset: bigint, nowWallMs: number): boolean {
    const lane = this.lane(partition);
    if (offset < lane.nextOffset) return false;
    lane.nextOffset = offset + 1n;
    lane.lastMessageWallMs = nowWallMs;
    return true;
  }

  /** The merge watermark, epoch ms (event time): null while an active partition has delivered nothing. */
  watermarkMs(nowWallMs: number): number | null {
    return this.front(nowWallMs)?.watermarkMs ?? null;
  }

  /** Takes every message that can no longer be preceded by a future one, in merged order. */
  release(nowWallMs: number): MergeItem<T>[] {
    const out: MergeItem<T>[] = [];
    const idle = settleIdle(this.options.clock.maxJumpMs, nowWallMs);
    for (const lane of this.lanes.values()) {
      if (lane.clock.held > 0 && nowWallMs - lane.lastMessageWallMs >= this.options.idlePartitionMs) lane.clock.settle(idle);
    }
    // Emptying an idle partition's buffer takes it out of the minimum, which may free more: repeat until stable.
    for (;;) {
      const front = this.front(nowWallMs);
      if (!front) break;
      const batch: MergeItem<T>[] = [];
      for (const [partition, lane] of this.lanes) {
        while (lane.head < lane.buffer.length) {
          const item = lane.buffer[lane.head]!;
          if (item.mergeTimeMs > front.watermarkMs || (item.mergeTimeMs === front.watermarkMs && partition > front.partition)) break;
          batch.push(item);
          if (!item.refused) lane.releasedMaxMergeTimeMs = item.mergeTimeMs;
          lane.head++;
        }
        if (lane.head === lane.buffer.length) {
          lane.buffer = [];
          lane.head = 0;
        } else if (lane.head >= 1024 && lane.head * 2 >= lane.buffer.length) {
          lane.buffer = lane.buffer.slice(lane.head);
          lane.head = 0;
        }
      }
      if (batch.length === 0) break;
      batch.sort(compareItems);
      for (const item of batch) out.push(item);
    }
    return out;
  }

  /** Messages waiting in a partition (or in all), those its clock holds included. */
  buffered(partition?: number): number {
    if (partition !== undefined) {
      const lane = this.lanes.get(partition);
      return lane ? lane.buffer.length - lane.head + lane.clock.held : 0;
    }
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.buffer.length - lane.head + lane.clock.held;
    return n;
  }

  /** Each partition's resume position: checkpoint these with the engine state that reflects the released messages. */
  positions(): Map<number, PartitionPosition> {
    const out = new Map<number, PartitionPosition>();
    for (const [partition, lane] of this.lanes) {
      const first = lane.buffer[lane.head]?.offset ?? lane.clock.firstHeld()?.offset;
      out.set(partition, { resumeOffset: first ?? lane.nextOffset, releasedMaxEventTimeMs: lane.releasedMaxMergeTimeMs });
    }
    return out;
  }

  /** The watermark and the lowest active partition at it; undefined when nothing can be released. */
  private front(nowWallMs: number): { watermarkMs: number; partition: number } | undefined {
    let best: { watermarkMs: number; partition: number } | undefined;
    for (const [partition, lane] of this.lanes) {
      const clockMs = lane.clock.clockMs;
      // Refused messages before any accepted one wait for nothing (they go out with the first release).
      const waiting = lane.clock.held > 0 || (clockMs !== null && lane.buffer.length > lane.head);
      if (!waiting && nowWallMs - lane.lastMessageWallMs >= this.options.idlePartitionMs) continue;
      // An active partition whose clock has accepted nothing could still deliver anything.
      if (clockMs === null) return undefined;
      if (!best || clockMs < best.watermarkMs || (clockMs === best.watermarkMs && partition < best.partition)) {
        best = { watermarkMs: clockMs, partition };
      }
    }
    return best;
  }

  private lane(partition: number): PartitionLane<T> {
    const lane = this.lanes.get(partition);
    if (!lane) throw new Error(`partition ${partition} is not in the merge`);
    return lane;
  }
}

/** A message as its partition delivered it, for {@link mergedOrder}. */
export interface PartitionMessage<T> {
  offset: bigint;
  eventTimeMs: number;
  value: T;
  /** Its wall-clock receipt time, where known (see {@link EventTimeMerge.push}). */
  receivedAtMs?: number;
}

/**
 * The merged stream by the rule alone, from each partition's complete list (any order; sorted by offset here), each
 * partition's clock settled at its end as {@link settleIdle} does (`nowWallMs`, where given, judging posts without a
 * receipt time): the reference {@link EventTimeMerge} matches when no partition went idle, nor was caught up, before
 * its end. Refused messages are in it, marked.
 */
export function mergedOrder<T>(partitions: ReadonlyMap<number, readonly PartitionMessage<T>[]>, clock: EventClockOptions, nowWallMs?: number): MergeItem<T>[] {
  const all: MergeItem<T>[] = [];
  for (const [partition, messages] of partitions) {
    const lane = new EventClock<PartitionMessage<T>>(clock, (m, eventTimeMs, accepted, clockMs) => {
      all.push({ partition, offset: m.offset, eventTimeMs, mergeTimeMs: clockMs ?? Number.NEGATIVE_INFINITY, value: m.value, refused: !accepted });
    });
    for (const m of [...messages].sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0))) lane.push(m, m.eventTimeMs, m.receivedAtMs);
    lane.settle(settleIdle(clock.maxJumpMs, nowWallMs));
  }
  return all.sort(compareItems);
}
