import { describe, expect, it } from 'vitest';
import { isCanonicalUtc, parsePost, MAX_MESSAGE_BYTES } from './post.js';

const receivedAtMs = Date.parse('2015-10-20T12:00:00+08:00');
const good = {
  id: '3900000000000001',
  text: '昆明是一座正在死去的城市',
  createdAt: '2015-10-20T09:30:00+08:00',
  author: { id: 'u1', name: '某网友', followers: 120 },
};
const parse = (v: unknown) => parsePost(typeof v === 'string' ? v : JSON.stringify(v), { receivedAtMs });
const reasonOf = (v: unknown) => {
  const r = parse(v);
  return r.ok ? 'ok' : r.reason;
};

describe('parsePost', () => {
  it('accepts a valid post, defaults the platform, normalises createdAt and keeps unknown fields', () => {
    const r = parse({ ...good, extra: { a: 1 } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.post.platform).toBe('weibo');
    expect(r.post.createdAt).toBe('2015-10-20T01:30:00.000Z');
    expect(r.post.createdAtMs).toBe(Date.parse('2015-10-20T01:30:00Z'));
    expect((r.post as Record<string, unknown>).extra).toEqual({ a: 1 });
  });
  it('gives createdAt as Date#toISOString does, whether it came canonical or not, and keeps the key order', () => {
    const forms = ['2015-10-20T01:30:00.000Z', '2012-02-29T23:59:59.999Z', '2015-10-20T01:30:00Z', '2015-10-20T09:30:00.5+08:00', '2015-10-20T01:30+00:00', '1445304600000'];
    for (const createdAt of forms) {
      const r = parse({ ...good, createdAt: /^\d+$/.test(createdAt) ? Number(createdAt) : createdAt, platform: 'weibo' });
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.post.createdAt).toBe(new Date(r.post.createdAtMs).toISOString());
      expect(Object.keys(r.post)).toEqual(['id', 'platform', 'text', 'createdAt', 'author', 'createdAtMs']);
    }
    for (let ms = Date.UTC(1999, 0, 1); ms < Date.UTC(2005, 0, 1); ms += 86_400_000 + 3_723_456) expect(isCanonicalUtc(new Date(ms).toISOString())).toBe(true);
    // Shaped like the canonical form, but not a date toISOString would print: formatted again, or refused.
    for (const s of ['2021-02-29T00:00:00.000Z', '1900-02-29T00:00:00.000Z', '2020-04-31T00:00:00.000Z', '2020-13-01T00:00:00.000Z', '2020-12-01T24:00:00.000Z', '2020-12-01T23:00:60.000Z', '2020-1a-01T23:00:00.000Z']) {
      expect(isCanonicalUtc(s)).toBe(false);
    }
  });
  it('accepts epoch milliseconds and an empty text (a pure repost)', () => {
    const r = parse({ ...good, text: '', createdAt: 1445304600000, rootId: 'r1' });
    expect(r.ok).toBe(true);
  });
  it('rejects a value that is not JSON', () => expect(reasonOf('{"id": "1", ')).toBe('not_json'));
  it('rejects JSON that is not an object', () => {
    expect(reasonOf('[1,2]')).toBe('not_object');
    expect(reasonOf('"text"')).toBe('not_object');
    expect(reasonOf('null')).toBe('not_object');
  });
  it('rejects a missing id', () => expect(reasonOf({ ...good, id: undefined })).toBe('missing_field'));
  it('rejects a missing author', () => expect(reasonOf({ ...good, author: undefined })).toBe('missing_field'));
  it('rejects a missing author.id', () => expect(reasonOf({ ...good, author: { name: 'x' } })).toBe('missing_field'));
  it('rejects a missing text', () => expect(reasonOf({ ...good, text: undefined })).toBe('missing_field'));
  it('rejects a missing createdAt', () => expect(reasonOf({ ...good, createdAt: undefined })).toBe('missing_field'));
  it('rejects a mistyped id', () => expect(reasonOf({ ...good, id: 42 })).toBe('invalid_field'));
  it('rejects an id over 128 chars', () => expect(reasonOf({ ...good, id: 'x'.repeat(129) })).toBe('invalid_field'));
  it('rejects negative or fractional followers', () => {
    expect(reasonOf({ ...good, author: { id: 'u', followers: -1 } })).toBe('invalid_field');
    expect(reasonOf({ ...good, author: { id: 'u', followers: 1.5 } })).toBe('invalid_field');
  });
  it('rejects an unparseable createdAt', () => {
    expect(reasonOf({ ...good, createdAt: '昨天' })).toBe('created_at_unparseable');
    expect(reasonOf({ ...good, createdAt: '2015-10-20 09:30' })).toBe('created_at_unparseable');
  });
  it('rejects a createdAt more than one day in the future', () => {
    expect(reasonOf({ ...good, createdAt: new Date(receivedAtMs + 25 * 3600_000).toISOString() })).toBe('created_at_future');
    expect(reasonOf({ ...good, createdAt: new Date(receivedAtMs + 23 * 3600_000).toISOString() })).toBe('ok');
  });
  it('rejects text over 20,000 chars', () => expect(reasonOf({ ...good, text: '死'.repeat(20_001) })).toBe('text_too_long'));
  it('rejects invalid UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('{"id":"1","text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const r = parsePost(bytes, { receivedAtMs });
    expect(r.ok ? 'ok' : r.reason).toBe('invalid_utf8');
  });
  it('rejects a message over 1 MiB', () => {
    const r = parsePost(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20), { receivedAtMs });
    expect(r.ok ? 'ok' : r.reason).toBe('too_large');
  });
  it('explains every rejection in its detail', () => {
    const r = parse({ ...good, author: { id: 7 } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.detail).toMatch(/author\.id/);
  });
});
