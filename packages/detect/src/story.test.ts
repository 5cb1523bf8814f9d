import type { Alert, EnrichedPost } from '@tingfeng/contracts';
import { describe, expect, it } from 'vitest';
import { createDetectorEngine } from './engine.js';
import { dailyPeakScenario } from './scenarios/generate.js';

const DAY_MS = 86_400_000;

describe('story tables: lazy decay', () => {
  it('gives the same baselines and alerts whether cells settle at every snapshot or only when used', () => {
    // Daily peak without day 2 and the morning of day 3 (a gap of 1.5 days: the slot-by-slot replay),
    // and day 4 moved three days on (a gap past the catch-up limit: buckets skipped, not replayed).
    const s = dailyPeakScenario();
    const posts: EnrichedPost[] = [];
    for (const p of s.posts) {
      const days = (p.createdAtMs - s.startMs) / DAY_MS;
      if (days >= 1 && days < 2.5) continue;
      posts.push(days >= 3 ? { ...p, createdAtMs: p.createdAtMs + 3 * DAY_MS, createdAt: new Date(p.createdAtMs + 3 * DAY_MS).toISOString() } : p);
    }
    const lazy = createDetectorEngine();
    const settled = createDetectorEngine();
    const a: Alert[] = [];
    const b: Alert[] = [];
    posts.forEach((p, i) => {
      a.push(...lazy.process(p));
      b.push(...settled.process(p));
      // snapshot() settles every cell: the other engine's cells stay lazy until they are used.
      if (i % 997 === 0) settled.snapshot();
    });
    a.push(...lazy.flush());
    b.push(...settled.flush());
    expect(a.length).toBeGreaterThan(0);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(settled.snapshot().story)).toBe(JSON.stringify(lazy.snapshot().story));
  });
});
