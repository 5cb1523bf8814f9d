import type { StoryState } from './grouping.js';

/** The story detector's state as plain JSON: the sketch's tables, its open buckets, the live stories. */
export interface StorySnapshot {
  /** Float32 tables as base64: global mean, variance; per-slot mean, variance; the running slot maximum. */
  mean: string;
  variance: string;
  slotMean: string;
  slotVariance: string;
  slotMax: string;
  /** Open (not yet closed) buckets: [bucket index, counts as base64]. */
  open: [number, string][];
  nextCloseBucket: number | null;
  closedBuckets: number;
  stories: StoryState[];
  foldedLate: number;
}

/** A float table as base64 of its bytes (the platform's byte order, as it was written). */
export function toBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** The table back; throws when the snapshot was taken with another table size. */
export function fromBase64(s: string, length: number): Float32Array {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.byteLength !== length * 4) throw new Error(`snapshot table has ${bytes.byteLength / 4} cells, expected ${length}`);
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
