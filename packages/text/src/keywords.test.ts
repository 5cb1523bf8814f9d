import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JIEBA_IDF_PATH, loadIdfTable } from './keywords.js';

const dir = mkdtempSync(join(tmpdir(), 'tingfeng-idf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the idf file means, read the plain way: a Map (a later line wins) and the median of every valid line. */
function reference(text: string): { idf: Map<string, number>; median: number } {
  const idf = new Map<string, number>();
  const values: number[] = [];
  for (const line of text.split('\n')) {
    const space = line.lastIndexOf(' ');
    if (space <= 0) continue;
    const value = Number(line.slice(space + 1));
    if (!Number.isFinite(value)) continue;
    idf.set(line.slice(0, space), value);
    values.push(value);
  }
  values.sort((a, b) => a - b);
  return { idf, median: values.length > 0 ? values[values.length >> 1]! : 0 };
}

describe('loadIdfTable', () => {
  it('reads words with spaces, keeps the last idf of a repeated word, skips lines without a number', () => {
    const path = join(dir, 'small.idf');
    writeFileSync(path, ['昆明 9.5', '滇池 11.25', 'new york 7', '无数字', ' 3', '坏值 abc', '昆明 10.5', '空值 ', 'crlf 8\r', '尾行 12'].join('\n'));
    const { idf, medianIdf } = loadIdfTable(path);
    expect(idf.get('昆明')).toBe(10.5);
    expect(idf.get('滇池')).toBe(11.25);
    expect(idf.get('new york')).toBe(7);
    expect(idf.get('crlf')).toBe(8);
    expect(idf.get('尾行')).toBe(12);
    // `空值 ` has an empty number: Number('') is 0, as the file format always read it.
    expect(idf.get('空值')).toBe(0);
    expect(idf.get('无数字')).toBeUndefined();
    expect(idf.get('坏值')).toBeUndefined();
    expect(idf.get('昆')).toBeUndefined();
    expect(idf.get('')).toBeUndefined();
    expect(idf.size).toBe(6);
    // ` 3` has no word. Valid lines: 9.5 11.25 7 10.5 0 8 12 → sorted 0 7 8 9.5 10.5 11.25 12, median at index 3.
    expect(medianIdf).toBe(9.5);
  });

  it("agrees with a Map of jieba's whole idf file, word for word", () => {
    const text = readFileSync(JIEBA_IDF_PATH, 'utf8');
    const want = reference(text);
    const { idf, medianIdf } = loadIdfTable(JIEBA_IDF_PATH);
    expect(idf.size).toBe(want.idf.size);
    expect(medianIdf).toBe(want.median);
    let mismatches = 0;
    for (const [word, value] of want.idf) if (idf.get(word) !== value) mismatches++;
    expect(mismatches).toBe(0);
    for (const word of ['不存在的词语', 'x', '😀', '\ud800']) expect(idf.get(word)).toBeUndefined();
  });

  it('reads an empty file as no words', () => {
    const path = join(dir, 'empty.idf');
    writeFileSync(path, '');
    expect(loadIdfTable(path)).toMatchObject({ medianIdf: 0 });
    expect(loadIdfTable(path).idf.size).toBe(0);
  });
});
