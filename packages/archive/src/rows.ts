import type { EnrichedPost } from '@tingfeng/contracts';

/** PostgreSQL refuses a lexeme of 2 KiB or more ("word is too long"); such a token is left out of the index. */
const MAX_LEXEME_BYTES = 2046;
/** tsvector positions stop at 16383 (larger ones are clamped by PostgreSQL); a 20,000-character post stays below. */
const MAX_POSITION = 16383;

/** The lexeme of a mention: `@` and the name, ASCII folded, so `@昆明发布` is searched as written. */
export function mentionLexeme(name: string): string {
  return `@${foldAscii(name)}`;
}

/** The lexeme of an emoticon: its name in brackets, as written in a post (`[蜡烛]`). */
export function emoticonLexeme(name: string): string {
  return `[${foldAscii(name)}]`;
}

/** The dictionary words inside a token (`昆明地铁` → `昆明`, `地铁`); see `Segmenter.subwords` in `@tingfeng/text`. */
export type SubwordFn = (token: string) => readonly string[];

/**
 * The `tsvector` input text of a post: its tokens at positions 1…n in order (so `<->` finds phrases), each with the
 * dictionary words inside it at the same position (jieba keeps `昆明地铁` whole; a search for 地铁 should find it),
 * then each mention and emoticon as a lexeme of its own, two positions apart so no phrase runs into them. Lexemes are
 * quoted (`'` doubled, `\` escaped), so PostgreSQL takes them as they are, with no parser or dictionary in between:
 * the analyzer has already segmented and filtered them, which is what the `simple` configuration is for.
 */
export function tsvectorText(
  tokens: readonly string[],
  mentions: readonly string[] = [],
  emoticons: readonly string[] = [],
  subwords?: SubwordFn,
): string {
  const parts: string[] = [];
  let position = 0;
  for (const token of tokens) {
    position++;
    pushLexeme(parts, token, position);
    if (subwords !== undefined && token.length >= 3) for (const word of subwords(token)) pushLexeme(parts, word, position);
  }
  position++;
  for (const mention of mentions) {
    position += 2;
    pushLexeme(parts, mentionLexeme(mention), position);
  }
  for (const emoticon of emoticons) {
    position += 2;
    pushLexeme(parts, emoticonLexeme(emoticon), position);
  }
  return parts.join(' ');
}

function pushLexeme(parts: string[], lexeme: string, position: number): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long lexemes need counting.
  if (lexeme.length === 0 || (lexeme.length * 3 > MAX_LEXEME_BYTES && Buffer.byteLength(lexeme, 'utf8') > MAX_LEXEME_BYTES)) return;
  parts.push(`${quoteLexeme(lexeme)}:${Math.min(position, MAX_POSITION)}`);
}

/** A lexeme in tsvector/tsquery input syntax. */
export function quoteLexeme(lexeme: string): string {
  return `'${LEXEME_ESCAPE.test(lexeme) ? lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''") : lexeme}'`;
}

const LEXEME_ESCAPE = /['\\]/;

export function foldAscii(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) return text.toLowerCase();
  }
  return text;
}

const ARRAY_ESCAPE = /["\\]/;

/**
 * A `text[]` in PostgreSQL's array input syntax. List columns travel as one such string per row, cast back to
 * `text[]` by the INSERT: `unnest` of a two-dimensional array would flatten it.
 */
export function arrayLiteral(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (i > 0) out += ',';
    out += `"${ARRAY_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') : v}"`;
  }
  return `${out}}`;
}

/** The columns of a batch's COPY, in order: the `posts` table's, less `archived_at` (its default). */
export const COPY_COLUMNS = [
  'id', 'platform', 'created_at', 'author_id', 'author_name', 'author_followers', 'author_verified', 'text', 'own_text',
  'url', 'parent_id', 'root_id', 'region', 'lang', 'tokens', 'keywords', 'topics', 'mentions', 'emoticons', 'urls',
  'schemes', 'sentiment', 'spam', 'spam_reason', 'received_at',
] as const;

