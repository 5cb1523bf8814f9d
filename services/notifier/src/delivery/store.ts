import type { Redis } from 'ioredis';

/** Why items wait for a digest: the channel's rate limit, or its quiet hours. Each has its own pending set. */
export type DigestBucket = 'rate' | 'quiet';

export interface Acquired {
  allowed: boolean;
  /** When not allowed: how long until the window has room again (0 when it has room but a digest is pending). */
  waitMs: number;
}

// Sliding-window log: one ZSET member per send, scored by wall time. While a rate digest is pending, new items join
// it instead of overtaking it (unless `force`, which the digest itself uses), so order is kept and the digest gets the slot.
const ACQUIRE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local storm = ARGV[5] == '0' and redis.call('ZCARD', KEYS[2]) > 0
if count < limit and not storm then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return {1, 0}
end
local wait = 0
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = tonumber(oldest[2]) + window - now
  if wait < 0 then wait = 0 end
end
return {0, wait}
`;

// Adds an item to a pending set (NX: a retried job adds the same member once) and returns the current batch number,
// which names the digest job that will take it.
const ADD_PENDING = `
redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return tonumber(redis.call('GET', KEYS[2]) or '0')
`;

// Moves a batch's items out of the pending set once: a retry of the same digest job gets the same items back from the
// taken list; a digest job for a batch already taken (and sent) gets nothing. Taking advances the batch number, so
// items arriving later wait for the next digest job.
const TAKE = `
if redis.call('EXISTS', KEYS[3]) == 1 then return redis.call('LRANGE', KEYS[3], 0, -1) end
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current ~= tonumber(ARGV[1]) then return {} end
local items = redis.call('ZRANGE', KEYS[1], 0, -1)
if #items == 0 then return {} end
for i = 1, #items, 500 do
  redis.call('RPUSH', KEYS[3], unpack(items, i, math.min(i + 499, #items)))
end
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
return items
`;

const DAY_MS = 24 * 3600_000;

/** The notifier's own Redis state: rate windows, pending digest items, and markers of messages already sent. */
export class DeliveryStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(...parts: string[]): string {
    return `${this.prefix}notify:${parts.join(':')}`;
  }

  /** Takes a slot in the channel's window at `nowMs`, if it has one. `member` must be unique per attempt. */
  async acquire(channelId: string, nowMs: number, windowMs: number, limit: number, member: string, force = false): Promise<Acquired> {
    const [allowed, waitMs] = (await this.redis.eval(
      ACQUIRE,
      2,
      this.key('rate', channelId),
      this.key('pending', channelId, 'rate'),
      nowMs,
      windowMs,
      limit,
      member,
      force ? '1' : '0',
    )) as [number, number];
    return { allowed: allowed === 1, waitMs };
  }

  /** Adds an item to a channel's pending digest; returns the batch that will carry it. */
  async addPending(channelId: string, bucket: DigestBucket, item: string, nowMs: number): Promise<number> {
    return (await this.redis.eval(
      ADD_PENDING,
      2,
      this.key('pending', channelId, bucket),
      this.key('batch', channelId, bucket),
      nowMs,
      item,
      // Kept long enough to outlive quiet hours plus a day of retries; a digest normally takes them within a window.
      2 * DAY_MS,
    )) as number;
  }

  /** Takes the items of `batch` (idempotent per batch until {@link finishBatch}). */
  async takeBatch(channelId: string, bucket: DigestBucket, batch: number): Promise<string[]> {
    return (await this.redis.eval(
      TAKE,
      3,
      this.key('pending', channelId, bucket),
      this.key('batch', channelId, bucket),
      this.key('taken', channelId, bucket, String(batch)),
      batch,
      7 * DAY_MS,
    )) as string[];
  }

  async finishBatch(channelId: string, bucket: DigestBucket, batch: number): Promise<void> {
    await this.redis.del(this.key('taken', channelId, bucket, String(batch)));
  }

  /** Items waiting in a channel's pending digest. */
  async pendingCount(channelId: string, bucket: DigestBucket): Promise<number> {
    return this.redis.zcard(this.key('pending', channelId, bucket));
  }

  /** Whether the message of a delivery job was already accepted (a crash after sending must not send it again). */
  async wasSent(jobId: string): Promise<boolean> {
    return (await this.redis.exists(this.key('sent', jobId))) === 1;
  }

  async markSent(jobId: string): Promise<void> {
    await this.redis.set(this.key('sent', jobId), '1', 'PX', 7 * DAY_MS);
  }
}
