import { describe, expect, it } from 'vitest';
import type { DetectorPost } from '@tingfeng/detect';
import { decodeBatch, encodeBatch } from '../../scripts/lib/backtest/wire.js';

const post = (over: Partial<DetectorPost>): DetectorPost => ({
  id: 'p1',
  platform: 'weibo',
  createdAt: '2015-10-20T01:30:00.000Z',
  createdAtMs: Date.parse('2015-10-20T01:30:00.000Z'),
  author: { id: 'u1' },
  ownText: '昆明 一座正在死去的城市',
  tokens: ['昆明', '死去', '城市'],
  keywords: ['昆明'],
  topics: [],
  repostChain: [],
  spam: false,
  sentiment: -0.5,
  ...over,
});

describe('the backtest wire (worker → main thread)', () => {
  it('gives back the posts the worker analysed, field for field, absent fields absent', () => {
    const posts: (DetectorPost | null)[] = [
      post({}),
      null,
      post({ id: 'p2', parentId: 'p1', rootId: 'p1', author: { id: 'u2', name: '昆明发布', followers: 0, createdAt: '2010-01-01T00:00:00.000Z' }, schemes: ['dying-city'], spam: true }),
      post({ id: 'p3', rootId: 'p1', repostChain: [{ user: '张三', text: '胡说' }] }),
      // Ids holding the separator cross unjoined.
      post({ id: 'a\u001fb', platform: 'x\u001f', author: { id: '\u001f' }, parentId: 'p\u001f1' }),
    ];
    const wire = encodeBatch({ posts, reasons: [null, 'not_json', null, null, null], enriched: 1, analysisMs: 3 });
    // Through postMessage's structured clone, as the pool sends it.
    const back = decodeBatch(structuredClone(wire));
    expect(back).toEqual({ posts, reasons: [null, 'not_json', null, null, null], enriched: 1, analysisMs: 3 });
    for (let i = 0; i < posts.length; i++) {
      if (posts[i] === null) continue;
      expect(Object.keys(back.posts[i]!).sort()).toEqual(Object.keys(posts[i]!).sort());
      expect(Object.keys(back.posts[i]!.author).sort()).toEqual(Object.keys(posts[i]!.author).sort());
    }
  });
});
