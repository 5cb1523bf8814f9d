import { describe, expect, it } from 'vitest';
import type { EnrichedPost } from '@tingfeng/contracts';
import { encodeRows, keysCopyText, parseKeyLine, prepareBatch, sliceRows } from './rows.js';

function post(i: number, extra: Partial<EnrichedPost> = {}): EnrichedPost {
  const createdAtMs = Date.parse('2015-10-20T00:00:00Z') + i * 86_400_000;
  return {
    id: `p${i}`,
    platform: 'weibo',
    text: `第${i}条\t"引号"\\反斜杠\n换行 😀`,
    ownText: `第${i}条`,
    createdAt: new Date(createdAtMs).toISOString(),
    createdAtMs,
    author: { id: `u${i % 3}`, name: '网友', followers: i, verified: i % 2 === 0 },
    tokens: ['昆明地铁', "it's", '\\'],
    keywords: ['昆明', '"a"'],
    emoticons: ['蜡烛'],
    mentions: ['昆明发布'],
    topics: [],
    urls: [],
    repostChain: [],
    spam: false,
    sentiment: -0.5,
    ...extra,
  };
}

const subwords = (token: string) => (token === '昆明地铁' ? ['昆明', '地铁'] : []);

describe('encodeRows', () => {
  it('gives the bytes prepareBatch gives, row by row, and the keys in keysCopyText order', () => {
    const posts = [post(3), post(1, { id: 'tab\there\\and\nthere' }), post(2), post(1, { id: 'tab\there\\and\nthere' }), post(40, { platform: 'douyin' })];
    const rows = encodeRows(posts, { subwords });
    const expected = prepareBatch(posts, subwords);
    expect(Buffer.from(rows.bytes).toString('utf8')).toBe(expected.copyText);
    expect(rows.ends).toHaveLength(4);
    expect(rows.duplicates).toBe(1);
    expect(rows.months).toEqual(expected.months);
    expect([...rows.sources]).toEqual([0, 1, 2, 4]);
    const unique = [posts[0]!, posts[1]!, posts[2]!, posts[4]!];
    expect([...rows.keyOrder].map((k) => rows.keyLines[k]).join('')).toBe(keysCopyText(unique));
    expect(rows.keyLines.map(parseKeyLine).map((k) => [k.id, k.platform])).toEqual(unique.map((p) => [p.id, p.platform]));
  });

  it('leaves out posts before the horizon, counted', () => {
    const rows = encodeRows([post(0), post(10), post(20)], { notBeforeMs: post(10).createdAtMs });
    expect(rows.expired).toBe(1);
    expect([...rows.sources]).toEqual([1, 2]);
  });

  it('slices rows as a part of the batch written alone', () => {
    const posts = Array.from({ length: 10 }, (_, i) => post(9 - i));
    const rows = encodeRows(posts);
    const part = sliceRows(rows, 3, 7);
    expect(Buffer.from(part.bytes).toString('utf8')).toBe(prepareBatch(posts.slice(3, 7)).copyText);
    expect([...part.sources]).toEqual([3, 4, 5, 6]);
    expect([...part.keyOrder].map((k) => part.keyLines[k]).join('')).toBe(keysCopyText(posts.slice(3, 7)));
    expect(part.duplicates + part.expired).toBe(0);
    expect(sliceRows(rows, 0, 0).bytes).toHaveLength(0);
  });
});
