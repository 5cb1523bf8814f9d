import { afterAll, describe, expect } from 'vitest';
import type { EnrichedPost } from '@tingfeng/contracts';
import { createLogger } from '@tingfeng/logger';
import { redisTest } from '@tingfeng/testing';
import { createAnalyzer, type Scheme } from '@tingfeng/text';
import { processBatch, type InputMessage } from './pipeline/process-batch.js';
import { SchemeSource } from './schemes/scheme-source.js';

const analyzer = createAnalyzer();
afterAll(() => analyzer.close());
const logger = createLogger('analyzer-schemes-test');

let offset = 0;
function message(text: string, author = { id: 'u1', name: '某网友' }): InputMessage {
  offset++;
  const post = { id: `p${offset}`, platform: 'weibo', text, createdAt: '2015-10-20T01:30:00.000Z', author };
  return { topic: 'posts', partition: 0, offset: String(offset), value: Buffer.from(JSON.stringify(post)) };
}

/** Runs texts through the live pipeline (validation, claims, analysis) and returns each post's schemes. */
async function tagged(...messages: InputMessage[]): Promise<string[][]> {
  const outcome = await processBatch(messages, analyzer, async (claims) => claims.map(() => true), Date.now());
  return outcome.enriched.map((e) => (JSON.parse(e.value) as EnrichedPost).schemes ?? []);
}

const DYING_CITY: Scheme = { name: '昆明衰落', rule: '昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气' };

describe('monitoring schemes from Redis', () => {
  redisTest('are picked up without a restart and tag the posts that follow', async ({ redis, prefix }) => {
    const key = `${prefix}config:schemes`;
    const applied: [number, number][] = [];
    const source = new SchemeSource({
      redis,
      key,
      refreshMs: 50,
      apply: (schemes) => analyzer.setSchemes(schemes),
      logger,
      onApplied: (active, invalid) => applied.push([active, invalid]),
    });
    await source.start();
    try {
      expect(source.state).toBe('polling');
      expect(await tagged(message('有人说昆明是一座正在死去的城市'))).toEqual([[]]);

      await redis.set(key, JSON.stringify([DYING_CITY]));
      await expect.poll(() => applied.length).toBe(2);
      expect(await tagged(message('有人说昆明是一座正在死去的城市'), message('昆明的天气真好'), message('昆明越來越沒落了'))).toEqual([
        ['昆明衰落'],
        [],
        ['昆明衰落'], // traditional characters normalised before matching
      ]);

      // A bad rule and an entry that is not a scheme (the contract wants a string rule) are skipped, the others
      // apply; an unchanged value is not recompiled.
      await redis.set(
        key,
        JSON.stringify([DYING_CITY, { name: '坏规则', rule: '滇池 AND' }, { name: '数字', rule: 42 }, { name: '官方', rule: '', accounts: ['@昆明发布'] }]),
      );
      await expect.poll(() => applied.at(-1)).toEqual([2, 2]);
      const count = applied.length;
      expect(await source.refresh()).toBe(false);
      expect(applied.length).toBe(count);
      expect(await tagged(message('明天有雨', { id: 'u9', name: '昆明发布' }), message('昆明正在死去'))).toEqual([['官方'], ['昆明衰落']]);

      // Not JSON: the current schemes stay.
      await redis.set(key, '[{"name": ');
      expect(await source.refresh()).toBe(false);
      expect(await tagged(message('昆明正在死去'))).toEqual([['昆明衰落']]);

      // Key deleted: no schemes.
      await redis.del(key);
      await expect.poll(() => applied.at(-1)).toEqual([0, 0]);
      expect(await tagged(message('昆明正在死去'))).toEqual([[]]);
    } finally {
      source.stop();
      source.stop();
      expect(source.state).toBe('stopped');
    }
  });
});