/** A field in COPY's text format: `\N` for NULL; backslash, tab, newline and carriage return escaped. */
function field(value: string | null): string {
  if (value === null) return '\\N';
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (ch) => COPY_ESCAPES[ch]!) : value;
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPED = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** UTC month of an ISO time or epoch ms, as `YYYY-MM`: the partition a post goes to. */
export function monthOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear().toString().padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** What a batch becomes before it is sent: COPY text, duplicates within it dropped (first kept), months it touches. */
export interface PreparedBatch {
  /** One line per post in COPY's text format, columns as {@link COPY_COLUMNS}. */
  copyText: string;
  /** Posts in `copyText`. */
  count: number;
  months: string[];
  /** Posts of the batch whose `(platform, id)` came again later in the same batch. */
  duplicatesInBatch: number;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
/** PostgreSQL text cannot hold NUL: a post with one would fail its whole batch. */
// eslint-disable-next-line no-control-regex -- NUL is the one character to find
const clean = (value: string): string => (value.includes('\u0000') ? value.replace(/\u0000/g, '') : value);
const cleanOrNull = (value: unknown): string | null => {
  const s = text(value);
  return s === null ? null : clean(s);
};
const strings = (value: unknown): readonly string[] => {
  if (!Array.isArray(value)) return [];
  // Nearly always every element is a string without NUL: the array itself, no copy.
  for (const v of value) if (typeof v !== 'string' || v.includes('\u0000')) return value.filter((w): w is string => typeof w === 'string').map(clean);
  return value as string[];
};

/** A post's event time in epoch ms (`createdAtMs`, or `createdAt` parsed when a producer left it out). */
export function eventTimeMs(post: Pick<EnrichedPost, 'createdAtMs' | 'createdAt'>): number {
  return Number.isFinite(post.createdAtMs) ? post.createdAtMs : Date.parse(post.createdAt);
}

/** What {@link distinctPosts} keeps of a batch, and what it leaves out. */
export interface DistinctPosts {
  /** The posts kept, in batch order. */
  unique: EnrichedPost[];
  /** Each kept post's index in the batch. */
  sources: number[];
  /** The UTC months (`YYYY-MM`) the kept posts fall in, sorted. */
  months: string[];
  /** Posts left out because their `(platform, id)` came earlier in the batch (the first is kept). */
  duplicates: number;
  /** Posts left out because their event time is before `notBeforeMs`. */
  expired: number;
}

/** The posts of a batch with each `(platform, id)` once (the first kept) and, given `notBeforeMs`, none before it. */
export function distinctPosts(posts: readonly EnrichedPost[], notBeforeMs?: number): DistinctPosts {
  const seen = new Set<string>();
  const months = new Set<string>();
  const unique: EnrichedPost[] = [];
  const sources: number[] = [];
  let duplicates = 0;
  let expired = 0;
  for (let i = 0; i < posts.length; i++) {
    const post = posts[i]!;
    if (notBeforeMs !== undefined && !(post.createdAtMs >= notBeforeMs)) {
      expired++;
      continue;
    }
    const key = `${post.platform}\u0000${post.id}`;
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    unique.push(post);
    sources.push(i);
    months.add(monthOf(eventTimeMs(post)));
  }
  return { unique, sources, months: [...months].sort(), duplicates, expired };
}

/** A post's identity as `post_keys` holds it: `(platform, id)` as written to `posts` (NUL removed), and its event time. */
export function postKey(post: EnrichedPost): { id: string; platform: string; createdAt: string } {
  return { id: clean(post.id), platform: clean(post.platform), createdAt: new Date(eventTimeMs(post)).toISOString() };
}

/**
 * The `post_keys` rows of a batch as COPY text (columns id, platform, created_at), sorted: writers that share keys
 * take them in the same order, so one waits for the other rather than both deadlocking.
 */
export function keysCopyText(posts: readonly EnrichedPost[]): string {
  return posts.map(keyLine).sort().join('');
}

/** A post's `post_keys` row as a COPY line, newline included. */
function keyLine(post: EnrichedPost): string {
  const key = postKey(post);
  return `${field(key.id)}\t${field(key.platform)}\t${key.createdAt}\n`;
}

/** Turns enriched posts into the rows of one COPY; pure. */
export function prepareBatch(posts: readonly EnrichedPost[], subwords?: SubwordFn): PreparedBatch {
  const { unique, months, duplicates } = distinctPosts(posts);
  return { copyText: rowLines(unique, subwords).join(''), count: unique.length, months, duplicatesInBatch: duplicates };
}

/** Each post's row as a COPY line, newline included. */
export const rowLines = (posts: readonly EnrichedPost[], subwords: SubwordFn | undefined): string[] =>
  posts.map((post) => `${rowText(post, subwords)}\n`);

/** One post's row in COPY's text format, columns as {@link COPY_COLUMNS}, without the newline. */
function rowText(post: EnrichedPost, subwords: SubwordFn | undefined): string {
  const createdAtMs = eventTimeMs(post);
  const mentions = strings(post.mentions);
  const emoticons = strings(post.emoticons);
  const followers = post.author.followers;
  const verified = post.author.verified;
  return (
    `${field(clean(post.id))}\t${field(clean(post.platform))}\t${new Date(createdAtMs).toISOString()}\t` +
    `${field(clean(post.author.id))}\t${field(cleanOrNull(post.author.name))}\t` +
    `${typeof followers === 'number' && Number.isInteger(followers) && followers >= 0 && followers <= 2_147_483_647 ? String(followers) : '\\N'}\t` +
    `${typeof verified === 'boolean' ? (verified ? 't' : 'f') : '\\N'}\t` +
    `${field(clean(post.text))}\t${field(clean(typeof post.ownText === 'string' ? post.ownText : post.text))}\t` +
    `${field(cleanOrNull(post.url))}\t${field(cleanOrNull(post.parentId))}\t${field(cleanOrNull(post.rootId))}\t` +
    `${field(cleanOrNull(post.region))}\t${field(cleanOrNull(post.lang))}\t` +
    `${field(tsvectorText(strings(post.tokens), mentions, emoticons, subwords))}\t` +
    `${field(arrayLiteral(strings(post.keywords)))}\t${field(arrayLiteral(strings(post.topics)))}\t` +
    `${field(arrayLiteral(mentions))}\t${field(arrayLiteral(emoticons))}\t${field(arrayLiteral(strings(post.urls)))}\t` +
    `${field(arrayLiteral(strings(post.schemes)))}\t` +
    `${String(Number.isFinite(post.sentiment) ? Math.max(-1, Math.min(1, post.sentiment)) : 0)}\t` +
    `${post.spam === true ? 't' : 'f'}\t${field(cleanOrNull(post.spamReason))}\t` +
    (typeof post.receivedAtMs === 'number' && Number.isFinite(post.receivedAtMs) ? new Date(post.receivedAtMs).toISOString() : '\\N')
  );
}

/**
 * A batch's rows as COPY bytes, one row per post with a distinct `(platform, id)`: what a worker thread builds so
 * that the writer only streams bytes (see {@link Archive.writeRows}). Plain data: it crosses threads by structured
 * clone, `bytes` transferred.
 */
export interface EncodedRows {
  /** Every row's COPY line (newline included) in UTF-8, one after another. */
  bytes: Uint8Array;
  /** Where each row ends in `bytes`: row i runs from `ends[i - 1]` (0 for the first) to `ends[i]`. */
  ends: Uint32Array;
  /** Each row's `post_keys` COPY line (id, platform, created_at), newline included. */
  keyLines: string[];
  /** The rows in the order of their key lines: the order every writer takes keys in. */
  keyOrder: Uint32Array;
  /** Each row's post, as its index among the posts encoded: a refused row is traced back to its record. */
  sources: Uint32Array;
  /** The UTC months (`YYYY-MM`) the rows fall in. */
  months: string[];
  /** Posts left out because their `(platform, id)` came earlier in the batch (the first is kept). */
  duplicates: number;
  /** Posts left out because their event time is before `notBeforeMs`. */
  expired: number;
}

/**
 * Encodes posts into {@link EncodedRows}; pure, and cheap to run off the thread that talks to PostgreSQL. Posts
 * before `notBeforeMs` (retention) and repeats of a `(platform, id)` are left out and counted.
 */
export function encodeRows(posts: readonly EnrichedPost[], options: { subwords?: SubwordFn; notBeforeMs?: number } = {}): EncodedRows {
  const { unique, sources, months, duplicates, expired } = distinctPosts(posts, options.notBeforeMs);
  const lines = rowLines(unique, options.subwords);
  const keyLines = unique.map(keyLine);
  // A UTF-16 unit takes at most 3 UTF-8 bytes.
  let maxBytes = 0;
  for (const line of lines) maxBytes += line.length * 3;
  const buffer = Buffer.allocUnsafeSlow(maxBytes);
  const ends = new Uint32Array(lines.length);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    at += buffer.write(lines[i]!, at, 'utf8');
    ends[i] = at;
  }
  const keyOrder = Uint32Array.from(keyLines.keys()).sort((a, b) => (keyLines[a]! < keyLines[b]! ? -1 : keyLines[a]! > keyLines[b]! ? 1 : 0));
  return {
    bytes: new Uint8Array(buffer.buffer, 0, at),
    ends,
    keyLines,
    keyOrder,
    sources: Uint32Array.from(sources),
    months,
    duplicates,
    expired,
  };
}

