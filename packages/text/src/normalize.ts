import * as OpenCC from 'opencc-js';

type DictLike = string | readonly (readonly [string, string])[];
type DictGroup = readonly DictLike[];

// Taiwan and Hong Kong variants first map to OpenCC's standard traditional forms, which then map to mainland simplified.
const CHAIN: readonly DictGroup[] = [...(OpenCC.Locale.from.tw ?? []), ...(OpenCC.Locale.from.hk ?? []), ...(OpenCC.Locale.to.cn ?? [])];

/** Traditional (tw/hk) → simplified converter, built once per process: construction costs ~10 ms. */
const toSimplified = OpenCC.ConverterFactory(...CHAIN);

/**
 * Characters whose presence means the converter might change a string. A string holding none of them converts to
 * itself, so the trie walk (about 1.5 µs per short post, most of normalisation's cost) is skipped. It holds every
 * single character the whole chain changes, and for each phrase key made only of characters outside that set whose
 * conversion differs (e.g. 反覆 → 反复), the characters that change. A change that only arises from one step's output
 * meeting a later step's phrase is not covered; none was found in the tests, and the cost of one is a missed variant.
 */
const { triggers: CONVERSION_TRIGGERS, phrasesOf: TRIGGER_PHRASES } = buildTriggerSet(CHAIN);
/**
 * The BMP part of {@link CONVERSION_TRIGGERS} as a bitmap (a typed-array read is several times faster than Set.has):
 * 1 for a character the chain changes on its own, 2 for one that only changes inside a phrase key
 * ({@link TRIGGER_PHRASES}): 么 is one, in 6 % of real posts, and none of them held its phrases.
 */
const BMP_TRIGGERS = new Uint8Array(0x10000);
for (const cp of CONVERSION_TRIGGERS) if (cp < 0x10000) BMP_TRIGGERS[cp] = TRIGGER_PHRASES.has(cp) ? 2 : 1;

/** Whether `text` holds one of the phrases that make the phrase-only trigger `c` change. */
function triggerPhraseIn(text: string, c: number): boolean {
  for (const phrase of TRIGGER_PHRASES.get(c)!) if (text.includes(phrase)) return true;
  return false;
}

/**
 * UTF-16 units that appear in some key of the chain's dictionaries. A character outside this set is copied through
 * every step unchanged and no phrase spans it, so converting the runs between such characters one by one gives the
 * same result as converting the whole text; only runs holding a trigger need the trie walk.
 */
const KEY_UNITS = new Uint8Array(0x10000);
for (const group of CHAIN) {
  for (const dict of group) {
    for (const [key] of dictEntries(dict)) for (let i = 0; i < key.length; i++) KEY_UNITS[key.charCodeAt(i)] = 1;
  }
}

/**
 * {@link toSimplified} on the runs that need it (see {@link KEY_UNITS}). Texts with surrogate pairs or ideographic
 * description characters (which the converter steps over as a unit) are converted whole.
 */
function simplifyRuns(text: string): string {
  let out = '';
  let last = 0;
  let runStart = -1;
  let runTriggered = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : -1;
    if ((c >= 0xd800 && c <= 0xdfff) || (c >= 0x2ff0 && c <= 0x2fff)) return toSimplified(text);
    if (c >= 0 && KEY_UNITS[c] === 1) {
      if (runStart < 0) runStart = i;
      if (BMP_TRIGGERS[c] !== 0) runTriggered = true;
      continue;
    }
    if (runTriggered) {
      out += text.slice(last, runStart) + toSimplified(text.slice(runStart, i));
      last = i;
    }
    runStart = -1;
    runTriggered = false;
  }
  return last === 0 ? toSimplified(text) : out + text.slice(last);
}

function dictEntries(dict: DictLike): (readonly [string, string])[] {
  if (typeof dict !== 'string') return [...dict];
  return dict.split('|').map((entry) => {
    const space = entry.indexOf(' ');
    return [entry.slice(0, space), entry.slice(space + 1)] as const;
  });
}

