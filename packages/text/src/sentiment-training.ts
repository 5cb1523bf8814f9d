import { extractMarkup, splitRepostChain } from './markup.js';
import { normalizeText } from './normalize.js';
import type { Segmenter } from './segment.js';
import { CHAR_KEY, featureKeys, GramTable, GRAM_KEY, lexiconFeature, NEGATED_KEY, WORD_KEY, type SentimentModel } from './sentiment-model.js';
import { lexiconSum, type SentimentLexicon } from './sentiment.js';
import { scratchIds, TokenTable } from './token-table.js';

/** An emoticon labels a post when its lexicon weight is at least this strong (`[哈哈]` 2, `[泪]` −2; not `[汗]` −1). */
export const LABEL_EMOTICON_WEIGHT = 1.5;

/** One distantly labelled text: a post's own words with its emoticons taken out. */
export interface TrainingExample {
  text: string;
  /** 1 positive, 0 negative. */
  label: 0 | 1;
  /** The cascade (root post) it belongs to: the held-out parts are whole cascades, so no topic leaks across. */
  group: string;
  /** The post's own emoticons, lowercased, each once (the labelling ones and any weaker ones beside them). */
  emoticons: string[];
}

/** What labelling did with the posts it read. */
export interface LabelStats {
  posts: number;
  /** Posts whose own words hold at least one emoticon. */
  withEmoticon: number;
  /** Both strong positive and strong negative emoticons: dropped. */
  mixed: number;
  /** Only emoticons weaker than {@link LABEL_EMOTICON_WEIGHT} (`[吃惊]`, `[围观]`, `[汗]`): dropped. */
  weakOnly: number;
  /** Nothing but emoticons and markup once they are taken out: dropped. */
  noWords: number;
  /** The same words as an earlier labelled post: dropped. */
  duplicate: number;
  positive: number;
  negative: number;
}

/**
 * Distant labels from emoticons, the way weibo_senti_100k was labelled: a post whose own words carry only strong
 * positive or only strong negative emoticons is positive or negative; the emoticons are removed from the text
 * learnt from, so the model learns what the words say. Duplicated texts count once.
 */
export function labelPosts(
  posts: Iterable<{ id: string; text: string; rootId?: string | undefined }>,
  lexicon: SentimentLexicon,
): { examples: TrainingExample[]; stats: LabelStats } {
  const stats: LabelStats = { posts: 0, withEmoticon: 0, mixed: 0, weakOnly: 0, noWords: 0, duplicate: 0, positive: 0, negative: 0 };
  const examples: TrainingExample[] = [];
  const seen = new Set<string>();
  for (const post of posts) {
    stats.posts++;
    const { ownText } = splitRepostChain(normalizeText(post.text));
    const markup = extractMarkup(ownText);
    if (markup.emoticons.length === 0) continue;
    stats.withEmoticon++;
    let positive = 0;
    let negative = 0;
    for (const name of markup.emoticons) {
      const weight = lexicon.emoticons.get(name.toLowerCase()) ?? 0;
      if (weight >= LABEL_EMOTICON_WEIGHT) positive++;
      else if (weight <= -LABEL_EMOTICON_WEIGHT) negative++;
    }
    if (positive > 0 && negative > 0) {
      stats.mixed++;
      continue;
    }
    if (positive === 0 && negative === 0) {
      stats.weakOnly++;
      continue;
    }
    const text = markup.bareText.replace(/\s+/g, ' ').trim();
    if (!/[\p{L}\p{N}]/u.test(text)) {
      stats.noWords++;
      continue;
    }
    if (seen.has(text)) {
      stats.duplicate++;
      continue;
    }
    seen.add(text);
    const label = positive > 0 ? 1 : 0;
    if (label === 1) stats.positive++;
    else stats.negative++;
    examples.push({ text, label, group: post.rootId ?? post.id, emoticons: [...new Set(markup.emoticons.map((e) => e.toLowerCase()))] });
  }
  return { examples, stats };
}

/** Which part of the data a cascade falls in: 10 % test, 10 % dev (choosing the regularisation), 80 % train. */
export function splitOfGroup(group: string): 'train' | 'dev' | 'test' {
  const bucket = mix(group) % 10;
  return bucket === 0 ? 'test' : bucket === 1 ? 'dev' : 'train';
}

