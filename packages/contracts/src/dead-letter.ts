import type { RejectReason } from './post.js';

/** The value written to `posts.dlq` for a refused message: the reason, the raw bytes and when it came. */
export interface DeadLetter {
  reason: RejectReason;
  detail: string;
  /** Wall-clock time of receipt, ISO-8601. */
  receivedAt: string;
  source: { topic: string; partition: number; offset: string } | { http: string };
  /** The original bytes, base64: they may not be valid UTF-8. Cut at {@link MAX_DEAD_LETTER_RAW_BYTES}. */
  rawBase64: string;
  /** Size of the original message in bytes. */
  rawBytes: number;
  /** True when `rawBase64` holds only the first {@link MAX_DEAD_LETTER_RAW_BYTES} bytes. */
  rawTruncated: boolean;
}

/** Raw bytes kept in a dead letter: anything the posts topic accepts (2 MiB) fits whole. */
export const MAX_DEAD_LETTER_RAW_BYTES = 2 * 1024 * 1024;

export function deadLetter(
  raw: Uint8Array | string,
  reason: RejectReason,
  detail: string,
  receivedAtMs: number,
  source: DeadLetter['source'],
): DeadLetter {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const kept = bytes.byteLength > MAX_DEAD_LETTER_RAW_BYTES ? bytes.subarray(0, MAX_DEAD_LETTER_RAW_BYTES) : bytes;
  return {
    reason,
    detail,
    receivedAt: new Date(receivedAtMs).toISOString(),
    source,
    rawBase64: kept.toString('base64'),
    rawBytes: bytes.byteLength,
    rawTruncated: kept !== bytes,
  };
}
