// The backtest itself; scripts/backtest.ts starts it in a Node.js with the garbage collector set for it (see there).
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Alert, CampaignRecord } from '@tingfeng/contracts';
import type { Backtest as BacktestType, DetectorConfig } from '@tingfeng/detect';
import type { BatchResult } from './lines.js';
import type { WireBatch } from './wire.js';
import { startWorkers } from './workers.js';

function fail(message: string): never {
  process.stderr.write(`backtest: ${message}\n`);
  process.exit(2);
}

const usage = 'usage: pnpm backtest --input <posts.jsonl or -> --out <alerts.jsonl or -> [--config <detector.json>] [--campaigns <campaigns.jsonl>] [--threads <n>] [--progress-every <n>]';
let values: { input?: string; out?: string; config?: string; campaigns?: string; 'progress-every'?: string; threads?: string };
try {
  ({ values } = parseArgs({
    options: {
      input: { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string' },
      campaigns: { type: 'string' },
      'progress-every': { type: 'string' },
      threads: { type: 'string' },
    },
    strict: true,
  }));
} catch (err) {
  fail(`${(err as Error).message}\n${usage}`);
}
if (!values.input) fail(`--input is required\n${usage}`);
if (!values.out) fail(`--out is required\n${usage}`);
const progressEvery = Number(values['progress-every'] ?? 100_000);
const threads = Number(values.threads ?? 1);
if (!Number.isInteger(threads) || threads < 0 || threads > 16) fail(`--threads must be an integer 0..16\n${usage}`);

// The workers start first, then this thread loads its own modules (contracts, detectors, text: ~1.2 s under tsx)
// while they load theirs: on the dev file the first batch came back 5.2 s after the start when they started after
// these imports, 3.4–3.7 s now.
const workers = startWorkers(threads, (err) => fail(`worker: ${err.stack ?? err.message}`));
const [{ CampaignRecordSchema }, { Backtest }, { createJsonlWriter, InputNotFoundError }, { createLinePool }, { decodeBatch }] = await Promise.all([
  import('@tingfeng/contracts'),
  import('@tingfeng/detect'),
  import('../jsonl.js'),
  import('./pool.js'),
  import('./wire.js'),
]);

function readConfig(path: string): Partial<DetectorConfig> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object of detector settings');
    return parsed as Partial<DetectorConfig>;
  } catch (err) {
    fail(`--config ${path}: ${(err as Error).message}`);
  }
}

