import type { EnrichedPost, Post } from '@tingfeng/contracts';
import { defaultIdfTable, loadIdfTable, topKeywords, type IdfTable } from './keywords.js';
import { extractMarkup, splitRepostChain } from './markup.js';
import { normalizeText } from './normalize.js';
import { Segmenter, type DictionaryReloadResult, type DictionaryWatchOptions } from './segment.js';
import { loadSentimentLexicon } from './sentiment.js';
import { loadSentimentModel } from './sentiment-model.js';
import { NO_VERDICT, SentimentScorer, type SentimentVerdict } from './sentiment-scorer.js';
import { compileSchemes, type Scheme, type SchemeMatcher } from './schemes/matcher.js';
import { detectSpam } from './spam.js';
import { KEYWORD, scratchIds, TOKEN, TokenTable } from './token-table.js';

/** Settings of {@link createAnalyzer}; every path defaults to the package's own files. */
export interface AnalyzerOptions {
  /** User dictionary for jieba (`word [tag]` a line). Default `packages/text/dict/user.dict.utf8`. */
  userDictPath?: string;
  /** Stopword list. Default `packages/text/dict/stopwords.txt`. */
  stopwordsPath?: string;
  /** idf file (`word idf` a line). Default jieba's own `idf.utf8` shipped with nodejieba. */
  idfPath?: string;
  /** Folder of the sentiment lexicon files. Default `packages/text/dict`. */
  lexiconDir?: string;
  /** The polarity model written by `pnpm train:sentiment`. Default `packages/text/model/sentiment-model.tsv`. */
  sentimentModelPath?: string;
  /** Most keywords kept per post. Default 8. */
  maxKeywords?: number;
  /** Reload the dictionary when its files change (fs.watch, debounced). Default off. */
  watchDictionary?: boolean | DictionaryWatchOptions;
  /** Monitoring schemes to tag posts with (see {@link Analyzer.setSchemes}). Default none. */
  schemes?: readonly Scheme[];
}

/** The analyzer: pure text logic, no I/O after construction except dictionary reloads. */
export interface Analyzer {
  /** Enriches one validated post. `receivedAtMs` (wall clock) is copied onto the result when given. */
  analyze(post: Post, receivedAtMs?: number): EnrichedPost;
  /**
   * Replaces the monitoring schemes; the next post is matched against the new ones. Malformed schemes are skipped
   * and listed in the returned matcher's `invalid`; it never throws for a bad rule.
   */
  setSchemes(schemes: readonly Scheme[]): SchemeMatcher;
  /** Rereads the user dictionary and stopwords; new words apply at once, removals rebuild jieba (~1 s). */
  reloadDictionary(): DictionaryReloadResult;
  /** Stops the dictionary watcher. Safe to call twice. */
  close(): void;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;
const NO_PIECES: readonly string[] = [];
/** What Weibo fills in for a repost without comment, and its usual shorthands: no words of the author's own. */
const REPOST_BOILERPLATE = new Set(['转发微博', '转发', '转', '转载', 'repost', 'rt']);

/** Whether a post's own words (markup removed) say anything: a letter or digit, and not just 转发微博. */
function hasOwnWords(bare: string, wordy = hasWordChar(bare)): boolean {
  if (!wordy) return false;
  if (bare.length > 12) return true;
  // Every boilerplate form holds 转 or an r (repost, rt): most short posts hold neither, and skip the regex.
  if (bare.indexOf('转') < 0 && bare.indexOf('r') < 0 && bare.indexOf('R') < 0) return true;
  return !REPOST_BOILERPLATE.has(bare.replace(/[^\p{L}\p{N}]/gu, '').toLowerCase());
}

/** WORD_CHAR.test without the regex engine for the usual text: CJK ideographs, ASCII letters and digits. */
function hasWordChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122)) return true;
    if (c >= 128 && !(c >= 0x3000 && c <= 0x303f) && !(c >= 0xff00 && c <= 0xffef)) return WORD_CHAR.test(text.slice(i));
  }
  return false;
}

/**
 * Builds an analyzer: loads jieba (once per process, ~0.5 s), the idf table (shared, ~150 ms) and the lexicon.
 * jieba's dictionary is process-wide, so analyzers in one process share user words.
 */
