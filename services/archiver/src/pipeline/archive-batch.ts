import { rowCount, sliceRows, type EncodedRows } from '@tingfeng/archive';
import { deadLetter, type RejectReason } from '@tingfeng/contracts';
import type { EncodedChunk } from './encode.js';

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

/** Writes encoded rows in one transaction (`Archive.writeRows`). */
export type WriteFn = (rows: EncodedRows) => Promise<{ inserted: number; duplicates: number }>;

/** Encodes the values of a chunk's records (none null) into rows (`RowEncoder.encode`). */
export type EncodeFn = (values: Buffer[]) => Promise<EncodedChunk>;

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
 * Encodes a chunk of `posts.enriched` records, without writing them: the next chunk is encoded (on a worker thread)
 * while this one is written. A record that is empty (a tombstone) or not an enriched post is kept as a dead letter
 * with its reason.
 */
export async function encodeBatch(messages: readonly InputMessage[], encode: EncodeFn, receivedAtMs: number): Promise<EncodedBatch> {
  const deadLetters: OutgoingDeadLetter[] = [];
  const values: Buffer[] = [];
  const origin: InputMessage[] = [];
  for (const m of messages) {
    if (m.value === null) deadLetters.push(letter(m, 'not_json', 'empty record (a tombstone)', receivedAtMs));
    else {
      values.push(m.value);
      origin.push(m);
    }
  }
  const { rows, failures } = values.length === 0 ? { rows: undefined, failures: [] } : await encode(values);
  for (const f of failures) deadLetters.push(letter(origin[f.index]!, f.reason, f.detail, receivedAtMs));
  return { rows, origin, deadLetters };
}

/** A chunk encoded: its rows (`rows.sources` index `origin`), and the dead letters of the records refused. */
export interface EncodedBatch {
  rows: EncodedRows | undefined;
  origin: InputMessage[];
  deadLetters: OutgoingDeadLetter[];
}

/**
 * Writes an encoded chunk. When the database refuses the rows for a reason of data, they are halved until the
 * refused rows are alone, and those are dead-lettered as `processing_failed`: one bad post does not stop the
 * partition, and the others are still written. Other errors are thrown, so the caller commits nothing and the chunk
 * comes again (writes are idempotent).
 */
export async function archiveBatch(batch: EncodedBatch, write: WriteFn, receivedAtMs: number): Promise<BatchOutcome> {
  const { rows, origin } = batch;
  const outcome: BatchOutcome = { written: 0, duplicates: rows?.duplicates ?? 0, expired: rows?.expired ?? 0, deadLetters: [...batch.deadLetters] };
  if (rows === undefined) return outcome;
  const refuse = (row: number, err: unknown) => {
    const m = origin[rows.sources[row]!]!;
    const detail = `the archive refused the post: ${(err as Error).message}`.slice(0, 300);
    outcome.deadLetters.push(letter(m, 'processing_failed', detail, receivedAtMs));
  };
  const writeIsolating = async (start: number, end: number): Promise<void> => {
    if (end <= start) return;
    try {
      const result = await write(start === 0 && end === rowCount(rows) ? rows : sliceRows(rows, start, end));
      outcome.written += result.inserted;
      outcome.duplicates += result.duplicates;
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (end - start === 1) return refuse(start, err);
      const half = start + Math.ceil((end - start) / 2);
      await writeIsolating(start, half);
      await writeIsolating(half, end);
    }
  };
  await writeIsolating(0, rowCount(rows));
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
