/**
 * Every setting of the detectors. Thresholds marked "scaled" are multiplied by
 * {@link DetectorConfig.sensitivity}'s inverse: a higher sensitivity fires earlier and more often.
 * Memory settings (`*Size`, `max*`) bound the engine's state whatever the input.
 */
export interface DetectorConfig {
  /** One knob for users: 1 is the default; 2 halves the scaled thresholds, 0.5 doubles them. Range 0.25..4. */
  sensitivity: number;
  /** Allowed lateness in event time: the watermark is the largest createdAt seen minus this. Default 10 min. */
  latenessMs: number;
  /**
   * A post more than this ahead of the event clock (of the file, or of its partition live) moves it only once a later
   * post confirms the jump (`src/event-time/event-clock.ts`). Default 10 min, the lateness: an accepted post never
   * makes the posts around it late.
   */
  clockMaxJumpMs: number;
  /** Posts after such a jump that vote on it: half of them consistent accept it, more than half earlier refuse it (`created_at_future`). */
  clockConfirmPosts: number;
  /** Local clock offset used for the time-of-day baselines (Asia/Shanghai = 480). */
  utcOffsetMinutes: number;
  /** Posts remembered for duplicate suppression (a post delivered twice counts once). */
  maxSeenPosts: number;
  /** Accounts the organisation owns (matched on author.id or author.name): their posts make `response` alerts. */
  officialAccounts: string[];
  /**
   * A post counts as negative (negativeShare, negative replies, a scheme's negative share) when the analyzer is at
   * least this sure of it: sentiment below 0 and (1 + |sentiment|) / 2, its `sentimentConfidence`, reaching this
   * (0.7: sentiment ≤ −0.4). An unsure post (the model near 50/50) counts for neither side. Default 0.7.
   */
  negativeMinConfidence: number;

  // Cascade detector.
  /** Width of one growth-curve bucket. */
  cascadeBucketMs: number;
  /** Window over which velocity (children per minute, the alert's `velocity`) is measured. */
  cascadeVelocityWindowMs: number;
  /**
   * A cascade is judged only while its trailing hour holds at least this many reposts and comments (so one that stays
   * below it, a quiet one, never alerts). Scaled.
   */
  cascadeMinHourReposts: number;
  /**
   * Alert (`info`) when the growth model (`src/cascade-model.ts`) forecasts, with {@link cascadeForecastProbability},
   * that the cascade's trailing hour will reach this many reposts (100: the viral level of the real-data eval). Scaled.
   */
  cascadeAlertPerHour: number;
  /**
   * The level that makes a cascade among the largest of the period: reposts in an hour (300: the top tenth of the
   * real Weibo cascades of `ced_weibo_dev`). `critical` = forecast to reach it, not there yet. Scaled.
   */
  cascadeCriticalPerHour: number;
  /**
   * How sure the forecast must be for a call: `info` at this probability of reaching {@link cascadeAlertPerHour},
   * `critical` at this probability of reaching {@link cascadeCriticalPerHour}. 0.75, read off the fit half of the real
   * cascades (`pnpm fit:cascade`).
   */
  cascadeForecastProbability: number;
  /** `warning` from this probability on (or once the level is reached without an earlier `critical` call). */
  cascadeWarningProbability: number;
  /** A cascade with no child for this long (event time, behind the watermark) ends; its peak enters the history. */
  cascadeIdleMs: number;
  /** Cascades only enter the peak-velocity history with at least this many children. */
  cascadeHistoryMinChildren: number;
  /** Most cascades tracked at once; least recently active are dropped first. */
  maxCascades: number;
  /** Roots remembered (author, reach, time, text) before their reposts arrive. */
  maxRoots: number;
  /** post id → (root, depth, author) entries remembered to follow parentId chains. */
  maxPostIndex: number;
  /** Growth-curve buckets kept per cascade (oldest dropped). */
  maxCurveBuckets: number;
  /** Amplifier counters kept per cascade (space-saving top-k). */
  maxAmplifiers: number;
  /** Re-emit a cascade alert (same key) when its children grew by this factor since the last emission. */
  cascadeReemitGrowth: number;

