import { describe, expect, it } from 'vitest';
import { bestWindowRule, callsFromAlerts, CascadeTruthBuilder, median, ruleCalls, scoreCalls, splitOf, windowRuleTimes } from './cascade-eval.js';

const T0 = Date.UTC(2013, 0, 1);
const MIN = 60_000;

/** A root at T0 + startMin and `n` reposts spread evenly over `spanMin` minutes from then. */
function cascade(b: CascadeTruthBuilder, rootId: string, n: number, spanMin: number, startMin = 0): void {
  b.add({ id: rootId, createdAtMs: T0 + startMin * MIN, followers: 1000 });
  for (let i = 0; i < n; i++) b.add({ id: `${rootId}-${i}`, rootId, parentId: rootId, createdAtMs: T0 + (startMin + (spanMin * (i + 1)) / n) * MIN });
}

describe('cascade truth from the data alone', () => {
  it('measures the trailing-hour peak and the 100/h and 300/h onsets at the repost that reaches them', () => {
    const b = new CascadeTruthBuilder();
    cascade(b, 'fast', 600, 60); // 10 a minute: 100 reached at the 100th repost (minute 10), 300 at minute 30
    cascade(b, 'slow', 120, 240); // 30 an hour
    cascade(b, 'quiet', 20, 60);
    const [fast, quiet, slow] = b.build();
    expect(fast).toMatchObject({ rootId: 'fast', peakHour: 600, viralOnsetMs: T0 + 10 * MIN, explosiveOnsetMs: T0 + 30 * MIN, followers: 1000, rootMs: T0 });
    expect(slow).toMatchObject({ peakHour: 30, viralOnsetMs: null, explosiveOnsetMs: null });
    expect(quiet!.peakHour).toBe(20);
  });

  it('counts a repost exactly one hour older as outside the trailing hour', () => {
    const b = new CascadeTruthBuilder();
    b.add({ id: 'r', createdAtMs: T0 });
    b.add({ id: 'a', rootId: 'r', createdAtMs: T0 });
    b.add({ id: 'b', rootId: 'r', createdAtMs: T0 + 60 * MIN });
    expect(b.build()[0]!.peakHour).toBe(1);
  });

  it('follows parentId to the root when a repost does not name it, and answers which cascade a post is in', () => {
    const b = new CascadeTruthBuilder();
    b.add({ id: 'r', createdAtMs: T0 });
    b.add({ id: 'c1', parentId: 'r', createdAtMs: T0 + MIN });
    b.add({ id: 'c2', parentId: 'c1', createdAtMs: T0 + 2 * MIN });
    expect(b.cascadeOf('c2')).toBe('r');
    expect(b.cascadeOf('r')).toBe('r');
    expect(b.cascadeOf('nowhere')).toBeUndefined();
    expect(b.build().map((c) => [c.rootId, c.repostMs.length])).toEqual([['r', 2]]);
  });

  it('splits cascades into two deterministic halves by the root id', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `root${i}`);
    const fit = ids.filter((id) => splitOf(id) === 'fit').length;
    expect(fit).toBeGreaterThan(900);
    expect(fit).toBeLessThan(1100);
    expect(ids.map(splitOf)).toEqual(ids.map(splitOf));
  });
});

describe('scoring calls', () => {
  const b = new CascadeTruthBuilder();
  cascade(b, 'big', 900, 90); // explosive: 300/h at minute 30; viral at minute 10
  cascade(b, 'mid', 150, 60, 1000); // viral, not explosive: 100/h at minute 1040
  cascade(b, 'quiet', 10, 60, 2000);
  const cascades = b.build();

  it('scores alerts that name a cascade by rootId or by an evidence post inside it', () => {
    const alerts = [
      { at: new Date(T0 + 5 * MIN).toISOString(), severity: 'critical' as const, rootId: 'big', postIds: [] },
      { at: new Date(T0 + 1050 * MIN).toISOString(), severity: 'critical' as const, postIds: ['x', 'mid-3'] },
      { at: new Date(T0 + 2010 * MIN).toISOString(), severity: 'info' as const, postIds: ['quiet'] },
    ];
    const s = scoreCalls(cascades, callsFromAlerts(alerts, (id) => b.cascadeOf(id)));
    expect(s).toMatchObject({ cascades: 3, viral: 2, explosive: 1, quiet: 1, anyRecall100: 1, quietAlerted: 1, quietAlertedShare: 1, criticalRecall300: 1, criticalPrecision300: 0.5, criticalCascades: 2, medianLeadMin: 25 });
    // big: 5 − 10 = −5 min; mid: 1050 − 1040 = 10 min.
    expect(s.medianDelayMin).toBeCloseTo(2.5, 9);
  });

  it('takes the first alert, and the first critical one, whatever the order of the alerts', () => {
    const alerts = [
      { at: new Date(T0 + 20 * MIN).toISOString(), severity: 'critical' as const, rootId: 'big', postIds: [] },
      { at: new Date(T0 + 2 * MIN).toISOString(), severity: 'info' as const, rootId: 'big', postIds: [] },
      { at: new Date(T0 + 12 * MIN).toISOString(), severity: 'critical' as const, rootId: 'big', postIds: [] },
    ];
    expect(callsFromAlerts(alerts, () => undefined).get('big')).toEqual({ firstAnyMs: T0 + 2 * MIN, firstCriticalMs: T0 + 12 * MIN });
  });

  it('gives null shares and medians where there is nothing to count', () => {
    const s = scoreCalls([], new Map());
    expect(s).toMatchObject({ anyRecall100: null, medianDelayMin: null, criticalRecall300: null, criticalPrecision300: null, medianLeadMin: null });
    expect(median([3, 1, 2])).toBe(2);
  });

  it('simulates a fixed window rule at the repost where the window first holds k reposts', () => {
    const times = windowRuleTimes(cascades, 10 * MIN, 100);
    expect(times.get('big')).toBe(T0 + 10 * MIN);
    expect(times.has('mid')).toBe(false);
    const s = scoreCalls(cascades, ruleCalls(times, 'critical'));
    expect(s).toMatchObject({ criticalRecall300: 1, criticalPrecision300: 1, medianLeadMin: 20 });
  });

  it('picks the grid rule of highest precision among those meeting the recall and lead targets', () => {
    const best = bestWindowRule(cascades, { minRecall: 1, minMedianLeadMin: 20 }, [10, 60], [20, 100, 200]);
    // 60 min ≥ 100 also calls `mid` (precision 0.5); 10 min ≥ 100 calls only `big` 20 min ahead; ≥ 200 is too late.
    expect(best).toMatchObject({ windowMin: 10, minReposts: 100, score: { criticalPrecision300: 1, medianLeadMin: 20 } });
    expect(bestWindowRule(cascades, { minRecall: 1, minMedianLeadMin: 60 }, [10], [100])).toBeNull();
  });
});
