/**
 * pnpm fit:cascade [--input <posts.jsonl[.xz]>] [--json]
 *
 * Fits the cascade growth model (packages/detect/src/cascade-model.ts) on the `fit` half of the real cascades
 * (default `../shared/data/ced_weibo_dev.jsonl.xz`) and prints its weights, to be copied into
 * `DEFAULT_GROWTH_MODEL`; then replays the `critical` rule (forecast P(peak ≥ level) ≥ p) on each half from the data
 * alone, for a few values of p, and the `info` rule (P(peak ≥ 100/h) ≥ p), so the choice of
 * `cascadeForecastProbability` can be read off the fit half and checked on the held one. The detector itself is scored by `pnpm eval:ced` (the real backtest).
 *
 * Every repost of the file counts here; the backtest leaves out the ones the analyzer calls spam (about 1 %).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG, EXPLOSIVE_LEVEL, fitLinear, forecastPeak, GROWTH_FEATURES, growthFeatures, MODEL_MIN_HOUR, ruleCalls, scoreCalls, VIRAL_LEVEL, type CascadeTruth, type GrowthModel } from '@tingfeng/detect';
import { readCascadeTruth } from './lib/ced.js';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');
const { values } = parseArgs({ options: { input: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
const input = values.input ?? join(repo, '..', 'shared', 'data', 'ced_weibo_dev.jsonl.xz');
if (!existsSync(input)) {
  process.stderr.write(`fit:cascade: input file not found: ${input}\n`);
  process.exit(2);
}

let cascades: CascadeTruth[];
try {
  cascades = (await readCascadeTruth(input)).build();
} catch (err) {
  process.stderr.write(`fit:cascade: ${(err as Error).message}\n`);
  process.exit(2);
}
const bucketMs = DEFAULT_CONFIG.cascadeBucketMs;

/** One evaluation point: a repost of an active cascade that has not yet reached the level. */
interface Sample {
  x: number[];
  /** ln(1 + the highest trailing-hour count from this repost on). */
  y: number;
  atMs: number;
}

/** Every repost of the cascade as the detector sees it: features from the curve so far, target from the data. */
function samples(c: CascadeTruth, level: number): Sample[] {
  const ts = c.repostMs;
  const hour = new Array<number>(ts.length);
  let lo = 0;
  for (let i = 0; i < ts.length; i++) {
    while (ts[lo]! <= ts[i]! - 3600_000) lo++;
    hour[i] = i - lo + 1;
  }
  const futurePeak = new Array<number>(ts.length);
  for (let i = ts.length - 1, m = 0; i >= 0; i--) futurePeak[i] = m = Math.max(m, hour[i]!);
  const curve: [number, number][] = [];
  const out: Sample[] = [];
  const startMs = c.rootMs ?? ts[0] ?? 0;
  for (let i = 0; i < ts.length; i++) {
    const b = Math.floor(ts[i]! / bucketMs);
    const last = curve[curve.length - 1];
    if (last && last[0] === b) last[1]++;
    else curve.push([b, 1]);
    if (hour[i]! >= level) break;
    const { x, hour: h } = growthFeatures({ curve, bucketMs, nowMs: ts[i]!, startMs, followers: c.followers ?? 0 });
    if (h < MODEL_MIN_HOUR) continue;
    out.push({ x, y: Math.log1p(futurePeak[i]!), atMs: ts[i]! });
  }
  return out;
}

const level = EXPLOSIVE_LEVEL;
const perCascade = new Map<string, Sample[]>(cascades.map((c) => [c.rootId, samples(c, level)]));
const xs: number[][] = [];
const ys: number[] = [];
const ws: number[] = [];
for (const c of cascades) {
  if (c.split !== 'fit') continue;
  const s = perCascade.get(c.rootId)!;
  for (const p of s) {
    xs.push(p.x);
    ys.push(p.y);
    ws.push(1 / s.length);
  }
}
const model: GrowthModel = fitLinear(xs, ys, ws);
const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;

