import { deadLetter, parsePost, postIdentity, postKey, type DeadLetter, type EnrichedPost, type Post, type RejectReason } from '@tingfeng/contracts';

/** One input message as the pipeline sees it. */
export interface InputMessage {
  topic: string;
  partition: number;
  offset: string;
  value: Buffer | null;
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
  const valid: { post: Post; claim: string; message: InputMessage }[] = [];
  for (const m of messages) {
    const raw = m.value ?? Buffer.alloc(0);
    const parsed = parsePost(raw, { receivedAtMs });
    if (!parsed.ok) {
      const letter: DeadLetter = deadLetter(raw, parsed.reason, parsed.detail, receivedAtMs, {
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
      });
      outcome.deadLetters.push({ key: null, value: JSON.stringify(letter), reason: parsed.reason });
      continue;
    }
    valid.push({ post: parsed.post, claim: `${m.topic}:${m.partition}:${m.offset}`, message: m });
  }
  if (valid.length === 0) return outcome;
  const owned = await claim(valid.map((v) => ({ identity: postIdentity(v.post), claim: v.claim })));
  valid.forEach((v, i) => {
    if (!owned[i]) {
      outcome.duplicates++;
      return;
    }
    const t0 = performance.now();
    const enriched = analyzer.analyze(v.post, receivedAtMs);
    outcome.analyzeSeconds.push((performance.now() - t0) / 1000);
    const value = JSON.stringify(enriched);
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > maxOutputBytes) {
      const raw = v.message.value ?? Buffer.alloc(0);
      const detail = `enriched post is ${bytes} bytes, over the ${maxOutputBytes}-byte output limit`;
      const source = { topic: v.message.topic, partition: v.message.partition, offset: v.message.offset };
      outcome.deadLetters.push({ key: null, value: JSON.stringify(deadLetter(raw, 'too_large', detail, receivedAtMs, source)), reason: 'too_large' });
      return;
    }
    outcome.enriched.push({ key: postKey(v.post), value });
  });
  return outcome;
}