/** How often an emoticon stands beside labelling emoticons of one side only: `[positive, negative]` posts. */
export type Cooccurrence = Map<string, [number, number]>;

/**
 * For every emoticon of the posts' own words, the posts in which the *other* emoticons beside it include labelling
 * ones (lexicon weight ≥ {@link LABEL_EMOTICON_WEIGHT}) of one side only, counted per side. `include` picks the
 * cascades to count (the training part), so the held-out parts stay unseen.
 */
export function emoticonCooccurrence(
  posts: Iterable<{ id: string; text: string; rootId?: string | undefined }>,
  lexicon: SentimentLexicon,
  include: (group: string) => boolean,
): Cooccurrence {
  const counts: Cooccurrence = new Map();
  for (const post of posts) {
    if (!include(post.rootId ?? post.id)) continue;
    const own = splitRepostChain(normalizeText(post.text)).ownText;
    if (own.indexOf('[') < 0) continue;
    const names = [...new Set(extractMarkup(own).emoticons.map((e) => e.toLowerCase()))];
    if (names.length < 2) continue;
    for (const name of names) {
      let positive = 0;
      let negative = 0;
      for (const other of names) {
        if (other === name) continue;
        const weight = lexicon.emoticons.get(other) ?? 0;
        if (weight >= LABEL_EMOTICON_WEIGHT) positive++;
        else if (weight <= -LABEL_EMOTICON_WEIGHT) negative++;
      }
      if ((positive > 0) === (negative > 0)) continue;
      const c = counts.get(name) ?? [0, 0];
      c[positive > 0 ? 0 : 1]++;
      counts.set(name, c);
    }
  }
  return counts;
}

/** An emoticon absent from the lexicon gets a learnt weight when it stands beside labelling ones this often. */
export const MIN_COOCCURRENCE = 20;

/**
 * Lexicon-scale weights for emoticons the lexicon does not list, from {@link emoticonCooccurrence}: the log-odds
 * of standing beside positive rather than negative labelling emoticons (add-2 smoothed, less the base rate
 * `log(positive / negative)` of the labelled posts), divided by the same log-odds of the labelling emoticons
 * themselves (their mean, signed, weighted by count) and multiplied by 2, a labelling emoticon's usual weight.
 * So an unlisted emoticon that keeps company like `[哈哈]` gets about 2, one seen on both sides about 0.
 */
export function learnEmoticonWeights(counts: Cooccurrence, lexicon: SentimentLexicon, baseLogOdds: number): Map<string, number> {
  const logOdds = ([p, n]: [number, number]) => Math.log((p + 2) / (n + 2)) - baseLogOdds;
  let reference = 0;
  let total = 0;
  for (const [name, c] of counts) {
    const weight = lexicon.emoticons.get(name) ?? 0;
    if (Math.abs(weight) < LABEL_EMOTICON_WEIGHT || c[0] + c[1] < MIN_COOCCURRENCE) continue;
    reference += Math.sign(weight) * logOdds(c) * (c[0] + c[1]);
    total += c[0] + c[1];
  }
  const learnt = new Map<string, number>();
  if (total === 0 || reference <= 0) return learnt;
  reference /= total;
  for (const [name, c] of counts) {
    if (lexicon.emoticons.has(name) || c[0] + c[1] < MIN_COOCCURRENCE) continue;
    learnt.set(name, (2 * logOdds(c)) / reference);
  }
  return learnt;
}

/**
 * The scale s minimising the log loss of `base + s · extra` on held-out rows (golden-section search on
 * [0, maxScale]): how many logits a unit of weak-emoticon weight is worth beside the words.
 */
export function fitScale(base: Float64Array, extra: Float64Array, labels: Uint8Array, maxScale = 8): number {
  const loss = (s: number) => {
    let sum = 0;
    for (let i = 0; i < base.length; i++) {
      const m = (labels[i] === 1 ? 1 : -1) * (base[i]! + s * extra[i]!);
      sum += m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
    }
    return sum;
  };
  let a = 0;
  let b = maxScale;
  const ratio = (Math.sqrt(5) - 1) / 2;
  for (let k = 0; k < 60; k++) {
    const c = b - ratio * (b - a);
    const d = a + ratio * (b - a);
    if (loss(c) < loss(d)) b = d;
    else a = c;
  }
  return (a + b) / 2;
}

