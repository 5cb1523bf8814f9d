import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLAUSE, NEGATION } from './token-table.js';

/** The shipped model, written by `pnpm train:sentiment`. */
export const SENTIMENT_MODEL_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../model/sentiment-model.tsv');

/** How many pieces after a negation (不, 没有, …) are read as negated, unless a clause break comes first. */
export const NEGATION_SCOPE = 3;

/**
 * A logistic-regression polarity model over a text's jieba pieces (each piece read plain or, within a negation's
 * scope, as a separate negated feature), its characters, character bigrams and trigrams, and the lexicon scorer's
 * verdict. Features are binary (present or not). The logit of a text is
 * `bias + Σ pieces + Σ characters + Σ grams + lexiconWeight · tanh(lexicon sum / 2)`, and the evidence of its emoticons
 * ({@link SentimentModel.emoticons}) is added on top: the word model never saw emoticons (they were its labels).
 */
export interface SentimentModel {
  /** Free text naming the training run, e.g. `ced-dev-2 lr l2=10`. */
  version: string;
  bias: number;
  lexiconWeight: number;
  /**
   * The evidence (logit) of each emoticon, lowercased name without brackets: the labelling ones (`[哈哈]`, `[泪]`)
   * strong enough to outweigh the words, the weak ones scaled on held-out data, unlisted ones learnt from
   * co-occurrence (see the trainer). An emoticon not in the map adds nothing.
   */
  emoticons: ReadonlyMap<string, number>;
  /** Share of the nearest quoted hop's evidence added to a repost's own (see the analyzer). */
  hopWeight: number;
  /** Weights of plain pieces. */
  words: ReadonlyMap<string, number>;
  /** Weights of pieces inside a negation's scope. */
  negated: ReadonlyMap<string, number>;
  /** Weights of single characters (UTF-16 units of the gram text, space excluded). */
  chars: ReadonlyMap<string, number>;
  /** Weights of character bigrams and trigrams. */
  grams: GramTable;
}

/** Feature key prefixes, as in the model file and the trainer. */
export const WORD_KEY = 'w:';
export const NEGATED_KEY = 'n:';
export const GRAM_KEY = 'c:';
export const CHAR_KEY = 'u:';

/**
 * Character bigrams and trigrams in an open-addressing table keyed by their UTF-16 units, so scoring a post builds
 * no strings: a bigram `ab` is (0, a<<16|b), a trigram `abc` is (a+1, b<<16|c).
 */
export class GramTable {
  readonly size: number;
  private readonly mask: number;
  /**
   * Four 32-bit words a slot, one cache line for every probe: hi (−1 when empty), lo, the stamp of the text that last
   * used it (so a gram counts once per text), the weight as a float32 (read through {@link weights}).
   */
  private readonly slots: Int32Array;
  private readonly weights: Float32Array;
  private stamp = 0;

  constructor(entries: Iterable<readonly [string, number]>) {
    const list = [...entries].filter(([gram]) => gram.length === 2 || gram.length === 3);
    let capacity = 16;
    while (capacity < list.length * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity * 4);
    this.weights = new Float32Array(this.slots.buffer);
    for (let slot = 0; slot < capacity; slot++) this.slots[slot * 4] = -1;
    for (const [gram, weight] of list) {
      const a = gram.charCodeAt(0);
      const b = gram.charCodeAt(1);
      if (gram.length === 2) this.insert(0, (a << 16) | b, weight);
      else this.insert(a + 1, (b << 16) | gram.charCodeAt(2), weight);
    }
    this.size = list.length;
  }

  /** Starts a new text: grams seen before this call count again. */
  begin(): void {
    if (++this.stamp === 0x7fffffff) {
      for (let slot = 0; slot <= this.mask; slot++) this.slots[slot * 4 + 2] = 0;
      this.stamp = 1;
    }
  }

  /** The weight of a gram the first time it is seen in the current text, else 0. */
  take(hi: number, lo: number): number {
    const slots = this.slots;
    let at = (hash(hi, lo) & this.mask) << 2;
    for (;;) {
      const h = slots[at]!;
      if (h === -1) return 0;
      if (h === hi && slots[at + 1] === lo) {
        if (slots[at + 2] === this.stamp) return 0;
        slots[at + 2] = this.stamp;
        return this.weights[at + 3]!;
      }
      at = (at + 4) & (this.mask * 4 + 3);
    }
  }

