import type { IdfTable } from './keywords.js';

/**
 * The parts of a sentiment lexicon the table reads (a `SentimentLexicon` fits); declared here so that sentiment.ts,
 * which builds on this table, is not imported back.
 */
export interface LexiconFacts {
  words: ReadonlyMap<string, number>;
  negations: ReadonlySet<string>;
  degrees: ReadonlyMap<string, number>;
  prefixes: ReadonlySet<string>;
}

/** A jieba piece that is a token (not a stopword, whitespace, punctuation or a one- or two-digit number). */
export const TOKEN = 1;
/** A token of two characters or more: a keyword candidate. */
export const KEYWORD = 2;
/** A clause break for sentiment (punctuation, whitespace). */
export const CLAUSE = 4;
/** `!` or `！`: strengthens its clause. */
export const EXCLAIM = 8;
/** A proper prefix of a lexicon word: worth joining to the next piece. */
export const PREFIX = 16;
/** A lexicon word; its weight is in {@link TokenTable.weight}. */
export const WORD = 32;
/** A degree adverb; its factor is in {@link TokenTable.degree}. */
export const DEGREE = 64;
/** A negation. */
export const NEGATION = 128;

/** Slots of the two-unit table (a power of two); its hash keeps the top log2(PAIR_SLOTS) bits. */
const PAIR_SLOTS = 1 << 17;
const PAIR_SHIFT = 32 - 17;

const CLAUSE_BREAK = new Set([',', '.', '!', '?', ';', ':', '，', '。', '！', '？', '；', '：', '、', '…', '~', '～', '\n', ' ']);

/** Where a table's facts come from; the token and idf parts are optional (sentiment alone needs neither). */
export interface TokenTableSources {
  lexicon: LexiconFacts;
  isToken?: (piece: string) => boolean;
  idf?: IdfTable;
  /** The sentiment model's piece weights (plain and negated); see sentiment-model.ts. */
  model?: { words: ReadonlyMap<string, number>; negated: ReadonlyMap<string, number> };
}

/**
 * Everything the analyzer asks about a jieba piece (stopword? lexicon word? negation? idf?), answered once per
 * distinct piece and kept under a small integer id. A post then costs one Map lookup per piece instead of five or
 * six spread over sets and maps, and the hot entries stay in cache: the 260k-word idf Map is only read the first
 * time a word is seen, where before every lookup walked a structure of many megabytes the native segmenter had just
 * pushed out of the CPU cache.
 *
 * Bounded: {@link beginPost} empties the table when it holds more than `maxEntries` pieces, so a long-running worker
 * does not grow with its vocabulary. Ids are valid until the next `beginPost`.
 */
export class TokenTable {
  flags: Uint8Array<ArrayBuffer> = new Uint8Array(1024);
  idf: Float64Array<ArrayBuffer> = new Float64Array(1024);
  weight: Float64Array<ArrayBuffer> = new Float64Array(1024);
  degree: Float64Array<ArrayBuffer> = new Float64Array(1024);
  /** The sentiment model's weight of the piece read plain, and read within a negation's scope (0 if unknown). */
  wordWeight: Float64Array<ArrayBuffer> = new Float64Array(1024);
  negatedWeight: Float64Array<ArrayBuffer> = new Float64Array(1024);
  /** The piece of each id. */
  words: string[] = [];
  private readonly ids = new Map<string, number>();
  /**
   * Ids of one- and two-unit pieces (most of jieba's output) by their UTF-16 units, so the common case hashes no
   * string: jieba's pieces are fresh strings, and a Map lookup hashes each one and then compares it with the stored
   * key, a second cache miss. `singles[unit]` is the id + 1 (0: not seen); `pairs` is open addressing, two words a
   * slot: the key `a << 16 | b` (0: empty, as no piece starts with U+0000 here) and the id.
   */
  private readonly singles = new Int32Array(65536);
  private readonly pairs = new Int32Array(PAIR_SLOTS * 2);
  private pairCount = 0;

