import type { Alert, EnrichedPost } from '@tingfeng/contracts';
import { describe, expect, it } from 'vitest';
import { createDetectorEngine, type DetectorSnapshot } from './engine.js';
import { dailyPeakScenario, dyingCityScenario, SCENARIO_EPOCH_MS } from './scenarios/generate.js';
import { Rng } from './scenarios/rng.js';
import { enrichedPost } from './testing.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

const run = (posts: readonly EnrichedPost[], snapshotAt?: number): Alert[] => {
  let engine = createDetectorEngine();
  const out: Alert[] = [];
  posts.forEach((p, i) => {
    if (i === snapshotAt) engine = createDetectorEngine({}, JSON.parse(JSON.stringify(engine.snapshot())) as DetectorSnapshot);
    out.push(...engine.process(p));
  });
  out.push(...engine.flush());
  return out;
};

let seq = 0;
function post(t: number, schemes: string[], o: { negative?: boolean; words?: string[] } = {}): EnrichedPost {
  seq++;
  return enrichedPost({
    id: `s${seq}`,
    createdAtMs: t,
    author: { id: `u${seq % 997}`, name: `用户${seq % 997}`, followers: 50 },
    // Distinct words per post: nothing here should make a story burst.
    keywords: o.words ?? [],
    sentiment: o.negative ? -0.6 : 0.2,
    schemes,
  });
}

/** Posts of one scheme: `rate(t)` per minute (Poisson), each negative with probability `negative(t)`. */
function stream(rng: Rng, name: string, fromMs: number, toMs: number, rate: (t: number) => number, negative: (t: number) => number = () => 0.1): EnrichedPost[] {
  const out: EnrichedPost[] = [];
  for (let m = fromMs; m < toMs; m += MINUTE) {
    const n = rng.poisson(rate(m));
    for (let i = 0; i < n; i++) {
      const t = m + Math.floor(rng.next() * MINUTE);
      out.push(post(t, [name], { negative: rng.next() < negative(t), words: ['话题', `词${rng.int(0, 50)}`] }));
    }
  }
  return out.sort((a, b) => a.createdAtMs - b.createdAtMs);
}

const schemeAlerts = (alerts: Alert[]) => alerts.filter((a) => a.type === 'scheme');
const localHour = (t: number) => new Date(t + 8 * 3600_000).getUTCHours();

describe('scheme detector', () => {
  const start = SCENARIO_EPOCH_MS;

  it('raises one volume burst, keyed by scheme and burst start, with schemes, figures and evidence', () => {
    const burstAt = start + DAY + 14 * 3600_000;
    const posts = stream(new Rng(1), '昆明城市形象', start, start + 2 * DAY, (t) => (t >= burstAt && t < burstAt + 40 * MINUTE ? 12 : 0.4));
    const alerts = schemeAlerts(run(posts));
    expect(alerts.length).toBeGreaterThan(0);
    const volume = alerts.filter((a) => a.signal === 'volume');
    expect(new Set(volume.map((a) => a.key))).toEqual(new Set([volume[0]!.key]));
    const first = volume[0]!;
    expect(first.key).toMatch(/^scheme:昆明城市形象:volume:20151020T06\d{4}$/);
    expect(Date.parse(first.at)).toBeGreaterThanOrEqual(burstAt);
    expect(Date.parse(first.at)).toBeLessThan(burstAt + 10 * MINUTE);
    expect(first.schemes).toEqual(['昆明城市形象']);
    expect(first.title).toContain('监测方案「昆明城市形象」声量突增');
    expect(first.observed).toBeGreaterThan(first.expected!);
    expect(first.score).toBeGreaterThanOrEqual(3);
    expect(first.window?.start).toBeDefined();
    expect(first.postIds.length).toBeGreaterThanOrEqual(10);
    expect(first.postIds.length).toBeLessThanOrEqual(50);
    // Re-emitted only when the severity rose.
    const ranks = volume.map((a) => ['info', 'warning', 'critical'].indexOf(a.severity));
    expect([...ranks].sort()).toEqual(ranks);
    expect(new Set(ranks).size).toBe(ranks.length);
    // Nothing outside the burst.
    for (const a of alerts) expect(Date.parse(a.at)).toBeGreaterThanOrEqual(burstAt);
  });

  it('stays quiet on a steady volume and a steady negative share', () => {
    const posts = stream(new Rng(2), '滇池', start, start + 3 * DAY, () => 4, () => 0.3);
    expect(schemeAlerts(run(posts))).toEqual([]);
  });

  it('raises a negative-share alert when the share jumps at a steady volume', () => {
    const turnAt = start + DAY + 10 * 3600_000;
    const posts = stream(new Rng(3), '滇池', start, start + 2 * DAY, () => 6, (t) => (t >= turnAt && t < turnAt + 3600_000 ? 0.8 : 0.1));
    const alerts = schemeAlerts(run(posts));
    expect(alerts.map((a) => a.signal)).toContain('negative');
    expect(alerts.filter((a) => a.signal === 'volume')).toEqual([]);
    const neg = alerts.find((a) => a.signal === 'negative')!;
    expect(neg.key).toMatch(/^scheme:滇池:negative:/);
    expect(neg.title).toContain('负面占比上升');
    expect(neg.negativeShare).toBeGreaterThanOrEqual(0.35);
    expect(Date.parse(neg.at)).toBeGreaterThanOrEqual(turnAt);
    expect(Date.parse(neg.at)).toBeLessThan(turnAt + 15 * MINUTE);
    expect(new Set(alerts.map((a) => a.key)).size).toBe(1);
  });

  it('learns a daily recurring peak: quiet after its first day', () => {
    // 18:00–18:40 every evening, mostly negative, on a quiet background.
    const inPeak = (t: number) => localHour(t) === 18 && (t - start) % DAY < 18 * 3600_000 + 40 * MINUTE;
    const posts = stream(new Rng(4), '晚高峰', start, start + 4 * DAY, (t) => (inPeak(t) ? 8 : 0.4), (t) => (inPeak(t) ? 0.9 : 0.2));
    const alerts = schemeAlerts(run(posts));
    for (const a of alerts) expect(Date.parse(a.at), a.title).toBeLessThan(start + DAY);
  });

  it('is deterministic and resumes from a snapshot (through JSON) with the same alerts; older snapshots restore', () => {
    const burstAt = start + DAY + 9 * 3600_000;
    const posts = [
      ...stream(new Rng(5), 'A', start, start + 2 * DAY, (t) => (t >= burstAt && t < burstAt + 30 * MINUTE ? 10 : 0.5)),
      ...stream(new Rng(6), 'B', start, start + 2 * DAY, () => 3, (t) => (t >= burstAt && t < burstAt + 3600_000 ? 0.8 : 0.1)),
    ].sort((a, b) => a.createdAtMs - b.createdAtMs);
    const whole = run(posts);
    expect(schemeAlerts(whole).length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(run(posts))).toBe(JSON.stringify(whole));
    for (const cut of [Math.floor(posts.length * 0.3), Math.floor(posts.length * 0.55)]) {
      expect(JSON.stringify(run(posts, cut))).toBe(JSON.stringify(whole));
    }
    // A snapshot from before the scheme detector: no `schemes` field. It restores; schemes start learning afresh.
    const engine = createDetectorEngine();
    for (const p of posts.slice(0, 100)) engine.process(p);
    const old = JSON.parse(JSON.stringify(engine.snapshot())) as DetectorSnapshot;
    delete old.schemes;
    const resumed = createDetectorEngine({}, old);
    expect(resumed.stats().schemes).toBe(0);
    for (const p of posts.slice(100, 200)) resumed.process(p);
    expect(resumed.stats().schemes).toBe(2);
  });

  it('keeps at most maxSchemes baselines', () => {
    const engine = createDetectorEngine({ maxSchemes: 3 });
    for (let i = 0; i < 10; i++) engine.process(post(start + i * 1000, [`方案${i}`]));
    expect(engine.stats().schemes).toBe(3);
    expect(engine.stats().schemesEvicted).toBe(7);
  });
});

