import { CampaignRecordSchema, CampaignSeriesSchema, type Alert, type CampaignRecord, type CampaignSeries, type EnrichedPost } from '@tingfeng/contracts';
import type { Logger } from '@tingfeng/logger';
import { CampaignTracker, type CampaignCounts, type CampaignTrackerSettings } from '@tingfeng/detect';
import type { RedisKeys } from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import type { PostObserver } from '../consumers/global-consumer.js';
import type { DetectorMetrics } from '../metrics.js';

export interface CampaignSyncOptions {
  /** Where the curves are written and resumed from (the main Redis: they are not derived from the incident log). */
  redis: Redis;
  /** Where the incidents service registers campaigns: the incident view's Redis (INCIDENT_VIEW_REDIS_URL); default `redis`. */
  viewRedis?: Redis;
  /** Keys of the incident view (`REDIS_PREFIX`): where the incidents service registers campaigns. */
  keys: RedisKeys;
  settings: CampaignTrackerSettings;
  /** Wall time between reads of the active campaigns. */
  refreshMs: number;
  /** Wall time between writes of the changed curves. */
  flushMs: number;
  logger: Logger;
  metrics: DetectorMetrics;
}

/**
 * The {@link CampaignTracker} wired to Redis for the global leader: reads the active campaigns every `refreshMs`
 * (SMEMBERS + MGET; a campaign is rebuilt only when its JSON changed) and writes the changed curves every `flushMs`.
 * One per leadership: a new leader carries on from the curves its predecessor wrote.
 */
export class CampaignSync implements PostObserver {
  private readonly tracker: CampaignTracker;
  private refreshTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly refused = new Set<string>();
  private reported: CampaignCounts = { response: 0, narrative: 0 };
  private stopped = false;
  /** Refreshes and flushes run one at a time. */
  private serial: Promise<void> = Promise.resolve();

  constructor(private readonly options: CampaignSyncOptions) {
    this.tracker = new CampaignTracker(options.settings);
  }

  async start(): Promise<void> {
    await this.refresh();
    const { logger, refreshMs, flushMs } = this.options;
    this.refreshTimer = setInterval(() => {
      this.enqueue(() => this.refresh()).catch((err: unknown) => logger.warn({ err }, 'campaign refresh failed'));
    }, refreshMs);
    this.flushTimer = setInterval(() => {
      this.enqueue(() => this.flush()).catch((err: unknown) => logger.warn({ err }, 'campaign series write failed'));
    }, flushMs);
  }

  observe(post: EnrichedPost): Alert[] {
    if (this.stopped) return [];
    return this.tracker.observe(post);
  }

  /** `flush`: write the last curves (a graceful stop); without it (leadership lost) nothing more is written. */
  async stop(flush: boolean): Promise<void> {
    clearInterval(this.refreshTimer);
    clearInterval(this.flushTimer);
    if (flush && !this.stopped) await this.enqueue(() => this.flush()).catch((err: unknown) => this.options.logger.warn({ err }, 'last campaign series write failed'));
    this.stopped = true;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.serial.then(work, work);
    this.serial = next.catch(() => undefined);
    return next;
  }

  /** Reads the active campaigns and brings the tracker in line with them. */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    const { keys, logger, settings } = this.options;
    const redis = this.options.viewRedis ?? this.options.redis;
    const ids = (await redis.smembers(keys.campaignsActive)).sort();
    const known = this.tracker.registrations();
    for (const id of known.keys()) if (!ids.includes(id)) this.tracker.remove(id);
    if (ids.length === 0) return this.report();
    const raws = await redis.mget(ids.map((id) => keys.campaign(id)));
    const records: { record: CampaignRecord; raw: string }[] = [];
    ids.forEach((id, i) => {
      const raw = raws[i];
      if (!raw) return;
      if (known.get(id) === raw) return;
      const parsed = parseRecord(raw);
      if (!parsed) {
        if (!this.refused.has(raw)) logger.warn({ incidentId: id }, 'unreadable campaign registration skipped');
        this.refused.add(raw);
        return;
      }
      records.push({ record: parsed, raw });
    });
    // Over the cap, the most recently started campaigns are the ones worth watching.
    records.sort((a, b) => Date.parse(b.record.startedAt) - Date.parse(a.record.startedAt) || (a.record.incidentId < b.record.incidentId ? -1 : 1));
    for (const { record, raw } of records) {
      const stored = known.has(record.incidentId) ? undefined : await this.storedSeries(record.incidentId);
      if (this.stopped) return;
      if (!this.tracker.upsert(record, raw, stored)) {
        if (!this.refused.has(raw)) logger.warn({ incidentId: record.incidentId, maxCampaigns: settings.maxCampaigns }, 'too many response campaigns: not tracked');
        this.refused.add(raw);
      } else if (!known.has(record.incidentId)) {
        logger.info({ incidentId: record.incidentId, accounts: record.accounts.length, terms: record.terms, rootIds: record.rootIds.length, resumed: stored !== undefined }, 'tracking response campaign');
      }
    }
    if (this.refused.size > 1000) this.refused.clear();
    this.report();
  }

  /** Writes the curves that changed since the last write. */
  async flush(): Promise<void> {
    if (this.stopped) return;
    const series = this.tracker.takeDirty();
    if (series.length === 0) return;
    const pipeline = this.options.redis.pipeline();
    for (const s of series) pipeline.set(this.options.keys.campaignSeries(s.incidentId), JSON.stringify(s));
    await pipeline.exec();
    this.report();
  }

  private async storedSeries(incidentId: string): Promise<CampaignSeries | undefined> {
    const raw = await this.options.redis.get(this.options.keys.campaignSeries(incidentId));
    if (!raw) return undefined;
    // A series that is not JSON or not the contract's shape is not resumed: the campaign's curves start again.
    try {
      const parsed = CampaignSeriesSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private report(): void {
    const { metrics } = this.options;
    metrics.campaigns.set(this.tracker.size);
    const now = this.tracker.counts();
    for (const role of ['response', 'narrative'] as const) {
      if (now[role] > this.reported[role]) metrics.campaignPosts.inc({ role }, now[role] - this.reported[role]);
    }
    this.reported = now;
  }
}

function parseRecord(raw: string): CampaignRecord | undefined {
  try {
    const parsed = CampaignRecordSchema.safeParse(JSON.parse(raw));
    return parsed.success && Number.isFinite(Date.parse(parsed.data.startedAt)) ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
