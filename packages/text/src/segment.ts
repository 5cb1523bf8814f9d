import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import nodejieba from 'nodejieba';
import { DICT_DIR, readWordList } from './dict-files.js';


/**
 * Only what segmentation needs. Keywords are scored in JS over the tokens already cut and stopwords are filtered in
 * JS, so jieba's own extractor is never called: two one-line files stand in for its 6 MB idf table and its stopword
 * list, which saves ~0.1 s of every start and reload.
 */
const JIEBA_LOAD_OPTIONS = {
  idfDict: resolve(DICT_DIR, 'jieba-extractor-unused.idf.utf8'),
  stopWordDict: resolve(DICT_DIR, 'jieba-extractor-unused.stop.utf8'),
};

/** Settings of the segmenter. Paths default to the package's own `dict/` files. */
export interface SegmenterOptions {
  /** User dictionary: one `word [tag]` a line, `#` comments allowed. Default `dict/user.dict.utf8`. */
  userDictPath?: string;
  /** Stopwords: one a line. Default `dict/stopwords.txt`. */
  stopwordsPath?: string;
}

/** What a dictionary reload did. */
export interface DictionaryReloadResult {
  /** `insert`: only new words, added in place; `full`: words were removed, so jieba was rebuilt (~1 s, blocking). */
  mode: 'none' | 'insert' | 'full';
  added: string[];
  removed: string[];
  durationMs: number;
}

/** Options of {@link Segmenter.watchDictionary}. */
export interface DictionaryWatchOptions {
  /** Quiet time after the last change before reloading; editors write a file in several steps. Default 300. */
  debounceMs?: number;
  onReload?: (result: DictionaryReloadResult) => void;
  onError?: (err: Error) => void;
}

/**
 * nodejieba keeps one dictionary per process (a native singleton), so the words it holds are tracked here, once,
 * for every Segmenter: the last dictionary loaded wins.
 */
const jiebaState = { loaded: false, userWords: new Map<string, string>() };

const HAS_WORD_CHAR = /[\p{L}\p{N}]/u;
const SHORT_NUMBER = /^\d{1,2}$/;

/**
 * jieba segmentation with the project's user dictionary and stopwords.
 *
 * Words of the user dictionary are put into jieba with `insertWord` rather than as jieba's user-dictionary file:
 * cppjieba aborts the whole process when that file is missing and takes a `#` comment line for a word. Reloading
 * adds new words in place (microseconds); a removed word needs jieba rebuilt, which nodejieba 3.5.8's `load()` does
 * (it deletes and recreates its handle) in about a second, blocking.
 */
export class Segmenter {
  readonly userDictPath: string;
  readonly stopwordsPath: string;
  private stopwords: ReadonlySet<string>;
  private reloads = 0;
  private watcher: FSWatcher | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;

  constructor(options: SegmenterOptions = {}) {
    this.userDictPath = resolve(options.userDictPath ?? resolve(DICT_DIR, 'user.dict.utf8'));
    this.stopwordsPath = resolve(options.stopwordsPath ?? resolve(DICT_DIR, 'stopwords.txt'));
    this.stopwords = new Set(readWordList(this.stopwordsPath));
    const words = readUserDictionary(this.userDictPath);
    if (!jiebaState.loaded) {
      nodejieba.load(JIEBA_LOAD_OPTIONS);
      jiebaState.loaded = true;
    }
    this.applyDictionary(words);
  }

  /**
   * jieba's precise mode with HMM on (unknown words such as new names stay whole; without HMM, nodejieba 3.x cuts
   * digits and latin letters one by one). Latin is lowercased first so `打CALL` meets the dictionary's `打call`.
   * Returns every piece, punctuation and stopwords included: the sentiment scorer needs 不/没 and clause marks.
   */
  cut(text: string): string[] {
    if (text.length === 0) return [];
    return nodejieba.cut(hasUpperAscii(text) ? text.toLowerCase() : text, true);
  }

  /** The tokens worth keeping: no stopwords, no whitespace or pure punctuation, no one- or two-digit numbers. */
  filterTokens(pieces: readonly string[]): string[] {
    const out: string[] = [];
    for (const piece of pieces) {
      if (this.isToken(piece)) out.push(piece);
    }
    return out;
  }

