import type { Alert, EnrichedPost } from '@tingfeng/contracts';
import { describe, expect, it } from 'vitest';
import { createDetectorEngine } from './engine.js';
import { campaignScenario, dyingCityScenario, outOfOrderScenario } from './scenarios/generate.js';
import { enrichedPost } from './testing.js';

const run = (posts: readonly EnrichedPost[]): Alert[] => {
  const engine = createDetectorEngine();
  const out: Alert[] = [];
  for (const p of posts) out.push(...engine.process(p));
  out.push(...engine.flush());
  return out;
};

describe('DetectorEngine', () => {
  it('is deterministic: same input order, same alerts byte for byte (ids included)', () => {
    const posts = outOfOrderScenario().posts;
    const a = run(posts);
    const b = run(posts);
    expect(a.length).toBeGreaterThan(0);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(new Set(a.map((x) => x.id)).size).toBe(a.length);
  });

  it('resumes from a snapshot (through JSON) with exactly the alerts of an uninterrupted run', () => {
    const posts = dyingCityScenario().posts;
    const whole = run(posts);
    for (const cut of [Math.floor(posts.length * 0.3), Math.floor(posts.length * 0.62)]) {
      const first = createDetectorEngine();
      const out: Alert[] = [];
      for (const p of posts.slice(0, cut)) out.push(...first.process(p));
      const snap = JSON.parse(JSON.stringify(first.snapshot()));
      const second = createDetectorEngine({}, snap);
      for (const p of posts.slice(cut)) out.push(...second.process(p));
      out.push(...second.flush());
      expect(JSON.stringify(out)).toBe(JSON.stringify(whole));
    }
  });

  it('counts a post delivered twice once, and counts late posts', () => {
    const engine = createDetectorEngine();
    const t = Date.parse('2015-10-20T10:00:00+08:00');
    engine.process(enrichedPost({ id: '1', createdAtMs: t }));
    engine.process(enrichedPost({ id: '1', createdAtMs: t }));
    engine.process(enrichedPost({ id: '2', createdAtMs: t + 3600_000 }));
    engine.process(enrichedPost({ id: '3', createdAtMs: t + 60_000 }));
    const s = engine.stats();
    expect(s.posts).toBe(4);
    expect(s.duplicates).toBe(1);
    expect(s.late).toBe(1);
    expect(s.watermarkMs).toBe(t + 3600_000 - 600_000);
  });

  it('never turns spam into a cascade or story, and ignores pure reposts for near-duplicates', () => {
    const t = Date.parse('2015-10-20T10:00:00+08:00');
    const posts: EnrichedPost[] = [enrichedPost({ id: 'root', createdAtMs: t, ownText: '加微信低价代购', spam: true })];
    for (let i = 0; i < 400; i++) posts.push(enrichedPost({ id: `s${i}`, createdAtMs: t + i * 1000, rootId: 'root', parentId: 'root', spam: true, ownText: '加微信低价代购正品优惠', tokens: ['加微信', '代购'] }));
    for (let i = 0; i < 400; i++) posts.push(enrichedPost({ id: `r${i}`, createdAtMs: t + i * 1000, rootId: 'other', parentId: 'other', ownText: '' }));
    const alerts = run(posts);
    expect(alerts.filter((a) => a.type === 'coordination')).toEqual([]);
    expect(alerts.filter((a) => a.type === 'story')).toEqual([]);
    expect(alerts.filter((a) => a.rootId === 'root')).toEqual([]);
  });

  it('reports official near-duplicates as response, and campaigns as coordination with accounts and template', () => {
    const alerts = run(campaignScenario().posts);
    const c = alerts.find((a) => a.type === 'coordination');
    expect(c?.accounts?.length).toBeGreaterThanOrEqual(10);
    expect(String(c?.template)).toContain('滇池治理');
    const t = Date.parse('2015-10-20T10:00:00+08:00');
    const officials = ['昆明发布', '昆明市长', '昆明12345市长热线', '春城晚报', '掌上春城', '昆明信息港', '昆明日报', '都市时报', '云南网', '昆明电视台', '昆明广播'];
    const engine = createDetectorEngine({ officialAccounts: officials });
    const out: Alert[] = [];
    officials.forEach((name, i) =>
      out.push(...engine.process(enrichedPost({ id: `o${i}`, createdAtMs: t + i * 30_000, author: { id: `g${i}`, name, followers: 100 }, ownText: '关于网传昆明是一座正在死去的城市的情况说明，请大家理性看待' }))),
    );
    expect(out.map((a) => a.type)).toEqual(['response']);
  });

  it('alerts on a cascade with its figures: root, curve, amplifiers, depth, negative share', () => {
    const alerts = run(dyingCityScenario().posts).filter((a) => a.type === 'cascade');
    const first = alerts[0]!;
    expect(first.rootId).toBeDefined();
    expect(first.key).toBe(`cascade:${first.rootId}`);
    expect(Array.isArray(first.curve && (first.curve as { counts: number[] }).counts)).toBe(true);
    expect(first.depth).toBeGreaterThanOrEqual(1);
    expect(first.negativeShare).toBeGreaterThan(0.5);
    expect(typeof first.coordinatedShare).toBe('number');
    // Every emission about the dying-city post shares one key. (An ordinary cascade of the background may alert `info`
    // too: one that runs at 150 reposts an hour for half an hour is on a viral pace by the real data's yardstick.)
    const own = alerts.filter((a) => a.rootId === first.rootId);
    const last = own[own.length - 1]!;
    expect(last.amplifiers).toContain('云南资讯');
    expect(new Set(own.map((a) => a.key)).size).toBe(1);
    expect(alerts.filter((a) => a.rootId !== first.rootId).every((a) => a.severity === 'info')).toBe(true);
  });
});
