import { copyFileSync, mkdtempSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Post } from '@tingfeng/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { createAnalyzer } from './analyzer.js';
import { DICT_DIR } from './dict-files.js';
import { defaultIdfTable, extractKeywords } from './keywords.js';
import { extractMarkup, splitRepostChain } from './markup.js';
import { normalizeText } from './normalize.js';
import { Segmenter } from './segment.js';
import { lexiconSum, loadSentimentLexicon, scoreSentiment } from './sentiment.js';
import { featureKeys, loadSentimentModel } from './sentiment-model.js';
import { CLAUSE, KEYWORD, NEGATION, TOKEN, TokenTable, WORD } from './token-table.js';

const post = (text: string): Post => ({
  id: '1',
  platform: 'weibo',
  text,
  createdAt: '2015-10-20T01:30:00.000Z',
  createdAtMs: Date.parse('2015-10-20T01:30:00.000Z'),
  author: { id: 'u1' },
});

const TEXTS = [
  '滇池蓝藻又爆发了,滇池治理花了多少钱?蓝藻年年有',
  '一点都不开心,非常失望!!!长水机场又延误了[怒]',
  '今天昆明的天气真好，蓝天白云 #昆明18度# @昆明发布 http://t.cn/x //@张三:胡说',
  '這個城市真的很美，我很喜歡昆明，好开心好开心',
  '打CALL 12345 市长热线 不是很好',
];

describe('the analyzer on the token table', () => {
  const analyzer = createAnalyzer();
  afterAll(() => analyzer.close());
  const segmenter = new Segmenter();
  const lexicon = loadSentimentLexicon();
  const featurizerTable = new TokenTable({ lexicon });

  it('gives the same tokens, keywords and sentiment (the trainer\'s features, summed) as the separate stages', () => {
    for (const text of [...TEXTS, ...TEXTS]) {
      const split = splitRepostChain(normalizeText(text));
      const bare = extractMarkup(split.ownText);
      const pieces = segmenter.cut(bare.bareText);
      const tokens = segmenter.filterTokens(pieces);
      const e = analyzer.analyze(post(text));
      expect(e.tokens).toEqual(tokens);
      expect(e.keywords).toEqual(extractKeywords(tokens, defaultIdfTable(), 8));
      // The model's logit, recomputed from the trainer's feature keys and the model's maps (no token table).
      const model = loadSentimentModel();
      const grams = new Map(model.grams.entries());
      const ids = Int32Array.from(pieces.map((p) => featurizerTable.id(p)));
      let z = model.bias + bare.emoticons.reduce((sum, name) => sum + (model.emoticons.get(name.toLowerCase()) ?? 0), 0);
      for (const key of featureKeys(bare.bareText, pieces, ids, pieces.length, featurizerTable.flags)) {
        const feature = key.slice(2);
        const kind = key[0];
        // Characters and grams are scored as stored: float32.
        if (kind === 'u') z += Math.fround(model.chars.get(feature) ?? 0);
        else z += (kind === 'w' ? model.words.get(feature) : kind === 'n' ? model.negated.get(feature) : grams.get(feature)) ?? 0;
      }
      const sum = lexiconSum(pieces, ids, pieces.length, featurizerTable, lexicon);
      if (sum !== 0) z += model.lexiconWeight * Math.tanh(sum / 2);
      // A quoted hop adds half its evidence (analyzer.test.ts): compare own words alone.
      if (split.repostChain.length === 0) expect(e.sentiment).toBeCloseTo(Math.tanh(z / 2), 9);
      expect(scoreSentiment(pieces, bare.emoticons, lexicon)).toBeGreaterThanOrEqual(-1);
    }
  });

  it('classifies a piece once and empties itself past its bound', () => {
    const table = new TokenTable({ lexicon, idf: defaultIdfTable(), isToken: (p) => segmenter.isToken(p) }, 2);
    const a = table.id('开心');
    expect(table.id('开心')).toBe(a);
    expect(table.flags[a]! & (TOKEN | KEYWORD | WORD)).toBe(TOKEN | KEYWORD | WORD);
    expect(table.flags[table.id('不')]! & NEGATION).toBe(NEGATION);
    expect(table.flags[table.id('，')]! & CLAUSE).toBe(CLAUSE);
    expect(table.words.length).toBe(3);
    table.beginPost();
    expect(table.words.length).toBe(0);
    for (let i = 0; i < 3000; i++) table.id(`词${i}`); // grows past the initial arrays
    expect(table.words[2999]).toBe('词2999');
    expect(table.idf[table.id('词2999')]).toBe(defaultIdfTable().medianIdf);
  });

  it('forgets cached answers when the stopwords are reloaded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-stop-'));
    const stopwordsPath = join(dir, 'stopwords.txt');
    copyFileSync(resolve(DICT_DIR, 'stopwords.txt'), stopwordsPath);
    const own = createAnalyzer({ stopwordsPath });
    try {
      expect(own.analyze(post('滇池蓝藻又爆发了')).tokens).toContain('蓝藻');
      appendFileSync(stopwordsPath, '\n蓝藻\n');
      own.reloadDictionary();
      expect(own.analyze(post('滇池蓝藻又爆发了')).tokens).not.toContain('蓝藻');
    } finally {
      own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