/** Rows `start` to `end` (exclusive) of `rows`, counted as neither duplicates nor expired: a part written alone. */
export function sliceRows(rows: EncodedRows, start: number, end: number): EncodedRows {
  const from = start === 0 ? 0 : rows.ends[start - 1]!;
  const to = end === 0 ? 0 : rows.ends[end - 1]!;
  const keyOrder: number[] = [];
  for (const k of rows.keyOrder) if (k >= start && k < end) keyOrder.push(k - start);
  return {
    bytes: rows.bytes.subarray(from, to),
    ends: rows.ends.slice(start, end).map((e) => e - from),
    keyLines: rows.keyLines.slice(start, end),
    keyOrder: Uint32Array.from(keyOrder),
    sources: rows.sources.slice(start, end),
    months: rows.months,
    duplicates: 0,
    expired: 0,
  };
}

/** The number of rows in `rows`. */
export const rowCount = (rows: EncodedRows): number => rows.ends.length;

/** The key of a `post_keys` COPY line, as {@link postKey} gives it. */
export function parseKeyLine(line: string): { id: string; platform: string; createdAt: string } {
  const [id = '', platform = '', createdAt = ''] = line.slice(0, -1).split('\t');
  return { id: unfield(id), platform: unfield(platform), createdAt };
}

/** Undoes {@link field} for a value that is not NULL. */
function unfield(value: string): string {
  return value.includes('\\') ? value.replace(/\\(.)/g, (_, ch: string) => COPY_UNESCAPES[ch] ?? ch) : value;
}

const COPY_UNESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };
