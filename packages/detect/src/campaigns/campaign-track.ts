import type { Alert, Severity } from '@tingfeng/contracts';
import type { DetectorPost } from '../post.js';
import { alertId } from '../hash.js';
import { sameTerm } from '../narratives.js';
import type { CampaignRecord, CampaignSeries } from '@tingfeng/contracts';

/** How campaigns are bucketed and when a campaign that is not working raises an alert. */
export interface CampaignSettings {
  /** Width of one bucket, event time. */
  bucketMs: number;
  /** Buckets kept per campaign (older ones are dropped). */
  maxBuckets: number;
  /** How long after the response began the narrative is first judged, and the least time between two alerts. */
  checkAfterMs: number;
  /** The last bucket must hold at least this many times the narrative posts of the bucket before the response. */
  riseFactor: number;
  /** …and at least this many narrative posts. */
  minPosts: number;
}

/** What a post is to one campaign. */
export type PostRole = 'response' | 'narrative' | 'other';

/** A post reduced to what classification and counting need, so the backfill ring holds little. */
export interface PostFacts {
  id: string;
  eventTimeMs: number;
  authorId: string;
  authorName: string | undefined;
  followers: number;
  negative: boolean;
  rootId: string | undefined;
  /** Tokens and keywords. */
  words: readonly string[];
}

export function factsOf(post: DetectorPost): PostFacts {
  return {
    id: post.id,
    eventTimeMs: post.createdAtMs,
    authorId: post.author.id,
    authorName: post.author.name,
    followers: post.author.followers ?? 0,
    negative: post.sentiment < 0,
    rootId: post.rootId,
    words: post.keywords.length === 0 ? post.tokens : [...post.tokens, ...post.keywords],
  };
}

/** Most narrative post ids an alert carries (the contract's cap). */
const MAX_EVIDENCE = 50;
/** Buckets of each curve an alert carries. */
const ALERT_SERIES_BUCKETS = 36;

/**
 * Classifies a post for one campaign: RESPONSE when written by one of its accounts (id or name); NARRATIVE when it
 * is in one of the campaign's cascades (root id) or its words hold at least two of the narrative's terms (the only
 * one, when there is one), a term matching a word that contains it as the narrative linker does (死去 in 死去的城市).
 */
export class CampaignMatcher {
  private readonly accounts: ReadonlySet<string>;
  private readonly roots: ReadonlySet<string>;
  private readonly terms: readonly string[];
  private readonly needed: number;

  constructor(record: Pick<CampaignRecord, 'accounts' | 'rootIds' | 'terms'>) {
    this.accounts = new Set(record.accounts);
    this.roots = new Set(record.rootIds);
    this.terms = [...new Set(record.terms)];
    this.needed = Math.min(2, this.terms.length);
  }

  classify(post: PostFacts): PostRole {
    if (this.accounts.has(post.authorId) || (post.authorName !== undefined && this.accounts.has(post.authorName))) return 'response';
    if (this.roots.size > 0 && (this.roots.has(post.id) || (post.rootId !== undefined && this.roots.has(post.rootId)))) return 'narrative';
    if (this.needed === 0) return 'other';
    let matched = 0;
    for (const term of this.terms) {
      if (post.words.some((w) => sameTerm(term, w)) && ++matched >= this.needed) return 'narrative';
    }
    return 'other';
  }
}

const share = (negative: number, total: number): number => (total > 0 ? Math.round((negative / total) * 1000) / 1000 : 0);
const iso = (eventMs: number): string => new Date(eventMs).toISOString();

/**
 * One campaign's curves: per bucket of event time, narrative posts, negative narrative posts, response posts and the
 * response's reach (followers of its authors), dense from the first bucket seen, at most `maxBuckets` long.
 */
export class CampaignTrack {
  matcher: CampaignMatcher;
  private startedAtMs: number;
  /** Bucket index (event ms / bucketMs) of the arrays' first element; null before the first post. */
  private firstIndex: number | null = null;
  private narrative: number[] = [];
  private negative: number[] = [];
  private response: number[] = [];
  private reach: number[] = [];
  /** The pre-response bucket's counts once it has been trimmed off the arrays. */
  private trimmedBaseline: { narrative: number; negative: number } | null = null;
  private lastAlertIndex: number | null = null;
  private readonly recentNarrative: string[] = [];
  private eventTimeMs: number | null = null;

  constructor(
    public record: CampaignRecord,
    private readonly settings: CampaignSettings,
  ) {
    this.matcher = new CampaignMatcher(record);
    this.startedAtMs = Date.parse(record.startedAt);
  }

  /** A track carrying on from the curves a previous leader wrote. */
  static fromSeries(record: CampaignRecord, settings: CampaignSettings, series: CampaignSeries): CampaignTrack {
    const track = new CampaignTrack(record, settings);
    if (series.bucketMs !== settings.bucketMs) return track;
    const n = Math.min(series.narrative.length, series.negative.length, series.response.length, series.reach.length);
    if (n > 0) {
      track.firstIndex = Math.floor(series.startMs / settings.bucketMs);
      track.narrative = series.narrative.slice(0, n);
      track.negative = series.negative.slice(0, n);
      track.response = series.response.slice(0, n);
      track.reach = series.reach.slice(0, n);
    }
    track.trimmedBaseline = series.baseline;
    track.lastAlertIndex = series.lastAlertBucketMs === null ? null : Math.floor(series.lastAlertBucketMs / settings.bucketMs);
    track.eventTimeMs = series.eventTimeMs;
    track.trim();
    return track;
  }

  /** Takes a changed registration (new terms or roots as alerts join the incident); the curves stay. */
  update(record: CampaignRecord): void {
    this.record = record;
    this.matcher = new CampaignMatcher(record);
    this.startedAtMs = Date.parse(record.startedAt);
  }

  /** Classifies the post and counts it; returns what it was to this campaign. */
  add(post: PostFacts): PostRole {
    const role = this.matcher.classify(post);
    if (role === 'other') return role;
    const i = this.slot(Math.floor(post.eventTimeMs / this.settings.bucketMs));
    if (i === undefined) return role;
    if (this.eventTimeMs === null || post.eventTimeMs > this.eventTimeMs) this.eventTimeMs = post.eventTimeMs;
    if (role === 'response') {
      this.response[i]!++;
      this.reach[i]! += post.followers;
    } else {
      this.narrative[i]!++;
      if (post.negative) this.negative[i]!++;
      if (this.recentNarrative.length >= MAX_EVIDENCE) this.recentNarrative.shift();
      this.recentNarrative.push(post.id);
    }
    return role;
  }

  /**
   * Judges the campaign on the full bucket `lastIndex` (called when event time enters the next one). The narrative
   * is still accelerating when, at least `checkAfterMs` after the response began: its counts rose over the last three
   * full buckets (n[L-2] < n[L-1] < n[L]), and n[L] is at least `minPosts` and at least `riseFactor` times the bucket
   * before the response. Critical when the negative share rose too (above the share two buckets earlier and at least
   * the share before the response). At most one alert per `checkAfterMs`; the alert's sequence is the bucket index,
   * so a replay of the same bucket names the same alert.
   */
  evaluate(lastIndex: number): Alert | undefined {
    const { bucketMs, checkAfterMs, minPosts, riseFactor } = this.settings;
    if (!Number.isFinite(this.startedAtMs) || (lastIndex + 1) * bucketMs < this.startedAtMs + checkAfterMs) return undefined;
    if (this.lastAlertIndex !== null && (lastIndex <= this.lastAlertIndex || (lastIndex - this.lastAlertIndex) * bucketMs < checkAfterMs)) return undefined;
    const n = (i: number) => this.at(this.narrative, i);
    const observed = n(lastIndex);
    if (!(n(lastIndex - 2) < n(lastIndex - 1) && n(lastIndex - 1) < observed)) return undefined;
    const baseline = this.baseline();
    const expected = baseline?.narrative ?? 0;
    if (observed < minPosts || observed < riseFactor * expected) return undefined;
    const negShare = (i: number) => share(this.at(this.negative, i), n(i));
    const negativeShare = negShare(lastIndex);
    const baselineShare = baseline ? share(baseline.negative, baseline.narrative) : 0;
    const severity: Severity = negativeShare > negShare(lastIndex - 2) && negativeShare >= baselineShare ? 'critical' : 'warning';
    this.lastAlertIndex = lastIndex;
    const key = `campaign:${this.record.incidentId}`;
    const windowStartMs = lastIndex * bucketMs;
    const windowEndMs = windowStartMs + bucketMs;
    const hours = Math.round(((windowEndMs - this.startedAtMs) / 3_600_000) * 10) / 10;
    const minutes = Math.round(bucketMs / 60_000);
    const subject = this.record.title ?? this.record.terms.slice(0, 3).join('、');
    const from = Math.max(this.firstIndex ?? lastIndex, lastIndex - ALERT_SERIES_BUCKETS + 1);
    const curve = (values: number[]) => Array.from({ length: lastIndex - from + 1 }, (_, k) => this.at(values, from + k));
    const narrativeCurve = curve(this.narrative);
    const negativeCurve = curve(this.negative);
    return {
      id: alertId(key, lastIndex),
      key,
      type: 'response',
      at: iso(windowEndMs),
      severity,
      title: `回应后舆情仍在升温: ${subject}（回应 ${hours} 小时后每 ${minutes} 分钟 ${observed} 条，回应前 ${expected} 条）`,
      terms: [...this.record.terms],
      postIds: [...this.recentNarrative],
      accounts: [...this.record.accounts],
      observed,
      expected,
      window: { start: iso(windowStartMs), end: iso(windowEndMs) },
      negativeShare,
      incidentKey: this.record.incidentKey,
      incidentId: this.record.incidentId,
      responseStartedAt: iso(this.startedAtMs),
      series: {
        bucketMs,
        start: iso(from * bucketMs),
        narrative: narrativeCurve,
        negativeShare: narrativeCurve.map((total, k) => share(negativeCurve[k]!, total)),
        response: curve(this.response),
        reach: curve(this.reach),
      },
      explain: `narrative rose over the last 3 buckets of ${minutes} min (${n(lastIndex - 2)} → ${n(lastIndex - 1)} → ${observed}) ${hours} h after the response began; before it: ${expected}`,
    };
  }

  /** The curves as the incidents API serves them. */
  toSeries(): CampaignSeries {
    const { bucketMs } = this.settings;
    return {
      incidentId: this.record.incidentId,
      bucketMs,
      startMs: (this.firstIndex ?? Math.floor(this.startedAtMs / bucketMs)) * bucketMs,
      startedAtMs: this.startedAtMs,
      accounts: [...this.record.accounts],
      narrative: [...this.narrative],
      negative: [...this.negative],
      response: [...this.response],
      reach: [...this.reach],
      baseline: this.baseline(),
      lastAlertBucketMs: this.lastAlertIndex === null ? null : this.lastAlertIndex * bucketMs,
      eventTimeMs: this.eventTimeMs,
    };
  }

  /** Counts of the last full bucket before the response began; null when it was never in range. */
  private baseline(): { narrative: number; negative: number } | null {
    const index = Math.floor(this.startedAtMs / this.settings.bucketMs) - 1;
    if (this.firstIndex !== null && index >= this.firstIndex && index < this.firstIndex + this.narrative.length) {
      return { narrative: this.at(this.narrative, index), negative: this.at(this.negative, index) };
    }
    return this.trimmedBaseline;
  }

  private at(values: number[], index: number): number {
    if (this.firstIndex === null) return 0;
    return values[index - this.firstIndex] ?? 0;
  }

  /** The array position of bucket `index`, growing the arrays as needed; undefined when it is older than what is kept. */
  private slot(index: number): number | undefined {
    const { maxBuckets } = this.settings;
    if (this.firstIndex === null) {
      this.firstIndex = index;
      this.push(1);
      return 0;
    }
    if (index < this.firstIndex) {
      const grow = this.firstIndex - index;
      if (this.narrative.length + grow > maxBuckets) return undefined;
      for (const values of this.curves()) values.unshift(...new Array<number>(grow).fill(0));
      this.firstIndex = index;
      return 0;
    }
    const needed = index - this.firstIndex + 1 - this.narrative.length;
    if (needed > 0) this.push(needed);
    this.trim();
    return index - this.firstIndex;
  }

  private push(count: number): void {
    for (const values of this.curves()) for (let k = 0; k < count; k++) values.push(0);
  }

  private trim(): void {
    const excess = this.narrative.length - this.settings.maxBuckets;
    if (excess <= 0 || this.firstIndex === null) return;
    const baselineIndex = Math.floor(this.startedAtMs / this.settings.bucketMs) - 1;
    if (baselineIndex >= this.firstIndex && baselineIndex < this.firstIndex + excess) {
      this.trimmedBaseline = { narrative: this.at(this.narrative, baselineIndex), negative: this.at(this.negative, baselineIndex) };
    }
    for (const values of this.curves()) values.splice(0, excess);
    this.firstIndex += excess;
  }

  private curves(): number[][] {
    return [this.narrative, this.negative, this.response, this.reach];
  }
}
