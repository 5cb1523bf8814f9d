import { resolve } from 'node:path';
import { DICT_DIR, readWordList } from './dict-files.js';
import { CLAUSE, DEGREE, EXCLAIM, NEGATION, PREFIX, scratchIds, TokenTable, WORD } from './token-table.js';

/** A sentiment lexicon: word weights (positive above 0), negations, degree multipliers, emoticon weights. */
export interface SentimentLexicon {
  words: ReadonlyMap<string, number>;
  negations: ReadonlySet<string>;
  degrees: ReadonlyMap<string, number>;
  emoticons: ReadonlyMap<string, number>;
  /** Every proper prefix of a lexicon word: a piece worth joining to the next one (see {@link scoreSentiment}). */
  prefixes: ReadonlySet<string>;
}

/** How far back (in jieba pieces, within one clause) a negation or degree adverb reaches. */
const MODIFIER_REACH = 3;
/** An exclamation mark strengthens its clause. */
const EXCLAMATION_FACTOR = 1.4;
/** A negated word counts a little less than its opposite would (不好 is milder than 坏). */
const NEGATED_FACTOR = 0.8;
/** Raw sums are squashed with tanh(sum / SCALE) into (−1, 1): one plain word gives ±0.46, one emoticon ±0.76. */
const SCALE = 2;

/**
 * Loads the lexicon from a folder holding positive.txt, negative.txt, negation.txt, degree.txt and emoticons.tsv
 * (the package's `dict/` by default). See the package README for where the lists come from.
 */
export function loadSentimentLexicon(dir: string = DICT_DIR): SentimentLexicon {
  const words = new Map<string, number>();
  for (const [file, sign] of [
    ['positive.txt', 1],
    ['negative.txt', -1],
  ] as const) {
    for (const line of readWordList(resolve(dir, file))) {
      const [word, weight] = line.split(/\s+/);
      if (word === undefined) continue;
      words.set(word.toLowerCase(), sign * (weight === undefined ? 1 : Number(weight)));
    }
  }
  const negations = new Set(readWordList(resolve(dir, 'negation.txt')));
  const degrees = new Map<string, number>();
  for (const line of readWordList(resolve(dir, 'degree.txt'))) {
    const [word, factor] = line.split(/\s+/);
    if (word !== undefined && factor !== undefined) degrees.set(word, Number(factor));
  }
  const emoticons = new Map<string, number>();
  for (const line of readWordList(resolve(dir, 'emoticons.tsv'))) {
    const [name, weight] = line.split('\t');
    if (name !== undefined && weight !== undefined) emoticons.set(name.toLowerCase(), Number(weight));
  }
  const prefixes = new Set<string>();
  for (const word of words.keys()) for (let i = 1; i < word.length; i++) prefixes.add(word.slice(0, i));
  return { words, negations, degrees, emoticons, prefixes };
}

/**
 * Scores jieba pieces (the unfiltered output of `Segmenter.cut`, punctuation included) and emoticon names.
 * Per clause: each lexicon word's weight, flipped by a negation and scaled by degree adverbs in the three pieces
 * before it, the clause strengthened by `!`; emoticon weights are added; the sum is squashed into [−1, 1].
 * Returns 0 when nothing carries sentiment.
 */
export function scoreSentiment(pieces: readonly string[], emoticons: readonly string[], lexicon: SentimentLexicon): number {
  let table = tables.get(lexicon);
  if (table === undefined) {
    table = new TokenTable({ lexicon });
    tables.set(lexicon, table);
  }
  table.beginPost();
  scratch = scratchIds(scratch, pieces.length);
  for (let i = 0; i < pieces.length; i++) scratch[i] = table.id(pieces[i]!);
  return scoreSentimentIds(pieces, scratch, pieces.length, table, emoticons, lexicon);
}

const tables = new WeakMap<SentimentLexicon, TokenTable>();
let scratch = new Int32Array(256);

/**
 * {@link scoreSentiment} on pieces already looked up in a {@link TokenTable} built on `lexicon`: `ids[i]` is the
 * id of `pieces[i]`, for the first `count` pieces. The analyzer's path, which shares the lookups with the tokens.
 */
export function scoreSentimentIds(
  pieces: readonly string[],
  ids: Int32Array,
  count: number,
  table: TokenTable,
  emoticons: readonly string[],
  lexicon: SentimentLexicon,
): number {
  let total = lexiconSum(pieces, ids, count, table, lexicon);
  for (const name of emoticons) total += lexicon.emoticons.get(name.toLowerCase()) ?? 0;
  if (total === 0) return 0;
  return Math.tanh(total / SCALE);
}

/**
 * The lexicon's raw sum over the pieces, emoticons left out: per clause, each word's weight flipped by a negation
 * and scaled by degree adverbs in the three pieces before it, the clause strengthened by `!`. 0 when no lexicon
 * word occurs. The sentiment model reads it as one feature.
 */
export function lexiconSum(pieces: readonly string[], ids: Int32Array, count: number, table: TokenTable, lexicon: SentimentLexicon): number {
  const flags = table.flags;
  let total = 0;
  let clause = 0;
  let clauseStart = 0;
  for (let i = 0; i < count; i++) {
    const id = ids[i]!;
    const f = flags[id]!;
    if ((f & CLAUSE) !== 0) {
      total += (f & EXCLAIM) !== 0 ? clause * EXCLAMATION_FACTOR : clause;
      clause = 0;
      clauseStart = i + 1;
      continue;
    }
    // jieba sometimes splits a lexicon word (e.g. a new compound): try the piece joined to the next one first.
    const wordStart = i;
    const hasNext = i + 1 < count;
    const joined = hasNext && (f & PREFIX) !== 0 ? lexicon.words.get(pieces[i]! + pieces[i + 1]!) : undefined;
    let weight: number;
    if (joined !== undefined) {
      weight = joined;
      i++;
    } else {
      if ((f & WORD) === 0) continue;
      weight = table.weight[id]!;
      // 好 in 好开心 is a degree adverb, not a second positive word.
      if (hasNext && (f & DEGREE) !== 0 && (flags[ids[i + 1]!]! & WORD) !== 0) continue;
    }
    let factor = 1;
    for (let j = wordStart - 1; j >= clauseStart && j >= wordStart - MODIFIER_REACH; j--) {
      const before = ids[j]!;
      const fb = flags[before]!;
      if ((fb & NEGATION) !== 0) factor *= -NEGATED_FACTOR;
      else if ((fb & DEGREE) !== 0) factor *= table.degree[before]!;
    }
    clause += weight * factor;
  }
  return total + clause;
}