  /** Whether one piece of {@link cut} output is a token. */
  isToken(piece: string): boolean {
    if (this.stopwords.has(piece)) return false;
    // CJK ideographs (the usual case) are word characters: skip the Unicode regex for them.
    const c = piece.charCodeAt(0);
    if (c >= 0x4e00 && c <= 0x9fff) return true;
    if (!HAS_WORD_CHAR.test(piece)) return false;
    return !SHORT_NUMBER.test(piece);
  }

  /**
   * The dictionary words inside a token of three or more characters, as jieba's search mode finds them
   * (`昆明地铁` → `昆明`, `地铁`), stopwords left out. The archive indexes them beside the token, so a search for
   * 地铁 also finds the post whose token is 昆明地铁.
   */
  subwords(token: string): string[] {
    if (token.length < 3) return [];
    const out: string[] = [];
    for (const piece of nodejieba.cutForSearch(token, true)) {
      if (piece.length < token.length && this.isToken(piece) && !out.includes(piece)) out.push(piece);
    }
    return out;
  }

  /** Counts dictionary reloads: whoever caches {@link isToken} answers drops them when it changes. */
  get generation(): number {
    return this.reloads;
  }

  /** `cut` then `filterTokens`. */
  tokenize(text: string): string[] {
    return this.filterTokens(this.cut(text));
  }

  /** Rereads the stopwords and the user dictionary and applies them without a restart. */
  reloadDictionary(): DictionaryReloadResult {
    this.stopwords = new Set(readWordList(this.stopwordsPath));
    this.reloads++;
    return this.applyDictionary(readUserDictionary(this.userDictPath));
  }

  /**
   * Reloads when the user dictionary or stopword file changes. Watches the folders, not the files, because editors
   * replace a file by renaming a new one over it. Idempotent; returns a function that stops watching.
   */
  watchDictionary(options: DictionaryWatchOptions = {}): () => void {
    if (this.watcher) return () => this.unwatchDictionary();
    const debounceMs = options.debounceMs ?? 300;
    const names = new Set([basename(this.userDictPath), basename(this.stopwordsPath)]);
    const dir = dirname(this.userDictPath);
    const fire = () => {
      this.debounceTimer = undefined;
      try {
        const result = this.reloadDictionary();
        options.onReload?.(result);
      } catch (err) {
        options.onError?.(err as Error);
      }
    };
    this.watcher = watch(dir, (_event, filename) => {
      if (filename !== null && !names.has(filename.toString())) return;
      if (this.debounceTimer) clearTimeout(this.debounceTimer);
      this.debounceTimer = setTimeout(fire, debounceMs);
      this.debounceTimer.unref();
    });
    this.watcher.on('error', (err) => options.onError?.(err));
    this.watcher.unref();
    return () => this.unwatchDictionary();
  }

  /** Stops the watcher if any. Safe to call twice. */
  unwatchDictionary(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  private applyDictionary(words: Map<string, string>): DictionaryReloadResult {
    const started = performance.now();
    const added: string[] = [];
    const removed: string[] = [];
    for (const word of words.keys()) if (!jiebaState.userWords.has(word)) added.push(word);
    for (const word of jiebaState.userWords.keys()) if (!words.has(word)) removed.push(word);
    let mode: DictionaryReloadResult['mode'] = 'none';
    if (removed.length > 0) {
      nodejieba.load(JIEBA_LOAD_OPTIONS);
      for (const [word, tag] of words) nodejieba.insertWord(word, tag);
      mode = 'full';
    } else if (added.length > 0) {
      for (const word of added) nodejieba.insertWord(word, words.get(word) ?? 'x');
      mode = 'insert';
    }
    jiebaState.userWords = words;
    return { mode, added, removed, durationMs: performance.now() - started };
  }
}

/** Parses a user dictionary: `word [tag]` a line (a middle frequency column, jieba's format, is accepted and ignored). */
export function readUserDictionary(path: string): Map<string, string> {
  const words = new Map<string, string>();
  for (const line of readWordList(path)) {
    const parts = line.split(/\s+/);
    const word = parts[0];
    if (word === undefined || word.length === 0) continue;
    const tag = parts.length >= 3 ? parts[2] : parts[1];
    words.set(word.toLowerCase(), tag ?? 'x');
  }
  return words;
}

function hasUpperAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}
