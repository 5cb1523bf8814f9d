/**
 * pnpm backtest --input <posts.jsonl or -> --out <alerts.jsonl or -> [--config <detector.json>] [--progress-every <n>]
 *                [--threads <n>] [--transfer compact|json|clone]
 *
 * Runs the live detectors' code (@tingfeng/detect) over a file in event time, in one process, with
 * neither Kafka nor Redis: one alert per output line, a summary on stderr. Deterministic: the same
 * input gives the same output byte for byte, whatever `--threads`.
 *
 * Each line is a raw post (validated with parsePost, then analysed with @tingfeng/text) or an
 * enriched post (a line that already carries `tokens`: validated, not re-analysed).
 * "Too far in the future" cannot use the wall clock and stay deterministic, so the backtest judges a
 * post by the posts around it (`EventClock` of @tingfeng/detect, the rule each partition of the live
 * merge follows too): a post more than `clockMaxJumpMs` (10 min) ahead of the largest event time
 * accepted so far is a jump, held until the next `clockConfirmPosts` (8) posts vote on it: at least
 * half of them not more than that before it accept it, more than half before it refuse it as
 * `created_at_future` (it moves nothing). So quiet weeks between posts are read whole, and a lone
 * 2999 typo is refused. At the end of the input the votes so far decide (a lone last post stays).
 *
 * Threads: `--threads n` (default 1) parses, validates and analyses batches of lines on n worker
 * threads while the main thread runs the detectors; batches come back in input order, so the output
 * is the same as `--threads 0` (everything on the main thread). The event clock depends on the
 * posts around each one, so workers validate with an open clock and the main thread applies the
 * clock in order. `--transfer` picks how
 * enriched posts come back: `compact` (default: only the fields the detectors read, `DetectorPost`,
 * one JSON array per post, one JSON string per batch), `json` (whole enriched posts, one JSON string
 * per batch) or `clone` (whole enriched posts, structured clone). The detectors read nothing else, so
 * every transfer gives the same alerts.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type Alert, type EnrichedPost, MAX_FUTURE_SKEW_MS, parsePost, type Post, type RepostHop, validatePost } from '@tingfeng/contracts';
import { settleByVotes, createDetectorEngine, type DetectorConfig, type DetectorEngine, type DetectorPost, EventClock } from '@tingfeng/detect';
import { createAnalyzer } from '@tingfeng/text';
import { createJsonlWriter, InputNotFoundError } from './lib/jsonl.js';

/** What became of the non-blank lines of one batch, in order. */
interface BatchResult {
  /** Per line: the post (analysed or taken as enriched; across threads only what the detectors read), or null when refused. */
  posts: (DetectorPost | null)[];
  /** Per line: the refusal reason, or null. */
  reasons: (string | null)[];
  /** Per line: 1 when it was enriched input (validated, not analysed), else 0. */
  enriched: number[];
  analysisMs: number;
}

/** A batch as it travels back from a worker: the result itself, as one JSON string, or compact (posts as {@link PostRow}s). */
type BatchMessage = { seq: number; result: BatchResult } | { seq: number; json: string } | { seq: number; compact: string };

/** How a worker returns enriched posts: see the header. */
type Transfer = 'clone' | 'json' | 'compact';

/**
 * A {@link DetectorPost} as a JSON array, absent fields as null: no key names to write and parse, and no field the
 * detectors do not read (the raw text, urls, mentions, emoticons; the author's other fields).
 */
type PostRow = [
  id: string,
  platform: string,
  createdAt: string,
  createdAtMs: number,
  authorId: string,
  authorName: string | null,
  authorFollowers: number | null,
  authorCreatedAt: string | null,
  ownText: string,
  tokens: string[],
  keywords: string[],
  topics: string[],
  repostChain: RepostHop[],
  spam: 0 | 1,
  sentiment: number,
  parentId: string | null,
  rootId: string | null,
  schemes: string[] | null,
];

