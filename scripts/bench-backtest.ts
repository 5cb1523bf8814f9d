/**
 * pnpm bench:backtest [--copies 12] [--runs 3] [--threads <n,...>] [--transfer <compact,json,clone>] [--keep <dir>]
 *
 * Builds a deterministic corpus of short raw posts: `--copies` runs of the daily-peak scenario (4 simulated days,
 * ~16,000 posts each) laid end to end in event time, ids prefixed per copy, through `toRawPost`; writes it as JSONL to a
 * temp file, and an enriched copy (analysed once here) beside it. Then times, best of `--runs`, in the same run so the
 * figures share the machine's load:
 *  (a) floor: reading the file line by line + JSON.parse + validatePost (what any backtest pays);
 *  (b) `pnpm backtest` end to end on the raw file, spawned (`node --import tsx scripts/backtest.ts`), per `--threads`
 *      value (0 = single-threaded) and, with threads, per `--transfer` (how workers return enriched posts: the
 *      detectors' fields as compact rows, or whole posts as JSON or structured clones), and on the enriched file;
 *  (c) detection only (the engine over posts already in memory) and analysis only (`analyze()` over validated posts).
 * Prints posts/s of each and the ratios to the floor. Figures, not assertions.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type EnrichedPost, MAX_FUTURE_SKEW_MS, type Post, validatePost } from '@tingfeng/contracts';
import { createDetectorEngine, dailyPeakScenario, toRawPost } from '@tingfeng/detect';
import { createAnalyzer } from '@tingfeng/text';
import { readJsonlLines } from './lib/jsonl.js';

const { values } = parseArgs({
  options: {
    copies: { type: 'string', default: '12' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: '0,1,2' },
    transfer: { type: 'string', default: 'compact,json,clone' },
    keep: { type: 'string' },
  },
});
const copies = Number(values.copies);
const runs = Math.max(1, Number(values.runs));
const threadCounts = values.threads.split(',').map(Number);
const transfers = values.transfer.split(',');

const DAY_MS = 86_400_000;
const scenario = dailyPeakScenario();
const spanMs = Math.ceil((scenario.endMs - scenario.startMs) / DAY_MS) * DAY_MS;
const raw: string[] = [];
for (let c = 0; c < copies; c++) {
  const shiftMs = c * spanMs;
  const prefix = `c${c}-`;
  for (const p of scenario.posts) {
    const shifted: EnrichedPost = { ...p, id: prefix + p.id, createdAtMs: p.createdAtMs + shiftMs };
    if (p.parentId !== undefined) shifted.parentId = prefix + p.parentId;
    if (p.rootId !== undefined) shifted.rootId = prefix + p.rootId;
    raw.push(JSON.stringify(toRawPost(shifted)));
  }
}
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'bench-backtest-'));
mkdirSync(dir, { recursive: true });
const rawFile = join(dir, 'raw.jsonl');
const enrichedFile = join(dir, 'enriched.jsonl');
writeFileSync(rawFile, `${raw.join('\n')}\n`);
const bytes = Buffer.byteLength(readFileSync(rawFile));
process.stdout.write(`corpus: ${raw.length} raw posts (${copies} × daily-peak, ${(copies * spanMs) / DAY_MS} simulated days), ${(bytes / raw.length).toFixed(0)} bytes/line, ${dir}\n`);

/** Validated posts, analysed once: the inputs of the in-memory figures and the enriched file. */
const validated: Post[] = [];
for (const line of raw) {
  const r = validatePost(JSON.parse(line), { receivedAtMs: 8.64e15 - MAX_FUTURE_SKEW_MS });
  if (r.ok) validated.push(r.post);
}
const analyzer = createAnalyzer();
const enriched = validated.map((p) => analyzer.analyze(p));
writeFileSync(enrichedFile, `${enriched.map((p) => JSON.stringify(p)).join('\n')}\n`);

async function floor(): Promise<number> {
  const t0 = performance.now();
  let ok = 0;
  for await (const { line } of readJsonlLines(rawFile)) if (validatePost(JSON.parse(line), { receivedAtMs: 8.64e15 - MAX_FUTURE_SKEW_MS }).ok) ok++;
  if (ok !== validated.length) throw new Error(`floor validated ${ok} of ${validated.length}`);
  return performance.now() - t0;
}