  // Story detector.
  /** Width of one story bucket (SigniTrend epoch). */
  storyBucketMs: number;
  /** Cells per hashed table (power of two): memory is fixed by this, not by the vocabulary. */
  storyTableSize: number;
  /** Independent hash functions per table (count-min style; significance takes the least). */
  storyHashes: number;
  /** EW weight of each new bucket in the running mean/variance (0.1 ≈ 7-bucket half-life). */
  storyAlpha: number;
  /** Time-of-day slots per day (24 = hourly baselines). */
  storySeasonSlots: number;
  /** EW weight of each day's peak-bucket count in a slot's baseline (0.5 = a recurring peak is learnt in one day). */
  storySeasonAlpha: number;
  /** A bucket moves the EW baseline by at most this many deviations (√var + β) upward: bursts are not learnt as normal at once. */
  storyClip: number;
  /** Noise floor β of the significance, documents per bucket. */
  storyBeta: number;
  /** Significance (x − max(mean, β)) / (√var + β) needed for a term or pair to burst. Scaled. */
  storyMinScore: number;
  /** Distinct posts in the bucket a bursting term needs. Scaled. */
  storyMinCount: number;
  /** Buckets closed before any story may alert (baselines must learn the stream first). */
  storyWarmupBuckets: number;
  /** Tokens per post that enter the tables (keywords first). */
  storyMaxTermsPerPost: number;
  /** Keywords per post whose pairs enter the pair table. */
  storyPairTerms: number;
  /** Bursting posts a story needs before it alerts. Scaled. */
  storyMinPosts: number;
  /** Distinct accounts a story needs before it alerts. Scaled. */
  storyMinAccounts: number;
  /** A story with no bursting post for this long ends. */
  storyIdleMs: number;
  /** A story's anchor (a term that burst alone in it) links new posts to it only this long after it last burst there. */
  storyAnchorMs: number;
  /** Most stories tracked at once. */
  maxStories: number;
  /** `warning` at this significance, `critical` at {@link storyCriticalScore}. */
  storyWarningScore: number;
  storyCriticalScore: number;

  // Coordination detector.
  /** Window in which near-identical posts from distinct accounts count together. */
  coordinationWindowMs: number;
  /** Distinct accounts needed. Scaled. */
  coordinationMinAccounts: number;
  /** Summed account weight needed (young, low-follower accounts weigh up to 1.5, old large ones 0.5). Scaled. */
  coordinationMinWeight: number;
  /** Max Hamming distance between 64-bit SimHashes that counts as near-identical. */
  coordinationMaxHamming: number;
  /** Character n-gram length of the SimHash shingles. */
  coordinationShingle: number;
  /** Own text shorter than this (after normalisation) is never compared (e.g. "转发微博"). */
  coordinationMinChars: number;
  /** Accounts younger than this (at post time) count as young. */
  coordinationYoungAccountMs: number;
  /** Accounts with fewer followers than this count as low-reach. */
  coordinationLowFollowers: number;
  /**
   * A post joins a campaign (a cluster with {@link coordinationProfileAccounts} accounts or more) when this share of its
   * character n-grams occur in at least two of the campaign's posts: paraphrases of one template, too far apart for SimHash.
   */
  coordinationMinContainment: number;
  /** Distinct accounts a cluster needs before paraphrases are matched against its n-gram profile. */
  coordinationProfileAccounts: number;
  /** Re-emit a campaign (same key) once its distinct accounts grew by this factor since the last emission; once more when it ends. */
  coordinationReemitGrowth: number;
  /** Most near-duplicate clusters tracked at once. */
  maxClusters: number;
  /** Most posts indexed for near-duplicate lookup at once. */
  maxCoordinationEntries: number;
  /** Official posts attached to a live story or cascade needed for a `response` alert. */
  responseMinPosts: number;

  // Scheme detector (monitoring schemes, 监测方案): buckets of storyBucketMs; α, β, clip and the hour-of-day
  // slots are the story detector's (storyAlpha, storyBeta, storyClip, storySeasonSlots, storySeasonAlpha).
  /** Volume significance (x − max(mean, β)) / (√var + β) of a scheme's posts in the bucket needed to alert. Scaled. */
  schemeMinScore: number;
  /** Posts of the scheme in the bucket a volume alert needs. Scaled. */
  schemeMinCount: number;
  /** `warning` at this volume significance, `critical` at {@link schemeCriticalScore}. */
  schemeWarningScore: number;
  schemeCriticalScore: number;
  /** Rise of the negative share (negative posts, see {@link negativeMinConfidence}) above its baseline that alerts; `warning` at twice this. */
  schemeNegativeJump: number;
  /** The rise must also be this unlikely for the bucket's size: binomial z (share − baseline) / √(p(1−p)/n). Scaled. */
  schemeNegativeMinScore: number;
  /** Posts of the scheme in the bucket before its negative share is judged (and a bucket's weight in the baseline). */
  schemeNegativeMinPosts: number;
  /** Buckets the stream is watched (from its first post) before a scheme may alert; baselines learn exactly meanwhile. */
  schemeWarmupBuckets: number;
  /** Most schemes tracked at once (schemes are configured, so few); the least recently active is dropped first. */
  maxSchemes: number;
}

