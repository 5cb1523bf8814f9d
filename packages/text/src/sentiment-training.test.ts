import { describe, expect, it } from 'vitest';
import { loadSentimentLexicon } from './sentiment.js';
import { fitTemperature, labelPosts, rowLogit, splitOfGroup, trainLogistic, type FeatureRow } from './sentiment-training.js';

describe('distant labels from emoticons', () => {
  const lexicon = loadSentimentLexicon();
  const p = (id: string, text: string, rootId = 'r1') => ({ id, text, rootId });

  it('labels own words by their strong emoticons, removes them, and says what it dropped', () => {
    const { examples, stats } = labelPosts(
      [
        p('1', '太好了[哈哈]'),
        p('2', '气死我了[怒][泪]'),
        p('3', '又哭又笑[哈哈][泪]'), // mixed
        p('4', '这是真的吗[吃惊]'), // weak only
        p('5', '[哈哈][哈哈]'), // no words besides
        p('6', '太好了 [爱你]'), // the same words as 1
        p('7', '没有表情的话'),
        p('8', '好开心//@张三:气死了[怒]'), // the quoted hop's emoticon is not the author's
      ],
      lexicon,
    );
    expect(examples).toEqual([
      { text: '太好了', label: 1, group: 'r1', emoticons: ['哈哈'] },
      { text: '气死我了', label: 0, group: 'r1', emoticons: ['怒', '泪'] },
    ]);
    expect(stats).toEqual({ posts: 8, withEmoticon: 6, mixed: 1, weakOnly: 1, noWords: 1, duplicate: 1, positive: 1, negative: 1 });
  });

  it('keeps a root post in its own cascade', () => {
    expect(labelPosts([{ id: 'root', text: '好[哈哈]' }], lexicon).examples[0]!.group).toBe('root');
  });
});

describe('the held-out split', () => {
  it('puts whole cascades in train, dev and test, about 80/10/10', () => {
    const counts = { train: 0, dev: 0, test: 0 };
    for (let i = 0; i < 5000; i++) counts[splitOfGroup(`z${i.toString(36)}q`)]++;
    expect(counts.test / 5000).toBeGreaterThan(0.08);
    expect(counts.test / 5000).toBeLessThan(0.12);
    expect(counts.dev / 5000).toBeGreaterThan(0.08);
    expect(counts.dev / 5000).toBeLessThan(0.12);
    expect(splitOfGroup('6tsQ7d')).toBe(splitOfGroup('6tsQ7d'));
  });
});

describe('trainLogistic', () => {
  // Feature 0 says positive, feature 1 negative, feature 2 is noise on both sides.
  const rows: FeatureRow[] = [];
  for (let i = 0; i < 40; i++) {
    rows.push({ features: Int32Array.of(0, ...(i % 3 === 0 ? [2] : [])), lexicon: 0, label: 1 });
    rows.push({ features: Int32Array.of(1, ...(i % 3 === 1 ? [2] : [])), lexicon: 0, label: 0 });
  }
  const weights = new Float64Array(rows.length).fill(1);

  it('separates the classes, gives the informative features their signs, and is deterministic', () => {
    const a = trainLogistic(rows, 3, { l2: 1, weights });
    const b = trainLogistic(rows, 3, { l2: 1, weights });
    expect([...a.weights]).toEqual([...b.weights]);
    expect(a.weights[0]).toBeGreaterThan(0.5);
    expect(a.weights[1]).toBeLessThan(-0.5);
    expect(Math.abs(a.weights[2]!)).toBeLessThan(0.3);
    for (const row of rows) expect(rowLogit(a.weights, 3, row) > 0).toBe(row.label === 1);
  });

  it('shrinks the weights as the penalty grows', () => {
    const loose = trainLogistic(rows, 3, { l2: 0.1, weights });
    const tight = trainLogistic(rows, 3, { l2: 10, weights });
    expect(Math.abs(tight.weights[0]!)).toBeLessThan(Math.abs(loose.weights[0]!));
  });
});

describe('fitTemperature', () => {
  it('cools an over-confident model and warms an under-confident one', () => {
    // Logits of ±4 that are right only 3 times in 4: over-confident, T > 1.
    const logits = Float64Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 4 : -4));
    const labels = Uint8Array.from({ length: 400 }, (_, i) => ((i % 2 === 0) === (i % 8 !== 0) ? 1 : 0));
    expect(fitTemperature(logits, labels)).toBeGreaterThan(2);
    // Logits of ±0.5 that are always right: under-confident, T < 1.
    const sure = Float64Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 0.5 : -0.5));
    const right = Uint8Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    expect(fitTemperature(sure, right)).toBeLessThan(0.5);
  });
});
