import type { Alert } from '@tingfeng/contracts';
import type { DetectorPost } from '../post.js';
import type { CampaignRecord, CampaignSeries } from '@tingfeng/contracts';
import { CampaignTrack, factsOf, type CampaignSettings, type PostFacts } from './campaign-track.js';

export interface CampaignTrackerSettings extends CampaignSettings {
  /** Most campaigns tracked at once; the most recently started win. */
  maxCampaigns: number;
  /** Recent posts remembered so a campaign registered late still gets the buckets before it (0: none). */
  backfillPosts: number;
}

/** The live detector's defaults (its `CAMPAIGN_*` settings), which the backtest uses too. */
export const DEFAULT_CAMPAIGN_SETTINGS: Readonly<CampaignTrackerSettings> = {
  bucketMs: 600_000,
  maxBuckets: 144,
  checkAfterMs: 2 * 3_600_000,
  riseFactor: 1.2,
  minPosts: 10,
  maxCampaigns: 50,
  backfillPosts: 50_000,
};

/** Posts classified since the tracker was made, by role (each post counted once per campaign). */
export interface CampaignCounts {
  response: number;
  narrative: number;
}

/**
 * Tracks every active response campaign over the stream the engine sees, in the engine's order, purely: the caller
 * feeds posts ({@link observe}) and campaign registrations ({@link upsert}, {@link remove}) and takes the changed curves
 * ({@link takeDirty}). When event time enters a new bucket, each campaign is judged on the bucket just completed.
 */
export class CampaignTracker {
  private readonly tracks = new Map<string, { raw: string; track: CampaignTrack }>();
  private readonly dirty = new Set<string>();
  private readonly removed: CampaignSeries[] = [];
  /** A ring of the last posts seen, oldest at `ringNext` once full. */
  private readonly ring: PostFacts[] = [];
  private ringNext = 0;
  private currentIndex: number | null = null;
  private readonly totals: CampaignCounts = { response: 0, narrative: 0 };

  constructor(readonly settings: CampaignTrackerSettings) {}

  /** Incident ids tracked, with the raw registration each was built from. */
  registrations(): Map<string, string> {
    return new Map([...this.tracks].map(([id, t]) => [id, t.raw]));
  }

  get size(): number {
    return this.tracks.size;
  }

  counts(): CampaignCounts {
    return { ...this.totals };
  }

  /**
   * Starts tracking a campaign, or takes a changed registration of a tracked one. A new campaign carries on from
   * `stored` (the curves a previous leader wrote) when given; otherwise its buckets are filled from the recent posts.
   * Returns false when the cap is reached.
   */
  upsert(record: CampaignRecord, raw: string, stored?: CampaignSeries): boolean {
    const known = this.tracks.get(record.incidentId);
    if (known) {
      if (known.raw !== raw) {
        known.track.update(record);
        known.raw = raw;
        this.dirty.add(record.incidentId);
      }
      return true;
    }
    if (this.tracks.size >= this.settings.maxCampaigns) return false;
    const track = stored ? CampaignTrack.fromSeries(record, this.settings, stored) : new CampaignTrack(record, this.settings);
    if (!stored) for (const post of this.recent()) this.count(track, post);
    this.tracks.set(record.incidentId, { raw, track });
    this.dirty.add(record.incidentId);
    return true;
  }

  /** Stops tracking a campaign (its incident was resolved); its last curves are still handed out by {@link takeDirty}. */
  remove(incidentId: string): void {
    const known = this.tracks.get(incidentId);
    if (!known) return;
    this.tracks.delete(incidentId);
    if (this.dirty.delete(incidentId)) this.removed.push(known.track.toSeries());
  }

  /** Classifies and counts one post for every campaign; returns the `response` alerts of buckets it completed. */
  observe(post: DetectorPost): Alert[] {
    if (post.spam || !Number.isFinite(post.createdAtMs)) return [];
    const facts = factsOf(post);
    this.remember(facts);
    const alerts: Alert[] = [];
    const index = Math.floor(facts.eventTimeMs / this.settings.bucketMs);
    if (this.currentIndex === null || index > this.currentIndex) {
      if (this.currentIndex !== null) {
        for (const [id, { track }] of this.tracks) {
          const alert = track.evaluate(index - 1);
          if (alert) {
            alerts.push(alert);
            this.dirty.add(id);
          }
        }
      }
      this.currentIndex = index;
    }
    for (const [id, { track }] of this.tracks) if (this.count(track, facts)) this.dirty.add(id);
    return alerts;
  }

  /** The curves changed since the last call (those of removed campaigns included). */
  takeDirty(): CampaignSeries[] {
    const out = [...this.removed];
    this.removed.length = 0;
    for (const id of this.dirty) {
      const known = this.tracks.get(id);
      if (known) out.push(known.track.toSeries());
    }
    this.dirty.clear();
    return out;
  }

  private count(track: CampaignTrack, post: PostFacts): boolean {
    const role = track.add(post);
    if (role === 'other') return false;
    this.totals[role]++;
    return true;
  }

  private remember(post: PostFacts): void {
    const cap = this.settings.backfillPosts;
    if (cap <= 0) return;
    if (this.ring.length < cap) this.ring.push(post);
    else {
      this.ring[this.ringNext] = post;
      this.ringNext = (this.ringNext + 1) % cap;
    }
  }

  /** The remembered posts, oldest first. */
  private *recent(): Generator<PostFacts> {
    for (let k = 0; k < this.ring.length; k++) yield this.ring[(this.ringNext + k) % this.ring.length]!;
  }
}
