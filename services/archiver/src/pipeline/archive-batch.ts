import { deadLetter, parseEnrichedPost, type EnrichedPost, type RejectReason } from '@tingfeng/contracts';

export interface InputMessage {
  topic: string;
  partition: number;
  offset: string;
  value: Buffer | null;
}

/** One dead letter to send: keyed by the record's offset, so a redelivered one lands on the same DLQ partition. */
export interface OutgoingDeadLetter {
  key: string;
  value: string;
  reason: RejectReason;
}

export interface BatchOutcome {
  written: number;
  duplicates: number;
  expired: number;
  deadLetters: OutgoingDeadLetter[];
}

export type WriteFn = (posts: EnrichedPost[]) => Promise<{ inserted: number; duplicates: number; expired: number }>;

/**
 * SQLSTATE classes that mean "this data cannot be stored", whatever the attempt: data exceptions (22), integrity
 * (23), syntax of a value such as a tsvector (42), program limits such as an oversize row (54). Anything else (a
 * lost connection, a server shutting down) is a reason to retry the whole batch, not to dead-letter a post.
 */
const DATA_ERROR_CLASSES = new Set(['22', '23', '42', '54']);

export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && DATA_ERROR_CLASSES.has(code.slice(0, 2));
}

/**
 * Parses a batch of `posts.enriched` records and writes the valid ones. A record that is not an enriched post is
 * dead-lettered with its reason. When the database refuses the batch for a reason of data, the batch is halved
 * until the refused posts are alone, and those are dead-lettered as `processing_failed`: one bad post does not stop
 * the partition, and the others are still written. Other errors are thrown, so the caller commits nothing and the
 * batch comes again (writes are idempotent).
 */
export async function archiveBatch(messages: readonly InputMessage[], write: WriteFn, receivedAtMs: number): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { written: 0, duplicates: 0, expired: 0, deadLetters: [] };
  const posts: EnrichedPost[] = [];
  const origin = new Map<EnrichedPost, InputMessage>();
  for (const m of messages) {
    const parsed = m.value === null ? ({ ok: false, reason: 'not_json', detail: 'empty record (a tombstone)' } as const) : parseEnrichedPost(m.value);
    if (parsed.ok) {
      posts.push(parsed.post);
      origin.set(parsed.post, m);
    } else outcome.deadLetters.push(letter(m, parsed.reason, parsed.detail, receivedAtMs));
  }
  const refuse = (post: EnrichedPost, err: unknown) => {
    const m = origin.get(post)!;
    const detail = `the archive refused the post: ${(err as Error).message}`.slice(0, 300);
    outcome.deadLetters.push(letter(m, 'processing_failed', detail, receivedAtMs));
  };
  const writeIsolating = async (part: EnrichedPost[]): Promise<void> => {
    if (part.length === 0) return;
    try {
      const result = await write(part);
      outcome.written += result.inserted;
      outcome.duplicates += result.duplicates;
      outcome.expired += result.expired;
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (part.length === 1) return refuse(part[0]!, err);
      const half = Math.ceil(part.length / 2);
      await writeIsolating(part.slice(0, half));
      await writeIsolating(part.slice(half));
    }
  };
  await writeIsolating(posts);
  return outcome;
}

function letter(m: InputMessage, reason: RejectReason, detail: string, receivedAtMs: number): OutgoingDeadLetter {
  const source = { topic: m.topic, partition: m.partition, offset: m.offset };
  return {
    key: `${m.topic}/${m.partition}/${m.offset}`,
    value: JSON.stringify(deadLetter(m.value ?? Buffer.alloc(0), reason, detail, receivedAtMs, source)),
    reason,
  };
}
