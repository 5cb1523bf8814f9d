import { Worker } from 'node:worker_threads';
import { createSubwordLoader } from '@tingfeng/archive';
import type { Logger } from '@tingfeng/logger';
import { encodeChunk, type EncodedChunk, type EncodeRequest } from './encode.js';

/** Where records become COPY rows: on worker threads, so the thread that talks to Kafka and PostgreSQL only moves bytes. */
export interface RowEncoder {
  /** Parses a chunk's record values and encodes the valid posts' rows; `null` values are never sent here. */
  encode(values: readonly Buffer[], notBeforeMs: number | undefined): Promise<EncodedChunk>;
  /**
   * Resolves once every thread has loaded what it encodes with (jieba, seconds): a consumer that joined its group
   * before would sit on its first batch past the session timeout and be told to rejoin.
   */
  ready(): Promise<void>;
  /** Ends the worker threads; an encode still in flight is rejected. Safe to call twice. */
  close(): Promise<void>;
}

/** Thrown for an encode whose worker thread failed or was closed: the chunk is consumed again. */
export class EncoderFailedError extends Error {
  override name = 'EncoderFailedError';
}

/**
 * `threads` worker threads (encode-worker.ts), started at once and handed chunks in turn; with 0, the calling
 * thread. A thread that fails rejects the encodes it held and is replaced on the next encode.
 */
export function createRowEncoder(threads: number, logger: Logger): RowEncoder {
  if (threads === 0) {
    const loadSubwords = createSubwordLoader();
    return {
      encode: async (values, notBeforeMs) => encodeChunk(request(values, notBeforeMs), await loadSubwords()),
      ready: async () => void (await loadSubwords()),
      close: () => Promise.resolve(),
    };
  }
  // Started now: each loads jieba at once (see ready).
  const slots: EncoderThread[] = Array.from({ length: threads }, () => new EncoderThread(logger));
  let turn = 0;
  let closed = false;
  return {
    encode(values, notBeforeMs) {
      if (closed) return Promise.reject(new EncoderFailedError('the row encoder is closed'));
      const slot = turn++ % threads;
      let thread = slots[slot]!;
      if (thread.failed) thread = slots[slot] = new EncoderThread(logger);
      return thread.encode(request(values, notBeforeMs));
    },
    async ready() {
      await Promise.all(slots.map((t) => t.ready));
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((t) => t.close()));
    },
  };
}

function request(values: readonly Buffer[], notBeforeMs: number | undefined): EncodeRequest {
  const ends = new Uint32Array(values.length);
  let at = 0;
  for (let i = 0; i < values.length; i++) ends[i] = at += values[i]!.length;
  // One buffer of its own, transferred to the thread rather than copied again.
  const bytes = Buffer.allocUnsafeSlow(at);
  at = 0;
  for (const v of values) at += v.copy(bytes, at);
  return { values: new Uint8Array(bytes.buffer, 0, at), ends, ...(notBeforeMs !== undefined && { notBeforeMs }) };
}

/** Workers do not inherit tsx's loader: under tsx (a .ts module), each registers it, then loads the worker. */
function workerEntry(): { entry: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { entry: new URL('./encode-worker.js', import.meta.url), eval: false };
  const workerUrl = new URL('./encode-worker.ts', import.meta.url).href;
  const entry = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl)}); })`;
  return { entry, eval: true };
}

/** The encode threads' young generation, MB. */
const YOUNG_GENERATION_MB = 64;

class EncoderThread {
  failed = false;
  /** Settles when the thread says it has loaded jieba, or fails. */
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (c: EncodedChunk) => void; reject: (err: Error) => void }>();
  private seq = 0;

  constructor(logger: Logger) {
    const { entry, eval: isEval } = workerEntry();
    // Room for a chunk's parsed posts to die young rather than be copied by scavenge after scavenge: one A/B run
    // over 55,000 posts gave 49.5 against 54.2 µs of process CPU per post, GC helper threads 6.8 against 17.2.
    this.worker = new Worker(entry, { eval: isEval, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    let started: { resolve: () => void; reject: (err: Error) => void } | undefined;
    this.ready = new Promise((resolve, reject) => (started = { resolve, reject }));
    this.ready.catch(() => undefined);
    this.worker.on('message', (m: { seq: number; chunk?: EncodedChunk; error?: string; ready?: boolean }) => {
      if (m.ready !== undefined) {
        if (m.ready) started?.resolve();
        else started?.reject(new EncoderFailedError(`the row encoder thread could not start: ${m.error ?? 'no reason given'}`));
        return;
      }
      const waiting = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      if (m.chunk !== undefined) waiting?.resolve(m.chunk);
      else waiting?.reject(new EncoderFailedError(`encoding failed: ${m.error ?? 'no reason given'}`));
    });
    const fail = (err: Error) => {
      if (!this.failed) logger.error({ err }, 'row encoder thread failed; its chunks will be consumed again');
      this.failed = true;
      started?.reject(new EncoderFailedError('the row encoder thread failed', { cause: err }));
      for (const p of this.pending.values()) p.reject(new EncoderFailedError('the row encoder thread failed', { cause: err }));
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the row encoder thread exited with ${code}`)));
    // The thread never keeps the process alive on its own.
    this.worker.unref();
  }

  encode(request: EncodeRequest): Promise<EncodedChunk> {
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.worker.postMessage({ seq, request }, [request.values.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.failed = true;
    await this.worker.terminate();
  }
}