export function createAnalyzer(options: AnalyzerOptions = {}): Analyzer {
  const segmenter = new Segmenter({
    ...(options.userDictPath !== undefined && { userDictPath: options.userDictPath }),
    ...(options.stopwordsPath !== undefined && { stopwordsPath: options.stopwordsPath }),
  });
  const idf: IdfTable = options.idfPath !== undefined ? loadIdfTable(options.idfPath) : defaultIdfTable();
  const lexicon = loadSentimentLexicon(options.lexiconDir);
  const model = loadSentimentModel(options.sentimentModelPath);
  const scorer = new SentimentScorer(model, lexicon);
  const maxKeywords = options.maxKeywords ?? 8;
  if (options.watchDictionary) {
    segmenter.watchDictionary(options.watchDictionary === true ? {} : options.watchDictionary);
  }

  let schemes = compileSchemes(options.schemes ?? []);
  // One lookup per piece answers the token filter, the idf and the sentiment lexicon (see TokenTable).
  const table = new TokenTable({ lexicon, idf, model, isToken: (piece) => segmenter.isToken(piece) });
  let tableGeneration = segmenter.generation;
  let ids = new Int32Array(256);
  // Per-post keyword scores by id, reset lazily: `scoredIn[id]` is the post that last scored it.
  let postNumber = 0;
  let scoredIn = new Uint32Array(1024);
  let scoreSlot = new Int32Array(1024);
  const keywordWords: string[] = [];
  const keywordScores: number[] = [];

  function analyze(post: Post, receivedAtMs?: number): EnrichedPost {
    const normalized = normalizeText(post.text);
    const { ownText, repostChain } = splitRepostChain(normalized);
    const markup = extractMarkup(ownText);
    // One jieba pass: the pieces feed sentiment (which needs 不/没 and punctuation), the filtered tokens the rest.
    // Words without a letter or digit (empty, spaces, punctuation: 40 % of real posts are pure reposts, many more
    // only emoticons) give no token, keyword or sentiment piece: jieba is not asked.
    const wordy = hasWordChar(markup.bareText);
    const pieces = wordy ? segmenter.cut(markup.bareText) : NO_PIECES;
    if (segmenter.generation !== tableGeneration) {
      table.clear();
      tableGeneration = segmenter.generation;
    }
    table.beginPost();
    const count = pieces.length;
    ids = scratchIds(ids, count);
    if (scoredIn.length < table.flags.length + count) {
      scoredIn = new Uint32Array(2 * (table.flags.length + count));
      scoreSlot = new Int32Array(scoredIn.length);
    }
    // Post numbers start at 1 so a fresh `scoredIn` (all 0) means "not scored"; on wrap-around, start over.
    if (++postNumber === 0xffffffff) {
      scoredIn.fill(0);
      postNumber = 1;
    }
    keywordWords.length = 0;
    keywordScores.length = 0;
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const piece = pieces[i]!;
      const id = table.id(piece);
      ids[i] = id;
      // Read after id(): a new piece may have grown the table's arrays.
      const f = table.flags[id]!;
      if ((f & TOKEN) === 0) continue;
      tokens.push(piece);
      if ((f & KEYWORD) === 0) continue;
      if (scoredIn[id] !== postNumber) {
        scoredIn[id] = postNumber;
        scoreSlot[id] = keywordWords.length;
        keywordWords.push(piece);
        keywordScores.push(table.idf[id]!);
      } else keywordScores[scoreSlot[id]!]! += table.idf[id]!;
    }
    const verdict = detectSpam({
      ownText,
      bareText: markup.bareText,
      urls: markup.urls,
      mentions: markup.mentions,
      topics: markup.topics,
      emoticons: markup.emoticons,
    });
    // Copied with Object.assign, then the fields set one by one: a `{ ...post, ... }` literal measured several
    // times slower under tsx, and `Object.assign({}, post, { …fields })` builds a second object to copy from.
    const enriched = Object.assign({}, post) as EnrichedPost;
    enriched.ownText = ownText;
    enriched.tokens = tokens;
    enriched.keywords = maxKeywords > 0 ? topKeywords(keywordWords, keywordScores, keywordWords.length, maxKeywords) : [];
    enriched.emoticons = markup.emoticons;
    enriched.mentions = markup.mentions;
    enriched.topics = markup.topics;
    enriched.urls = markup.urls;
    enriched.repostChain = repostChain;
    enriched.spam = verdict.spam;
    enriched.sentiment = 0;
    // The whole text, repost hops included: a repost quoting a scheme's words is part of that conversation.
    enriched.schemes = schemes.names.length === 0 ? [] : schemes.matchNormalized(normalized, [post.author.id, post.author.name]);
    const polarity = sentimentOf(markup.bareText, wordy, pieces, count, markup.emoticons, repostChain);
    enriched.sentiment = polarity.sentiment;
    enriched.sentimentConfidence = polarity.confidence;
    if (verdict.reason !== undefined) enriched.spamReason = verdict.reason;
    if (receivedAtMs !== undefined) enriched.receivedAtMs = receivedAtMs;
    return enriched;
  }

  /**
   * The post's polarity from its own words (`ids` hold their pieces' ids) and emoticons, plus half the evidence of
   * the nearest quoted hop that says something. A repost whose own words are empty (or Weibo's default 转发微博)
   * endorses what it quotes: it takes that hop's polarity whole. Nothing anywhere: exactly 0.
   */
  function sentimentOf(
    bare: string,
    wordy: boolean,
    pieces: readonly string[],
    count: number,
    emoticons: readonly string[],
    chain: readonly { text: string }[],
  ): SentimentVerdict {
    const ownWords = hasOwnWords(bare, wordy);
    const hasOwn = ownWords || emoticons.length > 0;
    let evidence = 0;
    if (ownWords) evidence += scorer.textEvidence(bare, pieces, ids, count, table);
    if (emoticons.length > 0) evidence += scorer.emoticonEvidence(emoticons);
    for (const hop of chain) {
      if (hop.text.length === 0) continue;
      const quoted = extractMarkup(hop.text);
      const quotedWords = hasOwnWords(quoted.bareText);
      if (!quotedWords && quoted.emoticons.length === 0) continue;
      // Own pieces are read: their ids may be overwritten now.
      let hopEvidence = scorer.emoticonEvidence(quoted.emoticons);
      if (quotedWords) {
        const hopPieces = segmenter.cut(quoted.bareText);
        ids = scratchIds(ids, hopPieces.length);
        for (let i = 0; i < hopPieces.length; i++) ids[i] = table.id(hopPieces[i]!);
        hopEvidence += scorer.textEvidence(quoted.bareText, hopPieces, ids, hopPieces.length, table);
      }
      evidence += hasOwn ? model.hopWeight * hopEvidence : hopEvidence;
      return scorer.verdict(evidence);
    }
    return hasOwn ? scorer.verdict(evidence) : NO_VERDICT;
  }

  return {
    analyze,
    setSchemes(next) {
      schemes = compileSchemes(next);
      return schemes;
    },
    reloadDictionary: () => segmenter.reloadDictionary(),
    close: () => segmenter.unwatchDictionary(),
  };
}