/** The defaults: tuned for Weibo-like streams at city scale. */
export const DEFAULT_CONFIG: Readonly<DetectorConfig> = Object.freeze({
  sensitivity: 1,
  latenessMs: 10 * 60_000,
  clockMaxJumpMs: 10 * 60_000,
  clockConfirmPosts: 8,
  utcOffsetMinutes: 480,
  maxSeenPosts: 200_000,
  officialAccounts: ['昆明发布', '昆明市长', '昆明12345市长热线', '春城晚报', '掌上春城', '昆明信息港', '昆明日报', '都市时报'],
  negativeMinConfidence: 0.7,

  cascadeBucketMs: 60_000,
  cascadeVelocityWindowMs: 5 * 60_000,
  cascadeMinHourReposts: 30,
  cascadeAlertPerHour: 100,
  cascadeCriticalPerHour: 300,
  cascadeForecastProbability: 0.75,
  cascadeWarningProbability: 0.3,
  cascadeIdleMs: 2 * 3600_000,
  cascadeHistoryMinChildren: 5,
  maxCascades: 20_000,
  maxRoots: 100_000,
  maxPostIndex: 200_000,
  maxCurveBuckets: 240,
  maxAmplifiers: 32,
  cascadeReemitGrowth: 4,

  storyBucketMs: 5 * 60_000,
  storyTableSize: 1 << 14,
  storyHashes: 2,
  storyAlpha: 0.1,
  storySeasonSlots: 24,
  storySeasonAlpha: 0.5,
  storyClip: 3,
  storyBeta: 2,
  storyMinScore: 3,
  storyMinCount: 8,
  storyWarmupBuckets: 12,
  storyMaxTermsPerPost: 12,
  storyPairTerms: 5,
  storyMinPosts: 8,
  storyMinAccounts: 5,
  storyIdleMs: 2 * 3600_000,
  storyAnchorMs: 30 * 60_000,
  maxStories: 64,
  storyWarningScore: 8,
  storyCriticalScore: 16,

  coordinationWindowMs: 10 * 60_000,
  coordinationMinAccounts: 10,
  coordinationMinWeight: 10,
  coordinationMaxHamming: 3,
  coordinationShingle: 3,
  coordinationMinChars: 10,
  coordinationYoungAccountMs: 90 * 86_400_000,
  coordinationLowFollowers: 100,
  coordinationMinContainment: 0.6,
  coordinationProfileAccounts: 3,
  coordinationReemitGrowth: 1.5,
  maxClusters: 5_000,
  maxCoordinationEntries: 50_000,
  responseMinPosts: 1,

  schemeMinScore: 3,
  schemeMinCount: 10,
  schemeWarningScore: 8,
  schemeCriticalScore: 16,
  schemeNegativeJump: 0.25,
  schemeNegativeMinScore: 4,
  schemeNegativeMinPosts: 20,
  schemeWarmupBuckets: 12,
  maxSchemes: 1_000,
});

/** The settings after {@link DetectorConfig.sensitivity} is applied: what the detectors read. */
export type ResolvedConfig = DetectorConfig & { readonly resolved: true };

const SCALED: readonly (keyof DetectorConfig)[] = [
  'cascadeMinHourReposts',
  'cascadeAlertPerHour',
  'cascadeCriticalPerHour',
  'storyMinScore',
  'storyMinCount',
  'storyMinPosts',
  'storyMinAccounts',
  'coordinationMinAccounts',
  'coordinationMinWeight',
  'schemeMinScore',
  'schemeMinCount',
  'schemeNegativeMinScore',
];

/**
 * Settings of the cascade detector before its growth model (velocity against the stream's median and the root's
 * reach): still accepted so a config file written for them loads, and ignored.
 */
const RETIRED: ReadonlySet<string> = new Set(['cascadeMinChildren', 'cascadeMinVelocity', 'cascadeReachRate', 'cascadeMinScore', 'cascadeBeta', 'cascadeWarningFactor', 'cascadeCriticalQuantile', 'cascadeMinHistory', 'cascadeCriticalVelocity']);

/** Merges overrides into the defaults, checks them and applies the sensitivity knob. Throws on a bad value. */
export function resolveConfig(overrides: Partial<DetectorConfig> = {}): ResolvedConfig {
  const merged: DetectorConfig = { ...DEFAULT_CONFIG, officialAccounts: [...DEFAULT_CONFIG.officialAccounts] };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined || RETIRED.has(key)) continue;
    if (!(key in DEFAULT_CONFIG)) throw new Error(`unknown detector setting ${key}`);
    (merged as unknown as Record<string, unknown>)[key] = value;
  }
  const s = merged.sensitivity;
  if (!(s >= 0.25 && s <= 4)) throw new Error(`sensitivity ${s} outside 0.25..4`);
  if (!(merged.clockMaxJumpMs >= 0)) throw new Error('clockMaxJumpMs must be at least 0');
  if (!Number.isInteger(merged.clockConfirmPosts) || merged.clockConfirmPosts < 1) throw new Error('clockConfirmPosts must be an integer of at least 1');
  if (!(merged.negativeMinConfidence >= 0.5 && merged.negativeMinConfidence <= 1)) {
    throw new Error(`negativeMinConfidence ${merged.negativeMinConfidence} outside 0.5..1`);
  }
  for (const key of ['cascadeForecastProbability', 'cascadeWarningProbability'] as const) {
    if (!(merged[key] > 0 && merged[key] < 1)) throw new Error(`${key} ${merged[key]} outside (0, 1)`);
  }
  if (!Number.isInteger(Math.log2(merged.storyTableSize))) throw new Error('storyTableSize must be a power of two');
  if (merged.storySeasonSlots < 1 || 1440 % merged.storySeasonSlots !== 0) throw new Error('storySeasonSlots must divide a day in whole minutes');
  const out = merged as unknown as Record<string, number>;
  for (const key of SCALED) out[key] = (out[key] as number) / s;
  return { ...merged, resolved: true } as ResolvedConfig;
}
