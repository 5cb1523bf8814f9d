import { describe, expect, it } from 'vitest';
import { EnrichedPostSchema, parseEnrichedPost } from './enriched.js';
import { AuthorSchema } from './post.js';

const good = {
  id: '3900000000000001',
  platform: 'weibo',
  text: '昆明是一座正在死去的城市//@某人: 同意',
  createdAt: '2015-10-20T01:30:00.000Z',
  createdAtMs: Date.parse('2015-10-20T01:30:00Z'),
  author: { id: 'u1', name: '某网友', followers: 120, verified: false, createdAt: '2010-01-01T00:00:00Z' },
  rootId: 'r1',
  parentId: 'p1',
  url: 'https://weibo.com/1',
  region: '云南',
  lang: 'zh',
  ownText: '昆明是一座正在死去的城市',
  tokens: ['昆明', '死去', '城市'],
  keywords: ['昆明'],
  emoticons: ['蜡烛'],
  mentions: ['某人'],
  topics: ['昆明'],
  urls: [],
  repostChain: [{ user: '某人', text: '同意' }],
  spam: false,
  sentiment: -0.4,
  sentimentConfidence: 0.7,
  schemes: ['昆明衰落'],
  receivedAtMs: 1445304600000,
  extra: { kept: true },
};

type Mutation = [string, (post: Record<string, unknown>) => void];
const fieldValues: unknown[] = [undefined, null, '', 'x', 'x'.repeat(129), 'x'.repeat(257), 0, -1, 1.5, 2, -0.5, 2 ** 60, true, [], ['a'], [1], {}, { user: 'u' }];
const paths = [
  'id', 'platform', 'text', 'createdAt', 'createdAtMs', 'author', 'author.id', 'author.name', 'author.followers', 'author.verified',
  'author.createdAt', 'parentId', 'rootId', 'url', 'region', 'lang', 'ownText', 'tokens', 'keywords', 'emoticons', 'mentions',
  'topics', 'urls', 'repostChain', 'repostChain.0', 'repostChain.0.user', 'repostChain.0.text', 'spam', 'spamReason', 'sentiment',
  'schemes', 'receivedAtMs', 'tokens.0',
];
const mutations: Mutation[] = [];
for (const path of paths) {
  for (const value of fieldValues) {
    mutations.push([`${path} = ${JSON.stringify(value)}`, (post) => {
      const keys = path.split('.');
      let target = post as Record<string, unknown>;
      for (const k of keys.slice(0, -1)) target = target[k] as Record<string, unknown>;
      if (value === undefined) delete target[keys[keys.length - 1]!];
      else target[keys[keys.length - 1]!] = value;
    }]);
  }
}

describe('parseEnrichedPost', () => {
  it('accepts a well-formed record as it is, unknown fields kept', () => {
    const r = parseEnrichedPost(JSON.stringify(good));
    expect(r).toEqual({ ok: true, post: good });
  });

  it('covers every field of the schema (a field added to it must be added to the hand check, and here)', () => {
    const fields = [...Object.keys(EnrichedPostSchema.shape), ...Object.keys(AuthorSchema.shape).map((k) => `author.${k}`)];
    expect(fields.filter((f) => !paths.includes(f))).toEqual([]);
  });

  it('agrees with EnrichedPostSchema on every field given every kind of value', () => {
    let accepted = 0;
    for (const [what, mutate] of mutations) {
      const post = structuredClone(good) as Record<string, unknown>;
      mutate(post);
      const json = JSON.stringify(post);
      const r = parseEnrichedPost(json);
      const schema = EnrichedPostSchema.safeParse(JSON.parse(json));
      expect(r.ok, what).toBe(schema.success);
      if (r.ok && schema.success) {
        accepted++;
        expect(r.post, what).toEqual(schema.data);
      }
      if (!r.ok) expect(['missing_field', 'invalid_field'], what).toContain(r.reason);
    }
    // Both sides of the check are exercised.
    expect(accepted).toBeGreaterThan(50);
    expect(accepted).toBeLessThan(mutations.length - 200);
  });

  it('refuses what is not JSON or not an object, with the reason', () => {
    expect(parseEnrichedPost('{"id": ')).toMatchObject({ ok: false, reason: 'not_json' });
    expect(parseEnrichedPost('[1]')).toMatchObject({ ok: false, reason: 'not_object' });
    expect(parseEnrichedPost(JSON.stringify({ ...good, id: undefined }))).toMatchObject({ ok: false, reason: 'missing_field' });
    expect(parseEnrichedPost(JSON.stringify({ ...good, sentiment: 3 }))).toMatchObject({ ok: false, reason: 'invalid_field' });
  });
});
