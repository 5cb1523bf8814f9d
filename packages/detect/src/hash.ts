import { createHash } from 'node:crypto';

/** 32-bit FNV-1a over a string's UTF-16 code units, with a seed: the hash of the story tables and SimHash shingles. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche so neighbouring strings spread over the table's low bits.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * FNV-1a in pieces, without building the joined string: `fnv1aFinish(fnv1aStep(fnv1aStep(seed, a), b))`
 * equals `fnv1a(a + b, seed)`. `fnv1aStep` leaves out the final avalanche, so a prefix's state can be reused.
 */
export function fnv1aStep(state: number, text: string): number {
  let h = state;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** One UTF-16 code unit into an {@link fnv1aStep} state. */
export function fnv1aChar(state: number, code: number): number {
  return Math.imul(state ^ code, 0x01000193);
}

/** The final avalanche of {@link fnv1a}, on a state from {@link fnv1aStep}. */
export function fnv1aFinish(state: number): number {
  let h = state;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** A deterministic alert id: the same key and per-key emission sequence always give the same id. */
export function alertId(key: string, seq: number): string {
  return createHash('sha1').update(`${key}|${seq}`).digest('hex').slice(0, 20);
}

/** Bits set in a 32-bit integer. */
export function popcount32(x: number): number {
  let v = x >>> 0;
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** A 64-bit SimHash as two unsigned 32-bit halves. */
export type SimHash = readonly [number, number];

/** Scratch of {@link simHash}: one per process (it never re-enters), not an allocation per post. */
const SIMHASH_WEIGHTS = new Int32Array(64);

/** SimHash over character n-grams: near-identical texts differ in few bits. */
export function simHash(text: string, n: number): SimHash {
  const weights = SIMHASH_WEIGHTS.fill(0);
  const grams = text.length <= n ? 1 : text.length - n + 1;
  for (let i = 0; i < grams; i++) {
    // FNV-1a of the n-gram in place (no substring), then a second, independent 32 bits by remixing.
    let h = 0x811c9dc5;
    const end = Math.min(text.length, i + n);
    for (let j = i; j < end; j++) {
      h ^= text.charCodeAt(j);
      h = Math.imul(h, 0x01000193);
    }
    let lo = h >>> 0;
    lo ^= lo >>> 16;
    lo = Math.imul(lo, 0x85ebca6b) >>> 0;
    let hi = Math.imul(lo ^ (lo >>> 13), 0xc2b2ae35);
    hi = (hi ^ (hi >>> 16)) >>> 0;
    for (let b = 0; b < 32; b++) {
      weights[b]! += ((lo >>> b) & 1) * 2 - 1;
      weights[b + 32]! += ((hi >>> b) & 1) * 2 - 1;
    }
  }
  let lo = 0;
  let hi = 0;
  for (let b = 0; b < 32; b++) {
    if (weights[b]! > 0) lo |= 1 << b;
    if (weights[b + 32]! > 0) hi |= 1 << b;
  }
  return [lo >>> 0, hi >>> 0];
}

/** Hamming distance between two SimHashes. */
export function hamming(a: SimHash, b: SimHash): number {
  return popcount32(a[0] ^ b[0]) + popcount32(a[1] ^ b[1]);
}
