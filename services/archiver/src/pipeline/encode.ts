import { encodeRows, type EncodedRows, type SubwordFn } from '@tingfeng/archive';
import { parseEnrichedPost, type RejectReason } from '@tingfeng/contracts';

/** A chunk of records to encode: their values one after another, value i ending at `ends[i]`. */
export interface EncodeRequest {
  values: Uint8Array;
  ends: Uint32Array;
  /** Retention: posts before this (epoch ms) are left out and counted as expired. */
  notBeforeMs?: number;
}

/** A record that is not an enriched post, by its index in the request. */
export interface EncodeFailure {
  index: number;
  reason: RejectReason;
  detail: string;
}

/** The rows of a chunk's valid posts (`rows.sources` index the request's values) and the records refused. */
export interface EncodedChunk {
  rows: EncodedRows;
  failures: EncodeFailure[];
}

/** Parses each record as an enriched post and encodes the valid ones' rows; pure, run on a worker thread or inline. */
export function encodeChunk(request: EncodeRequest, subwords: SubwordFn | undefined): EncodedChunk {
  const { values, ends } = request;
  const posts = [];
  const from: number[] = [];
  const failures: EncodeFailure[] = [];
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const parsed = parseEnrichedPost(values.subarray(start, ends[i]));
    start = ends[i]!;
    if (parsed.ok) {
      posts.push(parsed.post);
      from.push(i);
    } else failures.push({ index: i, reason: parsed.reason, detail: parsed.detail });
  }
  const rows = encodeRows(posts, { ...(subwords && { subwords }), ...(request.notBeforeMs !== undefined && { notBeforeMs: request.notBeforeMs }) });
  rows.sources = rows.sources.map((s) => from[s]!);
  return { rows, failures };
}
