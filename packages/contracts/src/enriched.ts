import { z } from 'zod';
import { decodeJson, type JsonDecodeFailure } from './json.js';
import { AuthorSchema, type Post } from './post.js';

/** One `//@someone: words` hop of a Weibo repost chain, nearest first. */
export interface RepostHop {
  user: string;
  text: string;
}

/** A post as the analyzer publishes it on `posts.enriched`. */
export type EnrichedPost = Post & {
  /** The post's own words: the text before the first `//@` repost hop, normalised. */
  ownText: string;
  /** Segmented words of `ownText`, stopwords removed. */
  tokens: string[];
  /** The most significant tokens, most significant first. */
  keywords: string[];
  emoticons: string[];
  mentions: string[];
  topics: string[];
  urls: string[];
  /** The repost chain quoted in the text, nearest hop first. */
  repostChain: RepostHop[];
  spam: boolean;
  spamReason?: string;
  /**
   * In [-1, 1]: below 0 negative, above 0 positive; 2p − 1 where p is the analyzer's probability that the post is
   * positive, so near 0 means unsure and exactly 0 means there was nothing to read.
   */
  sentiment: number;
  /**
   * The probability that the sign of `sentiment` is right, in [0.5, 1] (0.5: a coin toss). Set by the analyzer;
   * absent from older producers, where it reads as (1 + |sentiment|) / 2.
   */
  sentimentConfidence?: number;
  /** Names of the monitoring schemes the post matches. */
  schemes?: string[];
  /** Wall-clock time the analyzer received the post, epoch ms. */
  receivedAtMs?: number;
};

const strings = z.array(z.string());

/**
 * What a reader of `posts.enriched` checks before it uses a record (the archiver): the contract fields as the
 * analyzer normalised them (`platform` set, `createdAt` ISO, `createdAtMs`) and the fields it adds. Unknown fields
 * are kept.
 */
export const EnrichedPostSchema = z.looseObject({
  id: z.string().min(1).max(128),
  platform: z.string().min(1).max(32),
  text: z.string(),
  createdAt: z.string(),
  createdAtMs: z.number().int().nonnegative(),
  author: AuthorSchema,
  parentId: z.string().min(1).max(128).optional(),
  rootId: z.string().min(1).max(128).optional(),
  url: z.string().optional(),
  region: z.string().optional(),
  lang: z.string().optional(),
  ownText: z.string(),
  tokens: strings,
  keywords: strings,
  emoticons: strings,
  mentions: strings,
  topics: strings,
  urls: strings,
  repostChain: z.array(z.looseObject({ user: z.string(), text: z.string() })),
  spam: z.boolean(),
  spamReason: z.string().optional(),
  sentiment: z.number().min(-1).max(1),
  schemes: strings.optional(),
  receivedAtMs: z.number().optional(),
});

/** The outcome of {@link parseEnrichedPost}. */
export type EnrichedParseResult =
  | { ok: true; post: EnrichedPost }
  | { ok: false; reason: JsonDecodeFailure | 'not_object' | 'missing_field' | 'invalid_field'; detail: string };

/** Largest `posts.enriched` record read: well above what the analyzer writes (its output limit is under 1 MiB). */
export const MAX_ENRICHED_BYTES = 4 * 1024 * 1024;

/** Decodes (depth-limited, see `decodeJson`) and checks one `posts.enriched` record. Never throws. */
export function parseEnrichedPost(raw: Uint8Array | string | null): EnrichedParseResult {
  const decoded = decodeJson(raw ?? '', { maxBytes: MAX_ENRICHED_BYTES });
  if (!decoded.ok) return decoded;
  const value = decoded.value;
  if (!isRecord(value)) return { ok: false, reason: 'not_object', detail: 'expected a JSON object' };
  // Nearly every record is a well-formed post: checked by hand first (a third of the cost of a read), the schema
  // kept for the rest, which it accepts or refuses with the reason and detail.
  if (isEnrichedPost(value)) return { ok: true, post: value };
  const parsed = EnrichedPostSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || '(root)';
    const missing = issue?.code === 'invalid_type' && issue.message.includes('undefined');
    return { ok: false, reason: missing ? 'missing_field' : 'invalid_field', detail: `${path}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, post: parsed.data as EnrichedPost };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isId = (v: unknown, max: number): boolean => typeof v === 'string' && v.length >= 1 && v.length <= max;
const isOptionalId = (v: unknown): boolean => v === undefined || isId(v, 128);
const isOptionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every(isString);

/**
 * True when `value` is certainly what {@link EnrichedPostSchema} accepts, checked without building a copy; never true
 * for a value the schema refuses (a doubtful case is false, and the schema decides). The schema has no defaults or
 * transforms, so the value is what it would return. A field added to the schema must be added here: enriched.test.ts
 * fails until it is.
 */
function isEnrichedPost(value: Record<string, unknown>): value is EnrichedPost {
  const author = value['author'];
  return (
    isId(value['id'], 128) &&
    isId(value['platform'], 32) &&
    isString(value['text']) &&
    isString(value['createdAt']) &&
    isCount(value['createdAtMs']) &&
    isRecord(author) &&
    isId(author['id'], 128) &&
    (author['name'] === undefined || (typeof author['name'] === 'string' && author['name'].length <= 256)) &&
    (author['followers'] === undefined || isCount(author['followers'])) &&
    (author['verified'] === undefined || typeof author['verified'] === 'boolean') &&
    isOptionalString(author['createdAt']) &&
    isOptionalId(value['parentId']) &&
    isOptionalId(value['rootId']) &&
    isOptionalString(value['url']) &&
    isOptionalString(value['region']) &&
    isOptionalString(value['lang']) &&
    isString(value['ownText']) &&
    isStrings(value['tokens']) &&
    isStrings(value['keywords']) &&
    isStrings(value['emoticons']) &&
    isStrings(value['mentions']) &&
    isStrings(value['topics']) &&
    isStrings(value['urls']) &&
    Array.isArray(value['repostChain']) &&
    value['repostChain'].every((hop) => isRecord(hop) && isString(hop['user']) && isString(hop['text'])) &&
    typeof value['spam'] === 'boolean' &&
    isOptionalString(value['spamReason']) &&
    typeof value['sentiment'] === 'number' &&
    value['sentiment'] >= -1 &&
    value['sentiment'] <= 1 &&
    (value['schemes'] === undefined || isStrings(value['schemes'])) &&
    (value['receivedAtMs'] === undefined || (typeof value['receivedAtMs'] === 'number' && Number.isFinite(value['receivedAtMs'])))
  );
}
