/**
 * pnpm bench:backtest [--real <posts.jsonl[.xz]>] [--real-threads <n,...>] [--copies 12] [--runs 3] [--threads <n,...>] [--keep <dir>]
 *
 * First, on a real history (default `../shared/data/ced_weibo_dev.jsonl.xz`, the 624,780 posts of the dev file; skipped
 * when absent), the figure the backtest is held to: bare `nodejieba.cut(text, true)` over the same texts (in this
 * process, after a warm-up; the segmentation the analyzer itself does) beside `pnpm backtest` end to end over the
 * whole file (spawned, `--threads` per `--real-threads`, default 1), posts/s of each and the ratio (target >= 0.3),
 * by wall clock and by CPU time (on a shared machine, wall time counts the waits for a core). Then each thread's half of
 * that backtest alone, in this process: a worker's (parse, validate, analyse, encode) and the main thread's (decode,
 * detect), by CPU time, and what two cores would give with the two shared perfectly (the ceiling of the design).
 *
 * `--repo <dir>` runs another checkout's backtest (an older commit, with its own install); `--skip-corpus` stops here.
 *
 * Then, on a generated corpus:
 *
 * Builds a deterministic corpus of short raw posts: `--copies` runs of the daily-peak scenario (4 simulated days,
 * ~16,000 posts each) laid end to end in event time, ids prefixed per copy, through `toRawPost`; writes it as JSONL to a
 * temp file, and an enriched copy (analysed once here) beside it. Then times, best of `--runs`, in the same run so the
 * figures share the machine's load:
 *  (a) floor: reading the file line by line + JSON.parse + validatePost (what any backtest pays);
 *  (b) `pnpm backtest` end to end on the raw file, spawned as package.json's script runs it (`node <BACKTEST_NODE_FLAGS>
 *      --import tsx scripts/backtest.ts`), per `--threads`
 *      value (0 = single-threaded), and on the enriched file;
 *  (c) detection only (the engine over posts already in memory) and analysis only (`analyze()` over validated posts).
 * Prints posts/s of each and the ratios to the floor. Figures, not assertions.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodejieba from 'nodejieba';
import { parseArgs } from 'node:util';
import { type EnrichedPost, MAX_FUTURE_SKEW_MS, type Post, validatePost } from '@tingfeng/contracts';
import { Backtest, createDetectorEngine, dailyPeakScenario, toRawPost } from '@tingfeng/detect';
import { createAnalyzer } from '@tingfeng/text';
import { readJsonlLines } from './lib/jsonl.js';
import { BACKTEST_NODE_FLAGS } from './lib/backtest/flags.js';
import { createLineProcessor } from './lib/backtest/lines.js';
import { decodeBatch, encodeBatch, type WireBatch } from './lib/backtest/wire.js';

const { values } = parseArgs({
  options: {
    copies: { type: 'string', default: '12' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: '0,1,2' },
    real: { type: 'string', default: join(import.meta.dirname, '..', '..', 'shared', 'data', 'ced_weibo_dev.jsonl.xz') },
    'real-threads': { type: 'string', default: '1' },
    // Another checkout's `scripts/backtest.ts` (its own install), to measure before and after in one run.
    repo: { type: 'string', default: join(import.meta.dirname, '..') },
    'skip-corpus': { type: 'boolean', default: false },
    keep: { type: 'string' },
  },
});
const copies = Number(values.copies);
const runs = Math.max(1, Number(values.runs));
const threadCounts = values.threads.split(',').map(Number);

/** `pnpm backtest` spawned over `input` (`-` reads `stdin`), with its summary line and the child's CPU time. */
function spawnBacktest(input: string, out: string, args: string[], stdin?: Buffer): { ms: number; cpuMs: number; summary: BacktestRun['summary'] } {
  const t0 = performance.now();
  // `time -f` gives the child's CPU time (user + system), workers included.
  const r = spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', process.execPath, ...BACKTEST_NODE_FLAGS, '--import', 'tsx', 'scripts/backtest.ts', '--input', input, '--out', out, '--progress-every', '0', ...args], {
    encoding: 'utf8',
    cwd: values.repo,
    ...(stdin ? { input: stdin } : {}),
    maxBuffer: 1 << 30,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`backtest exited ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  const cpu = lines.findLast((l) => l.startsWith('cpu '))!.split(' ');
  const summaryLine = lines.findLast((l) => l.startsWith('backtest: {'))!;
  return { ms, cpuMs: (Number(cpu[1]) + Number(cpu[2])) * 1000, summary: JSON.parse(summaryLine.replace(/^backtest: /, '')) as BacktestRun['summary'] };
}

interface BacktestRun {
  ms: number;
  summary: { seconds: number; postsPerSecond: number; analysisMs: number; detectionMs: number; alerts: number; lines: number };
  output: string;
}

if (existsSync(values.real)) {
  const xz = values.real.endsWith('.xz') ? spawnSync('xz', ['-dc', values.real], { maxBuffer: 1 << 30 }) : undefined;
  if (xz && xz.status !== 0) throw new Error(`xz -dc ${values.real} failed`);
  const file = xz ? xz.stdout : readFileSync(values.real);
  const texts: string[] = [];
  for (const line of file.toString('utf8').split('\n')) if (line.length > 0) texts.push((JSON.parse(line) as { text: string }).text);
  for (const text of texts.slice(0, 20_000)) nodejieba.cut(text, true);
  let jiebaMs = Number.POSITIVE_INFINITY;
  let jiebaCpuMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let pieces = 0;
    for (const text of texts) pieces += nodejieba.cut(text, true).length;
    const cpu = process.cpuUsage(c0);
    if (pieces < 0) throw new Error('unreachable');
    jiebaMs = Math.min(jiebaMs, performance.now() - t0);
    jiebaCpuMs = Math.min(jiebaCpuMs, (cpu.user + cpu.system) / 1000);
  }
  const perS = (n: number, ms: number): number => Math.round(n / (ms / 1000));
  process.stdout.write(`real history: ${texts.length} posts of ${values.real}; best of ${runs}\n`);
  process.stdout.write(`  bare nodejieba.cut(text, true)   ${perS(texts.length, jiebaMs).toLocaleString('en').padStart(9)} posts/s wall, ${perS(texts.length, jiebaCpuMs).toLocaleString('en').padStart(9)} posts/s CPU\n`);
  let spawnedAlerts = -1;
  for (const t of values['real-threads'].split(',').map(Number)) {
    let best: ReturnType<typeof spawnBacktest> | undefined;
    let bestCpuMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < runs; i++) {
      const run = spawnBacktest('-', join(tmpdir(), `bench-backtest-real-${process.pid}.jsonl`), ['--threads', String(t)], file);
      if (best === undefined || run.summary.seconds < best.summary.seconds) best = run;
      bestCpuMs = Math.min(bestCpuMs, run.cpuMs);
    }
    const s = best!.summary;
    spawnedAlerts = s.alerts;
    rmSync(join(tmpdir(), `bench-backtest-real-${process.pid}.jsonl`), { force: true });
    process.stdout.write(
      `  pnpm backtest --threads ${t}          ${s.postsPerSecond.toLocaleString('en').padStart(9)} posts/s wall, ${perS(s.lines, bestCpuMs).toLocaleString('en').padStart(9)} posts/s CPU (all threads); ` +
        `ratio to jieba: ${(s.postsPerSecond / perS(texts.length, jiebaMs)).toFixed(2)} wall (target >= 0.3), ${(perS(s.lines, bestCpuMs) / perS(texts.length, jiebaCpuMs)).toFixed(2)} CPU; ` +
        `${s.lines} lines, ${s.alerts} alerts, analysis ${s.analysisMs} ms, detection ${s.detectionMs} ms\n` +
        // The summary's clock starts once the main thread's modules are loaded; the workers start before that. The
        // whole process, Node.js's own start included, is the fairer figure to set against a jieba already loaded.
        `      whole process (start to exit): ${perS(s.lines, best!.ms).toLocaleString('en')} posts/s, ratio ${(perS(s.lines, best!.ms) / perS(texts.length, jiebaMs)).toFixed(2)}\n`,
    );
  }
  const parts = timeParts(file, runs);
  // The halves timed here must be the same work as the backtest's: the same alerts, or the figures below mean nothing.
  if (spawnedAlerts >= 0 && parts.alerts !== spawnedAlerts) throw new Error(`the halves gave ${parts.alerts} alerts, pnpm backtest ${spawnedAlerts}`);
  const alone = perS(texts.length, parts.workerMs);
  const main = perS(texts.length, parts.mainMs);
  // Two threads on two cores, the work split between them perfectly and nothing else running: the most it could be.
  const bound = perS(texts.length, (parts.workerMs + parts.mainMs) / 2);
  process.stdout.write(
    `  each thread's part alone, in this process (${parts.alerts} alerts, as the backtest's; without its GC flags):\n` +
      `    worker's (parse, validate, analyse, encode) ${alone.toLocaleString('en').padStart(9)} posts/s CPU, ${(perS(texts.length, jiebaCpuMs) / alone).toFixed(1)}x the CPU of bare jieba\n` +
      `    main thread's (decode, detect)              ${main.toLocaleString('en').padStart(9)} posts/s CPU, ${(perS(texts.length, jiebaCpuMs) / main).toFixed(1)}x\n` +
      `    both shared perfectly over 2 cores:         ${bound.toLocaleString('en').padStart(9)} posts/s, ratio to jieba ${(bound / perS(texts.length, jiebaMs)).toFixed(2)} (the ceiling of this design on this machine)\n`,
  );
}

