import { describe, expect, it } from 'vitest';
import type { EnrichedPost } from '@tingfeng/contracts';
import { alertId } from '../hash.js';
import { enrichedPost } from '../testing.js';
import type { CampaignRecord } from '@tingfeng/contracts';
import { CampaignMatcher, CampaignTrack, factsOf } from './campaign-track.js';
import { CampaignTracker, type CampaignTrackerSettings } from './campaign-tracker.js';

const MIN = 60_000;
const BUCKET = 10 * MIN;
/** A bucket boundary, so bucket arithmetic in the tests reads plainly. */
const T0 = Math.floor(Date.parse('2015-10-20T05:00:00.000Z') / BUCKET) * BUCKET;

let seq = 0;
function post(tMs: number, o: { author?: string; name?: string; words?: string[]; sentiment?: number; rootId?: string; followers?: number; spam?: boolean } = {}): EnrichedPost {
  const id = `p${++seq}`;
  const words = o.words ?? [];
  return enrichedPost({
    id,
    createdAtMs: tMs,
    author: { id: o.author ?? `u${seq}`, ...(o.name ? { name: o.name } : {}), ...(o.followers !== undefined ? { followers: o.followers } : {}) },
    ...(o.rootId ? { rootId: o.rootId } : {}),
    ownText: words.join(''),
    tokens: words,
    keywords: words.slice(0, 3),
    spam: o.spam ?? false,
    sentiment: o.sentiment ?? 0,
  });
}

const record: CampaignRecord = {
  incidentId: 'inc1',
  incidentKey: 'cascade:root-1',
  title: '昆明，一座正在死去的城市',
  terms: ['死去', '城市', '年轻人'],
  rootIds: ['root-1'],
  accounts: ['昆明发布', 'gov1'],
  startedAt: new Date(T0).toISOString(),
};

const settings: CampaignTrackerSettings = { bucketMs: BUCKET, maxBuckets: 144, checkAfterMs: 2 * 60 * MIN, riseFactor: 1.2, minPosts: 10, maxCampaigns: 50, backfillPosts: 1000 };

/** `counts[k]` narrative posts in bucket k after the response began (k = 0 is the response's own bucket), spread over it. */
function narrativeBuckets(counts: number[], negativeShare: (k: number) => number = () => 0.5, fromBucket = 0): EnrichedPost[] {
  const out: EnrichedPost[] = [];
  counts.forEach((n, k) => {
    const negatives = Math.round(n * negativeShare(k));
    for (let i = 0; i < n; i++) {
      out.push(post(T0 + (fromBucket + k) * BUCKET + Math.floor(((i + 0.5) / n) * BUCKET), { words: ['昆明', '城市', '死去'], sentiment: i < negatives ? -0.5 : 0.3 }));
    }
  });
  return out;
}

describe('CampaignMatcher', () => {
  const m = new CampaignMatcher(record);
  it('a post by one of the accounts, by name or id, is the response, whatever its words', () => {
    expect(m.classify(factsOf(post(T0, { name: '昆明发布', words: ['死去', '城市'] })))).toBe('response');
    expect(m.classify(factsOf(post(T0, { author: 'gov1' })))).toBe('response');
  });
  it('a repost in the campaign’s cascade is narrative, whatever its words', () => {
    expect(m.classify(factsOf(post(T0, { rootId: 'root-1', words: ['转发微博'] })))).toBe('narrative');
  });
  it('two narrative terms make a post narrative, a term matching a longer word; one is not enough', () => {
    expect(m.classify(factsOf(post(T0, { words: ['年轻人', '离开', '城市'] })))).toBe('narrative');
    expect(m.classify(factsOf(post(T0, { words: ['死去的城市', '年轻人'] })))).toBe('narrative');
    expect(m.classify(factsOf(post(T0, { words: ['城市', '天气'] })))).toBe('other');
  });
  it('with a single term, that term is enough', () => {
    const one = new CampaignMatcher({ ...record, terms: ['鬼城'], rootIds: [] });
    expect(one.classify(factsOf(post(T0, { words: ['昆明', '鬼城'] })))).toBe('narrative');
    expect(new CampaignMatcher({ ...record, terms: [], rootIds: [] }).classify(factsOf(post(T0, { words: ['鬼城'] })))).toBe('other');
  });
});

