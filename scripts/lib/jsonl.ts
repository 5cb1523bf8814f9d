import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';

/** One line of a JSONL input, with its 1-based line number (blank lines are skipped but counted). */
export interface JsonlLine {
  line: string;
  lineNo: number;
}

/** Thrown when a JSONL input file does not exist or is not a file; scripts turn it into one error line and exit 2. */
export class InputNotFoundError extends Error {
  override name = 'InputNotFoundError';
  constructor(readonly path: string) {
    super(`input file not found: ${path}`);
  }
}

/**
 * Reads a JSONL file (or standard input for `-`) line by line without loading it whole. Yields raw lines, not parsed
 * JSON: the caller decides what a bad line means (the post contract has its own rejection reasons). Handles CRLF.
 * Throws {@link InputNotFoundError} before yielding anything when the file is missing. A path ending in `.xz` is read
 * through `xz -dc` (the shared data is kept compressed); a failing `xz` throws after the lines it gave.
 */
export async function* readJsonlLines(pathOrDash: string): AsyncGenerator<JsonlLine> {
  let input: NodeJS.ReadableStream;
  let finished: Promise<void> = Promise.resolve();
  if (pathOrDash === '-') input = process.stdin;
  else {
    if (!existsSync(pathOrDash) || !statSync(pathOrDash).isFile()) throw new InputNotFoundError(pathOrDash);
    if (pathOrDash.endsWith('.xz')) ({ input, finished } = decompressXz(pathOrDash));
    else input = createReadStream(pathOrDash, { encoding: 'utf8' });
  }
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of rl) {
    lineNo++;
    if (line.trim().length === 0) continue;
    yield { line, lineNo };
  }
  await finished;
}

/** `xz -dc path` as a text stream, and a promise that rejects if xz could not run or failed. */
function decompressXz(path: string): { input: NodeJS.ReadableStream; finished: Promise<void> } {
  const xz = spawn('xz', ['-dc', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  xz.stdout.setEncoding('utf8');
  const finished = new Promise<void>((resolveDone, reject) => {
    xz.on('error', (err) => reject(new Error(`xz -dc ${path}: ${err.message} (is xz installed?)`)));
    xz.on('close', (code) => (code === 0 ? resolveDone() : reject(new Error(`xz -dc ${path} exited with ${code}`))));
  });
  // Observed by the reader after the last line; never an unhandled rejection before that.
  finished.catch(() => undefined);
  return { input: xz.stdout, finished };
}

/** A JSONL sink: one JSON value per line, honouring back-pressure; `-` is standard output. */
export interface JsonlWriter {
  /** Writes one value as a line; resolves at once unless the stream asks to wait. */
  write(value: unknown): Promise<void> | void;
  /** Flushes and closes (standard output is flushed, never closed). */
  close(): Promise<void>;
}

/** Opens a JSONL writer on a file path (created or truncated) or `-` for standard output. */
export function createJsonlWriter(pathOrDash: string): JsonlWriter {
  const stream: Writable = pathOrDash === '-' ? process.stdout : createWriteStream(pathOrDash, { encoding: 'utf8' });
  let closed = false;
  return {
    write(value) {
      if (!stream.write(`${JSON.stringify(value)}\n`)) {
        return new Promise<void>((resolveDrain) => stream.once('drain', () => resolveDrain()));
      }
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolveClose, rejectClose) => {
        if (stream === process.stdout) stream.write('', () => resolveClose());
        else stream.end((err?: Error | null) => (err ? rejectClose(err) : resolveClose()));
      });
    },
  };
}