function readCampaigns(path: string): CampaignRecord[] {
  const out: CampaignRecord[] = [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(`--campaigns ${path}: ${(err as Error).message}`);
  }
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      fail(`--campaigns ${path}:${i + 1}: not JSON`);
    }
    const r = CampaignRecordSchema.safeParse(value);
    if (!r.success) fail(`--campaigns ${path}:${i + 1}: ${r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    out.push(r.data);
  });
  return out;
}

let backtest: BacktestType;
try {
  backtest = new Backtest({ config: values.config ? readConfig(values.config) : {}, campaigns: values.campaigns ? readCampaigns(values.campaigns) : [] });
} catch (err) {
  fail(`--config: ${(err as Error).message}`);
}

const input = values.input;
if (input !== '-' && (!existsSync(input) || !statSync(input).isFile())) fail(new InputNotFoundError(input).message);

const wallStart = performance.now();
let analysisMs = 0;
let detectionMs = 0;
let waitMs = 0;
let batches = 0;
let batchesOnMain = 0;
let read = 0;
let enrichedInput = 0;
const rejected = new Map<string, number>();
const byType = new Map<string, number>();
const out = createJsonlWriter(values.out);

async function emit(alerts: Alert[]): Promise<void> {
  for (const a of alerts) {
    byType.set(a.type, (byType.get(a.type) ?? 0) + 1);
    await out.write(a);
  }
}

/** Detection over one batch, in input order. */
async function detect(batch: BatchResult): Promise<void> {
  analysisMs += batch.analysisMs;
  enrichedInput += batch.enriched;
  const t0 = performance.now();
  const alerts: Alert[] = [];
  for (let i = 0; i < batch.posts.length; i++) {
    read++;
    const post = batch.posts[i];
    if (!post) {
      const reason = batch.reasons[i]!;
      rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
    } else {
      for (const a of backtest.push(post)) alerts.push(a);
    }
    if (progressEvery > 0 && read % progressEvery === 0) {
      const s = (performance.now() - wallStart) / 1000;
      process.stderr.write(`backtest: ${read} lines, ${backtest.counts().accepted} posts, ${[...byType.values()].reduce((a, b) => a + b, 0) + alerts.length} alerts, ${Math.round(read / s)} lines/s\n`);
    }
  }
  detectionMs += performance.now() - t0;
  await emit(alerts);
}

const pool = createLinePool(workers);

/**
 * Batches of whole lines, read in order, of at least BATCH_BYTES (a pipe gives 64 KiB reads, a file what it is asked):
 * each is cut after its last newline (0x0a never occurs inside a UTF-8 sequence).
 */
const BATCH_BYTES = 256 * 1024;
const chunks = (input === '-' ? process.stdin : createReadStream(input, { highWaterMark: BATCH_BYTES }))[Symbol.asyncIterator]();
let carry: Buffer = Buffer.alloc(0);
let eof = false;
async function readBatch(): Promise<Buffer | undefined> {
  const parts: Buffer[] = carry.length > 0 ? [carry] : [];
  let size = carry.length;
  while (!eof) {
    const next = await chunks.next();
    if (next.done === true) {
      eof = true;
      break;
    }
    parts.push(next.value as Buffer);
    size += (next.value as Buffer).length;
    if (size < BATCH_BYTES) continue;
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    const cut = bytes.lastIndexOf(0x0a);
    if (cut < 0) {
      parts.length = 0;
      parts.push(bytes);
      continue;
    }
    carry = Buffer.from(bytes.subarray(cut + 1));
    return Buffer.from(bytes.subarray(0, cut + 1));
  }
  carry = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
  if (carry.length === 0) return undefined;
  const last = carry;
  carry = Buffer.alloc(0);
  return last;
}

/**
 * A batch on its way: its bytes until someone analyses them, then its result: posts when the main thread analysed
 * it, a worker's rows otherwise, decoded only when the batch is detected. Posts that wait in the queue outlive a
 * scavenge or two and are copied and promoted for nothing; rows are strings, cheap to keep (the dev file's main
 * thread scavenged 2.1 s with decoded posts waiting, 1.8 s with rows).
 */
interface Slot {
  bytes: Buffer | undefined;
  result: BatchResult | WireBatch | undefined;
  sent: Promise<void> | undefined;
}
// Batches are detected in input order. The workers keep `pool.depth` batches in flight; when the oldest is not back
// yet, the main thread analyses the newest unsent batch itself rather than wait (it detects faster than one worker
// analyses, and a core stays free for the worker), so no core idles and no thread more than the cores runs.
// Not before the workers' first batch is back, though: until then the main thread only loads its own analyzer (when
// the input is raw posts). A batch it analysed then, cold, held up the detection of the first batch the workers sent
// back by ~0.8 s on the dev file.
const queue: Slot[] = [];
const readAhead = pool.depth + 4;
let inWorkers = 0;
let workersBack = false;
let warmed = false;
const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const analyseHere = (slot: Slot): void => {
  slot.result = pool.here(slot.bytes!);
  slot.bytes = undefined;
  batchesOnMain++;
};
for (;;) {
  while (!eof && queue.length < readAhead) {
    const bytes = await readBatch();
    if (bytes !== undefined) queue.push({ bytes, result: undefined, sent: undefined });
  }
  for (let i = 0; i < queue.length && inWorkers < pool.depth; i++) {
    const slot = queue[i]!;
    if (slot.bytes === undefined) continue;
    inWorkers++;
    slot.sent = pool.submit(slot.bytes).then((r) => {
      slot.result = r;
      inWorkers--;
      workersBack = true;
    });
    slot.bytes = undefined;
  }
  const head = queue[0];
  if (head === undefined) break;
  if (head.result === undefined && head.bytes !== undefined) analyseHere(head);
  else if (head.result === undefined) {
    let newest = -1;
    for (let i = queue.length - 1; i > 0 && newest < 0; i--) if (queue[i]!.bytes !== undefined) newest = i;
    if (newest > 0 && (workersBack || !warmed)) {
      if (workersBack) analyseHere(queue[newest]!);
      else {
        // Raw posts (no line carries tokens): the analyzer will be needed; an enriched history never loads it.
        if (!queue[newest]!.bytes!.includes('"tokens"')) pool.warm();
        warmed = true;
      }
      // Lets the workers' answers in before looking at the head again.
      await yieldToEvents();
      continue;
    }
    const t0 = performance.now();
    await head.sent;
    waitMs += performance.now() - t0;
  }
  queue.shift();
  batches++;
  const result = head.result!;
  await detect('rows' in result ? decodeBatch(result) : result);
}
await pool.close();

const t1 = performance.now();
const tail = backtest.end();
detectionMs += performance.now() - t1;
await emit(tail);
await out.close();

const seconds = (performance.now() - wallStart) / 1000;
const stats = backtest.engine.stats();
const counts = backtest.counts();
rejected.set('created_at_future', (rejected.get('created_at_future') ?? 0) + counts.refusedFuture);
if (rejected.get('created_at_future') === 0) rejected.delete('created_at_future');
const summary = {
  lines: read,
  posts: counts.accepted,
  enrichedInput,
  rejected: [...rejected.values()].reduce((a, b) => a + b, 0),
  rejectedByReason: Object.fromEntries([...rejected.entries()].sort()),
  duplicates: stats.duplicates,
  late: stats.late,
  spam: stats.spam,
  alerts: [...byType.values()].reduce((a, b) => a + b, 0),
  alertsByType: Object.fromEntries([...byType.entries()].sort()),
  seconds: Math.round(seconds * 100) / 100,
  postsPerSecond: Math.round(read / Math.max(seconds, 1e-9)),
  threads,
  batches,
  batchesOnMain,
  analysisMs: Math.round(analysisMs),
  detectionMs: Math.round(detectionMs),
  waitMs: Math.round(waitMs),
};
process.stderr.write(`backtest: ${JSON.stringify(summary)}\n`);