function toRow(p: DetectorPost): PostRow {
  const a = p.author;
  return [
    p.id, p.platform, p.createdAt, p.createdAtMs, a.id, a.name ?? null, a.followers ?? null, a.createdAt ?? null,
    p.ownText, p.tokens, p.keywords, p.topics, p.repostChain, p.spam ? 1 : 0, p.sentiment,
    p.parentId ?? null, p.rootId ?? null, p.schemes ?? null,
  ];
}

/** The post again, with the fields a {@link DetectorPost} has (an absent optional one is left out, as the analyzer leaves it). */
function fromRow(r: PostRow): DetectorPost {
  const author: DetectorPost['author'] = { id: r[4] };
  if (r[5] !== null) author.name = r[5];
  if (r[6] !== null) author.followers = r[6];
  if (r[7] !== null) author.createdAt = r[7];
  const p: DetectorPost = {
    id: r[0], platform: r[1], createdAt: r[2], createdAtMs: r[3], author,
    ownText: r[8], tokens: r[9], keywords: r[10], topics: r[11], repostChain: r[12], spam: r[13] === 1, sentiment: r[14],
  };
  if (r[15] !== null) p.parentId = r[15];
  if (r[16] !== null) p.rootId = r[16];
  if (r[17] !== null) p.schemes = r[17];
  return p;
}

/** A batch's result with its posts as rows, for {@link Transfer} `compact`. */
type CompactBatch = Omit<BatchResult, 'posts'> & { posts: (PostRow | null)[] };

function decodeBatch(m: BatchMessage): BatchResult {
  if ('result' in m) return m.result;
  if ('json' in m) return JSON.parse(m.json) as BatchResult;
  const c = JSON.parse(m.compact) as CompactBatch;
  const posts = new Array<DetectorPost | null>(c.posts.length);
  for (let i = 0; i < posts.length; i++) {
    const row = c.posts[i]!;
    posts[i] = row === null ? null : fromRow(row);
  }
  return { posts, reasons: c.reasons, enriched: c.enriched, analysisMs: c.analysisMs };
}

function encodeBatch(seq: number, result: BatchResult, transfer: Transfer): BatchMessage {
  if (transfer === 'clone') return { seq, result };
  if (transfer === 'json') return { seq, json: JSON.stringify(result) };
  const posts = result.posts.map((p) => (p === null ? null : toRow(p)));
  return { seq, compact: JSON.stringify({ posts, reasons: result.reasons, enriched: result.enriched, analysisMs: result.analysisMs } satisfies CompactBatch) };
}

/** Any date the contract accepts passes the future check with this receipt time; the real check is in order. */
const OPEN_CLOCK_MS = 8.64e15 - MAX_FUTURE_SKEW_MS;

/** Fills analyzer fields an enriched line may lack, so the detectors always see the contract's shape. */
function asEnriched(post: Post): EnrichedPost {
  const p = post as Post & Partial<EnrichedPost>;
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return Object.assign(p, {
    ownText: typeof p.ownText === 'string' ? p.ownText : p.text,
    tokens: list(p.tokens),
    keywords: list(p.keywords),
    emoticons: list(p.emoticons),
    mentions: list(p.mentions),
    topics: list(p.topics),
    urls: list(p.urls),
    repostChain: Array.isArray(p.repostChain) ? p.repostChain : [],
    spam: p.spam === true,
    sentiment: typeof p.sentiment === 'number' && Number.isFinite(p.sentiment) ? p.sentiment : 0,
  });
}

