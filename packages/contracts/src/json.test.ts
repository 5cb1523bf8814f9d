import { describe, expect, it } from 'vitest';
import { decodeJson, jsonDepthExceededAt, MAX_JSON_DEPTH } from './json.js';
import { parsePost } from './post.js';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('jsonDepthExceededAt', () => {
  it('counts arrays and objects, not brackets inside strings or escaped quotes', () => {
    expect(jsonDepthExceededAt(nested(MAX_JSON_DEPTH))).toBe(-1);
    expect(jsonDepthExceededAt(nested(MAX_JSON_DEPTH + 1))).toBe(MAX_JSON_DEPTH);
    expect(jsonDepthExceededAt(`{"a":{"b":[1]}}`, 2)).toBe(10);
    expect(jsonDepthExceededAt(JSON.stringify({ t: '[[[[{{{{' }), 1)).toBe(-1);
    expect(jsonDepthExceededAt(JSON.stringify({ t: 'a\\"[[[[' }), 1)).toBe(-1);
  });

  it('gives the same answer whether or not the text holds more opening brackets than the limit', () => {
    // Few brackets: answered by counting them; many: by the walk, which must still see siblings as shallow.
    expect(jsonDepthExceededAt(`[${'{},'.repeat(MAX_JSON_DEPTH)}[]]`)).toBe(-1);
    expect(jsonDepthExceededAt(`{"t":"${'['.repeat(100)}","a":${nested(MAX_JSON_DEPTH - 1)}}`)).toBe(-1);
    expect(jsonDepthExceededAt(`{"t":"${'['.repeat(100)}","a":${nested(MAX_JSON_DEPTH - 1)}}`, MAX_JSON_DEPTH - 1)).toBe(6 + 100 + 6 + MAX_JSON_DEPTH - 2);
    expect(jsonDepthExceededAt(`{"a":[[1]],"t":"[["}`, 3)).toBe(-1);
  });
});

describe('decodeJson', () => {
  it('refuses 200,000 levels of nesting before parsing, with where it went too deep', () => {
    const r = decodeJson(Buffer.from(`{"x":${nested(200_000)}}`), { maxBytes: 1024 * 1024 });
    expect(r).toMatchObject({ ok: false, reason: 'too_deep' });
    if (!r.ok) expect(r.detail).toContain(`deeper than ${MAX_JSON_DEPTH}`);
  });
  it('checks size, then UTF-8, then depth, then syntax', () => {
    expect(decodeJson('x'.repeat(11), { maxBytes: 10 })).toMatchObject({ ok: false, reason: 'too_large' });
    expect(decodeJson(Buffer.from([0x5b, 0xff, 0x5d]), { maxBytes: 10 })).toMatchObject({ ok: false, reason: 'invalid_utf8' });
    expect(decodeJson('[[[', { maxBytes: 10, maxDepth: 2 })).toMatchObject({ ok: false, reason: 'too_deep' });
    expect(decodeJson('[[', { maxBytes: 10, maxDepth: 2 })).toMatchObject({ ok: false, reason: 'not_json' });
    expect(decodeJson('{"a":[1,"\\u0000"]}', { maxBytes: 100 })).toEqual({ ok: true, value: { a: [1, '\u0000'] }, text: '{"a":[1,"\\u0000"]}' });
  });
  it('measures a string in UTF-8 bytes, not in characters', () => {
    // "汉" is 3 bytes: 3 of them in quotes are 11 bytes, 4 are 14.
    expect(decodeJson('"汉汉汉"', { maxBytes: 11 })).toEqual({ ok: true, value: '汉汉汉', text: '"汉汉汉"' });
    expect(decodeJson('"汉汉汉汉"', { maxBytes: 13 })).toMatchObject({ ok: false, reason: 'too_large', detail: 'message is 14 bytes, limit 13' });
    // 6 characters, 14 bytes: counted (6 × 3 > 14) and within the limit.
    expect(decodeJson('"汉汉汉汉"', { maxBytes: 14 })).toMatchObject({ ok: true });
  });
});

describe('parsePost and depth', () => {
  const receivedAtMs = Date.parse('2015-10-20T12:00:00+08:00');
  const post = { id: '1', text: '昆明', createdAt: '2015-10-20T09:30:00+08:00', author: { id: 'u1' } };
  it('refuses a valid post carrying an extra field nested 200,000 deep as too_deep', () => {
    const raw = `${JSON.stringify(post).slice(0, -1)},"x":${nested(200_000)}}`;
    expect(parsePost(raw, { receivedAtMs })).toMatchObject({ ok: false, reason: 'too_deep' });
  });
  it('keeps an extra field nested within the limit', () => {
    const raw = `${JSON.stringify(post).slice(0, -1)},"x":${nested(MAX_JSON_DEPTH - 1)}}`;
    expect(parsePost(raw, { receivedAtMs }).ok).toBe(true);
  });
});
