import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EncodedRows } from '@tingfeng/archive';
import type { EnrichedPost } from '@tingfeng/contracts';
import { createLogger } from '@tingfeng/logger';
import { archiveBatch, encodeBatch, type InputMessage } from './archive-batch.js';
import { createRowEncoder } from './row-encoder.js';

function post(i: number): EnrichedPost {
  const createdAtMs = Date.parse('2015-10-20T00:00:00Z') + i * 60_000;
  return {
    id: `p${i}`,
    platform: 'weibo',
    text: `第${i}条 昆明地铁`,
    ownText: `第${i}条 昆明地铁`,
    createdAt: new Date(createdAtMs).toISOString(),
    createdAtMs,
    author: { id: `u${i}` },
    tokens: ['昆明地铁'],
    keywords: ['昆明地铁'],
    emoticons: [],
    mentions: [],
    topics: [],
    urls: [],
    repostChain: [],
    spam: false,
    sentiment: 0,
  };
}

const messages = (values: (string | null)[]): InputMessage[] =>
  values.map((v, i) => ({ topic: 't', partition: 0, offset: String(100 + i), value: v === null ? null : Buffer.from(v) }));

const logger = createLogger('archive-batch-test');
const threaded = createRowEncoder(1, logger);
const inline = createRowEncoder(0, logger);
afterAll(() => threaded.close());
// Each encoder loads jieba (the sub-word index) once, a few seconds, longer on a busy machine.
beforeAll(() => Promise.all([threaded.ready(), inline.ready()]), 180_000);

describe('encodeBatch and archiveBatch', () => {
  const input = messages([JSON.stringify(post(1)), '{"id": ', null, JSON.stringify(post(2)), '[1]', JSON.stringify(post(1)), JSON.stringify(post(3))]);

  it('encodes on a worker thread exactly as on the calling thread, records refused with their reasons', async () => {
    const [a, b] = await Promise.all([encodeBatch(input, (v) => threaded.encode(v, undefined), 0), encodeBatch(input, (v) => inline.encode(v, undefined), 0)]);
    expect(Buffer.from(a.rows!.bytes).equals(Buffer.from(b.rows!.bytes))).toBe(true);
    expect(a.rows!.ends).toHaveLength(3);
    expect(a.rows!.duplicates).toBe(1);
    expect(a.deadLetters.map((d) => [d.key, d.reason]).sort()).toEqual([
      ['t/0/101', 'not_json'],
      ['t/0/102', 'not_json'],
      ['t/0/104', 'not_object'],
    ]);
    expect(b.deadLetters.map((d) => d.key).sort()).toEqual(a.deadLetters.map((d) => d.key).sort());
  });

  it('writes around a row the database refuses for its data, dead-lettering that one', async () => {
    const batch = await encodeBatch(input, (v) => threaded.encode(v, undefined), 0);
    const written: string[] = [];
    const write = (rows: EncodedRows) => {
      const text = Buffer.from(rows.bytes).toString('utf8');
      if (text.includes('第2条')) return Promise.reject(Object.assign(new Error('invalid input syntax'), { code: '22P02' }));
      written.push(...text.trim().split('\n').map((line) => line.split('\t')[0]!));
      return Promise.resolve({ inserted: rows.ends.length, duplicates: 0 });
    };
    const outcome = await archiveBatch(batch, write, 0);
    expect(written.sort()).toEqual(['p1', 'p3']);
    expect(outcome).toMatchObject({ written: 2, duplicates: 1, expired: 0 });
    const refused = outcome.deadLetters.filter((d) => d.reason === 'processing_failed');
    expect(refused.map((d) => d.key)).toEqual(['t/0/103']);
  });

  it('throws what is not about the data, so the chunk comes again', async () => {
    const batch = await encodeBatch(input, (v) => inline.encode(v, undefined), 0);
    await expect(archiveBatch(batch, () => Promise.reject(Object.assign(new Error('connection lost'), { code: '08006' })), 0)).rejects.toThrow('connection lost');
  });

  it('leaves out posts before the retention horizon, counted as expired', async () => {
    const batch = await encodeBatch(input, (v) => threaded.encode(v, post(2).createdAtMs), 0);
    const outcome = await archiveBatch(batch, (rows) => Promise.resolve({ inserted: rows.ends.length, duplicates: 0 }), 0);
    expect(outcome).toMatchObject({ written: 2, expired: 2 });
  });
});
