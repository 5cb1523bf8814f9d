import { describe, expect, it } from 'vitest';
import { Segmenter, normalizeText } from '@tingfeng/text';
import { SearchQueryError } from './errors.js';
import { compileSearchQuery } from './query.js';
import { tsvectorText } from './rows.js';

const segmenter = new Segmenter();
const tokenize = (term: string) => segmenter.tokenize(normalizeText(term));

describe('compileSearchQuery', () => {
  it('turns one word into a prefix match and words side by side into AND', () => {
    expect(compileSearchQuery('昆明', tokenize)).toBe(`'昆明':*`);
    expect(compileSearchQuery('昆明 地铁', tokenize)).toBe(`'昆明':* & '地铁':*`);
  });

  it('keeps the rule syntax: OR, NOT, parentheses, precedence NOT > AND > OR', () => {
    expect(compileSearchQuery('昆明 AND (地铁 OR 公交) NOT 天气', tokenize)).toBe(`'昆明':* & ( '地铁':* | '公交':* ) & !'天气':*`);
    expect(compileSearchQuery('滇池 OR 翠湖 NOT 红嘴鸥', tokenize)).toBe(`'滇池':* | ( '翠湖':* & !'红嘴鸥':* )`);
  });

  it('segments a phrase with the analyzer and searches its words next to each other, stopwords left out as in posts', () => {
    const words = tokenize('房价太高了');
    expect(words.length).toBeGreaterThan(1);
    expect(compileSearchQuery('"房价太高了"', tokenize)).toBe(`( ${words.map((w) => `'${w}'`).join(' <-> ')} )`);
  });

  it('normalises the query like the analyzer does: traditional and full-width forms find the simplified words', () => {
    expect(compileSearchQuery('昆明 ＡＮＤ 髮布', tokenize)).toBe(compileSearchQuery('昆明 AND 发布', tokenize));
  });

  it('matches @mentions and [emoticons] as written, not as segmented words', () => {
    expect(compileSearchQuery('@昆明发布 [蜡烛]', tokenize)).toBe(`'@昆明发布' & '[蜡烛]'`);
    expect(tsvectorText(['你好'], ['昆明发布'], ['蜡烛'])).toBe(`'你好':1 '@昆明发布':4 '[蜡烛]':6`);
  });

  it('quotes lexemes so a quote or backslash in a word cannot break out of the tsquery', () => {
    const q = compileSearchQuery(`"it's" OR a\\b`, (t) => [t]);
    expect(q).toBe(`'it''s':* | 'a\\\\b':*`);
  });

  it('names the problem and its position for a rule that does not parse', () => {
    expect(() => compileSearchQuery('昆明 AND', tokenize)).toThrow(SearchQueryError);
    try {
      compileSearchQuery('(昆明 OR 地铁', tokenize);
    } catch (err) {
      expect(err).toBeInstanceOf(SearchQueryError);
      expect((err as SearchQueryError).position).toBe(0);
      expect((err as SearchQueryError).message).toContain('missing )');
    }
  });

  it('refuses a term with no searchable word instead of matching everything or nothing', () => {
    expect(() => compileSearchQuery('昆明 的', tokenize)).toThrow(/"的" holds no searchable word/);
  });
});
