/**
 * pnpm backtest --input <posts.jsonl or -> --out <alerts.jsonl or -> [--config <detector.json>] [--progress-every <n>]
 *
 * Runs the live detectors' code (@tingfeng/detect) over a file in event time, in one process, with
 * neither Kafka nor Redis: one alert per output line, a summary on stderr. Deterministic: the same
 * input gives the same output byte for byte.
 *
 * Each line is a raw post (validated with parsePost, then analysed with @tingfeng/text) or an
 * enriched post (a line that already carries `tokens`: validated, not re-analysed).
 * "Too far in the future" cannot use the wall clock and stay deterministic, so the backtest's
 * receipt time is the data's own clock: a post is refused as `created_at_future` when it lies more
 * than one day beyond the largest event time accepted before it (the first post sets the clock).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Alert, type EnrichedPost, MAX_FUTURE_SKEW_MS, parsePost, type Post, validatePost } from '@tingfeng/contracts';
import { createDetectorEngine, type DetectorConfig } from '@tingfeng/detect';
import { createAnalyzer } from '@tingfeng/text';
import { createJsonlWriter, InputNotFoundError, readJsonlLines } from './lib/jsonl.js';

function fail(message: string): never {
  process.stderr.write(`backtest: ${message}\n`);
  process.exit(2);
}

const usage = 'usage: pnpm backtest --input <posts.jsonl or -> --out <alerts.jsonl or -> [--config <detector.json>] [--progress-every <n>]';
let values: { input?: string; out?: string; config?: string; 'progress-every'?: string };
try {
  ({ values } = parseArgs({
    options: { input: { type: 'string' }, out: { type: 'string' }, config: { type: 'string' }, 'progress-every': { type: 'string' } },
    strict: true,
  }));
} catch (err) {
  fail(`${(err as Error).message}\n${usage}`);
}
if (!values.input) fail(`--input is required\n${usage}`);
if (!values.out) fail(`--out is required\n${usage}`);
const progressEvery = Number(values['progress-every'] ?? 100_000);

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

let engine;
try {
  engine = createDetectorEngine(overrides);
} catch (err) {
  fail(`--config: ${(err as Error).message}`);
}

/** Lazily created: a file of enriched posts never loads jieba. */
let analyzer: ReturnType<typeof createAnalyzer> | undefined;
const wallStart = performance.now();
let analysisMs = 0;
let detectionMs = 0;
let read = 0;
let accepted = 0;
let enrichedInput = 0;
const rejected = new Map<string, number>();
let clockMs: number | null = null;
const byType = new Map<string, number>();
const out = createJsonlWriter(values.out);

const reject = (reason: string): void => {
  rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
};

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

async function emit(alerts: Alert[]): Promise<void> {
  for (const a of alerts) {
    byType.set(a.type, (byType.get(a.type) ?? 0) + 1);
    await out.write(a);
  }
}

try {
  for await (const { line } of readJsonlLines(values.input)) {
    read++;
    const receivedAtMs = clockMs === null ? 8.64e15 - MAX_FUTURE_SKEW_MS : clockMs;
    let post: EnrichedPost;
    const t0 = performance.now();
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
    if (enriched) {
      const r = validatePost(value, { receivedAtMs });
      if (!r.ok) {
        reject(r.reason);
        continue;
      }
      post = asEnriched(r.post);
      enrichedInput++;
    } else {
      const r = parsePost(line, { receivedAtMs });
      if (!r.ok) {
        reject(r.reason);
        continue;
      }
      analyzer ??= createAnalyzer();
      post = analyzer.analyze(r.post);
    }
    const t1 = performance.now();
    analysisMs += t1 - t0;
    accepted++;
    clockMs = clockMs === null ? post.createdAtMs : Math.max(clockMs, post.createdAtMs);
    const alerts = engine.process(post);
    detectionMs += performance.now() - t1;
    if (alerts.length > 0) await emit(alerts);
    if (progressEvery > 0 && read % progressEvery === 0) {
      const s = (performance.now() - wallStart) / 1000;
      process.stderr.write(`backtest: ${read} lines, ${accepted} posts, ${[...byType.values()].reduce((a, b) => a + b, 0)} alerts, ${Math.round(read / s)} lines/s\n`);
    }
  }
} catch (err) {
  if (err instanceof InputNotFoundError) fail(err.message);
  throw err;
}
const t1 = performance.now();
await emit(engine.flush());
detectionMs += performance.now() - t1;
await out.close();
analyzer?.close();

const seconds = (performance.now() - wallStart) / 1000;
const stats = engine.stats();
const summary = {
  lines: read,
  posts: accepted,
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
  analysisMs: Math.round(analysisMs),
  detectionMs: Math.round(detectionMs),
};
process.stderr.write(`backtest: ${JSON.stringify(summary)}\n`);
