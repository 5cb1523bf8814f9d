import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';

/** Inverse document frequencies, word → idf, with the median standing in for unknown words (jieba's own rule). */
export interface IdfTable {
  idf: IdfLookup;
  medianIdf: number;
}

/** Word → idf: what of a Map the analyzer asks. */
export interface IdfLookup {
  get(word: string): number | undefined;
  readonly size: number;
}

let defaultTable: IdfTable | undefined;

/** jieba's own idf file, shipped inside the nodejieba package. */
export const JIEBA_IDF_PATH = resolve(
  dirname(createRequire(import.meta.url).resolve('nodejieba/package.json')),
  'submodules/cppjieba/dict/idf.utf8',
);

/**
 * Loads jieba's `idf.utf8` (about 260k words, 6 MB, ~0.1 s) once per process and keeps it: every analyzer shares it.
 */
export function defaultIdfTable(): IdfTable {
  defaultTable ??= loadIdfTable(JIEBA_IDF_PATH);
  return defaultTable;
}

/** Parses an idf file: `word idf` a line (the last space splits them; a word listed twice keeps its last idf). */
export function loadIdfTable(path: string): IdfTable {
  const idf = new IdfIndex(readFileSync(path));
  return { idf, medianIdf: idf.lines > 0 ? nthSmallest(idf.values.slice(0, idf.lines), idf.lines >> 1) : 0 };
}

/** The k-th smallest of `values` (0-based), as values sorted ascending would hold it at k; reorders `values`. */
function nthSmallest(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const x = values[i]!;
        values[i++] = values[j]!;
        values[j--] = x;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k]!;
}

/** FNV-1a over bytes[start, end). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

const encoder = new TextEncoder();

/**
 * The words of an idf file looked up in the file's own bytes (UTF-8): an open-addressing table of line numbers over
 * typed arrays, with no string per word. A Map of the 260k words took ~0.6 s to build, paid at every start of every
 * thread that analyses, where only the few thousand distinct words of a stream are ever asked for.
 */
class IdfIndex implements IdfLookup {
  /** Per valid line, in file order: its word's byte range, and its idf. */
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  readonly values: Float64Array;
  /** Valid lines (duplicates included, as the median counts them). */
  readonly lines: number = 0;
  size = 0;
  /** Per slot: 1 + the line whose word is there, or 0. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** A word asked for, as UTF-8. */
  private scratch = new Uint8Array(64);

  constructor(private readonly bytes: Buffer) {
    let capacity = 1;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) capacity++;
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.values = new Float64Array(capacity);
    let size = 8;
    while (size < 2 * capacity) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    let lines = 0;
    // The idf is ASCII: in the bytes read as latin1 (one character a byte, cheap to slice) it reads as in the text.
    const latin1 = bytes.toString('latin1');
    // One pass: a line ends at a newline (or the end), its word at its last space.
    for (let start = 0, space = -1, i = 0; i <= bytes.length; i++) {
      const b = i < bytes.length ? bytes[i]! : 0x0a;
      if (b === 0x20) space = i;
      if (b !== 0x0a) continue;
      if (space > start) {
        const value = Number(latin1.slice(space + 1, i));
        if (Number.isFinite(value)) {
          this.starts[lines] = start;
          this.ends[lines] = space;
          this.values[lines] = value;
          this.insert(lines++);
        }
      }
      start = i + 1;
      space = -1;
    }
    this.lines = lines;
  }

  private insert(line: number): void {
    const start = this.starts[line]!;
    const end = this.ends[line]!;
    let slot = hashBytes(this.bytes, start, end) & this.mask;
    for (let at = this.slots[slot]!; at !== 0; at = this.slots[slot]!) {
      if (this.sameWord(at - 1, this.bytes, start, end)) {
        this.slots[slot] = line + 1;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
    this.slots[slot] = line + 1;
    this.size++;
  }

  /** Whether line's word is bytes[start, end). */
  private sameWord(line: number, word: Uint8Array, start: number, end: number): boolean {
    const from = this.starts[line]!;
    if (this.ends[line]! - from !== end - start) return false;
    const bytes = this.bytes;
    for (let i = 0; i < end - start; i++) if (bytes[from + i] !== word[start + i]) return false;
    return true;
  }

  get(word: string): number | undefined {
    if (this.scratch.length < 3 * word.length) this.scratch = new Uint8Array(3 * word.length);
    const length = encoder.encodeInto(word, this.scratch).written;
    let slot = hashBytes(this.scratch, 0, length) & this.mask;
    for (let at = this.slots[slot]!; at !== 0; at = this.slots[slot]!) {
      if (this.sameWord(at - 1, this.scratch, 0, length)) return this.values[at - 1];
      slot = (slot + 1) & this.mask;
    }
    return undefined;
  }
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