  constructor(
    private readonly sources: TokenTableSources,
    private readonly maxEntries = 200_000,
  ) {}

  /** Call before each post: empties the table when it has grown past its bound. */
  beginPost(): void {
    if (this.words.length > this.maxEntries) this.clear();
  }

  /** Forgets every piece (after a stopword reload, say). */
  clear(): void {
    this.ids.clear();
    this.words = [];
    this.singles.fill(0);
    this.pairs.fill(0);
    this.pairCount = 0;
  }

  /** The id of a piece, classifying it the first time it is seen. */
  id(piece: string): number {
    const n = piece.length;
    if (n === 1) {
      const unit = piece.charCodeAt(0);
      const known = this.singles[unit]!;
      if (known !== 0) return known - 1;
      const id = this.lookup(piece);
      this.singles[unit] = id + 1;
      return id;
    }
    if (n === 2) {
      const key = (piece.charCodeAt(0) << 16) | piece.charCodeAt(1);
      if (key !== 0) {
        const pairs = this.pairs;
        let at = (Math.imul(key, 0x9e3779b1) >>> PAIR_SHIFT) << 1;
        for (;;) {
          const k = pairs[at]!;
          if (k === key) return pairs[at + 1]!;
          if (k === 0) break;
          at = (at + 2) & (PAIR_SLOTS * 2 - 1);
        }
        const id = this.lookup(piece);
        // Kept at most half full; past that, two-unit pieces go through the Map.
        if (this.pairCount < PAIR_SLOTS / 2) {
          pairs[at] = key;
          pairs[at + 1] = id;
          this.pairCount++;
        }
        return id;
      }
    }
    return this.lookup(piece);
  }

  private lookup(piece: string): number {
    const known = this.ids.get(piece);
    return known === undefined ? this.add(piece) : known;
  }

  private add(piece: string): number {
    const id = this.words.length;
    if (id === this.flags.length) this.grow();
    const { lexicon, isToken, idf, model } = this.sources;
    let f = 0;
    if (isToken?.(piece)) f |= piece.length >= 2 ? TOKEN | KEYWORD : TOKEN;
    if (CLAUSE_BREAK.has(piece) || piece.charCodeAt(0) <= 32) f |= CLAUSE;
    if (piece === '!' || piece === '！') f |= EXCLAIM;
    if (lexicon.prefixes.has(piece)) f |= PREFIX;
    const weight = lexicon.words.get(piece);
    if (weight !== undefined) {
      f |= WORD;
      this.weight[id] = weight;
    }
    const degree = lexicon.degrees.get(piece);
    if (degree !== undefined) {
      f |= DEGREE;
      this.degree[id] = degree;
    }
    if (lexicon.negations.has(piece)) f |= NEGATION;
    if (idf !== undefined) this.idf[id] = idf.idf.get(piece) ?? idf.medianIdf;
    if (model !== undefined) {
      this.wordWeight[id] = model.words.get(piece) ?? 0;
      this.negatedWeight[id] = model.negated.get(piece) ?? 0;
    }
    this.flags[id] = f;
    this.words.push(piece);
    this.ids.set(piece, id);
    return id;
  }

  private grow(): void {
    const size = this.flags.length * 2;
    const flags = new Uint8Array(size);
    flags.set(this.flags);
    this.flags = flags;
    for (const name of ['idf', 'weight', 'degree', 'wordWeight', 'negatedWeight'] as const) {
      const next = new Float64Array(size);
      next.set(this[name]);
      this[name] = next;
    }
  }
}

/** A reusable Int32Array of at least `length` entries (ids of one post's pieces). */
export function scratchIds(current: Int32Array<ArrayBuffer>, length: number): Int32Array<ArrayBuffer> {
  if (current.length >= length) return current;
  let size = current.length * 2;
  while (size < length) size *= 2;
  return new Int32Array(size);
}
