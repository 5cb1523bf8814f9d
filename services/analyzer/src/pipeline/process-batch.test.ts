import { describe, expect, it } from 'vitest';
import type { DeadLetter, EnrichedPost, Post } from '@tingfeng/contracts';
import { UNDECODABLE_HEADER, MAX_PROCESSING_ATTEMPTS } from '@tingfeng/kafka';
import { createAnalyzer } from '@tingfeng/text';
import { processBatch, type Analyze, type ClaimFn, type InputMessage } from './process-batch.js';

const receivedAtMs = Date.parse('2015-10-20T12:00:00+08:00');
const everyClaimOwned: ClaimFn = async (claims) => claims.map(() => true);

/** Stands in for the text analyzer: enriches with a token list as long as the test wants. */
function padding(tokenCount: number): Analyze {
  return { analyze: (post: Post) => ({ ...post, tokens: Array.from({ length: tokenCount }, () => '昆明') }) as unknown as EnrichedPost };
}

function message(offset: number, post: Record<string, unknown>): InputMessage {
  return { topic: 'posts', partition: 0, offset: String(offset), value: Buffer.from(JSON.stringify(post)) };
}

const post = (id: string) => ({ id, text: '昆明今天18度', createdAt: '2015-10-20T10:00:00+08:00', author: { id: 'u1' } });

describe('processBatch', () => {
  it('dead-letters a valid post whose enriched form is over the output limit, and still enriches the others', async () => {
    const messages = [message(0, post('a')), message(1, post('b'))];
    // Each token is 9 bytes in JSON ("昆明", plus a comma): 20,000 of them is ~180 KB, over a 100 KB limit.
    const outcome = await processBatch(messages, padding(20_000), everyClaimOwned, receivedAtMs, 100_000);
    expect(outcome.enriched).toEqual([]);
    expect(outcome.deadLetters.map((d) => d.reason)).toEqual(['too_large', 'too_large']);
    const letter = JSON.parse(outcome.deadLetters[0]!.value) as DeadLetter;
    expect(letter.detail).toMatch(/output limit/);
    expect(letter.source).toEqual({ topic: 'posts', partition: 0, offset: '0' });

    const small = await processBatch(messages, padding(10), everyClaimOwned, receivedAtMs, 100_000);
    expect(small.enriched.map((e) => (JSON.parse(e.value) as { id: string }).id)).toEqual(['a', 'b']);
    expect(small.deadLetters).toEqual([]);
  });

  it('dead-letters a valid post with an extra field nested 200,000 deep as too_deep, through the real analyzer', async () => {
    const analyzer = createAnalyzer({ watchDictionary: false });
    try {
      const deep = `${JSON.stringify(post('deep')).slice(0, -1)},"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
      const messages = [message(0, post('a')), { ...message(1, {}), value: Buffer.from(deep) }, message(2, post('b'))];
      const outcome = await processBatch(messages, analyzer, everyClaimOwned, receivedAtMs);
      expect(outcome.enriched.map((e) => (JSON.parse(e.value) as { id: string }).id)).toEqual(['a', 'b']);
      expect(outcome.deadLetters.map((d) => d.reason)).toEqual(['too_deep']);
    } finally {
      analyzer.close();
    }
  });

  it(`dead-letters a post whose analysis throws as processing_failed with the error, after ${MAX_PROCESSING_ATTEMPTS} attempts`, async () => {
    let calls = 0;
    const flaky: Analyze = {
      analyze: (p: Post) => {
        if (p.id === 'bad') {
          calls++;
          throw new RangeError('Maximum call stack size exceeded');
        }
        return { ...p, tokens: [] } as unknown as EnrichedPost;
      },
    };
    const outcome = await processBatch([message(0, post('bad')), message(1, post('good'))], flaky, everyClaimOwned, receivedAtMs);
    expect(calls).toBe(MAX_PROCESSING_ATTEMPTS);
    expect(outcome.enriched.map((e) => (JSON.parse(e.value) as { id: string }).id)).toEqual(['good']);
    expect(outcome.deadLetters.map((d) => d.reason)).toEqual(['processing_failed']);
    const letter = JSON.parse(outcome.deadLetters[0]!.value) as DeadLetter;
    expect(letter.detail).toBe(`analysis threw ${MAX_PROCESSING_ATTEMPTS} times: RangeError: Maximum call stack size exceeded`);
    expect(Buffer.from(letter.rawBase64, 'base64').toString()).toBe(JSON.stringify(post('bad')));
  });

  it('dead-letters a record its batch could not be decompressed for, with the reason the codec gave', async () => {
    const marker = { ...message(4, {}), value: null, headers: { [UNDECODABLE_HEADER]: Buffer.from('too_large: its record batch expands past 67108864 bytes') } };
    const outcome = await processBatch([marker], padding(1), everyClaimOwned, receivedAtMs);
    expect(outcome.deadLetters.map((d) => d.reason)).toEqual(['too_large']);
    expect((JSON.parse(outcome.deadLetters[0]!.value) as DeadLetter).detail).toBe('its record batch expands past 67108864 bytes');
  });
});
