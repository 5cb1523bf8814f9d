import type { Redis } from '@tingfeng/redis';
import type { ClaimFn } from './process-batch.js';

/**
 * De-duplication by `(platform, id)` in Redis: `SET key claim NX GET EX ttl` per post, pipelined, one round trip a batch.
 * The claim names the message (topic:partition:offset) that first carried the post. A redelivery of that same
 * message (its transaction aborted by a crash) still owns the post and is processed again; any other message
 * carrying the same post is a duplicate.
 */
export function redisClaims(redis: Redis, prefix: string, ttlSeconds: number): ClaimFn {
  return async (claims) => {
    if (claims.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const c of claims) pipeline.set(prefix + c.identity, c.claim, 'EX', ttlSeconds, 'NX', 'GET');
    const results = (await pipeline.exec()) ?? [];
    // Commands run in order, so a second copy of a post within the batch sees the first copy's claim.
    return claims.map((c, i) => {
      const entry = results[i];
      if (!entry) throw new Error('redis pipeline returned fewer results than commands');
      const [err, previous] = entry;
      if (err) throw err;
      return previous === null || previous === c.claim;
    });
  };
}
