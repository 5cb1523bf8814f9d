import { describe, expect, it } from 'vitest';
import type { Alert, EnrichedPost } from '@tingfeng/contracts';
import { CascadeDetector } from './cascade.js';
import type { GrowthModel } from './cascade-model.js';
import { resolveConfig } from './config.js';
import { alertId } from './hash.js';
import { enrichedPost } from './testing.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

/** Small levels so a handful of reposts exercises every rule: judged from 3 in the hour, info at 10/h, critical at 30/h. */
const cfg = resolveConfig({
  cascadeMinHourReposts: 3,
  cascadeAlertPerHour: 10,
  cascadeCriticalPerHour: 30,
  cascadeIdleMs: 60 * MIN,
  cascadeHistoryMinChildren: 3,
});

/** A model that forecasts a peak of `peak` reposts an hour whatever the cascade shows (all weight on the bias). */
const forecastOf = (peak: number, sigma = 0.01): GrowthModel => ({ weights: [Math.log1p(peak), 0, 0, 0, 0, 0, 0], sigma });
/** A model that forecasts exactly the trailing hour seen so far (all weight on ln(1 + n60)). */
const nothingMore: GrowthModel = { weights: [0, 0, 0, 1, 0, 0, 0], sigma: 0.01 };

const detector = (model: GrowthModel) => new CascadeDetector(cfg, () => false, model);

const root = (id = 'r', atMin = 0): EnrichedPost =>
  enrichedPost({ id, createdAtMs: T0 + atMin * MIN, author: { id: `u-${id}`, name: `博主${id}`, followers: 1000 }, ownText: '原帖正文', keywords: ['原帖'] });

const repost = (id: string, atMin: number, rootId = 'r', extra: Partial<EnrichedPost> = {}): EnrichedPost =>
  enrichedPost({ id, createdAtMs: T0 + atMin * MIN, rootId, parentId: rootId, ...extra });

/** Feeds the posts in order and returns every alert. */
function feed(d: CascadeDetector, posts: EnrichedPost[]): Alert[] {
  return posts.flatMap((p) => d.add(p, undefined));
}

/** `n` reposts of `rootId`, ids `<prefix>1…`, one every `everyMin` minutes from `fromMin`. */
const reposts = (n: number, fromMin: number, everyMin = 0.1, rootId = 'r', prefix = 'c'): EnrichedPost[] =>
  Array.from({ length: n }, (_, i) => repost(`${prefix}${i + 1}`, fromMin + i * everyMin, rootId));

