import { lexiconFeature, gramUnits, isCharFeature, NEGATION_SCOPE, unitBuffer, type SentimentModel } from './sentiment-model.js';
import { lexiconSum, type SentimentLexicon } from './sentiment.js';
import { CLAUSE, NEGATION, type TokenTable } from './token-table.js';

/** A post's polarity: `sentiment` in (−1, 1), and how sure the model is of its sign. */
export interface SentimentVerdict {
  /** 2p − 1, p the probability that the post is positive; exactly 0 when there was nothing to read. */
  sentiment: number;
  /** The probability that the sign of `sentiment` is right, max(p, 1 − p): 0.5 is a coin toss. */
  confidence: number;
}

/** Nothing to read: no own words, no emoticon, no quoted words. */
export const NO_VERDICT: SentimentVerdict = { sentiment: 0, confidence: 0.5 };

/**
 * Scores texts with a {@link SentimentModel} on pieces already looked up in a {@link TokenTable} built with that
 * model (`new TokenTable({ lexicon, model, … })`), so a post costs one typed-array read per piece and one hash
 * probe per character gram (a character, one array read); no strings are built. Gives the same sums as the trainer's {@link featureKeys}.
 */
export class SentimentScorer {
  private units: Uint16Array<ArrayBuffer> = new Uint16Array(256);
  private wordStamps = new Uint32Array(1024);
  private negatedStamps = new Uint32Array(1024);
  private stamp = 0;
  /** Character weights by UTF-16 unit, and the text that last counted each (a character counts once a text). */
  private readonly charWeight = new Float32Array(65536);
  private readonly charStamps = new Uint32Array(65536);

  constructor(
    readonly model: SentimentModel,
    readonly lexicon: SentimentLexicon,
  ) {
    for (const [char, weight] of model.chars) if (char.length === 1 && isCharFeature(char.charCodeAt(0))) this.charWeight[char.charCodeAt(0)] = weight;
  }

  /** The evidence of a text (its logit less the bias), emoticons left out; 0 for a text with no feature. */
  textEvidence(text: string, pieces: readonly string[], ids: Int32Array, count: number, table: TokenTable): number {
    const flags = table.flags;
    if (this.wordStamps.length < flags.length) {
      this.wordStamps = new Uint32Array(flags.length);
      this.negatedStamps = new Uint32Array(flags.length);
    }
    if (++this.stamp === 0xffffffff) {
      this.wordStamps.fill(0);
      this.negatedStamps.fill(0);
      this.charStamps.fill(0);
      this.stamp = 1;
    }
    const stamp = this.stamp;
    const wordWeight = table.wordWeight;
    const negatedWeight = table.negatedWeight;
    let z = 0;
    // The negation scope of visitPieces(), inlined: this runs on every post.
    let scope = 0;
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      const f = flags[id]!;
      if ((f & CLAUSE) !== 0) {
        scope = 0;
        if (pieces[i]!.charCodeAt(0) <= 32) continue;
      }
      if (scope > 0) {
        if (this.negatedStamps[id] !== stamp) {
          this.negatedStamps[id] = stamp;
          z += negatedWeight[id]!;
        }
      } else if (this.wordStamps[id] !== stamp) {
        this.wordStamps[id] = stamp;
        z += wordWeight[id]!;
      }
      if ((f & NEGATION) !== 0) scope = NEGATION_SCOPE;
      else if (scope > 0) scope--;
    }
    const grams = this.model.grams;
    grams.begin();
    this.units = unitBuffer(this.units, text.length);
    const units = this.units;
    const n = gramUnits(text, units);
    // One pass: the character at i (its weight is 0 for the space and surrogates, so only a known character reads
    // its stamp), then the bigram and trigram starting there.
    const charWeight = this.charWeight;
    const charStamps = this.charStamps;
    for (let i = 0; i < n; i++) {
      const a = units[i]!;
      const w = charWeight[a]!;
      if (w !== 0 && charStamps[a] !== stamp) {
        charStamps[a] = stamp;
        z += w;
      }
      if (i + 1 === n) break;
      const b = units[i + 1]!;
      z += grams.take(0, (a << 16) | b);
      if (i + 2 < n) z += grams.take(a + 1, (b << 16) | units[i + 2]!);
    }
    const lexicon = lexiconSum(pieces, ids, count, table, this.lexicon);
    if (lexicon !== 0) z += this.model.lexiconWeight * lexiconFeature(lexicon);
    return z;
  }

  /** The evidence of emoticons (each listed once): the sum of their weights in the model. */
  emoticonEvidence(emoticons: readonly string[]): number {
    let sum = 0;
    const weights = this.model.emoticons;
    for (const name of emoticons) sum += weights.get(name) ?? weights.get(name.toLowerCase()) ?? 0;
    return sum;
  }

  /** The verdict for a total evidence: the logit is bias + evidence. */
  verdict(evidence: number): SentimentVerdict {
    const z = this.model.bias + evidence;
    return { sentiment: Math.tanh(z / 2), confidence: 1 / (1 + Math.exp(-Math.abs(z))) };
  }
}