const halves = { fit: cascades.filter((c) => c.split === 'fit'), held: cascades.filter((c) => c.split === 'held') };
type Row = { p: number; split: string; recall: number | null; precision: number | null; calls: number; leadMin: number | null };
function table(prob: (x: number[]) => number, ps: number[]): Row[] {
  const rows: Row[] = [];
  for (const p of ps) {
    for (const [split, cs] of Object.entries(halves)) {
      const times = new Map<string, number>();
      for (const c of cs) {
        const hit = perCascade.get(c.rootId)!.find((s) => prob(s.x) >= p);
        if (hit) times.set(c.rootId, hit.atMs);
      }
      const s = scoreCalls(cs, ruleCalls(times, 'critical'));
      rows.push({ p, split, recall: s.criticalRecall300, precision: s.criticalPrecision300, calls: s.criticalCascades, leadMin: s.medianLeadMin });
    }
  }
  return rows;
}
const rows = table((x) => forecastPeak(model, x, level).pLevel, [0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8]);
/** The `info` rule replayed: trailing hour ≥ 30 and P(peak ≥ 100/h) ≥ p. */
const anyRows: { p: number; split: string; recall: number | null; delayMin: number | null; quiet: string }[] = [];
for (const p of [0.5, 0.6, 0.7, 0.75, 0.8]) {
  for (const [split, cs] of Object.entries(halves)) {
    const times = new Map<string, number>();
    for (const c of cs) {
      const hit = perCascade.get(c.rootId)!.find((s) => Math.expm1(s.x[3]!) >= DEFAULT_CONFIG.cascadeMinHourReposts && forecastPeak(model, s.x, VIRAL_LEVEL).pLevel >= p);
      if (hit) times.set(c.rootId, hit.atMs);
    }
    const sc = scoreCalls(cs, ruleCalls(times, 'any'));
    anyRows.push({ p, split, recall: sc.anyRecall100, delayMin: sc.medianDelayMin, quiet: `${sc.quietAlerted}/${sc.quiet}` });
  }
}

if (values.json) {
  process.stdout.write(`${JSON.stringify({ input, samples: xs.length, features: GROWTH_FEATURES, model, anyRows, rows }, null, 2)}\n`);
} else {
  const f2 = (x: number | null): string => (x === null ? '–' : x.toFixed(2));
  const out = [
    `${input}: ${cascades.length} cascades; fitted on ${halves.fit.length} (fit half), ${xs.length} reposts with ≥ ${MODEL_MIN_HOUR} in the trailing hour and < ${level}`,
    '',
    'weights (ln(1 + peak trailing hour still to come) = w · x):',
    ...GROWTH_FEATURES.map((f, i) => `  ${f.padEnd(18)} ${round(model.weights[i]!)}`),
    `  sigma              ${round(model.sigma)}`,
    '',
    `| trailing hour ≥ ${DEFAULT_CONFIG.cascadeMinHourReposts} and P(peak ≥ ${VIRAL_LEVEL}/h) ≥ p | half | any recall@100/h | median delay, min | quiet alerted |`,
    '| --- | --- | --- | --- | --- |',
    ...anyRows.map((r) => `| ${r.p} | ${r.split} | ${f2(r.recall)} | ${r.delayMin === null ? '–' : r.delayMin.toFixed(1)} | ${r.quiet} |`),
    '',
    `| P(peak ≥ ${level}/h) ≥ p | half | critical recall@300/h | precision@300/h (cascades) | median lead, min |`,
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.p} | ${r.split} | ${f2(r.recall)} | ${f2(r.precision)} (${r.calls}) | ${r.leadMin === null ? '–' : r.leadMin.toFixed(1)} |`),
    '',
    `weights: [${model.weights.map((w) => round(w)).join(', ')}], sigma: ${round(model.sigma)}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}