describe('alerts carry the schemes of their evidence', () => {
  const tag = (p: EnrichedPost): EnrichedPost => {
    const words = [...p.keywords, ...p.tokens, p.ownText, p.text].join(' ');
    const schemes: string[] = [];
    if (words.includes('昆明') && (words.includes('死去') || words.includes('离开'))) schemes.push('昆明衰落');
    if (words.includes('城市')) schemes.push('城市');
    return schemes.length > 0 ? { ...p, schemes } : p;
  };

  it('cascade and story alerts name the distinct schemes of their posts (at most 10); untagged streams carry none', () => {
    const scenario = dyingCityScenario();
    const plain = run(scenario.posts);
    expect(plain.some((a) => a.schemes !== undefined)).toBe(false);
    const tagged = run(scenario.posts.map(tag));
    for (const type of ['cascade', 'story']) {
      const alerts = tagged.filter((a) => a.type === type);
      expect(alerts.length, type).toBeGreaterThan(0);
      expect(alerts.some((a) => a.schemes?.includes('昆明衰落')), type).toBe(true);
      // (An alert on an untagged background cascade carries none.)
      for (const a of alerts) {
        const schemes = a.schemes ?? [];
        expect(schemes.length).toBeLessThanOrEqual(10);
        expect(new Set(schemes).size).toBe(schemes.length);
        for (const name of schemes) expect(['昆明衰落', '城市']).toContain(name);
      }
    }
    // Without schemes the other detectors' alerts are what they were (same keys, same order).
    expect(tagged.filter((a) => a.type !== 'scheme').map((a) => a.key)).toEqual(plain.map((a) => a.key));
    // The scheme's own burst is called on the day of the episode, not before.
    const own = tagged.filter((a) => a.type === 'scheme' && a.schemes?.[0] === '昆明衰落');
    expect(own.length).toBeGreaterThan(0);
    for (const a of own) expect(Date.parse(a.at)).toBeGreaterThanOrEqual(SCENARIO_EPOCH_MS + DAY + 9.5 * 3600_000);
  });

  it('the daily-peak scenario with its peak in a scheme raises scheme alerts on the first day at most', () => {
    const scenario = dailyPeakScenario();
    const tagged = scenario.posts.map((p) => (p.keywords.some((k) => ['晚高峰', '堵死', '车流'].includes(k)) ? { ...p, schemes: ['交通'] } : p));
    const alerts = run(tagged).filter((a) => a.type === 'scheme');
    for (const a of alerts) expect(Date.parse(a.at), a.title).toBeLessThan(scenario.startMs + DAY);
  });
});