describe('CampaignTracker: buckets', () => {
  it('counts narrative, negative, response and reach per bucket; spam and other posts are not counted', () => {
    const tracker = new CampaignTracker(settings);
    tracker.upsert(record, JSON.stringify(record));
    const posts = [
      post(T0 - BUCKET + MIN, { words: ['死去', '城市'], sentiment: -0.6 }),
      post(T0 - BUCKET + 2 * MIN, { words: ['年轻人', '城市'], sentiment: 0.2 }),
      post(T0 + MIN, { name: '昆明发布', followers: 200_000, words: ['昆明', '生长'] }),
      post(T0 + 2 * MIN, { author: 'gov1', followers: 290_000 }),
      post(T0 + 3 * MIN, { rootId: 'root-1', sentiment: -0.3 }),
      post(T0 + BUCKET + MIN, { words: ['滇池', '海鸥'] }),
      post(T0 + BUCKET + 2 * MIN, { words: ['死去', '城市'], spam: true }),
    ];
    for (const p of posts) tracker.observe(p);
    const [series] = tracker.takeDirty();
    expect(series).toMatchObject({
      incidentId: 'inc1',
      bucketMs: BUCKET,
      startMs: T0 - BUCKET,
      startedAtMs: T0,
      narrative: [2, 1],
      negative: [1, 1],
      response: [0, 2],
      reach: [0, 490_000],
      baseline: { narrative: 2, negative: 1 },
      lastAlertBucketMs: null,
    });
    expect(tracker.counts()).toEqual({ response: 2, narrative: 3 });
    expect(tracker.takeDirty()).toEqual([]);
  });

  it('a campaign registered after the fact gets the buckets of the posts it missed from the recent-posts ring', () => {
    const tracker = new CampaignTracker(settings);
    for (const p of narrativeBuckets([4, 6], () => 0, -2)) tracker.observe(p);
    tracker.observe(post(T0 + MIN, { name: '昆明发布', followers: 10 }));
    tracker.upsert(record, JSON.stringify(record));
    tracker.observe(post(T0 + 2 * MIN, { words: ['死去', '城市'] }));
    const [series] = tracker.takeDirty();
    expect(series).toMatchObject({ startMs: T0 - 2 * BUCKET, narrative: [4, 6, 1], response: [0, 0, 1], baseline: { narrative: 6, negative: 0 } });
  });

  it('keeps at most maxBuckets, and the pre-response baseline survives its bucket being trimmed', () => {
    const tracker = new CampaignTracker({ ...settings, maxBuckets: 4 });
    tracker.upsert(record, JSON.stringify(record));
    for (const p of narrativeBuckets([3, 1, 1, 1, 1, 1], () => 1, -1)) tracker.observe(p);
    const [series] = tracker.takeDirty();
    expect(series!.narrative).toEqual([1, 1, 1, 1]);
    expect(series!.startMs).toBe(T0 + BUCKET);
    expect(series!.baseline).toEqual({ narrative: 3, negative: 3 });
  });

  it('caps the campaigns tracked; a removed campaign hands out its last curves once', () => {
    const tracker = new CampaignTracker({ ...settings, maxCampaigns: 1 });
    expect(tracker.upsert(record, 'a')).toBe(true);
    expect(tracker.upsert({ ...record, incidentId: 'inc2' }, 'b')).toBe(false);
    tracker.takeDirty();
    tracker.observe(post(T0, { words: ['死去', '城市'] }));
    tracker.remove('inc1');
    expect(tracker.size).toBe(0);
    expect(tracker.takeDirty().map((s) => s.narrative)).toEqual([[1]]);
    expect(tracker.takeDirty()).toEqual([]);
  });
});

