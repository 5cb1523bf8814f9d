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
  if (lexeme.length === 0 || Buffer.byteLength(lexeme, 'utf8') > MAX_LEXEME_BYTES) return;
  parts.push(`${quoteLexeme(lexeme)}:${Math.min(position, MAX_POSITION)}`);
}

/** A lexeme in tsvector/tsquery input syntax. */
export function quoteLexeme(lexeme: string): string {
  let needsEscape = false;
  for (let i = 0; i < lexeme.length; i++) {
    const c = lexeme.charCodeAt(i);
    if (c === 39 || c === 92) {
      needsEscape = true;
      break;
    }
  }
  return `'${needsEscape ? lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''") : lexeme}'`;
}

export function foldAscii(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) return text.toLowerCase();
  }
  return text;
}

/**
 * A `text[]` in PostgreSQL's array input syntax. List columns travel as one such string per row, cast back to
 * `text[]` by the INSERT: `unnest` of a two-dimensional array would flatten it.
 */
export function arrayLiteral(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += `"${values[i]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  }
  return `${out}}`;
}

/** The columns `writePosts` sends, one array per column (a batch travels as one `unnest` of arrays). */
export interface PostColumns {
  id: string[];
  platform: string[];
  createdAt: string[];
  authorId: string[];
  authorName: (string | null)[];
  authorFollowers: (number | null)[];
  authorVerified: (boolean | null)[];
  text: string[];
  ownText: string[];
  url: (string | null)[];
  parentId: (string | null)[];
  rootId: (string | null)[];
  region: (string | null)[];
  lang: (string | null)[];
  tokens: string[];
  keywords: string[];
  topics: string[];
  mentions: string[];
  emoticons: string[];
  urls: string[];
  schemes: string[];
  sentiment: number[];
  spam: boolean[];
  spamReason: (string | null)[];
  receivedAt: (string | null)[];
}

/** UTC month of an ISO time or epoch ms, as `YYYY-MM`: the partition a post goes to. */
export function monthOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear().toString().padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** What a batch becomes before it is sent: duplicates within it dropped (first kept), months it touches. */
export interface PreparedBatch {
  columns: PostColumns;
  months: string[];
  /** Posts of the batch whose `(platform, id)` came again later in the same batch. */
  duplicatesInBatch: number;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
/** PostgreSQL text cannot hold NUL: a post with one would fail its whole batch. */
const clean = (value: string): string => (value.includes('\u0000') ? value.replace(/\u0000/g, '') : value);
const cleanOrNull = (value: unknown): string | null => {
  const s = text(value);
  return s === null ? null : clean(s);
};
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').map(clean) : []);

/** Turns enriched posts into column arrays; pure. */
export function prepareBatch(posts: readonly EnrichedPost[], subwords?: SubwordFn): PreparedBatch {
  const columns: PostColumns = {
    id: [],
    platform: [],
    createdAt: [],
    authorId: [],
    authorName: [],
    authorFollowers: [],
    authorVerified: [],
    text: [],
    ownText: [],
    url: [],
    parentId: [],
    rootId: [],
    region: [],
    lang: [],
    tokens: [],
    keywords: [],
    topics: [],
    mentions: [],
    emoticons: [],
    urls: [],
    schemes: [],
    sentiment: [],
    spam: [],
    spamReason: [],
    receivedAt: [],
  };
  const seen = new Set<string>();
  const months = new Set<string>();
  let duplicatesInBatch = 0;
  for (const post of posts) {
    const key = `${post.platform}\u0000${post.id}`;
    if (seen.has(key)) {
      duplicatesInBatch++;
      continue;
    }
    seen.add(key);
    const createdAtMs = Number.isFinite(post.createdAtMs) ? post.createdAtMs : Date.parse(post.createdAt);
    months.add(monthOf(createdAtMs));
    const mentions = strings(post.mentions);
    const emoticons = strings(post.emoticons);
    const followers = post.author.followers;
    columns.id.push(post.id);
    columns.platform.push(post.platform);
    columns.createdAt.push(new Date(createdAtMs).toISOString());
    columns.authorId.push(clean(post.author.id));
    columns.authorName.push(cleanOrNull(post.author.name));
    columns.authorFollowers.push(typeof followers === 'number' && Number.isInteger(followers) && followers <= 2_147_483_647 ? followers : null);
    columns.authorVerified.push(typeof post.author.verified === 'boolean' ? post.author.verified : null);
    columns.text.push(clean(post.text));
    columns.ownText.push(clean(typeof post.ownText === 'string' ? post.ownText : post.text));
    columns.url.push(cleanOrNull(post.url));
    columns.parentId.push(text(post.parentId));
    columns.rootId.push(text(post.rootId));
    columns.region.push(cleanOrNull(post.region));
    columns.lang.push(cleanOrNull(post.lang));
    columns.tokens.push(tsvectorText(strings(post.tokens), mentions, emoticons, subwords));
    columns.keywords.push(arrayLiteral(strings(post.keywords)));
    columns.topics.push(arrayLiteral(strings(post.topics)));
    columns.mentions.push(arrayLiteral(mentions));
    columns.emoticons.push(arrayLiteral(emoticons));
    columns.urls.push(arrayLiteral(strings(post.urls)));
    columns.schemes.push(arrayLiteral(strings(post.schemes)));
    columns.sentiment.push(Number.isFinite(post.sentiment) ? Math.max(-1, Math.min(1, post.sentiment)) : 0);
    columns.spam.push(post.spam === true);
    columns.spamReason.push(cleanOrNull(post.spamReason));
    columns.receivedAt.push(typeof post.receivedAtMs === 'number' && Number.isFinite(post.receivedAtMs) ? new Date(post.receivedAtMs).toISOString() : null);
  }
  return { columns, months: [...months].sort(), duplicatesInBatch };
}
