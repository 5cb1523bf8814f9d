import type { Redis } from '@tingfeng/redis';

/** A partition's detector state and the offset of the next message it has not yet seen. */
export interface Checkpoint<S> {
  nextOffset: string;
  snapshot: S;
  /** Wall-clock time of the save, ISO-8601. */
  savedAt: string;
}

// Writes only when the offset does not go backwards: after a rebalance the previous owner of a partition may still
// save late, and an older state must never replace a newer one.
const SAVE_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'nextOffset')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'nextOffset', ARGV[1], 'snapshot', ARGV[2], 'savedAt', ARGV[3])
return 1
`;

/**
 * Per-partition checkpoints in Redis: state and offset in one hash, written by one script, so they change together.
 */
export class CheckpointStore<S> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(topic: string, partition: number): string {
    return `${this.prefix}ckpt:${topic}:${partition}`;
  }

  async load(topic: string, partition: number): Promise<Checkpoint<S> | undefined> {
    const fields = await this.redis.hgetall(this.key(topic, partition));
    if (!fields.nextOffset || !fields.snapshot) return undefined;
    return { nextOffset: fields.nextOffset, snapshot: JSON.parse(fields.snapshot) as S, savedAt: fields.savedAt ?? '' };
  }

  /** Saves atomically; returns the snapshot's size in bytes, or 0 when a newer checkpoint was already there. */
  async save(topic: string, partition: number, nextOffset: string, snapshot: S): Promise<number> {
    const body = JSON.stringify(snapshot);
    const written = await this.redis.eval(SAVE_IF_NEWER, 1, this.key(topic, partition), nextOffset, body, new Date().toISOString());
    return written === 1 ? Buffer.byteLength(body) : 0;
  }
}
