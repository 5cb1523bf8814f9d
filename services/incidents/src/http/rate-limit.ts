import type { Redis } from '@tingfeng/redis';

/** What {@link FixedWindowLimiter.take} answers. */
export interface RateDecision {
  allowed: boolean;
  /** Calls counted in the current window, this one included. */
  count: number;
  /** Milliseconds until the window ends (when a refused caller may try again). */
  retryAfterMs: number;
}

/**
 * At most `limit` calls per `windowMs` per subject, counted in Redis (INCR on a key per window, expiring with it), so
 * the limit holds across restarts and replicas. A fixed window lets a burst of up to twice the limit straddle a window
 * boundary; that is enough for notes, which are a person's typing, not a metered resource.
 */
export class FixedWindowLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keyOf: (subject: string, window: number) => string,
    readonly limit: number,
    readonly windowMs: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async take(subject: string): Promise<RateDecision> {
    const now = this.nowMs();
    const window = Math.floor(now / this.windowMs);
    const key = this.keyOf(subject, window);
    const results = await this.redis.multi().incr(key).pexpire(key, this.windowMs).exec();
    const count = Number(results?.[0]?.[1] ?? 0);
    return { allowed: count <= this.limit, count, retryAfterMs: (window + 1) * this.windowMs - now };
  }
}
