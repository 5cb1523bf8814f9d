import type { Alert, EnrichedPost } from '@tingfeng/contracts';
import { describe, expect, it } from 'vitest';
import { createDetectorEngine } from './engine.js';
import { dailyPeakScenario, twoStoriesScenario, unseenStreamScenario } from './scenarios/generate.js';
import { runScenario } from './scenarios/score.js';

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

const HOUR_MS = 3_600_000;

/** Story alerts of a run, by key, with their first emission's event time and the share of their evidence in `event`. */
function storiesOf(alerts: readonly Alert[], eventPosts: ReadonlySet<string>): { key: string; firstMs: number; evidenceShare: number }[] {
  const byKey = new Map<string, { key: string; firstMs: number; evidenceShare: number }>();
  for (const a of alerts) {
    if (a.type !== 'story') continue;
    const share = a.postIds.filter((id) => eventPosts.has(id)).length / Math.max(1, a.postIds.length);
    const seen = byKey.get(a.key);
    if (!seen) byKey.set(a.key, { key: a.key, firstMs: Date.parse(a.at), evidenceShare: share });
    else seen.evidenceShare = Math.max(seen.evidenceShare, share);
  }
  return [...byKey.values()];
}

describe('stories on a stream never seen', () => {
  it('reports a new story of never-seen words mixed with filler within minutes, after days of peaks, a campaign and a cascade', () => {
    const s = unseenStreamScenario();
    const event = s.events.find((e) => e.id === 'new-story')!;
    const score = runScenario(s);
    const mine = storiesOf(score.alertList, event.postIds).filter((x) => x.evidenceShare >= 0.8);
    // One story of its own (a fresh key, not an older story re-emitting), alerted within 5 minutes of the onset.
    expect(mine).toHaveLength(1);
    expect(mine[0]!.firstMs - event.onsetMs[0]!).toBeLessThanOrEqual(5 * 60_000);
    expect(mine[0]!.firstMs).toBeGreaterThanOrEqual(event.onsetMs[0]!);
    // The commute peak was reported on day 1 and is expected on days 2 and 3.
    expect(score.delaysMin['new-story']).not.toBeNull();
    expect(score.dailyRepeatAlerts).toBe(0);
    const commute = s.events.find((e) => e.id === 'commute-peak')!;
    expect(storiesOf(score.alertList, commute.postIds).filter((x) => x.evidenceShare >= 0.5 && x.firstMs < commute.onsetMs[0]! + HOUR_MS)).toHaveLength(1);
  });

  it.each([
    ['default settings', {}],
    // The first story still live when the second breaks: it must not swallow it through the words they share.
    ['the first story kept live for two days', { storyIdleMs: 2 * DAY_MS }],
  ] as const)('two unrelated stories a day apart sharing everyday words are two alerts (%s)', (_name, config) => {
    const s = twoStoriesScenario();
    const score = runScenario(s, config);
    const keys: string[] = [];
    for (const id of ['rainstorm', 'power-cut']) {
      const event = s.events.find((e) => e.id === id)!;
      const mine = storiesOf(score.alertList, event.postIds).filter((x) => x.evidenceShare >= 0.8);
      expect(mine, id).toHaveLength(1);
      expect(mine[0]!.firstMs - event.onsetMs[0]!, id).toBeLessThanOrEqual(5 * 60_000);
      keys.push(mine[0]!.key);
    }
    expect(new Set(keys).size).toBe(2);
    // No story alert mixes them: every story alert's evidence is (almost) all one story's.
    for (const a of score.alertList.filter((x) => x.type === 'story')) {
      const first = s.events[0]!.postIds;
      const second = s.events[1]!.postIds;
      const n1 = a.postIds.filter((id) => first.has(id)).length;
      const n2 = a.postIds.filter((id) => second.has(id)).length;
      expect(Math.min(n1, n2), a.key).toBeLessThanOrEqual(1);
    }
  });
});
