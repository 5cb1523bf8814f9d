// A worker of the pool (pool.ts): analyses batches of lines and sends them back in the wire format.
import { parentPort } from 'node:worker_threads';
import { createLineProcessor } from './lines.js';
import { encodeBatch } from './wire.js';

const processLines = createLineProcessor();
parentPort!.on('message', (m: { seq: number; bytes: Uint8Array }) => {
  const result = processLines(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength));
  parentPort!.postMessage({ seq: m.seq, batch: encodeBatch(result) });
});