describe('CampaignTracker: the narrative still accelerating after the response', () => {
  // 12 before the response; after it: down, then rising again past two hours: 30 → 40 → 55 in buckets 11..13.
  const after = [10, 9, 8, 8, 7, 7, 8, 9, 12, 18, 25, 30, 40, 55, 20];
  const feed = (tracker: CampaignTracker, negativeShare?: (k: number) => number) => {
    const alerts = [];
    for (const p of [...narrativeBuckets([12], () => 0.5, -1), ...narrativeBuckets(after, negativeShare)]) alerts.push(...tracker.observe(p));
    return alerts;
  };

  it('raises one `response` alert keyed to the campaign, in the incident, with both curves', () => {
    const tracker = new CampaignTracker(settings);
    tracker.upsert(record, JSON.stringify(record));
    for (let i = 0; i < 3; i++) tracker.observe(post(T0 + (i + 1) * MIN, { name: '昆明发布', followers: 1000 }));
    const alerts = feed(tracker);
    // Buckets 11 (25 → 30 after 18 → 25) and 12, 13 also rise, but one alert per CAMPAIGN_CHECK_AFTER_MS.
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    const firstRising = 11; // 18 < 25 < 30, and 2 h have passed by its end
    expect(alert).toMatchObject({
      id: alertId('campaign:inc1', Math.floor((T0 + firstRising * BUCKET) / BUCKET)),
      key: 'campaign:inc1',
      type: 'response',
      incidentKey: 'cascade:root-1',
      severity: 'warning',
      observed: 30,
      expected: 12,
      accounts: ['昆明发布', 'gov1'],
      window: { start: new Date(T0 + firstRising * BUCKET).toISOString(), end: new Date(T0 + (firstRising + 1) * BUCKET).toISOString() },
    });
    expect(alert.title).toMatch(/^回应后舆情仍在升温: 昆明，一座正在死去的城市/);
    expect(alert.postIds.length).toBeGreaterThan(0);
    expect(alert.postIds.length).toBeLessThanOrEqual(50);
    const series = alert['series'] as { narrative: number[]; response: number[]; reach: number[]; negativeShare: number[] };
    expect(series.narrative.slice(-3)).toEqual([18, 25, 30]);
    expect(series.response[1]).toBe(3);
    expect(series.reach[1]).toBe(3000);
    expect(tracker.takeDirty()[0]!.lastAlertBucketMs).toBe(T0 + firstRising * BUCKET);
  });

  it('is critical when the negative share rises too', () => {
    const tracker = new CampaignTracker(settings);
    tracker.upsert(record, JSON.stringify(record));
    const [alert] = feed(tracker, (k) => Math.min(0.9, 0.3 + k * 0.05));
    expect(alert!.severity).toBe('critical');
  });

  it('a replay of the same posts names the same alert; a tracker resumed from the written curves does not raise it again', () => {
    const first = new CampaignTracker(settings);
    first.upsert(record, JSON.stringify(record));
    const [alert] = feed(first);
    const replay = new CampaignTracker(settings);
    replay.upsert(record, JSON.stringify(record));
    expect(feed(replay)[0]!.id).toBe(alert!.id);

    const stored = first.takeDirty()[0]!;
    const resumed = new CampaignTracker(settings);
    resumed.upsert(record, JSON.stringify(record), stored);
    expect(feed(resumed)).toEqual([]);
  });

  it('says nothing when the narrative fades, or rises again before the check time, or stays under the floor', () => {
    const quiet = (counts: number[], s: CampaignTrackerSettings = settings) => {
      const tracker = new CampaignTracker(s);
      tracker.upsert(record, JSON.stringify(record));
      const alerts = [];
      for (const p of [...narrativeBuckets([12], () => 0.5, -1), ...narrativeBuckets(counts)]) alerts.push(...tracker.observe(p));
      return alerts;
    };
    expect(quiet([20, 18, 15, 12, 10, 8, 7, 6, 5, 5, 4, 4, 3, 3, 2])).toEqual([]);
    expect(quiet([14, 20, 30, 40, 30, 20, 15, 12, 10, 9, 8, 7, 6])).toEqual([]);
    expect(quiet([2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 4, 5, 6, 1], { ...settings, riseFactor: 0 })).toEqual([]);
  });

  it('a track restored from a series written with another bucket width starts afresh', () => {
    const track = CampaignTrack.fromSeries(record, settings, { ...new CampaignTrack(record, settings).toSeries(), bucketMs: 60 * MIN, narrative: [5], negative: [0], response: [0], reach: [0] });
    expect(track.toSeries().narrative).toEqual([]);
  });
});
