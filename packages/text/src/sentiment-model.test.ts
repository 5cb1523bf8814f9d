import { describe, expect, it } from 'vitest';
import { Segmenter } from './segment.js';
import { loadSentimentLexicon } from './sentiment.js';
import {
  GramTable,
  gramUnits,
  loadSentimentModel,
  parseSentimentModel,
  SentimentModelError,
  serializeSentimentModel,
  visitPieces,
  type SentimentModel,
} from './sentiment-model.js';
import { SentimentScorer } from './sentiment-scorer.js';
import { scratchIds, TokenTable } from './token-table.js';

const tiny = (): SentimentModel => ({
  version: 'test',
  bias: 0.1,
  lexiconWeight: 1.5,
  hopWeight: 0.5,
  words: new Map([['开心', 1.2], ['失望', -1.1]]),
  negated: new Map([['开心', -0.9]]),
  chars: new Map([['嗯', -0.6]]),
  grams: new GramTable([['开心', 0.3], ['不开', -0.4], ['哈哈哈', 0.7]]),
  emoticons: new Map([['哈哈', 4.6], ['汗', -0.8], ['ok', 2]]),
});

describe('the sentiment model file', () => {
  it('round-trips through its text form, sorted and byte-stable', () => {
    const text = serializeSentimentModel(tiny(), ['a comment']);
    expect(text.split('\n').slice(0, 3)).toEqual(['# tingfeng sentiment model', '# a comment', 'version\ttest']);
    const back = parseSentimentModel(text);
    expect(back.words.get('失望')).toBe(-1.1);
    expect(back.negated.get('开心')).toBe(-0.9);
    expect(back.chars.get('嗯')).toBe(-0.6);
    expect(new Map(back.grams.entries()).get('哈哈哈')).toBeCloseTo(0.7, 6);
    expect(back.emoticons.get('汗')).toBe(-0.8);
    expect(serializeSentimentModel(back, ['a comment'])).toBe(text);
  });

  it('refuses a file that is not a model, or a line it cannot read, naming it', () => {
    expect(() => parseSentimentModel('hello\n')).toThrow(SentimentModelError);
    const good = serializeSentimentModel(tiny());
    expect(() => parseSentimentModel(good + 'x\t好\t1\n')).toThrow(/unknown feature kind "x"/);
    expect(() => parseSentimentModel(good.replace(/^bias\t.*$/m, 'bias\tNaN'))).toThrow(/"bias"/);
  });

  it('ships a model that loads: a version, thousands of features, emoticons stronger than words, the design constant', () => {
    const model = loadSentimentModel();
    expect(model.version).toMatch(/^ced-dev logistic/);
    expect(model.words.size + model.negated.size + model.grams.size).toBeGreaterThan(10_000);
    expect(model.chars.size).toBeGreaterThan(1000);
    // Labelling emoticons decide; weak ones lean; an emoticon the lexicon lacks may be learnt.
    expect(model.emoticons.get('哈哈')).toBeGreaterThan(3);
    expect(model.emoticons.get('泪')).toBeLessThan(-3);
    expect(Math.abs(model.emoticons.get('吃惊') ?? 0)).toBeLessThan(Math.abs(model.emoticons.get('泪')!));
    expect(model.hopWeight).toBe(0.5);
  });
});

describe('GramTable', () => {
  it('finds bigrams and trigrams by their units and counts each once per text', () => {
    const table = new GramTable([['开心', 0.3], ['哈哈哈', 0.7]]);
    const k = (s: string) => s.charCodeAt(0);
    table.begin();
    expect(table.take(0, (k('开') << 16) | k('心'))).toBeCloseTo(0.3, 6);
    expect(table.take(0, (k('开') << 16) | k('心'))).toBe(0);
    expect(table.take(k('哈') + 1, (k('哈') << 16) | k('哈'))).toBeCloseTo(0.7, 6);
    expect(table.take(0, (k('哈') << 16) | k('哈'))).toBe(0);
    table.begin();
    expect(table.take(0, (k('开') << 16) | k('心'))).toBeCloseTo(0.3, 6);
  });

  it('reads grams from ASCII-lowercased text with whitespace runs as one space, none at the ends', () => {
    const out = new Uint16Array(32);
    const n = gramUnits('  AB\t\n c ', out);
    expect(String.fromCharCode(...out.subarray(0, n))).toBe('ab c');
  });
});

