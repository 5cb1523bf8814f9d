// A worker thread of the row encoder (row-encoder.ts): records in, COPY rows out, the rows' bytes transferred.
import { parentPort } from 'node:worker_threads';
import { createSubwordLoader } from '@tingfeng/archive';
import { encodeChunk, type EncodeRequest } from './encode.js';

const port = parentPort!;
const loadSubwords = createSubwordLoader();
// Loaded as the thread starts (jieba takes seconds), and said when done: the consumer joins its group only then.
loadSubwords().then(
  () => port.postMessage({ ready: true }),
  (err: unknown) => port.postMessage({ ready: false, error: (err as Error).stack ?? String(err) }),
);

port.on('message', (message: { seq: number; request: EncodeRequest }) => {
  void (async () => {
    try {
      const chunk = encodeChunk(message.request, await loadSubwords());
      port.postMessage({ seq: message.seq, chunk }, [chunk.rows.bytes.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage({ seq: message.seq, error: (err as Error).stack ?? String(err) });
    }
  })();
});
