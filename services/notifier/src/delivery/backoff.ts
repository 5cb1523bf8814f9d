/** The name delivery jobs give as `backoff.type`; the workers resolve it with {@link jitteredBackoff}. */
export const JITTER_BACKOFF = 'exponential-jitter';

/**
 * Exponential backoff with jitter: attempt n waits between half and all of `min(maxMs, baseMs × 2^(n-1))`, so many
 * deliveries failing together (a vendor outage) do not retry in lockstep.
 */
export function jitteredBackoff(baseMs: number, maxMs: number, random: () => number = Math.random): (attemptsMade: number) => number {
  return (attemptsMade) => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
  };
}