/**
 * The model's emoticon evidence (logits): a labelling emoticon (|lexicon weight| ≥ {@link LABEL_EMOTICON_WEIGHT})
 * its weight times `strongScale`, a weaker listed one its weight times `weakScale`, an unlisted one its learnt
 * weight times `weakScale`. Rounded to 4 decimals like every weight of the file.
 */
export function emoticonEvidence(lexicon: SentimentLexicon, learnt: ReadonlyMap<string, number>, strongScale: number, weakScale: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, weight] of lexicon.emoticons) out.set(name, weight * (Math.abs(weight) >= LABEL_EMOTICON_WEIGHT ? strongScale : weakScale));
  for (const [name, weight] of learnt) out.set(name, weight * weakScale);
  for (const [name, weight] of out) if (Math.abs(weight) < 0.00005) out.delete(name);
  return out;
}

/** FNV-1a with a murmur finaliser: plain FNV-1a's low bits follow the parity of short ids' characters. */
function mix(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** A featurised example: the indices of its binary features and its lexicon feature. */
export interface FeatureRow {
  features: Int32Array;
  lexicon: number;
  label: 0 | 1;
}

/** Texts as feature keys and lexicon values, computed exactly as the analyzer's scorer reads them. */
export class Featurizer {
  private readonly table: TokenTable;
  private ids = new Int32Array(256);

  constructor(
    private readonly segmenter: Segmenter,
    private readonly lexicon: SentimentLexicon,
  ) {
    this.table = new TokenTable({ lexicon, isToken: (piece) => segmenter.isToken(piece) });
  }

  features(text: string): { keys: string[]; lexicon: number } {
    const pieces = this.segmenter.cut(text);
    this.table.beginPost();
    this.ids = scratchIds(this.ids, pieces.length);
    for (let i = 0; i < pieces.length; i++) this.ids[i] = this.table.id(pieces[i]!);
    const keys = featureKeys(text, pieces, this.ids, pieces.length, this.table.flags);
    const sum = lexiconSum(pieces, this.ids, pieces.length, this.table, this.lexicon);
    return { keys, lexicon: sum === 0 ? 0 : lexiconFeature(sum) };
  }
}

/** Options of {@link trainLogistic}. */
export interface LogisticOptions {
  /** L2 penalty on the feature weights (not the bias nor the lexicon weight). */
  l2: number;
  /** Per-example weights (class balancing). */
  weights: Float64Array;
  maxIterations?: number;
}

/**
 * L2-regularised logistic regression by L-BFGS on the full batch: deterministic (no sampling; the same sums in the
 * same order) and, the loss being strictly convex, the same optimum whatever the start. Returns the weights:
 * `dimension` feature weights, then the lexicon weight, then the bias.
 */
export function trainLogistic(rows: readonly FeatureRow[], dimension: number, options: LogisticOptions): { weights: Float64Array; iterations: number; loss: number } {
  const size = dimension + 2;
  const lexicon = dimension;
  const bias = dimension + 1;
  const { l2, weights } = options;
  const lossAndGradient = (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      const features = row.features;
      let z = w[bias]! + w[lexicon]! * row.lexicon;
      for (let i = 0; i < features.length; i++) z += w[features[i]!]!;
      const y = row.label === 1 ? 1 : -1;
      const m = y * z;
      const c = weights[r]!;
      loss += c * (m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m)));
      const s = (-y * c) / (1 + Math.exp(m));
      for (let i = 0; i < features.length; i++) g[features[i]!]! += s;
      g[lexicon]! += s * row.lexicon;
      g[bias]! += s;
    }
    for (let i = 0; i < dimension; i++) {
      loss += 0.5 * l2 * w[i]! * w[i]!;
      g[i]! += l2 * w[i]!;
    }
    return loss;
  };
  return minimizeLbfgs(lossAndGradient, size, options.maxIterations ?? 400);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** L-BFGS (memory 10) with a backtracking Armijo line search; stops when the loss improves by < 1e-8 relative. */