describe('CascadeDetector', () => {
  it('treats an original post as a root and finds the root of a repost by rootId, then through its parent', () => {
    const d = detector(nothingMore);
    expect(d.add(root(), undefined)).toEqual([]);
    expect(d.rootOf(root())).toBeUndefined();
    expect(d.rootOf(repost('c1', 1))).toBe('r');
    d.add(enrichedPost({ id: 'c1', createdAtMs: T0 + MIN, parentId: 'r' }), undefined);
    // A repost of a repost that names only its parent belongs to the parent's root.
    expect(d.rootOf(enrichedPost({ id: 'c2', createdAtMs: T0 + 2 * MIN, parentId: 'c1' }))).toBe('r');
    // An unknown parent is taken as the root.
    expect(d.rootOf(enrichedPost({ id: 'x', createdAtMs: T0, parentId: 'elsewhere' }))).toBe('elsewhere');
    expect(d.counts()).toMatchObject({ cascades: 1, roots: 1, postIndex: 2 });
  });

  it('judges a cascade only once its trailing hour holds cascadeMinHourReposts reposts', () => {
    const d = detector(forecastOf(1000));
    d.add(root(), undefined);
    expect(feed(d, reposts(2, 1))).toEqual([]);
    const [alert, ...more] = d.add(repost('c3', 2), undefined);
    expect(more).toEqual([]);
    expect(alert).toMatchObject({ key: 'cascade:r', type: 'cascade', rootId: 'r', observed: 3, children: 3 });
  });

  it('counts only the reposts of the trailing hour, per root', () => {
    const d = detector(forecastOf(1000));
    d.add(root('r'), undefined);
    d.add(root('s'), undefined);
    expect(feed(d, [repost('a1', 1), repost('a2', 2), repost('s1', 3, 's'), repost('s2', 4, 's')])).toEqual([]);
    // Minute 62: the reposts of minutes 1 and 2 have left the hour, so r's trailing hour is 1, then 2, then 3.
    expect(d.add(repost('a3', 62), undefined)).toEqual([]);
    expect(d.add(repost('a4', 62.5), undefined)).toEqual([]);
    const alerts = d.add(repost('a5', 63), undefined);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ key: 'cascade:r', observed: 3, children: 5 });
    // s still has two, in another cascade.
    expect(d.alertedKey('s')).toBeUndefined();
  });

  it('calls critical when the level is forecast with confidence before it is reached', () => {
    const [alert] = feed(detector(forecastOf(1000)), [root(), ...reposts(3, 1)]);
    expect(alert).toMatchObject({ severity: 'critical', observed: 3, forecast: { level: 30, alertLevel: 10, peakPerHour: 1000 } });
    expect(alert!.id).toBe(alertId('cascade:r', 1));
  });

  it('calls info when only the alert level is likely, and warning at a real chance of the critical level', () => {
    const [info] = feed(detector(forecastOf(15)), [root(), ...reposts(3, 1)]);
    expect(info).toMatchObject({ severity: 'info' });
    // ln(1 + 30) as the median with σ = 1: P(≥ 30/h) = 0.5, above cascadeWarningProbability (0.3), below 0.75.
    const [warning] = feed(detector(forecastOf(30, 1)), [root(), ...reposts(3, 1)]);
    expect(warning).toMatchObject({ severity: 'warning', forecast: { pLevel: 0.5 } });
    expect(feed(detector(forecastOf(5)), [root(), ...reposts(20, 1)])).toEqual([]);
  });

  it('with a forecast of no more than is there: info past the alert level, warning on reaching the critical level, never critical', () => {
    const alerts = feed(detector(nothingMore), [root(), ...reposts(40, 1)]);
    expect(alerts.map((a) => [a.severity, a.observed])).toEqual([
      ['info', 11],
      ['warning', 30],
    ]);
  });

  it('re-emits the same key at a higher severity, or at the same one once the children grew by cascadeReemitGrowth', () => {
    const d = detector(forecastOf(1000));
    const alerts = feed(d, [root(), ...reposts(48, 1, 0.5)]);
    // critical at 3 children; again at 3 × 4 = 12 and 12 × 4 = 48, and not in between.
    expect(alerts.map((a) => [a.severity, a.children])).toEqual([
      ['critical', 3],
      ['critical', 12],
      ['critical', 48],
    ]);
    expect(alerts.map((a) => a.id)).toEqual([1, 2, 3].map((seq) => alertId('cascade:r', seq)));
    expect(d.alertedKey('r')).toBe('cascade:r');
  });

  it('never lowers the severity of a cascade it has called', () => {
    const first = detector(forecastOf(1000));
    expect(feed(first, [root(), ...reposts(3, 1)]).map((a) => a.severity)).toEqual(['critical']);
    // The same state under a model that now forecasts only the alert level: the re-emission keeps `critical`.
    const later = detector(forecastOf(15));
    later.restore(first.snapshot());
    const alerts = feed(later, reposts(9, 2, 0.1, 'r', 'd'));
    expect(alerts.map((a) => [a.severity, a.children])).toEqual([['critical', 12]]);
  });

  it('does not call critical for a cascade that has already been at the level, even when its hour falls back below', () => {
    const reach = (): CascadeDetector => {
      const d = detector(forecastOf(15));
      feed(d, [root(), ...reposts(31, 1)]);
      return d;
    };
    const been = detector(forecastOf(1000));
    been.restore(reach().snapshot());
    // Two hours later the trailing hour is 3 and the forecast confident of the level: still no critical.
    expect(feed(been, reposts(3, 120, 0.1, 'r', 'late'))).toEqual([]);

    // The control: a cascade that stayed below the level is called critical by the same forecast.
    const below = detector(forecastOf(15));
    feed(below, [root(), ...reposts(5, 1)]);
    const never = detector(forecastOf(1000));
    never.restore(below.snapshot());
    expect(feed(never, reposts(3, 120, 0.1, 'r', 'late')).map((a) => a.severity)).toEqual(['critical']);
  });

  it('reports the cascade’s evidence: root, depth, amplifiers, replies’ negative share, evidence posts', () => {
    const d = detector(forecastOf(1000));
    d.add(root(), undefined);
    d.add(repost('c1', 1, 'r', { author: { id: 'u-big', name: '大V', followers: 9_000 }, ownText: '太离谱了', sentiment: -0.9 }), undefined);
    d.add(repost('c2', 2, 'r', { parentId: 'c1', ownText: '支持', sentiment: 0.8 }), undefined);
    const [alert] = d.add(repost('c3', 3, 'r', { parentId: 'c2' }), undefined);
    expect(alert).toMatchObject({
      rootAuthor: '博主r',
      rootFollowers: 1000,
      children: 3,
      depth: 3,
      // c2 reposted 大V's c1 and c3 reposted c2 (author a-c2); the root's own author is not an amplifier.
      amplifiers: expect.arrayContaining(['大V', 'a-c2']),
      // Two of the children wrote something; one of them is negative. The third is a bare repost.
      negativeShare: 0.5,
      postIds: ['r', 'c1', 'c2', 'c3'],
      terms: ['原帖'],
      curve: { bucketMs: MIN, counts: [1, 1, 1] },
    });
    expect((alert as unknown as { amplifiers: string[] }).amplifiers).toHaveLength(2);
    expect(alert!.title).toContain('@博主r');
  });

  it('ends cascades idle longer than cascadeIdleMs behind the watermark; a large one enters the history', () => {
    const d = detector(forecastOf(1000));
    feed(d, [root('r'), ...reposts(3, 1, 1, 'r', 'a'), root('s'), ...reposts(2, 1, 1, 's', 'b')]);
    expect(d.counts()).toMatchObject({ cascades: 2, cascadeHistory: 0 });
    // r's last child is at minute 3, s's at minute 2. Idle exactly cascadeIdleMs is not longer: nothing ends.
    d.expire(T0 + 62 * MIN);
    expect(d.counts()).toMatchObject({ cascades: 2, cascadeHistory: 0 });
    d.expire(T0 + 62 * MIN + 1);
    expect(d.counts()).toMatchObject({ cascades: 1, cascadeHistory: 0 });
    expect(d.alertedKey('r')).toBe('cascade:r');
    d.expire(T0 + 63 * MIN + 1);
    // r had 3 children (cascadeHistoryMinChildren): it is counted; s had 2: it was not.
    expect(d.counts()).toMatchObject({ cascades: 0, cascadeHistory: 1 });
    expect(d.alertedKey('r')).toBeUndefined();
  });

  it('carries on from a JSON snapshot exactly as the detector it was taken from', () => {
    const model = forecastOf(1000);
    const original = detector(model);
    feed(original, [root(), enrichedPost({ id: 'c1', createdAtMs: T0 + MIN, parentId: 'r' }), ...reposts(4, 2, 0.5, 'r', 'e')]);
    original.expire(T0 + 10 * MIN);
    const restored = detector(model);
    restored.restore(JSON.parse(JSON.stringify(original.snapshot())));
    expect(restored.counts()).toEqual(original.counts());
    expect(restored.alertedKey('r')).toBe('cascade:r');
    const next = [enrichedPost({ id: 'g1', createdAtMs: T0 + 5 * MIN, parentId: 'c1' }), ...reposts(10, 6, 0.5, 'r', 'f')];
    const fromOriginal = feed(original, next);
    expect(fromOriginal.length).toBeGreaterThan(0);
    expect(feed(restored, next)).toEqual(fromOriginal);
  });
});
