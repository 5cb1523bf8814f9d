import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's own `dict/` folder: user dictionary, stopwords and sentiment lexicon. */
export const DICT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../dict');

/**
 * Reads a UTF-8 word list: one entry a line, blank lines and lines starting with `#` skipped, a BOM dropped.
 * Returns the lines trimmed.
 */
export function readWordList(path: string): string[] {
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    out.push(line);
  }
  return out;
}
