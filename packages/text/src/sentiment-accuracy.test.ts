import { readFileSync } from 'node:fs';
import type { Post } from '@tingfeng/contracts';
import { describe, expect, it } from 'vitest';
import { sharedFile } from '@tingfeng/testing/infra';
import { createAnalyzer } from './analyzer.js';

const csvPath = sharedFile('data/weibo_senti_sample.csv');

/** Minimal RFC 4180 reader: quoted fields may hold commas, quotes ("") and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field.length > 0 || row.length > 0) rows.push([...row, field]);
  return rows;
}

const EMOTICON = /\[[^\[\]]{1,8}\]/g;

describe.skipIf(!csvPath)('sentiment accuracy on weibo_senti_sample.csv (held out: never used to build the lexicon)', () => {
  const rows = parseCsv((csvPath ? readFileSync(csvPath, 'utf8') : '').replace(/^\uFEFF/, ''))
    .slice(1)
    .filter((r) => r.length >= 2 && (r[0] === '0' || r[0] === '1'));
  const analyzer = createAnalyzer();
  const post = (text: string): Post => ({ id: 'x', platform: 'weibo', text, createdAt: '2015-10-20T00:00:00.000Z', createdAtMs: 0, author: { id: 'u' } });

  /** A score of exactly 0 (nothing recognised) counts as a guess of "positive", so neutral output is not hidden. */
  function measure(transform: (text: string) => string, whole: boolean) {
    let correct = 0;
    let neutral = 0;
    for (const [label, review] of rows) {
      let text = transform(review!.replace(/^\uFEFF/, ''));
      // `whole`: score the full text, repost chain included, by turning `//@` hops into plain clauses.
      if (whole) text = text.replace(/\/\/@/g, ' ');
      const score = analyzer.analyze(post(text)).sentiment;
      if (score === 0) neutral++;
      if ((score < 0 ? '0' : '1') === label) correct++;
    }
    return { accuracy: correct / rows.length, neutralShare: neutral / rows.length };
  }

  it('reads 1,200 labelled rows', () => expect(rows.length).toBe(1200));

  it('beats the floors with and without emoticons', () => {
    const withEmoticons = measure((t) => t, true);
    const withoutEmoticons = measure((t) => t.replace(EMOTICON, ' '), true);
    const ownWordsOnly = measure((t) => t, false);
    console.log(
      `sentiment accuracy (n=${rows.length}): with emoticons ${withEmoticons.accuracy.toFixed(3)} ` +
        `(neutral ${withEmoticons.neutralShare.toFixed(3)}), emoticons stripped ${withoutEmoticons.accuracy.toFixed(3)} ` +
        `(neutral ${withoutEmoticons.neutralShare.toFixed(3)}), own words only as the analyzer publishes ${ownWordsOnly.accuracy.toFixed(3)}`,
    );
    // Floors sit a few points under what the lexicon reached (0.902 and 0.598 when written); see the README.
    expect(withEmoticons.accuracy).toBeGreaterThanOrEqual(0.87);
    expect(withoutEmoticons.accuracy).toBeGreaterThanOrEqual(0.57);
  });
});