/**
 * The two halves of `pnpm backtest --threads 1`, one after the other on this thread, CPU time, best of `runs`: what a
 * worker does to a 256 KiB batch of lines (lines.ts, then the wire's encoding), and what the main thread does with it
 * (the wire's decoding, then the detectors through `Backtest`). Their sum over two cores bounds the end-to-end figure.
 */
function timeParts(file: Buffer, runs: number): { workerMs: number; mainMs: number; alerts: number } {
  const processLines = createLineProcessor();
  processLines.warm();
  let workerMs = Number.POSITIVE_INFINITY;
  let mainMs = Number.POSITIVE_INFINITY;
  let alerts = 0;
  for (let r = 0; r < runs; r++) {
    const batches: (WireBatch | undefined)[] = [];
    let c0 = process.cpuUsage();
    for (let start = 0; start < file.length; ) {
      let end = file.indexOf(0x0a, Math.min(file.length - 1, start + 256 * 1024));
      if (end < 0) end = file.length - 1;
      batches.push(encodeBatch(processLines(file.subarray(start, end + 1))));
      start = end + 1;
    }
    let cpu = process.cpuUsage(c0);
    workerMs = Math.min(workerMs, (cpu.user + cpu.system) / 1000);
    c0 = process.cpuUsage();
    const backtest = new Backtest();
    alerts = 0;
    for (let b = 0; b < batches.length; b++) {
      const { posts } = decodeBatch(batches[b]!);
      // Let go of the batch, as the backtest does once it is detected.
      batches[b] = undefined;
      for (const post of posts) if (post !== null) alerts += backtest.push(post).length;
    }
    alerts += backtest.end().length;
    cpu = process.cpuUsage(c0);
    mainMs = Math.min(mainMs, (cpu.user + cpu.system) / 1000);
  }
  return { workerMs, mainMs, alerts };
}

if (values['skip-corpus']) process.exit(0);
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

function backtest(input: string, threads: number): BacktestRun {
  const out = join(dir, `alerts-${threads}.jsonl`);
  const { ms, summary } = spawnBacktest(input, out, ['--threads', String(threads)]);
  return { ms, summary, output: readFileSync(out, 'utf8') };
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
for (const threads of threadCounts) report(`backtest raw --threads ${threads}`, best(() => backtest(rawFile, threads), (r) => r.summary.seconds));
report('backtest enriched --threads 0', best(() => backtest(enrichedFile, 0), (r) => r.summary.seconds));
const distinct = new Set([...outputs.values()]);
process.stdout.write(`outputs: ${distinct.size === 1 ? 'byte-identical across every backtest run above' : `${distinct.size} different outputs`} (${[...outputs.values()][0]!.split('\n').length - 1} alerts)\n`);
if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
