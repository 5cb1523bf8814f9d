/**
 * A small model of how a repost cascade grows, for the cascade detector's forecast and its `critical` call.
 *
 * From what a cascade has shown so far (its per-minute growth curve, its age, its root's reach) it predicts the
 * highest trailing-hour repost count the cascade will still reach (its peak rate from now on), as a log-normal: the
 * median is exp(w · x) − 1 and the spread is σ, the residual of the fit in log space. Features are the logs of the
 * reposts in the last 5, 15 and 60 minutes, of those in the 15 minutes before the last 15 (with the 15-minute count,
 * the acceleration), of the cascade's age since its root and of the root's followers:
 * a discrete self-exciting picture, where recent reposts predict the next ones and a fading rate (an old cascade,
 * a falling quarter-hour) predicts fewer.
 *
 * The weights are fitted by least squares (`fitLinear`) by `pnpm fit:cascade` on the `fit` half of the real
 * cascades only (`cascade-eval.ts` `splitOf`), at every repost where the cascade is active (≥ {@link MODEL_MIN_HOUR}
 * reposts in the trailing hour) and not yet at the level being forecast, each cascade weighing the same whatever
 * its number of reposts. Pure and cheap: a handful of sums over at most 60 one-minute buckets per evaluation.
 */

/** The features' names, in the order of {@link GrowthModel.weights}. */
export const GROWTH_FEATURES = ['bias', 'ln(1+n5)', 'ln(1+n15)', 'ln(1+n60)', 'ln(1+n15 before)', 'ln(1+age min)', 'ln(1+followers)'] as const;

/**
 * Training samples only where the trailing hour holds at least this many reposts: where the detector judges a
 * cascade (`cascadeMinHourReposts`, 30 by default), so the model is fitted where it is used.
 */
export const MODEL_MIN_HOUR = 30;

export interface GrowthModel {
  /** One weight per {@link GROWTH_FEATURES} entry. */
  weights: readonly number[];
  /** Residual standard deviation of ln(1 + peak) around the prediction. */
  sigma: number;
}

/**
 * Fitted by `pnpm fit:cascade` on the fit half of `ced_weibo_dev` (804 cascades; see that script's output).
 * Peak-hour forecast: median = exp(w · x) − 1.
 */
export const DEFAULT_GROWTH_MODEL: Readonly<GrowthModel> = Object.freeze({
  weights: Object.freeze([1.1679, 0.2728, 0.1261, 0.6416, -0.0414, -0.044, 0.0027]),
  sigma: 0.2542,
});

/** Names the model in alerts (`forecast.model`), so a forecast can be traced to the weights that made it. */
export const GROWTH_MODEL_NAME = 'peak-hour-loglinear-v2';

/** What the growth features are computed from: a cascade's curve as [bucket index, reposts] ascending. */
export interface GrowthInput {
  curve: readonly (readonly [number, number])[];
  bucketMs: number;
  /** The time of the evaluation (the latest repost), epoch ms. */
  nowMs: number;
  /** The root's time (or the first repost's when the root is unknown), epoch ms. */
  startMs: number;
  followers: number;
}

/** Reposts in the buckets of (now − toMin − spanMin, now − toMin] minutes, at bucket resolution. */
function countIn(curve: GrowthInput['curve'], nowBucket: number, bucketsPerMin: number, fromMinAgo: number, toMinAgo: number): number {
  const last = nowBucket - Math.round(toMinAgo * bucketsPerMin);
  const first = nowBucket - Math.round(fromMinAgo * bucketsPerMin) + 1;
  let n = 0;
  for (let i = curve.length - 1; i >= 0; i--) {
    const [b, count] = curve[i]!;
    if (b < first) break;
    if (b <= last) n += count;
  }
  return n;
}

/** The feature vector of {@link GROWTH_FEATURES}; also returns the trailing-hour count it used. */
export function growthFeatures(g: GrowthInput): { x: number[]; hour: number } {
  const nowBucket = Math.floor(g.nowMs / g.bucketMs);
  const perMin = 60_000 / g.bucketMs;
  const n5 = countIn(g.curve, nowBucket, perMin, 5, 0);
  const n15 = countIn(g.curve, nowBucket, perMin, 15, 0);
  const n60 = countIn(g.curve, nowBucket, perMin, 60, 0);
  const before = countIn(g.curve, nowBucket, perMin, 30, 15);
  const ageMin = Math.max(0, g.nowMs - g.startMs) / 60_000;
  const x = [1, Math.log1p(n5), Math.log1p(n15), Math.log1p(n60), Math.log1p(before), Math.log1p(ageMin), Math.log1p(Math.max(0, g.followers))];
  return { x, hour: n60 };
}

export interface PeakForecast {
  /** Median of the peak trailing-hour count still to come (reposts per hour). */
  median: number;
  /** The central 80 % interval. */
  low: number;
  high: number;
  /** Probability that the peak reaches `level`. */
  pLevel: number;
  level: number;
}

/** z of the 90th percentile of a standard normal (the 80 % interval's half-width). */
const Z90 = 1.2815515655446004;

/** The model's forecast of the peak trailing-hour count, and the probability that it reaches `level`. */
export function forecastPeak(model: Readonly<GrowthModel>, x: readonly number[], level: number): PeakForecast {
  let mu = 0;
  for (let i = 0; i < x.length; i++) mu += (model.weights[i] ?? 0) * x[i]!;
  const s = Math.max(model.sigma, 1e-6);
  return {
    median: Math.expm1(mu),
    low: Math.max(0, Math.expm1(mu - Z90 * s)),
    high: Math.expm1(mu + Z90 * s),
    pLevel: normalCdf((mu - Math.log1p(level)) / s),
    level,
  };
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 on erf; error < 1.5e-7). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Weighted least squares with a small ridge (not on the bias): the weights minimising Σ wᵢ (yᵢ − β · xᵢ)² + λ|β|²,
 * and the weighted residual standard deviation.
 */
export function fitLinear(xs: readonly (readonly number[])[], ys: readonly number[], ws: readonly number[], ridge = 1e-3): GrowthModel {
  const k = xs[0]?.length ?? 0;
  const a = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  let wsum = 0;
  for (let n = 0; n < xs.length; n++) {
    const x = xs[n]!;
    const w = ws[n]!;
    wsum += w;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) a[i]![j]! += w * x[i]! * x[j]!;
      a[i]![k]! += w * x[i]! * ys[n]!;
    }
  }
  for (let i = 1; i < k; i++) a[i]![i]! += ridge * wsum;
  const beta = solve(a);
  let sse = 0;
  for (let n = 0; n < xs.length; n++) {
    let mu = 0;
    for (let i = 0; i < k; i++) mu += beta[i]! * xs[n]![i]!;
    sse += ws[n]! * (ys[n]! - mu) ** 2;
  }
  return { weights: beta, sigma: Math.sqrt(sse / Math.max(wsum, 1e-12)) };
}

/** Gauss–Jordan elimination with partial pivoting on an augmented k × (k+1) matrix (modified in place). */
function solve(a: number[][]): number[] {
  const k = a.length;
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    const pivot = a[c]![c]!;
    if (Math.abs(pivot) < 1e-12) throw new Error('fitLinear: singular system');
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / pivot;
      if (f === 0) continue;
      for (let j = c; j <= k; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return a.map((row, i) => row[k]! / row[i]!);
}