function analysisOnly(): number {
  const a = createAnalyzer();
  a.analyze(validated[0]!);
  const t0 = performance.now();
  for (const p of validated) a.analyze(p);
  return performance.now() - t0;
}

function detectionOnly(): number {
  const t0 = performance.now();
  const engine = createDetectorEngine();
  for (const p of enriched) engine.process(p);
  engine.flush();
  return performance.now() - t0;
}

interface BacktestRun {
  ms: number;
  summary: { seconds: number; postsPerSecond: number; analysisMs: number; detectionMs: number; alerts: number };
  output: string;
}

function backtest(input: string, threads: number | undefined, transfer?: string): BacktestRun {
  const out = join(dir, `alerts-${threads ?? 'default'}-${transfer ?? ''}.jsonl`);
  const args = ['--import', 'tsx', 'scripts/backtest.ts', '--input', input, '--out', out, '--progress-every', '0'];
  if (threads !== undefined) args.push('--threads', String(threads));
  if (transfer !== undefined) args.push('--transfer', transfer);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: join(import.meta.dirname, '..') });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`backtest exited ${r.status}: ${r.stderr}`);
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  return { ms, summary: JSON.parse(last.replace(/^backtest: /, '')) as BacktestRun['summary'], output: readFileSync(out, 'utf8') };
}

const best = <T>(f: () => T, ms: (t: T) => number): T => {
  let out: T | undefined;
  for (let i = 0; i < runs; i++) {
    const t = f();
    if (out === undefined || ms(t) < ms(out)) out = t;
  }
  return out!;
};
const rate = (ms: number): string => `${Math.round(validated.length / (ms / 1000)).toLocaleString('en')} posts/s`;

let floorMs = Number.POSITIVE_INFINITY;
for (let i = 0; i < runs; i++) floorMs = Math.min(floorMs, await floor());
const analysisMs = best(analysisOnly, (x) => x);
const detectionMs = best(detectionOnly, (x) => x);
process.stdout.write(`(a) floor: read + JSON.parse + validatePost   ${rate(floorMs).padStart(18)}  ${floorMs.toFixed(0)} ms\n`);
process.stdout.write(`(c) analysis only (analyze() in memory)       ${rate(analysisMs).padStart(18)}  ${analysisMs.toFixed(0)} ms\n`);
process.stdout.write(`(c) detection only (engine in memory)         ${rate(detectionMs).padStart(18)}  ${detectionMs.toFixed(0)} ms\n`);

const outputs = new Map<string, string>();
const report = (label: string, run: BacktestRun): void => {
  outputs.set(label, run.output);
  const s = run.summary;
  process.stdout.write(
    `(b) ${label.padEnd(48)}${`${s.postsPerSecond.toLocaleString('en')} posts/s`.padStart(18)}  wall ${run.ms.toFixed(0)} ms (process), analysis ${s.analysisMs} ms, detection ${s.detectionMs} ms, ${s.alerts} alerts, backtest/floor time ${((s.seconds * 1000) / floorMs).toFixed(2)}×\n`,
  );
};
// Probe whether this backtest knows --threads (the bench also measures older checkouts).
const knowsThreads = readFileSync(join(import.meta.dirname, 'backtest.ts'), 'utf8').includes('--threads');
for (const threads of knowsThreads ? threadCounts : [undefined]) {
  for (const transfer of threads ? transfers : [undefined]) {
    const label = `backtest raw${threads === undefined ? '' : ` --threads ${threads}`}${transfer === undefined ? '' : ` --transfer ${transfer}`}`;
    report(label, best(() => backtest(rawFile, threads, transfer), (r) => r.summary.seconds));
  }
}
report(`backtest enriched${knowsThreads ? ' --threads 0' : ''}`, best(() => backtest(enrichedFile, knowsThreads ? 0 : undefined), (r) => r.summary.seconds));
const distinct = new Set([...outputs.values()]);
process.stdout.write(`outputs: ${distinct.size === 1 ? 'byte-identical across every backtest run above' : `${distinct.size} different outputs`} (${[...outputs.values()][0]!.split('\n').length - 1} alerts)\n`);
if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
