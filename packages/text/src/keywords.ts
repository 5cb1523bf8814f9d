import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';

/** Inverse document frequencies, word → idf, with the median standing in for unknown words (jieba's own rule). */
export interface IdfTable {
  idf: ReadonlyMap<string, number>;
  medianIdf: number;
}

let defaultTable: IdfTable | undefined;

/** jieba's own idf file, shipped inside the nodejieba package. */
export const JIEBA_IDF_PATH = resolve(
  dirname(createRequire(import.meta.url).resolve('nodejieba/package.json')),
  'submodules/cppjieba/dict/idf.utf8',
);

/**
 * Loads jieba's `idf.utf8` (about 260k words, 6 MB, ~150 ms) once per process and keeps it: every analyzer shares it.
 */
export function defaultIdfTable(): IdfTable {
  defaultTable ??= loadIdfTable(JIEBA_IDF_PATH);
  return defaultTable;
}

/** Parses an idf file: `word idf` a line. */
export function loadIdfTable(path: string): IdfTable {
  const text = readFileSync(path, 'utf8');
  const idf = new Map<string, number>();
  const values: number[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const space = text.lastIndexOf(' ', end);
    if (space > start) {
      const value = Number(text.slice(space + 1, end));
      if (Number.isFinite(value)) {
        idf.set(text.slice(start, space), value);
        values.push(value);
      }
    }
    start = end + 1;
  }
  values.sort((a, b) => a - b);
  const medianIdf = values.length > 0 ? (values[values.length >> 1] ?? 0) : 0;
  return { idf, medianIdf };
}

/**
 * TF-IDF over tokens already segmented (no second jieba pass): term count × idf, unknown words at the median idf.
 * Single characters are skipped as jieba's extractor does (they are rarely a subject). Ties go to the earlier token,
 * so the order is deterministic.
 */
export function extractKeywords(tokens: readonly string[], table: IdfTable, maxKeywords = 8): string[] {
  if (tokens.length === 0 || maxKeywords <= 0) return [];
  const scores = new Map<string, number>();
  for (const token of tokens) {
    if (token.length < 2) continue;
    scores.set(token, (scores.get(token) ?? 0) + (table.idf.get(token) ?? table.medianIdf));
  }
  return topKeywords([...scores.keys()], [...scores.values()], scores.size, maxKeywords);
}

/**
 * The `maxKeywords` best of the first `count` candidates, best first; `words` in text order (first occurrence), so
 * strict `>` keeps the earlier word first on ties. Insertion into a short list: no sort.
 */
export function topKeywords(words: readonly string[], scores: ArrayLike<number>, count: number, maxKeywords: number): string[] {
  const top: string[] = [];
  const best: number[] = [];
  for (let k = 0; k < count; k++) {
    const score = scores[k]!;
    if (top.length === maxKeywords && score <= best[best.length - 1]!) continue;
    let at = top.length;
    while (at > 0 && score > best[at - 1]!) at--;
    top.splice(at, 0, words[k]!);
    best.splice(at, 0, score);
    if (top.length > maxKeywords) {
      top.pop();
      best.pop();
    }
  }
  return top;
}
