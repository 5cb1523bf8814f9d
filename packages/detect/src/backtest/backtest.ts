import type { Alert, CampaignRecord } from '@tingfeng/contracts';
import { CampaignTracker, DEFAULT_CAMPAIGN_SETTINGS, type CampaignTrackerSettings } from '../campaigns/campaign-tracker.js';
import type { DetectorConfig } from '../config.js';
import { createDetectorEngine, type DetectorEngine } from '../engine.js';
import { EventClock, settleByVotes } from '../event-time/event-clock.js';
import type { DetectorPost } from '../post.js';

export interface BacktestOptions {
  /** Detector settings over the defaults (as `DETECTOR_CONFIG_FILE` gives them live). */
  config?: Partial<DetectorConfig>;
  /**
   * Response campaigns, as the incidents service registers them live (`{p}campaign:<incidentId>`), tracked from the
   * first post: the live leader tracks a campaign from its registration and fills the buckets before it from the
   * posts it remembers, which comes to the same once they cover the campaign's narrative.
   */
  campaigns?: readonly CampaignRecord[];
  /** The live detector's `CAMPAIGN_*` settings; its defaults otherwise. */
  campaignSettings?: CampaignTrackerSettings;
}

/** What a backtest did with the posts it was given. */
export interface BacktestCounts {
  /** Posts the event clock accepted and the detectors saw. */
  accepted: number;
  /** Posts the event clock refused (`created_at_future`: far ahead of the posts after them). */
  refusedFuture: number;
}

/**
 * The live detector's work over one ordered history, purely: each post through the event clock (the rule each
 * partition of the live merge follows), then, in order, the engine and the response campaign tracker, as the global
 * leader runs them. Alerts come out in a deterministic order; posts held by the clock give theirs once it decides.
 */
export class Backtest {
  readonly engine: DetectorEngine;
  private readonly campaigns: CampaignTracker | undefined;
  private readonly clock: EventClock<DetectorPost>;
  private ready: Alert[] = [];
  private readonly countsValue: BacktestCounts = { accepted: 0, refusedFuture: 0 };

  constructor(options: BacktestOptions = {}) {
    this.engine = createDetectorEngine(options.config ?? {});
    const records = options.campaigns ?? [];
    if (records.length > 0) {
      this.campaigns = new CampaignTracker({ ...(options.campaignSettings ?? DEFAULT_CAMPAIGN_SETTINGS), maxCampaigns: Number.MAX_SAFE_INTEGER });
      for (const record of records) this.campaigns.upsert(record, JSON.stringify(record));
    }
    const { clockMaxJumpMs, clockConfirmPosts } = this.engine.config;
    this.clock = new EventClock<DetectorPost>({ maxJumpMs: clockMaxJumpMs, confirmPosts: clockConfirmPosts }, (post, _eventTimeMs, accepted) => {
      if (!accepted) {
        this.countsValue.refusedFuture++;
        return;
      }
      this.countsValue.accepted++;
      const ready = this.ready;
      for (const a of this.engine.process(post)) ready.push(a);
      if (this.campaigns) for (const a of this.campaigns.observe(post)) ready.push(a);
    });
  }

  /** Reads the next post of the history; returns the alerts of the posts the clock let through meanwhile. */
  push(post: DetectorPost): Alert[] {
    this.clock.push(post, post.createdAtMs);
    return this.take();
  }

  /** End of the history: the clock's votes so far decide what it holds, and the engine closes its windows. */
  end(): Alert[] {
    this.clock.settle(settleByVotes);
    const out = this.take();
    for (const a of this.engine.flush()) out.push(a);
    return out;
  }

  counts(): BacktestCounts {
    return { ...this.countsValue };
  }

  private take(): Alert[] {
    if (this.ready.length === 0) return [];
    const out = this.ready;
    this.ready = [];
    return out;
  }
}
