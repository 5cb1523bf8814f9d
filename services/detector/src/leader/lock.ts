import type { Redis } from '@tingfeng/redis';

/** A held lock: who holds it and the fencing token it was granted. */
export interface Lease {
  /** The holder's unique name (instance id plus a random suffix, so two processes never share it). */
  readonly owner: string;
  /** Grows by one with every acquisition: a newer leader always has a larger token. */
  readonly token: number;
  /** The lock key's value while this lease holds it: `<owner>|<token>`. */
  readonly value: string;
}

/** Where the lock lives: the lock key (expires) and the fencing counter (never expires). */
export interface LockKeys {
  lock: string;
  fence: string;
}

// SET NX PX is the acquisition; the counter moves only when it succeeds, in the same script, so tokens are dense
// and the value names the token it was granted with.
const ACQUIRE = `
local token = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
local value = ARGV[1] .. '|' .. token
if not redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('SET', KEYS[2], token)
return token
`;

const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * A leader lock in one Redis: SET NX PX with a time to live, renewed by its holder, with a fencing token
 * (an incrementing counter) granted at each acquisition. Renew and release act only on the caller's own lease.
 */
export class LeaderLock {
  constructor(
    private readonly redis: Redis,
    readonly keys: LockKeys,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lock if nobody holds it; returns the lease, or undefined when another holder has it. */
  async tryAcquire(owner: string): Promise<Lease | undefined> {
    const token = Number(await this.redis.eval(ACQUIRE, 2, this.keys.lock, this.keys.fence, owner, this.ttlMs));
    return token > 0 ? { owner, token, value: `${owner}|${token}` } : undefined;
  }

  /** Extends the lease by the TTL; false when it is no longer ours (expired, or taken by another). */
  async renew(lease: Lease): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.keys.lock, lease.value, this.ttlMs)) === 1;
  }

  /** Gives the lock up (so a standby need not wait for the TTL); false when it was no longer ours. */
  async release(lease: Lease): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, this.keys.lock, lease.value)) === 1;
  }

  /** The current holder's `<owner>|<token>`, or null. */
  holder(): Promise<string | null> {
    return this.redis.get(this.keys.lock);
  }
}