function minimizeLbfgs(f: (w: Float64Array, g: Float64Array) => number, size: number, maxIterations: number) {
  const memory = 10;
  let w = new Float64Array(size);
  let g = new Float64Array(size);
  let loss = f(w, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  let iterations = 0;
  const q = new Float64Array(size);
  while (iterations < maxIterations) {
    iterations++;
    q.set(g);
    const alpha: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      const a = rho[k]! * dot(S[k]!, q);
      alpha[k] = a;
      const y = Y[k]!;
      for (let i = 0; i < size; i++) q[i]! -= a * y[i]!;
    }
    const last = S.length - 1;
    const gamma = last >= 0 ? dot(S[last]!, Y[last]!) / dot(Y[last]!, Y[last]!) : 1 / Math.sqrt(dot(g, g));
    for (let i = 0; i < size; i++) q[i]! *= gamma;
    for (let k = 0; k < S.length; k++) {
      const b = rho[k]! * dot(Y[k]!, q);
      const s = S[k]!;
      for (let i = 0; i < size; i++) q[i]! += s[i]! * (alpha[k]! - b);
    }
    // Direction −q; a descent direction as long as the curvature pairs kept are positive.
    const slope = -dot(g, q);
    let step = 1;
    const next = new Float64Array(size);
    const nextG = new Float64Array(size);
    let nextLoss: number;
    for (;;) {
      for (let i = 0; i < size; i++) next[i] = w[i]! - step * q[i]!;
      nextLoss = f(next, nextG);
      if (nextLoss <= loss + 1e-4 * step * slope || step < 1e-10) break;
      step *= 0.5;
    }
    const s = new Float64Array(size);
    const y = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      s[i] = next[i]! - w[i]!;
      y[i] = nextG[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > memory) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    const improvement = (loss - nextLoss) / Math.max(1, Math.abs(nextLoss));
    w = next;
    g = nextG;
    loss = nextLoss;
    if (improvement < 1e-8) break;
  }
  return { weights: w, iterations, loss };
}

/** The logit of a row under trained weights (see {@link trainLogistic} for the layout). */
export function rowLogit(w: Float64Array, dimension: number, row: FeatureRow): number {
  let z = w[dimension + 1]! + w[dimension]! * row.lexicon;
  for (let i = 0; i < row.features.length; i++) z += w[row.features[i]!]!;
  return z;
}

/**
 * The temperature T that minimises the log loss of `logit / T` on held-out rows (golden-section search on
 * [0.25, 4]): a model fitted with an L2 penalty is usually over- or under-confident, and dividing its weights by T
 * makes its probabilities mean what they say on data it has not seen.
 */
export function fitTemperature(logits: Float64Array, labels: Uint8Array): number {
  const loss = (t: number) => {
    let sum = 0;
    for (let i = 0; i < logits.length; i++) {
      const m = (labels[i] === 1 ? 1 : -1) * (logits[i]! / t);
      sum += m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
    }
    return sum;
  };
  let a = 0.25;
  let b = 4;
  const ratio = (Math.sqrt(5) - 1) / 2;
  for (let k = 0; k < 60; k++) {
    const c = b - ratio * (b - a);
    const d = a + ratio * (b - a);
    if (loss(c) < loss(d)) b = d;
    else a = c;
  }
  return (a + b) / 2;
}

/** Builds the model from trained weights: features whose weight rounds to 0 are left out. */
export function buildModel(
  vocabulary: readonly string[],
  w: Float64Array,
  scalars: { version: string; temperature: number; hopWeight: number; emoticons: ReadonlyMap<string, number> },
): SentimentModel {
  const dimension = vocabulary.length;
  const t = scalars.temperature;
  const words = new Map<string, number>();
  const negated = new Map<string, number>();
  const chars = new Map<string, number>();
  const grams: [string, number][] = [];
  for (let i = 0; i < dimension; i++) {
    const weight = w[i]! / t;
    if (Math.abs(weight) < 0.00005) continue;
    const key = vocabulary[i]!;
    const feature = key.slice(2);
    if (key.startsWith(WORD_KEY)) words.set(feature, weight);
    else if (key.startsWith(NEGATED_KEY)) negated.set(feature, weight);
    else if (key.startsWith(CHAR_KEY)) chars.set(feature, weight);
    else if (key.startsWith(GRAM_KEY)) grams.push([feature, weight]);
  }
  return {
    version: scalars.version,
    bias: w[dimension + 1]! / t,
    lexiconWeight: w[dimension]! / t,
    hopWeight: scalars.hopWeight,
    words,
    negated,
    chars,
    grams: new GramTable(grams),
    emoticons: new Map(scalars.emoticons),
  };
}
