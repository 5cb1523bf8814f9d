import type { Redis } from '@tingfeng/redis';
import type { Lease } from '../leader/lock.js';

/** A partition's place in the global checkpoint (bigint offsets as decimal strings, for JSON). */
export interface SavedPosition {
  /** First offset not yet in the engine state: messages below it are skipped on restore, the rest re-read. */
  resumeOffset: string;
  /**
   * The partition's event clock after its released posts (the largest event time it accepted), so the merge order
   * resumes exactly. Checkpoints from before the clock's jump rule hold the running maximum of every released post:
   * the same thing when no post was refused, and read the same way.
   */
  releasedMaxEventTimeMs: number | null;
}

/** The global mode's whole state: one engine snapshot and every partition's position, written together. */
export interface GlobalCheckpoint<S> {
  version: 1;
  topic: string;
  /** Fencing token of the leader that wrote it. */
  fencingToken: number;
  partitions: Record<string, SavedPosition>;
  snapshot: S;
  /** Wall-clock time of the save, ISO-8601. */
  savedAt: string;
}

// Written only by the current lock holder (its exact `<owner>|<token>` value is in the lock key) and never over a
// checkpoint from a newer token: a deposed leader that wakes up late cannot replace its successor's state.
const SAVE_IF_LEADER = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local current = redis.call('HGET', KEYS[1], 'fencingToken')
if current and tonumber(current) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'fencingToken', ARGV[2], 'state', ARGV[3])
return 1
`;

/** The global checkpoint in one Redis hash, saved by a Lua compare-and-set guarded by the leader's lease. */
export class FencedCheckpointStore<S> {
  constructor(
    private readonly redis: Redis,
    /** The checkpoint's key. */
    readonly key: string,
    /** The leader lock's key, checked on every save. */
    private readonly lockKey: string,
  ) {}

  async load(): Promise<GlobalCheckpoint<S> | undefined> {
    const state = await this.redis.hget(this.key, 'state');
    return state ? (JSON.parse(state) as GlobalCheckpoint<S>) : undefined;
  }

  /** Saves atomically; returns the size in bytes, or 0 when the lease no longer holds the lock (nothing written). */
  async save(lease: Lease, checkpoint: Omit<GlobalCheckpoint<S>, 'fencingToken' | 'savedAt' | 'version'>): Promise<number> {
    const body = JSON.stringify({ version: 1, fencingToken: lease.token, savedAt: new Date().toISOString(), ...checkpoint } satisfies GlobalCheckpoint<S>);
    const written = await this.redis.eval(SAVE_IF_LEADER, 2, this.key, this.lockKey, lease.value, lease.token, body);
    return written === 1 ? Buffer.byteLength(body) : 0;
  }
}
