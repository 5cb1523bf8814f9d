import type { Worker } from 'node:worker_threads';
import { createLineProcessor, type BatchResult } from './lines.js';
import type { WireBatch } from './wire.js';

/** Where batches of lines are analysed: on worker threads, and on the calling thread when it would otherwise wait. */
export interface LinePool {
  /**
   * Analyses a batch of whole lines on a worker; results resolve in any order, each with its own batch's lines in
   * order, in the wire format: decode it (decodeBatch) when it is its turn, so that its posts are young when detected.
   */
  submit(bytes: Buffer): Promise<WireBatch>;
  /** Analyses a batch of whole lines on the calling thread (its analyzer is created on first use). */
  here(bytes: Buffer): BatchResult;
  /** Creates the calling thread's analyzer now (jieba's load, ~0.5 s), so that its first {@link here} does not wait for it. */
  warm(): void;
  /** Batches worth keeping in flight on the workers so that none waits; 0 when there are no workers. */
  readonly depth: number;
  close(): Promise<void>;
}

/**
 * The given workers (startWorkers; round robin; one that fails has already been given the caller's error handler) and
 * the calling thread's own line processor.
 */
export function createLinePool(workers: readonly Worker[]): LinePool {
  const processHere = createLineProcessor();
  const here = (bytes: Buffer): BatchResult => processHere(bytes);
  const warm = (): void => processHere.warm();
  if (workers.length === 0) {
    // Depth 0: the backtest never submits, every batch is analysed here.
    return { submit: () => Promise.reject(new Error('no worker threads (--threads 0)')), here, warm, depth: 0, close: () => Promise.resolve() };
  }
  const pending = new Map<number, (r: WireBatch) => void>();
  for (const w of workers) {
    w.on('message', (m: { seq: number; batch: WireBatch }) => {
      const done = pending.get(m.seq)!;
      pending.delete(m.seq);
      done(m.batch);
    });
  }
  let seq = 0;
  return {
    submit(bytes) {
      const n = seq++;
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      const copy = own ? bytes : Buffer.from(bytes);
      return new Promise<WireBatch>((resolve) => {
        pending.set(n, resolve);
        workers[n % workers.length]!.postMessage({ seq: n, bytes: copy }, [copy.buffer as ArrayBuffer]);
      });
    },
    here,
    warm,
    depth: 3 * workers.length,
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