  /** Every gram and its weight (as stored: float32), bigrams and trigrams as strings. */
  *entries(): IterableIterator<[string, number]> {
    for (let slot = 0; slot <= this.mask; slot++) {
      const h = this.slots[slot * 4]!;
      if (h === -1) continue;
      const lo = this.slots[slot * 4 + 1]!;
      const tail = String.fromCharCode(lo >>> 16, lo & 0xffff);
      yield [h === 0 ? tail : String.fromCharCode(h - 1) + tail, this.weights[slot * 4 + 3]!];
    }
  }

  private insert(hi: number, lo: number, weight: number): void {
    let slot = hash(hi, lo) & this.mask;
    while (this.slots[slot * 4] !== -1 && !(this.slots[slot * 4] === hi && this.slots[slot * 4 + 1] === lo)) slot = (slot + 1) & this.mask;
    this.slots[slot * 4] = hi;
    this.slots[slot * 4 + 1] = lo;
    this.weights[slot * 4 + 3] = weight;
  }
}

function hash(hi: number, lo: number): number {
  let h = Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi + 0x7f4a7c15, 0x85ebca77);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 13);
}

/**
 * The units the grams are read from: the text with ASCII lowercased, each run of whitespace (and control
 * characters) one space, no space at either end. Returns how many units were written into `out`.
 */
export function gramUnits(text: string, out: Uint16Array): number {
  let n = 0;
  let space = false;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c <= 32) {
      space = n > 0;
      continue;
    }
    if (space) {
      out[n++] = 32;
      space = false;
    }
    if (c >= 65 && c <= 90) c += 32;
    out[n++] = c;
  }
  return n;
}

/** A scratch buffer for {@link gramUnits} big enough for `length` units. */
export function unitBuffer(current: Uint16Array<ArrayBuffer>, length: number): Uint16Array<ArrayBuffer> {
  if (current.length >= length) return current;
  let size = Math.max(256, current.length);
  while (size < length) size *= 2;
  return new Uint16Array(size);
}

/**
 * Walks the jieba pieces of a text and says, for each piece that is a feature, whether it lies in a negation's
 * scope: the {@link NEGATION_SCOPE} pieces after a negation, cut short by a clause break (punctuation, space).
 * Whitespace pieces are no feature. `flags` are the pieces' {@link TokenTable} flags by id.
 */
export function visitPieces(
  pieces: readonly string[],
  ids: Int32Array,
  count: number,
  flags: Uint8Array,
  visit: (index: number, negated: boolean) => void,
): void {
  let scope = 0;
  for (let i = 0; i < count; i++) {
    const f = flags[ids[i]!]!;
    if ((f & CLAUSE) !== 0) {
      scope = 0;
      if (pieces[i]!.charCodeAt(0) <= 32) continue;
    }
    visit(i, scope > 0);
    if ((f & NEGATION) !== 0) scope = NEGATION_SCOPE;
    else if (scope > 0) scope--;
  }
}

/** Every feature key of a text (no duplicates), as the trainer counts them; the analyzer computes the same sums. */
export function featureKeys(text: string, pieces: readonly string[], ids: Int32Array, count: number, flags: Uint8Array): string[] {
  const keys = new Set<string>();
  visitPieces(pieces, ids, count, flags, (i, negated) => keys.add((negated ? NEGATED_KEY : WORD_KEY) + pieces[i]!));
  const units = new Uint16Array(text.length);
  const n = gramUnits(text, units);
  for (let i = 0; i < n; i++) if (isCharFeature(units[i]!)) keys.add(CHAR_KEY + String.fromCharCode(units[i]!));
  for (let i = 0; i + 1 < n; i++) {
    keys.add(GRAM_KEY + String.fromCharCode(units[i]!, units[i + 1]!));
    if (i + 2 < n) keys.add(GRAM_KEY + String.fromCharCode(units[i]!, units[i + 1]!, units[i + 2]!));
  }
  return [...keys];
}

