/** Deterministic synthetic posts for integration tests: valid ones, and one of each malformed kind in rotation. */

const phrases = [
  '昆明今天又是18度，春城名不虚传',
  '翠湖的红嘴鸥回来了，周末带孩子去喂',
  '北京路又堵了一个小时，地铁什么时候修好',
  '滇池治理这几年确实有效果',
  '12345市长热线回复很快，点赞',
  '呈贡新区晚上太冷清了',
  '长水机场的航班又延误了',
  '昆明的房价太高了，买不起房',
];

/** A small seeded PRNG (mulberry32) so every run makes the same posts. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticPost {
  id: string;
  platform: string;
  text: string;
  createdAt: string;
  author: { id: string; name: string; followers: number };
  rootId?: string;
}

/** `count` valid posts, ids `${prefix}-<n>`, a minute of event time apart in 2015-10-20. */
export function makePosts(count: number, prefix = 'p', seed = 1): SyntheticPost[] {
  const rand = seededRandom(seed);
  const base = Date.parse('2015-10-20T00:00:00+08:00');
  return Array.from({ length: count }, (_, i) => {
    const phrase = phrases[Math.floor(rand() * phrases.length)] ?? '';
    const post: SyntheticPost = {
      id: `${prefix}-${i}`,
      platform: 'weibo',
      text: `${phrase} #${i % 17}`,
      createdAt: new Date(base + i * 1000).toISOString(),
      author: { id: `u${Math.floor(rand() * 500)}`, name: `网友${i % 97}`, followers: Math.floor(rand() * 10_000) },
    };
    if (i % 5 === 0 && i > 0) post.rootId = `${prefix}-${i - (i % 25)}`;
    return post;
  });
}

/** Malformed message values, one per contract case, with the reason the analyzer must give. */
export const MALFORMED: readonly { value: Buffer; reason: string }[] = [
  { value: Buffer.from('{"id": "x", "text": '), reason: 'not_json' },
  { value: Buffer.from('[1,2,3]'), reason: 'not_object' },
  { value: Buffer.from(JSON.stringify({ text: 'no id', createdAt: '2015-10-20T00:00:00Z', author: { id: 'u' } })), reason: 'missing_field' },
  { value: Buffer.from(JSON.stringify({ id: 7, text: 'bad id', createdAt: '2015-10-20T00:00:00Z', author: { id: 'u' } })), reason: 'invalid_field' },
  { value: Buffer.from(JSON.stringify({ id: 'd', text: 'bad date', createdAt: 'yesterday', author: { id: 'u' } })), reason: 'created_at_unparseable' },
  { value: Buffer.from(JSON.stringify({ id: 'f', text: 'future', createdAt: '2999-01-01T00:00:00Z', author: { id: 'u' } })), reason: 'created_at_future' },
  { value: Buffer.from(JSON.stringify({ id: 'l', text: '长'.repeat(20_001), createdAt: '2015-10-20T00:00:00Z', author: { id: 'u' } })), reason: 'text_too_long' },
  { value: Buffer.concat([Buffer.from('{"id":"u8","text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), reason: 'invalid_utf8' },
];
