import { deadLetter, parsePost, postIdentity, postKey, type EnrichedPost, type Post, type RejectReason } from '@tingfeng/contracts';
import { attemptBounded, undecodableRecord, type IHeaders } from '@tingfeng/kafka';

/** One input message as the pipeline sees it. */
export interface InputMessage {
  topic: string;
  partition: number;
  offset: string;
  value: Buffer | null;
  /** Its headers: a record that could not be decompressed arrives as a marker header (see `undecodableRecord`). */
  headers?: IHeaders | undefined;
}

export interface BatchOutcome {
  enriched: { key: string; value: string }[];
  deadLetters: { key: string | null; value: string; reason: RejectReason }[];
  duplicates: number;
  /** Per-post analysis time, seconds, for the latency histogram. */
  analyzeSeconds: number[];
}

/**
 * Claims posts by identity. Resolves, per post, whether this message owns the post:
 * true for a first sighting or a redelivery of the same message, false for a duplicate.
 */
export type ClaimFn = (claims: { identity: string; claim: string }[]) => Promise<boolean[]>;

export interface Analyze {
  analyze(post: Post, receivedAtMs?: number): EnrichedPost;
}

/**
 * Largest enriched post written by default: the broker's default `max.message.bytes` (1 MiB + 12) less room for the
 * record batch's overhead and the key. A valid post just under the contract's 1 MiB grows when enriched (tokens,
 * `ownText`); written as is, the broker refuses it and the transaction fails on every redelivery, stalling the partition.
 */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024 - 8 * 1024;

/**
 * Validates, de-duplicates and enriches one batch. Pure apart from the claim call, so the same code
 * runs in the live worker and in tests; the caller writes the outcome atomically with the offsets.
 */
export async function processBatch(
  messages: readonly InputMessage[],
  analyzer: Analyze,
  claim: ClaimFn,
  receivedAtMs: number,
  maxOutputBytes: number = DEFAULT_MAX_OUTPUT_BYTES,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { enriched: [], deadLetters: [], duplicates: 0, analyzeSeconds: [] };
  const refuse = (m: InputMessage, reason: RejectReason, detail: string): void => {
    const letter = deadLetter(m.value ?? Buffer.alloc(0), reason, detail, receivedAtMs, { topic: m.topic, partition: m.partition, offset: m.offset });
    outcome.deadLetters.push({ key: null, value: JSON.stringify(letter), reason });
  };
  const valid: { post: Post; claim: string; message: InputMessage }[] = [];
  for (const m of messages) {
    const undecodable = undecodableRecord(m.headers);
    if (undecodable) {
      refuse(m, undecodable.reason, undecodable.detail);
      continue;
    }
    const parsed = attemptBounded(() => parsePost(m.value ?? Buffer.alloc(0), { receivedAtMs }));
    if (!parsed.ok) refuse(m, 'processing_failed', `validation threw ${parsed.attempts} times: ${parsed.error}`);
    else if (!parsed.value.ok) refuse(m, parsed.value.reason, parsed.value.detail);
    else valid.push({ post: parsed.value.post, claim: `${m.topic}:${m.partition}:${m.offset}`, message: m });
  }
  if (valid.length === 0) return outcome;
  const owned = await claim(valid.map((v) => ({ identity: postIdentity(v.post), claim: v.claim })));
  valid.forEach((v, i) => {
    if (!owned[i]) {
      outcome.duplicates++;
      return;
    }
    const t0 = performance.now();
    // Analysis and serialisation depend on the message alone: what throws here throws on every redelivery too.
    const done = attemptBounded(() => JSON.stringify(analyzer.analyze(v.post, receivedAtMs)));
    outcome.analyzeSeconds.push((performance.now() - t0) / 1000);
    if (!done.ok) {
      refuse(v.message, 'processing_failed', `analysis threw ${done.attempts} times: ${done.error}`);
      return;
    }
    const value = done.value;
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > maxOutputBytes) {
      refuse(v.message, 'too_large', `enriched post is ${bytes} bytes, over the ${maxOutputBytes}-byte output limit`);
      return;
    }
    outcome.enriched.push({ key: postKey(v.post), value });
  });
  return outcome;
}
