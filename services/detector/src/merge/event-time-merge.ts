/**
 * The deterministic event-time merge of several partitions into one ordered stream.
 *
 * The rule: within a partition, a message's merge time is the running maximum of event time over that partition up
 * to and including it (so a post older than one before it keeps its place behind it: partition order is kept). The
 * merged stream is every message in (merge time, partition, offset) order. Each partition's merge times never
 * decrease, so this order is fixed by the messages alone, whatever the interleaving of fetches.
 *
 * Releasing: the watermark is the minimum over active partitions of their largest merge time. A partition's future
 * messages can only come at or after its own largest merge time, so a buffered message is released once its key is
 * below (watermark, the lowest partition holding the watermark, +∞). Released messages therefore form, at every step,
 * a prefix of the merged stream, and each partition's buffer is a contiguous tail of what it has delivered.
 *
 * The one exception is by design: a partition with no message for `idlePartitionMs` (wall time) and nothing buffered
 * is left out of the minimum so it cannot stall the stream. If it speaks again with an older merge time than the
 * watermark, its messages are released at once, in arrival order: the only place the order depends on timing.
 */

/** One message waiting in, or released from, the merge. */
export interface MergeItem<T> {
  partition: number;
  offset: bigint;
  /** The message's own event time, epoch ms. */
  eventTimeMs: number;
  /** Its place in the merged stream: the partition's running maximum event time, epoch ms. */
  mergeTimeMs: number;
  value: T;
}

/** Where a partition stands: enough to resume it exactly after a restart. */
export interface PartitionPosition {
  /** The first offset not yet released: the earliest buffered message's, or the next offset when none is buffered. */
  resumeOffset: bigint;
  /** The running maximum event time of the released messages (null before any). */
  releasedMaxEventTimeMs: number | null;
}

export interface EventTimeMergeOptions {
  /** Wall time without a message after which an empty partition stops holding the watermark back. */
  idlePartitionMs: number;
}

interface PartitionLane<T> {
  buffer: MergeItem<T>[];
  /** Index of the first unreleased item in `buffer` (released items are dropped in chunks, not one by one). */
  head: number;
  /** The next offset expected: messages below it were seen already. */
  nextOffset: bigint;
  /** Largest merge time delivered (buffered or released), epoch ms. */
  maxMergeTimeMs: number | null;
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
    this.lanes.set(partition, {
      buffer: [],
      head: 0,
      nextOffset: from?.resumeOffset ?? 0n,
      maxMergeTimeMs: from?.releasedMaxEventTimeMs ?? null,
      releasedMaxMergeTimeMs: from?.releasedMaxEventTimeMs ?? null,
      lastMessageWallMs: nowWallMs,
    });
  }

  /** The partitions in the merge. */
  partitions(): number[] {
    return [...this.lanes.keys()].sort((a, b) => a - b);
  }

  /**
   * Buffers a message. Returns false, buffering nothing, for an offset below the partition's next offset (already
   * released before a restart, or delivered twice).
   */
  push(partition: number, offset: bigint, eventTimeMs: number, value: T, nowWallMs: number): boolean {
    const lane = this.lane(partition);
    if (offset < lane.nextOffset) return false;
    lane.nextOffset = offset + 1n;
    lane.lastMessageWallMs = nowWallMs;
    const mergeTimeMs = lane.maxMergeTimeMs === null ? eventTimeMs : Math.max(lane.maxMergeTimeMs, eventTimeMs);
    lane.maxMergeTimeMs = mergeTimeMs;
    lane.buffer.push({ partition, offset, eventTimeMs, mergeTimeMs, value });
    return true;
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
          lane.releasedMaxMergeTimeMs = item.mergeTimeMs;
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

  /** Messages waiting in a partition (or in all). */
  buffered(partition?: number): number {
    if (partition !== undefined) {
      const lane = this.lanes.get(partition);
      return lane ? lane.buffer.length - lane.head : 0;
    }
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.buffer.length - lane.head;
    return n;
  }

  /** Each partition's resume position: checkpoint these with the engine state that reflects the released messages. */
  positions(): Map<number, PartitionPosition> {
    const out = new Map<number, PartitionPosition>();
    for (const [partition, lane] of this.lanes) {
      const first = lane.buffer[lane.head];
      out.set(partition, { resumeOffset: first ? first.offset : lane.nextOffset, releasedMaxEventTimeMs: lane.releasedMaxMergeTimeMs });
    }
    return out;
  }

  /** The watermark and the lowest active partition at it; undefined when nothing can be released. */
  private front(nowWallMs: number): { watermarkMs: number; partition: number } | undefined {
    let best: { watermarkMs: number; partition: number } | undefined;
    for (const [partition, lane] of this.lanes) {
      const waiting = lane.buffer.length > lane.head;
      if (!waiting && nowWallMs - lane.lastMessageWallMs >= this.options.idlePartitionMs) continue;
      // An active partition that has never delivered could still deliver anything.
      if (lane.maxMergeTimeMs === null) return undefined;
      if (!best || lane.maxMergeTimeMs < best.watermarkMs || (lane.maxMergeTimeMs === best.watermarkMs && partition < best.partition)) {
        best = { watermarkMs: lane.maxMergeTimeMs, partition };
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
}

/**
 * The merged stream by the rule alone, from each partition's complete list (any order; sorted by offset here):
 * the reference {@link EventTimeMerge} matches when no partition went idle.
 */
export function mergedOrder<T>(partitions: ReadonlyMap<number, readonly PartitionMessage<T>[]>): MergeItem<T>[] {
  const all: MergeItem<T>[] = [];
  for (const [partition, messages] of partitions) {
    let runningMaxMs: number | null = null;
    for (const m of [...messages].sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0))) {
      runningMaxMs = runningMaxMs === null ? m.eventTimeMs : Math.max(runningMaxMs, m.eventTimeMs);
      all.push({ partition, offset: m.offset, eventTimeMs: m.eventTimeMs, mergeTimeMs: runningMaxMs, value: m.value });
    }
  }
  return all.sort(compareItems);
}
