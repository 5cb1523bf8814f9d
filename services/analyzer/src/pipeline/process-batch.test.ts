import { describe, expect, it } from 'vitest';
import type { DeadLetter, EnrichedPost, Post } from '@tingfeng/contracts';
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
});
