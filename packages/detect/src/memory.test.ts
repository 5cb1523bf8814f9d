import { describe, expect, it } from 'vitest';
import { createDetectorEngine } from './engine.js';
import { enrichedPost } from './testing.js';

describe('memory is bounded by the config, not the input', () => {
  it('keeps state within budget over 5 million distinct tokens', () => {
    const config = { maxSeenPosts: 20_000, maxPostIndex: 20_000, maxRoots: 10_000, maxCascades: 2_000, maxCoordinationEntries: 5_000, maxClusters: 1_000 };
    const engine = createDetectorEngine(config);
    const t0 = Date.parse('2015-10-19T00:00:00+08:00');
    const tokensPerPost = 10;
    const posts = 500_000;
    let sizeAfterWarmup = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < posts; i++) {
      const tokens: string[] = [];
      for (let k = 0; k < tokensPerPost; k++) tokens.push(`t${i * tokensPerPost + k}`);
      const p = enrichedPost({
        id: `p${i}`,
        createdAt: '',
        createdAtMs: t0 + i * 500,
        author: { id: `u${i % 50_000}`, followers: i % 1000 },
        ...(i % 3 === 0 ? { rootId: `p${i - (i % 300)}`, parentId: `p${i - 1}` } : {}),
        ownText: tokens.join(' '),
        tokens,
        keywords: tokens.slice(0, 5),
      });
      engine.process(p);
      if (i === 100_000) sizeAfterWarmup = JSON.stringify(engine.snapshot()).length;
    }
    const s = engine.stats();
    const sizeAtEnd = JSON.stringify(engine.snapshot()).length;
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    // Printed, not asserted: heap figures depend on the collector's timing.
    console.log(`5M tokens: snapshot ${(sizeAtEnd / 2 ** 20).toFixed(1)} MiB (after 1M tokens ${(sizeAfterWarmup / 2 ** 20).toFixed(1)} MiB), heap +${heapGrowthMb.toFixed(0)} MiB`, s);
    expect(s.seenPosts).toBeLessThanOrEqual(config.maxSeenPosts);
    expect(s.postIndex).toBeLessThanOrEqual(config.maxPostIndex);
    expect(s.roots).toBeLessThanOrEqual(config.maxRoots);
    expect(s.cascades).toBeLessThanOrEqual(config.maxCascades);
    expect(s.coordinationEntries).toBeLessThanOrEqual(config.maxCoordinationEntries);
    expect(s.clusters).toBeLessThanOrEqual(config.maxClusters);
    expect(s.stories).toBeLessThanOrEqual(engine.config.maxStories);
    expect(s.storyOpenBuckets).toBeLessThanOrEqual(4);
    // The snapshot grows no further once the caps are reached: 5x the tokens, (about) the same state.
    expect(sizeAtEnd).toBeLessThan(sizeAfterWarmup * 1.25);
    expect(sizeAtEnd).toBeLessThan(32 * 2 ** 20);
  }, 120_000);
});
