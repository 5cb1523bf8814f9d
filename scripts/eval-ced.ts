/**
 * pnpm eval:ced [--input <posts.jsonl[.xz] or ->] [--alerts <alerts.jsonl>] [--keep <alerts.jsonl>] [--config <detector.json>] [--json]
 *
 * The cascade detector judged on real repost cascades (default `../shared/data/ced_weibo_dev.jsonl.xz`): runs
 * `pnpm backtest` over the file (the live detectors' code), then scores its alerts from the data alone as
 * `../shared/data/README.md` defines (packages/detect/src/cascade-eval.ts), beside fixed-threshold baselines
 * measured in the same run: any alert at 50/h, `critical` at 250/h and at 150/h in the trailing hour, and the best
 * short-window rule of a grid ("critical when W minutes hold ≥ k reposts"), chosen on the `fit` half of the
 * cascades. Every figure is given on all cascades and on each half (`fit`: where the growth model's constants were
 * fitted; `held`: the rest).
 *
 * `--alerts` scores an alerts file already made by a backtest over the same input instead of running one;
 * `--keep` keeps the backtest's alerts at that path. A `.xz` input is read through `xz -dc`.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { AlertSchema, type Alert } from '@tingfeng/contracts';
import {
  bestWindowRule,
  callsFromAlerts,
  type CascadeCalls,
  type CascadeTruthBuilder,
  type CascadeTruth,
  type CedScore,
  ruleCalls,
  scoreCalls,
  windowRuleTimes,
} from '@tingfeng/detect';
import { readCascadeTruth } from './lib/ced.js';
import { BACKTEST_NODE_FLAGS } from './lib/backtest/flags.js';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');
const usage = 'usage: pnpm eval:ced [--input <posts.jsonl[.xz] or ->] [--alerts <alerts.jsonl>] [--keep <alerts.jsonl>] [--config <detector.json>] [--json]';

function fail(message: string): never {
  process.stderr.write(`eval:ced: ${message}\n`);
  process.exit(2);
}

let values: { input?: string; alerts?: string; keep?: string; config?: string; json?: boolean };
try {
  ({ values } = parseArgs({
    options: { input: { type: 'string' }, alerts: { type: 'string' }, keep: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  }));
} catch (err) {
  fail(`${(err as Error).message}\n${usage}`);
}
// The team's shared folder beside the repository (as @tingfeng/testing's SHARED_DIR, which a script cannot import: it loads vitest).
const input = values.input ?? join(repo, '..', 'shared', 'data', 'ced_weibo_dev.jsonl.xz');
if (input !== '-' && !existsSync(input)) fail(`input file not found: ${input}`);
if (input === '-' && values.alerts === undefined) fail('--input - needs --alerts (standard input cannot be read twice)');
if (values.alerts !== undefined && !existsSync(values.alerts)) fail(`alerts file not found: ${values.alerts}`);

/** The input's bytes: through `xz -dc` for a .xz file. */
function openInput(path: string): Readable {
  if (path === '-') return process.stdin;
  if (!path.endsWith('.xz')) return createReadStream(path);
  const xz = spawn('xz', ['-dc', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  xz.on('error', (err) => fail(`xz: ${err.message} (is xz installed?)`));
  xz.on('exit', (code) => {
    if (code !== 0) fail(`xz -dc ${path} exited with ${code}`);
  });
  return xz.stdout;
}

/** Runs the backtest over the input; resolves when its alerts are written. */
async function runBacktest(out: string): Promise<void> {
  const args = [...BACKTEST_NODE_FLAGS, '--import', 'tsx', join(repo, 'scripts', 'backtest.ts'), '--input', '-', '--out', out];
  if (values.config) args.push('--config', values.config);
  const child = spawn(process.execPath, args, { cwd: repo, stdio: ['pipe', 'inherit', 'inherit'] });
  openInput(input).pipe(child.stdin);
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  if (code !== 0) fail(`backtest exited with ${code}`);
}

async function* lines(stream: Readable): AsyncGenerator<string> {
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) if (line.trim() !== '') yield line;
}

async function readAlerts(path: string): Promise<Alert[]> {
  const out: Alert[] = [];
  for await (const line of lines(createReadStream(path))) out.push(AlertSchema.parse(JSON.parse(line)));
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'eval-ced-'));
let alerts: Alert[];
try {
  let alertsPath = values.alerts;
  if (alertsPath === undefined) {
    alertsPath = values.keep ?? join(tmp, 'alerts.jsonl');
    await runBacktest(alertsPath);
  }
  alerts = await readAlerts(alertsPath);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
let truth: CascadeTruthBuilder;
try {
  truth = await readCascadeTruth(input);
} catch (err) {
  fail((err as Error).message);
}
const cascades = truth.build();
const halves = { all: cascades, fit: cascades.filter((c) => c.split === 'fit'), held: cascades.filter((c) => c.split === 'held') };

interface Row {
  rule: string;
  split: keyof typeof halves;
  /** Which columns the rule defines. */
  defines: 'any' | 'critical' | 'both';
  score: CedScore;
}
const rows: Row[] = [];
const add = (rule: string, defines: Row['defines'], calls: (cs: CascadeTruth[]) => ReadonlyMap<string, CascadeCalls>): void => {
  for (const split of ['all', 'fit', 'held'] as const) rows.push({ rule, split, defines, score: scoreCalls(halves[split], calls(halves[split])) });
};

const detectorCalls = callsFromAlerts(alerts, (id) => truth.cascadeOf(id));
add('detector', 'both', () => detectorCalls);
add('any alert at 50/h (trailing hour)', 'any', (cs) => ruleCalls(windowRuleTimes(cs, 3600_000, 50), 'any'));
add('critical at 250/h (trailing hour)', 'critical', (cs) => ruleCalls(windowRuleTimes(cs, 3600_000, 250), 'critical'));
add('critical at 150/h (trailing hour)', 'critical', (cs) => ruleCalls(windowRuleTimes(cs, 3600_000, 150), 'critical'));
const best = bestWindowRule(halves.fit);
if (best) add(`best grid rule on fit: critical at ${best.minReposts} in ${best.windowMin} min`, 'critical', (cs) => ruleCalls(windowRuleTimes(cs, best.windowMin * 60_000, best.minReposts), 'critical'));

const alertsByType: Record<string, number> = {};
for (const a of alerts) alertsByType[`${a.type}/${a.severity}`] = (alertsByType[`${a.type}/${a.severity}`] ?? 0) + 1;

if (values.json) {
  process.stdout.write(`${JSON.stringify({ input, alerts: alerts.length, alertsByType, rows }, null, 2)}\n`);
} else {
  const f2 = (x: number | null): string => (x === null ? '–' : x.toFixed(2));
  const f1 = (x: number | null): string => (x === null ? '–' : x.toFixed(1));
  const out = [
    `${input}: ${cascades.length} cascades (fit ${halves.fit.length}, held ${halves.held.length}); ${alerts.length} alerts (${Object.entries(alertsByType).sort().map(([k, n]) => `${k} ${n}`).join(', ')})`,
    '',
    '| rule | cascades | viral | any recall@100/h | median delay, min | quiet alerted | explosive | critical recall@300/h | precision@300/h (critical cascades) | median lead, min |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const { rule, split, defines, score: s } of rows) {
    const any = defines !== 'critical';
    const crit = defines !== 'any';
    out.push(
      [
        `${rule} · ${split}`,
        s.cascades,
        s.viral,
        any ? f2(s.anyRecall100) : '',
        any ? f1(s.medianDelayMin) : '',
        any ? `${s.quietAlerted}/${s.quiet} (${f2(s.quietAlertedShare)})` : '',
        s.explosive,
        crit ? f2(s.criticalRecall300) : '',
        crit ? `${f2(s.criticalPrecision300)} (${s.criticalCascades})` : '',
        crit ? f1(s.medianLeadMin) : '',
      ].join(' | ').replace(/^/, '| ').replace(/$/, ' |'),
    );
  }
  if (!best) out.push('', 'no rule of the grid meets recall ≥ 0.9 with a median lead ≥ 20 min on the fit half');
  process.stdout.write(`${out.join('\n')}\n`);
}
