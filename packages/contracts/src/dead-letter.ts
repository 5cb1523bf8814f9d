import type { RejectReason } from './post.js';

/** The value written to `posts.dlq` for a refused message: the reason, the raw bytes and when it came. */
export interface DeadLetter {
  reason: RejectReason;
  detail: string;
  /** Wall-clock time of receipt, ISO-8601. */
  receivedAt: string;
  source: { topic: string; partition: number; offset: string } | { http: string };
  /** The original bytes, base64: they may not be valid UTF-8. */
  rawBase64: string;
}

export function deadLetter(
  raw: Uint8Array | string,
  reason: RejectReason,
  detail: string,
  receivedAtMs: number,
  source: DeadLetter['source'],
): DeadLetter {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return { reason, detail, receivedAt: new Date(receivedAtMs).toISOString(), source, rawBase64: bytes.toString('base64') };
}
