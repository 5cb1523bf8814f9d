import { describe, expect, it } from 'vitest';
import { dyingCityAlert } from '../testing/fixtures.js';
import { decodeEvidenceCursor, encodeEvidenceCursor, evidenceIds, evidencePage, orderEvidence } from './evidence.js';

const post = (id: string, minute: number) => ({ id, createdAt: new Date(Date.UTC(2015, 9, 20, 2, minute)).toISOString() });

describe('incident evidence', () => {
  it('names the cascades’ roots first, then every evidence id once, in the order the alerts fired', () => {
    const later = dyingCityAlert('a2', 'critical', { at: '2015-10-20T03:00:00.000Z', postIds: ['3', '1', '4'], rootId: '1' });
    const first = dyingCityAlert('a1', 'warning', { postIds: ['1', '2', '3'], rootId: '1' });
    const story = dyingCityAlert('s1', 'warning', { type: 'story', key: 'story:x', rootId: undefined, postIds: ['5'], at: '2015-10-20T02:30:00.000Z' });
    expect(evidenceIds([later, story, first])).toEqual({ rootIds: ['1'], postIds: ['2', '3', '5', '4'] });
  });

  it('orders roots first, then newest first, ties by id', () => {
    const ordered = orderEvidence([post('b', 5), post('root', 0), post('a', 5), post('c', 9), post('d', 1)], ['root']);
    expect(ordered.map((p) => p.id)).toEqual(['root', 'c', 'a', 'b', 'd']);
  });

  it('pages by key: evidence that arrives meanwhile neither repeats nor shifts the next page', () => {
    const posts = orderEvidence([post('root', 0), ...[1, 2, 3, 4, 5, 6].map((m) => post(`p${m}`, m))], ['root']);
    const first = evidencePage(posts, ['root'], 3, undefined);
    expect(first.posts.map((p) => p.id)).toEqual(['root', 'p6', 'p5']);
    const cursor = decodeEvidenceCursor(encodeEvidenceCursor(first.nextCursor!));
    const grown = orderEvidence([...posts, post('p9', 9)], ['root']);
    const second = evidencePage(grown, ['root'], 3, cursor);
    expect(second.posts.map((p) => p.id)).toEqual(['p4', 'p3', 'p2']);
    const last = evidencePage(grown, ['root'], 3, second.nextCursor!);
    expect(last).toEqual({ posts: [post('p1', 1)], nextCursor: null });
  });

  it('keeps every root on the first page, even past the limit, and continues after them', () => {
    const posts = orderEvidence([post('r1', 0), post('r2', 1), post('p', 2)], ['r1', 'r2']);
    const first = evidencePage(posts, ['r1', 'r2'], 1, undefined);
    expect(first.posts.map((p) => p.id)).toEqual(['r1', 'r2']);
    expect(evidencePage(posts, ['r1', 'r2'], 1, first.nextCursor!).posts.map((p) => p.id)).toEqual(['p']);
  });

  it('refuses a cursor it did not give', () => {
    expect(decodeEvidenceCursor('bogus')).toBeUndefined();
    expect(decodeEvidenceCursor(Buffer.from('[1.5,"x"]').toString('base64url'))).toBeUndefined();
  });
});