/** Whether a gram unit is a character feature: not the space, not half of a surrogate pair (no file could hold it). */
export function isCharFeature(unit: number): boolean {
  return unit !== 32 && (unit < 0xd800 || unit > 0xdfff);
}

/** The lexicon feature: the lexicon scorer's raw sum (emoticons left out) squashed into (−1, 1). */
export function lexiconFeature(lexiconSum: number): number {
  return Math.tanh(lexiconSum / 2);
}

const HEADER = '# tingfeng sentiment model';

/**
 * The model file: a header line, `key<TAB>value` lines for version, bias, lexicon_weight and hop_weight, then one
 * `w|n|u|c|e<TAB>feature<TAB>weight` line a feature (piece, negated piece, character, character gram, emoticon),
 * sorted, so the file diffs and rebuilds byte for byte.
 */
export function serializeSentimentModel(model: SentimentModel, comments: readonly string[] = []): string {
  const lines = [HEADER, ...comments.map((c) => `# ${c}`)];
  lines.push(`version\t${model.version}`, `bias\t${fmt(model.bias)}`, `lexicon_weight\t${fmt(model.lexiconWeight)}`);
  lines.push(`hop_weight\t${fmt(model.hopWeight)}`);
  const section = (tag: string, entries: Iterable<[string, number]>) => {
    const sorted = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [key, weight] of sorted) lines.push(`${tag}\t${key}\t${fmt(weight)}`);
  };
  section('w', model.words.entries());
  section('n', model.negated.entries());
  section('u', model.chars.entries());
  section('c', model.grams.entries());
  section('e', model.emoticons.entries());
  return lines.join('\n') + '\n';
}

/** Weights are kept to 4 decimals: finer would only grow the file. */
function fmt(x: number): string {
  const s = x.toFixed(4);
  return s === '-0.0000' ? '0.0000' : s;
}

/** Malformed model file. */
export class SentimentModelError extends Error {
  override name = 'SentimentModelError';
}

/** Parses a model file written by {@link serializeSentimentModel}. */
export function parseSentimentModel(text: string): SentimentModel {
  const lines = text.split('\n');
  if (lines[0] !== HEADER) throw new SentimentModelError(`not a sentiment model: the first line is not "${HEADER}"`);
  const scalars = new Map<string, string>();
  const words = new Map<string, number>();
  const negated = new Map<string, number>();
  const chars = new Map<string, number>();
  const grams: [string, number][] = [];
  const emoticons = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0 || line.startsWith('#')) continue;
    const parts = line.split('\t');
    if (parts.length === 2) {
      scalars.set(parts[0]!, parts[1]!);
      continue;
    }
    const weight = Number(parts[2]);
    if (parts.length !== 3 || !Number.isFinite(weight)) throw new SentimentModelError(`line ${i + 1}: expected "w|n|u|c|e<TAB>feature<TAB>weight"`);
    const [tag, key] = parts as [string, string];
    if (tag === 'w') words.set(key, weight);
    else if (tag === 'n') negated.set(key, weight);
    else if (tag === 'u' && key.length === 1) chars.set(key, weight);
    else if (tag === 'c') grams.push([key, weight]);
    else if (tag === 'e') emoticons.set(key, weight);
    else throw new SentimentModelError(`line ${i + 1}: unknown feature kind "${tag}"`);
  }
  const scalar = (name: string): number => {
    const value = Number(scalars.get(name));
    if (!scalars.has(name) || !Number.isFinite(value)) throw new SentimentModelError(`missing or bad "${name}"`);
    return value;
  };
  return {
    version: scalars.get('version') ?? 'unknown',
    bias: scalar('bias'),
    lexiconWeight: scalar('lexicon_weight'),
    hopWeight: scalar('hop_weight'),
    words,
    negated,
    chars,
    grams: new GramTable(grams),
    emoticons,
  };
}

/** Reads the model file (the shipped one by default). */
export function loadSentimentModel(path: string = SENTIMENT_MODEL_PATH): SentimentModel {
  return parseSentimentModel(readFileSync(path, 'utf8'));
}