/** Parses, validates (open clock) and analyses the lines of a batch; the same code in a worker or on the main thread. */
function createBatchProcessor(): (text: string) => BatchResult {
  /** Lazily created: a file of enriched posts never loads jieba. */
  let analyzer: ReturnType<typeof createAnalyzer> | undefined;
  return (text) => {
    const t0 = performance.now();
    const result: BatchResult = { posts: [], reasons: [], enriched: [], analysisMs: 0 };
    // The line breaks readline knows (CRLF, LF, lone CR); blank lines are skipped as readJsonlLines does.
    for (const line of text.split(/\r?\n|\r/)) {
      if (line.trim().length === 0) continue;
      // Cheap sniff: only lines that mention tokens are parsed as possibly enriched.
      let value: unknown;
      let enriched = false;
      if (line.includes('"tokens"')) {
        try {
          value = JSON.parse(line);
          enriched = typeof value === 'object' && value !== null && Array.isArray((value as { tokens?: unknown }).tokens);
        } catch {
          // Falls through to parsePost, which gives the contract's reason.
        }
      }
      const r = enriched ? validatePost(value, { receivedAtMs: OPEN_CLOCK_MS }) : parsePost(line, { receivedAtMs: OPEN_CLOCK_MS });
      result.reasons.push(r.ok ? null : r.reason);
      result.enriched.push(r.ok && enriched ? 1 : 0);
      if (!r.ok) result.posts.push(null);
      else if (enriched) result.posts.push(asEnriched(r.post));
      else {
        analyzer ??= createAnalyzer();
        result.posts.push(analyzer.analyze(r.post));
      }
    }
    result.analysisMs = performance.now() - t0;
    return result;
  };
}

if (!isMainThread) {
  const processBatch = createBatchProcessor();
  const transfer = (workerData as { transfer: Transfer }).transfer;
  parentPort!.on('message', (m: { seq: number; bytes: Uint8Array }) => {
    const result = processBatch(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength).toString('utf8'));
    parentPort!.postMessage(encodeBatch(m.seq, result, transfer));
  });
} else {
  await main();
}

