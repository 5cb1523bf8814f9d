import { z } from 'zod';
import { decodeJson } from './json.js';

export const MAX_MESSAGE_BYTES = 1024 * 1024;
export const MAX_TEXT_CHARS = 20_000;
export const MAX_FUTURE_SKEW_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_PLATFORM = 'weibo';

/** Why a message was refused. Stable codes: dashboards and the DLQ group by them. */
export type RejectReason =
  | 'too_large'
  | 'invalid_utf8'
  | 'not_json'
  | 'not_object'
  | 'missing_field'
  | 'invalid_field'
  | 'text_too_long'
  | 'created_at_unparseable'
  | 'created_at_future'
  /** Arrays and objects nested deeper than `MAX_JSON_DEPTH`. */
  | 'too_deep'
  /**
   * Valid in shape, but processing it failed for good: it threw on every one of a bounded number of attempts (the
   * detail carries the error), or a row the archive's database refuses.
   */
  | 'processing_failed'
  /** The record batch holding it could not be decompressed (corrupt data, or an unknown codec); no bytes survive. */
  | 'undecodable';

export const REJECT_REASONS: readonly RejectReason[] = [
  'too_large',
  'invalid_utf8',
  'not_json',
  'not_object',
  'missing_field',
  'invalid_field',
  'text_too_long',
  'created_at_unparseable',
  'created_at_future',
  'too_deep',
  'processing_failed',
  'undecodable',
];

const isoWithOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Parses the contract's time forms (ISO-8601 with an offset, or epoch milliseconds) to epoch ms; NaN if neither. */
export function parseEventTime(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) && Number.isInteger(value) && value >= 0 ? value : Number.NaN;
  if (typeof value === 'string') {
    if (/^\d{10,14}$/.test(value)) return Number(value);
    if (!isoWithOffset.test(value)) return Number.NaN;
    return Date.parse(value);
  }
  return Number.NaN;
}

export const AuthorSchema = z.looseObject({
  id: z.string().min(1).max(128),
  name: z.string().max(256).optional(),
  followers: z.number().int().nonnegative().optional(),
  verified: z.boolean().optional(),
  createdAt: z.string().optional(),
});

const optionalId = z.string().min(1).max(128).optional();

/** The shape of a post before time checks; unknown fields are kept. */
export const RawPostSchema = z.looseObject({
  id: z.string().min(1).max(128),
  platform: z.string().min(1).max(32).optional(),
  text: z.string(),
  createdAt: z.union([z.string(), z.number()]),
  author: AuthorSchema,
  parentId: optionalId,
  rootId: optionalId,
  url: z.string().optional(),
  region: z.string().optional(),
  lang: z.string().optional(),
});

export type Author = z.infer<typeof AuthorSchema>;

/** The contract fields of a validated post. `createdAt` is normalised to an ISO-8601 UTC string and `createdAtMs` added. */
export interface PostFields {
  id: string;
  platform: string;
  text: string;
  createdAt: string;
  /** Event time, epoch ms. */
  createdAtMs: number;
  author: Author;
  parentId?: string;
  rootId?: string;
  url?: string;
  region?: string;
  lang?: string;
}

/** A validated post: the contract fields, with any unknown fields riding along. */
export type Post = PostFields & { [extra: string]: unknown };

export type ParseResult =
  | { ok: true; post: Post }
  | { ok: false; reason: RejectReason; detail: string };

export interface ParseOptions {
  /** Wall-clock time the message was received; bounds how far in the future `createdAt` may lie. */
  receivedAtMs: number;
}

/** Decodes and validates one message value against the post contract. Never throws. */
export function parsePost(raw: Uint8Array | string, options: ParseOptions): ParseResult {
  const decoded = decodeJson(raw, { maxBytes: MAX_MESSAGE_BYTES });
  if (!decoded.ok) return reject(decoded.reason, decoded.detail);
  return validatePost(decoded.value, options);
}

/** Validates an already-decoded value against the post contract. Never throws. */
export function validatePost(value: unknown, options: ParseOptions): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject('not_object', `expected a JSON object, got ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}`);
  }
  const record = value as Record<string, unknown>;
  if (typeof record.text === 'string' && record.text.length > MAX_TEXT_CHARS) {
    return reject('text_too_long', `text has ${record.text.length} chars, limit ${MAX_TEXT_CHARS}`);
  }
  const parsed = RawPostSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || '(root)';
    const missing = issue !== undefined && getAt(record, issue.path) === undefined;
    return reject(missing ? 'missing_field' : 'invalid_field', `${path}: ${missing ? 'required' : (issue?.message ?? 'invalid')}`);
  }
  const createdAtMs = parseEventTime(parsed.data.createdAt);
  if (Number.isNaN(createdAtMs)) return reject('created_at_unparseable', `createdAt ${JSON.stringify(parsed.data.createdAt).slice(0, 60)} is neither ISO-8601 with an offset nor epoch ms`);
  if (createdAtMs > options.receivedAtMs + MAX_FUTURE_SKEW_MS) {
    return reject('created_at_future', `createdAt ${new Date(createdAtMs).toISOString()} is more than one day ahead of receipt`);
  }
  // Copied, then the fields set (the order a `{ ...data, platform, createdAt, createdAtMs }` literal gives, at a sixth
  // of its cost). zod's output never holds an own `__proto__` key for Object.assign to trip on.
  const post = Object.assign({}, parsed.data) as Post;
  post.platform = parsed.data.platform ?? DEFAULT_PLATFORM;
  post.createdAt = typeof parsed.data.createdAt === 'string' && isCanonicalUtc(parsed.data.createdAt) ? parsed.data.createdAt : new Date(createdAtMs).toISOString();
  post.createdAtMs = createdAtMs;
  return { ok: true, post };
}

const DIGIT_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];

/**
 * Whether `s` is already what `new Date(Date.parse(s)).toISOString()` gives: `YYYY-MM-DDTHH:MM:SS.sssZ` naming a real
 * instant (month, day of that month, hour, minute and second in range). Most posts arrive so; formatting the date
 * again would cost more than parsing it.
 */
export function isCanonicalUtc(s: string): boolean {
  if (s.length !== 24 || s.charCodeAt(23) !== 0x5a || s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':' || s[19] !== '.') return false;
  for (const i of DIGIT_AT) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  const two = (i: number): number => (s.charCodeAt(i) - 0x30) * 10 + s.charCodeAt(i + 1) - 0x30;
  const year = two(0) * 100 + two(2);
  const month = two(5);
  const day = two(8);
  if (month < 1 || month > 12 || day < 1 || two(11) > 23 || two(14) > 59 || two(17) > 59) return false;
  if (day <= 28) return true;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
}

/** The identity of a post across redeliveries: `(platform, id)`. */
export function postIdentity(post: { platform: string; id: string }): string {
  return `${post.platform}:${post.id}`;
}

function getAt(record: Record<string, unknown>, path: readonly PropertyKey[]): unknown {
  let cur: unknown = record;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function reject(reason: RejectReason, detail: string): ParseResult {
  return { ok: false, reason, detail };
}
