import { INCIDENT_STATUSES, type IncidentStatus } from '@tingfeng/contracts';
import type { CampaignSeries, RedisKeys } from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import { isOpen, summarize, type IncidentSummary, type IncidentView } from '../domain/incident-view.js';

export interface ListFilter {
  status?: IncidentStatus[] | undefined;
  type?: string[] | undefined;
  severity?: string[] | undefined;
  scheme?: string | undefined;
  /** Bounds on `openedAt`, epoch ms (wall time), inclusive. */
  sinceMs?: number | undefined;
  untilMs?: number | undefined;
  limit: number;
  offset: number;
}

/** Reads and writes of the incident view in Redis. Only the applier writes. */
export class ViewStore {
  constructor(
    readonly redis: Redis,
    readonly keys: RedisKeys,
  ) {}

  async get(id: string): Promise<IncidentView | undefined> {
    const raw = await this.redis.get(this.keys.incident(id));
    return raw ? (JSON.parse(raw) as IncidentView) : undefined;
  }

  /** The curves the detector keeps for the incident's response campaign, if it has written any. */
  async campaignSeries(id: string): Promise<CampaignSeries | undefined> {
    const raw = await this.redis.get(this.keys.campaignSeries(id));
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as CampaignSeries;
    } catch {
      return undefined;
    }
  }

  /** The open incident for a dedup key, if any. */
  async openFor(key: string): Promise<IncidentView | undefined> {
    const id = await this.redis.get(this.keys.incidentOpen(key));
    if (!id) return undefined;
    const view = await this.get(id);
    return view && isOpen(view) ? view : undefined;
  }

  /** The incident an alert id was already added to. */
  async incidentOfAlert(alertId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.alertIncident(alertId))) ?? undefined;
  }

  /** Open incidents whose last alert is at or before `beforeMs` (wall time). */
  async quietSince(beforeMs: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.openByActivity, '-inf', beforeMs);
  }

  async counts(): Promise<Record<IncidentStatus, number>> {
    const pipeline = this.redis.pipeline();
    for (const s of INCIDENT_STATUSES) pipeline.scard(this.keys.incidentsByStatus(s));
    const results = (await pipeline.exec()) ?? [];
    const out = {} as Record<IncidentStatus, number>;
    INCIDENT_STATUSES.forEach((s, i) => {
      out[s] = Number(results[i]?.[1] ?? 0);
    });
    return out;
  }

  /** Every incident opened (wall time) at or after `sinceMs`, whole, oldest first: what a daily report reads. */
  async openedSince(sinceMs: number): Promise<IncidentView[]> {
    const ids = await this.redis.zrangebyscore(this.keys.incidents, sinceMs, '+inf');
    const views: IncidentView[] = [];
    for (let i = 0; i < ids.length; i += 200) {
      const raws = await this.redis.mget(ids.slice(i, i + 200).map((id) => this.keys.incident(id)));
      for (const raw of raws) if (raw) views.push(JSON.parse(raw) as IncidentView);
    }
    return views;
  }

  /** Incidents newest first (by openedAt), filtered, one page; `total` counts every match. */
  async list(filter: ListFilter): Promise<{ items: IncidentSummary[]; total: number }> {
    const max = filter.untilMs ?? '+inf';
    const min = filter.sinceMs ?? '-inf';
    const ids = await this.redis.zrevrangebyscore(this.keys.incidents, max, min);
    const items: IncidentSummary[] = [];
    let total = 0;
    // Small pages of MGET keep memory flat; incident counts are in the thousands, not millions.
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      if (chunk.length === 0) break;
      const raws = await this.redis.mget(chunk.map((id) => this.keys.incident(id)));
      for (const raw of raws) {
        if (!raw) continue;
        const view = JSON.parse(raw) as IncidentView;
        if (!matches(view, filter)) continue;
        if (total >= filter.offset && items.length < filter.limit) items.push(summarize(view));
        total++;
      }
    }
    return { items, total };
  }
}

function matches(view: IncidentView, f: ListFilter): boolean {
  if (f.status && f.status.length > 0 && !f.status.includes(view.status)) return false;
  if (f.type && f.type.length > 0 && !f.type.includes(view.type)) return false;
  if (f.severity && f.severity.length > 0 && !f.severity.includes(view.severity)) return false;
  if (f.scheme && !(view.schemes ?? []).includes(f.scheme)) return false;
  return true;
}
