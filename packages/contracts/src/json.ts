/**
 * Deepest nesting of arrays and objects accepted in a message. Posts from platform APIs nest a handful of levels; a
 * value nested thousands deep parses, but every recursive walk after it (JSON.stringify, structured clone, a zod
 * schema) overflows the stack, so it is refused before parsing.
 */
export const MAX_JSON_DEPTH = 64;

/** Why bytes did not decode to a JSON value. */
export type JsonDecodeFailure = 'too_large' | 'invalid_utf8' | 'not_json' | 'too_deep';

export type JsonDecodeResult = { ok: true; value: unknown; text: string } | { ok: false; reason: JsonDecodeFailure; detail: string };

export interface JsonDecodeOptions {
  /** Largest encoded size accepted, bytes. */
  maxBytes: number;
  /** Deepest nesting accepted; default {@link MAX_JSON_DEPTH}. */
  maxDepth?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The index at which JSON text first nests deeper than `maxDepth` arrays and objects, or -1. Brackets inside strings
 * do not count. Meant to run before `JSON.parse`: one pass over the characters, no allocation.
 */
export function jsonDepthExceededAt(text: string, maxDepth: number = MAX_JSON_DEPTH): number {
  // Text with at most `maxDepth` opening brackets anywhere cannot nest deeper. Counting them with indexOf (native)
  // costs a seventh of the character loop below, and a post holds a handful.
  let opens = 0;
  for (let i = text.indexOf('{'); i >= 0 && opens <= maxDepth; i = text.indexOf('{', i + 1)) opens++;
  for (let i = text.indexOf('['); i >= 0 && opens <= maxDepth; i = text.indexOf('[', i + 1)) opens++;
  if (opens <= maxDepth) return -1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return i;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return -1;
}

/**
 * Decodes one message (bytes or text) into a JSON value, refusing, in this order, more than `maxBytes`, invalid UTF-8,
 * nesting deeper than `maxDepth`, and text that is not JSON. Never throws. The one way every consumer of the system
 * turns a message into a value: the schemas then check its shape.
 */
export function decodeJson(raw: Uint8Array | string, options: JsonDecodeOptions): JsonDecodeResult {
  const { maxBytes, maxDepth = MAX_JSON_DEPTH } = options;
  let text: string;
  if (typeof raw === 'string') {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8: only a string longer than a third of the limit is counted.
    if (raw.length * 3 > maxBytes) {
      const bytes = Buffer.byteLength(raw, 'utf8');
      if (bytes > maxBytes) return { ok: false, reason: 'too_large', detail: `message is ${bytes} bytes, limit ${maxBytes}` };
    }
    text = raw;
  } else {
    if (raw.byteLength > maxBytes) return { ok: false, reason: 'too_large', detail: `message is ${raw.byteLength} bytes, limit ${maxBytes}` };
    try {
      text = utf8.decode(raw);
    } catch {
      return { ok: false, reason: 'invalid_utf8', detail: 'message is not valid UTF-8' };
    }
  }
  const deepAt = jsonDepthExceededAt(text, maxDepth);
  if (deepAt >= 0) return { ok: false, reason: 'too_deep', detail: `nested deeper than ${maxDepth} arrays or objects (at character ${deepAt})` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown, text };
  } catch (err) {
    return { ok: false, reason: 'not_json', detail: `not JSON: ${(err as Error).message}`.slice(0, 200) };
  }
}