function buildTriggerSet(chain: readonly DictGroup[]): { triggers: Set<number>; phrasesOf: Map<number, string[]> } {
  const set = new Set<number>();
  const phrasesOf = new Map<number, string[]>();
  const phrases: string[] = [];
  for (const group of chain) {
    for (const dict of group) {
      for (const [key] of dictEntries(dict)) {
        const cps = [...key];
        if (cps.length === 1) {
          // Judged on the whole chain: 温 maps to 溫 in the Taiwan step and back to 温 in the next, a net no-op.
          if (toSimplified(key) !== key) set.add(key.codePointAt(0)!);
        } else phrases.push(key);
      }
    }
  }
  const singles = new Set(set);
  for (const phrase of phrases) {
    const cps = [...phrase];
    if (cps.some((c) => singles.has(c.codePointAt(0)!))) continue;
    const converted = [...toSimplified(phrase)];
    if (converted.join('') === phrase) continue;
    cps.forEach((c, i) => {
      if (converted.length !== cps.length || converted[i] !== c) {
        const cp = c.codePointAt(0)!;
        set.add(cp);
        const list = phrasesOf.get(cp) ?? [];
        if (!list.includes(phrase)) list.push(phrase);
        phrasesOf.set(cp, list);
      }
    });
  }
  return { triggers: set, phrasesOf };
}

/** True when `text` holds a character the traditional→simplified converter might change. */
export function mayNeedSimplification(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Below U+2E80 nothing is CJK; surrogate pairs are rare and checked by code point.
    if (c < 0x2e80) continue;
    if (c >= 0xd800 && c <= 0xdbff) {
      const cp = text.codePointAt(i);
      i++;
      if (cp !== undefined && CONVERSION_TRIGGERS.has(cp)) return true;
      continue;
    }
    const t = BMP_TRIGGERS[c];
    if (t === 1 || (t === 2 && triggerPhraseIn(text, c))) return true;
  }
  return false;
}

/** Converts traditional Chinese (Taiwan, Hong Kong and OpenCC standard forms) to mainland simplified. */
export function toSimplifiedChinese(text: string): string {
  return mayNeedSimplification(text) ? simplifyRuns(text) : text;
}

/**
 * Full-width ASCII (U+FF01–U+FF5E) → half-width, ideographic space (U+3000) → space. Full-width punctuation
 * such as `，` and `：` becomes `,` and `:`, which lets the markup patterns (`//@user:`) see one form.
 */
export function toHalfWidth(text: string): string {
  // Slices between the (few) full-width characters: most posts hold a `，`, and a regex replace with a callback
  // cost several times this.
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x3000) continue;
    if (c === 0x3000) out += text.slice(last, i) + ' ';
    else if (c >= 0xff01 && c <= 0xff5e) out += text.slice(last, i) + String.fromCharCode(c - 0xfee0);
    else continue;
    last = i + 1;
  }
  return last === 0 ? text : out + text.slice(last);
}

// Zero-width characters are invisible in a post but split words and defeat exact matching (spammers use them).
const INVISIBLE = /[\u200b-\u200d\u2060\ufeff]/g;
const NEEDS_COLLAPSE = /[\u200b-\u200d\u2060\ufeff]|\s\s|[\t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f]|^\s|\s$/;
const WHITESPACE_RUN = /\s+/g;

/** Collapses runs of whitespace to one space, drops zero-width characters, trims. */
export function collapseWhitespace(text: string): string {
  // Most posts need nothing: one test instead of two replaces and a trim.
  if (!NEEDS_COLLAPSE.test(text)) return text;
  return text.replace(INVISIBLE, '').replace(WHITESPACE_RUN, ' ').trim();
}

/**
 * The analyzer's normal form: half-width ASCII, simplified Chinese, single spaces. Case is kept (URLs and
 * nicknames are case-sensitive); the segmenter lowercases on its own.
 */
export function normalizeText(text: string): string {
  if (text.length === 0) return text;
  // One scan decides which of the three steps can change anything; a plain post then costs this loop alone.
  let width = false;
  let simplify = false;
  let collapse = false;
  const lastIndex = text.length - 1;
  for (let i = 0; i <= lastIndex; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x2e80) {
      if (c === 32) {
        if (i === 0 || i === lastIndex || text.charCodeAt(i + 1) === 32) collapse = true;
      } else if (c <= 0x20 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200d) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x2060) {
        // \s other than a single space, and the zero-width characters.
        collapse = true;
      }
      continue;
    }
    if (c === 0x3000) {
      width = true;
      collapse = true;
    } else if (c >= 0xff01 && c <= 0xff5e) width = true;
    else if (c === 0xfeff) collapse = true;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const cp = text.codePointAt(i);
      i++;
      if (cp !== undefined && CONVERSION_TRIGGERS.has(cp)) simplify = true;
    } else if (!simplify) {
      const t = BMP_TRIGGERS[c];
      if (t === 1 || (t === 2 && triggerPhraseIn(text, c))) simplify = true;
    }
  }
  let out = width ? toHalfWidth(text) : text;
  // Half-width output is ASCII, which never triggers the converter: the scan's verdict on the original holds.
  if (simplify) out = simplifyRuns(out);
  return collapse ? collapseWhitespace(out) : out;
}