describe('negation scope and the scorer', () => {
  const segmenter = new Segmenter();
  const lexicon = loadSentimentLexicon();

  function scopeOf(text: string): string[] {
    const table = new TokenTable({ lexicon });
    const pieces = segmenter.cut(text);
    const ids = scratchIds(new Int32Array(8), pieces.length);
    for (let i = 0; i < pieces.length; i++) ids[i] = table.id(pieces[i]!);
    const out: string[] = [];
    visitPieces(pieces, ids, pieces.length, table.flags, (i, negated) => out.push(negated ? `¬${pieces[i]}` : pieces[i]!));
    return out;
  }

  it('reads the three pieces after a negation as negated, until a clause break', () => {
    expect(scopeOf('我不开心')).toEqual(['我', '不', '¬开心']);
    expect(scopeOf('不,开心')).toEqual(['不', ',', '开心']);
    expect(scopeOf('没有 开心')).toEqual(['没有', '开心']);
  });

  it('sums the plain and negated weights, the grams once each, the lexicon, and emoticons on top', () => {
    const model = tiny();
    const scorer = new SentimentScorer(model, lexicon);
    const table = new TokenTable({ lexicon, model });
    const evidence = (text: string) => {
      const pieces = segmenter.cut(text);
      const ids = scratchIds(new Int32Array(8), pieces.length);
      for (let i = 0; i < pieces.length; i++) ids[i] = table.id(pieces[i]!);
      return scorer.textEvidence(text, pieces, ids, pieces.length, table);
    };
    const lexiconPart = (x: number) => 1.5 * Math.tanh(x / 2);
    const happy = lexicon.words.get('开心')!;
    // 开心 (word 1.2) + gram 开心 0.3 + the lexicon's 开心.
    expect(evidence('开心')).toBeCloseTo(1.2 + 0.3 + lexiconPart(happy), 6);
    // Twice in one text: binary features, but the lexicon counts both.
    expect(evidence('开心开心')).toBeCloseTo(1.2 + 0.3 + lexiconPart(2 * happy), 6);
    // 我不开心: 开心 negated (−0.9), grams 不开 (−0.4) and 开心 (0.3), and the lexicon's own 不开心.
    expect(evidence('我不开心')).toBeCloseTo(-0.9 - 0.4 + 0.3 + lexiconPart(lexicon.words.get('不开心')!), 6);
    // A character counts once a text, wherever it stands (嗯 is no lexicon word, no piece or gram of the model).
    expect(lexicon.words.has('嗯')).toBe(false);
    expect(evidence('嗯')).toBeCloseTo(-0.6, 6);
    expect(evidence('嗯 嗯嗯')).toBeCloseTo(-0.6, 6);
    expect(scorer.emoticonEvidence(['哈哈'])).toBe(4.6);
    expect(scorer.emoticonEvidence(['哈哈', 'OK', '汗', '未知'])).toBeCloseTo(4.6 + 2 - 0.8, 9);
    const v = scorer.verdict(1);
    expect(v.sentiment).toBeCloseTo(Math.tanh(1.1 / 2), 9);
    expect(v.confidence).toBeCloseTo(1 / (1 + Math.exp(-1.1)), 9);
    expect(scorer.verdict(-3).sentiment).toBeLessThan(0);
    expect(scorer.verdict(-3).confidence).toBeGreaterThan(0.9);
  });
});