async function main(): Promise<void> {
  function fail(message: string): never {
    process.stderr.write(`backtest: ${message}\n`);
    process.exit(2);
  }

  const usage = 'usage: pnpm backtest --input <posts.jsonl or -> --out <alerts.jsonl or -> [--config <detector.json>] [--progress-every <n>] [--threads <n>] [--transfer compact|json|clone]';
  let values: { input?: string; out?: string; config?: string; 'progress-every'?: string; threads?: string; transfer?: string };
  try {
    ({ values } = parseArgs({
      options: {
        input: { type: 'string' },
        out: { type: 'string' },
        config: { type: 'string' },
        'progress-every': { type: 'string' },
        threads: { type: 'string' },
        transfer: { type: 'string' },
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
  const transfer = (values.transfer ?? 'compact') as Transfer;
  if (transfer !== 'compact' && transfer !== 'clone' && transfer !== 'json') fail(`--transfer must be compact, json or clone\n${usage}`);

  let overrides: Partial<DetectorConfig> = {};
  if (values.config) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(values.config, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object of detector settings');
      overrides = parsed as Partial<DetectorConfig>;
    } catch (err) {
      fail(`--config ${values.config}: ${(err as Error).message}`);
    }
  }

  let engine: DetectorEngine;
  try {
    engine = createDetectorEngine(overrides);
  } catch (err) {
    fail(`--config: ${(err as Error).message}`);
  }

  const input = values.input;
  if (input !== '-' && (!existsSync(input) || !statSync(input).isFile())) fail(new InputNotFoundError(input).message);

  const wallStart = performance.now();
  let analysisMs = 0;
  let detectionMs = 0;
  let waitMs = 0;
  let read = 0;
  let postsAccepted = 0;
  let enrichedInput = 0;
  const rejected = new Map<string, number>();
  const byType = new Map<string, number>();
  const out = createJsonlWriter(values.out);

  const reject = (reason: string): void => {
    rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
  };

  /** Alerts of the posts the clock released, waiting to be written. */
  let ready: Alert[] = [];
  const clock = new EventClock<{ post: DetectorPost; enriched: boolean }>(
    { maxJumpMs: engine.config.clockMaxJumpMs, confirmPosts: engine.config.clockConfirmPosts },
    ({ post, enriched }, _eventTimeMs, accepted) => {
      if (!accepted) {
        reject('created_at_future');
        return;
      }
      postsAccepted++;
      if (enriched) enrichedInput++;
      const t0 = performance.now();
      const alerts = engine.process(post);
      detectionMs += performance.now() - t0;
      for (const a of alerts) ready.push(a);
    },
  );

  async function emit(alerts: Alert[]): Promise<void> {
    for (const a of alerts) {
      byType.set(a.type, (byType.get(a.type) ?? 0) + 1);
      await out.write(a);
    }
  }

  async function emitReady(): Promise<void> {
    if (ready.length === 0) return;
    const alerts = ready;
    ready = [];
    await emit(alerts);
  }

  /** Detection over one batch, in input order: the event clock, then the engine. */
  async function detect(batch: BatchResult): Promise<void> {
    analysisMs += batch.analysisMs;
    for (let i = 0; i < batch.posts.length; i++) {
      read++;
      const post = batch.posts[i];
      if (!post) reject(batch.reasons[i]!);
      else clock.push({ post, enriched: batch.enriched[i] === 1 }, post.createdAtMs);
      if (progressEvery > 0 && read % progressEvery === 0) {
        const s = (performance.now() - wallStart) / 1000;
        process.stderr.write(`backtest: ${read} lines, ${postsAccepted} posts, ${[...byType.values()].reduce((a, b) => a + b, 0)} alerts, ${Math.round(read / s)} lines/s\n`);
      }
    }
    await emitReady();
  }

  // Batches of whole lines: each chunk is cut after its last newline (0x0a never occurs inside a UTF-8 sequence).
  const stream: NodeJS.ReadableStream = input === '-' ? process.stdin : createReadStream(input, { highWaterMark: 256 * 1024 });
  let submit: (bytes: Buffer) => Promise<BatchResult>;
  let stop = (): Promise<void> => Promise.resolve();
  if (threads === 0) {
    const processBatch = createBatchProcessor();
    submit = (bytes) => Promise.resolve(processBatch(bytes.toString('utf8')));
  } else {
    // This same file is the worker; tsx's loader is registered in it first (workers do not inherit it).
    const entry = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const workers = Array.from({ length: threads }, () => new Worker(entry, { eval: true, workerData: { transfer } }));
    const pending = new Map<number, (r: BatchResult) => void>();
    for (const w of workers) {
      w.on('message', (m: BatchMessage) => {
        const done = pending.get(m.seq)!;
        pending.delete(m.seq);
        done(decodeBatch(m));
      });
      w.on('error', (err) => fail(`worker: ${err.stack ?? err.message}`));
    }
    let seq = 0;
    submit = (bytes) => {
      const n = seq++;
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      const copy = own ? bytes : Buffer.from(bytes);
      return new Promise<BatchResult>((resolve) => {
        pending.set(n, resolve);
        workers[n % workers.length]!.postMessage({ seq: n, bytes: copy }, [copy.buffer as ArrayBuffer]);
      });
    };
    stop = async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    };
  }

  // Results are consumed in submission order; a few batches per worker stay in flight.
  const inFlight: Promise<BatchResult>[] = [];
  const maxInFlight = Math.max(1, 3 * threads);
  const drainOne = async (): Promise<void> => {
    const t0 = performance.now();
    const batch = await inFlight.shift()!;
    waitMs += performance.now() - t0;
    await detect(batch);
  };
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    const cut = bytes.lastIndexOf(0x0a);
    if (cut < 0) {
      carry = bytes;
      continue;
    }
    carry = Buffer.from(bytes.subarray(cut + 1));
    inFlight.push(submit(Buffer.from(bytes.subarray(0, cut + 1))));
    while (inFlight.length >= maxInFlight) await drainOne();
  }
  if (carry.length > 0) inFlight.push(submit(carry));
  while (inFlight.length > 0) await drainOne();
  await stop();
  clock.settle(settleByVotes);
  await emitReady();

  const t1 = performance.now();
  const tail = engine.flush();
  detectionMs += performance.now() - t1;
  await emit(tail);
  await out.close();

  const seconds = (performance.now() - wallStart) / 1000;
  const stats = engine.stats();
  const summary = {
    lines: read,
    posts: postsAccepted,
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
    analysisMs: Math.round(analysisMs),
    detectionMs: Math.round(detectionMs),
    waitMs: Math.round(waitMs),
  };
  process.stderr.write(`backtest: ${JSON.stringify(summary)}\n`);
}
