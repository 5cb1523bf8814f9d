import { randomUUID } from 'node:crypto';
import type { Alert, CampaignSeries, IncidentStatus } from '@tingfeng/contracts';
import { CampaignSeriesSchema, decodeJson, INCIDENT_STATUSES } from '@tingfeng/contracts';
import type { RedisKeys } from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import { isOpen, summarize, type IncidentSummary, type IncidentView, type TimelineEntry } from '../domain/incident-view.js';

/** Largest campaign series read: a few arrays of counts per bucket over the campaign's window. */
const MAX_CAMPAIGN_SERIES_BYTES = 8 * 1024 * 1024;

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
  /** Where the previous page ended (its `nextCursor`); pages after it, ignoring `offset`. */
  cursor?: ListCursor | undefined;
}

/** The last row of a page: its `openedAt` ms and id (the list's order: openedAt descending, then id descending). */
export interface ListCursor {
  openedAtMs: number;
  id: string;
}

export function encodeListCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify([c.openedAtMs, c.id])).toString('base64url');
}

/** The cursor a `nextCursor` string names, or undefined when it is not one. */
export function decodeListCursor(value: string): ListCursor | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && typeof parsed[0] === 'number' && Number.isFinite(parsed[0]) && typeof parsed[1] === 'string') return { openedAtMs: parsed[0], id: parsed[1] };
  } catch {
    // not a cursor
  }
  return undefined;
}

/** One page of an incident's history, oldest first; `nextCursor` pages back to older entries. */
export interface HistoryPage<T> {
  items: T[];
  /** Entries the incident has had in all (the newest `seq`). */
  total: number;
  /** `seq` of the oldest entry Redis still holds (older ones are only in the log); null when it holds none. */
  firstSeq: number | null;
  /** Pass as `cursor` for the entries before this page; null when this page reaches `firstSeq`. */
  nextCursor: number | null;
}

/** Reads of the incident view in Redis. Only the applier writes (through ViewWriter). */
export class ViewStore {
  /**
   * `redis` holds the view (INCIDENT_VIEW_REDIS_URL); `seriesRedis` the detector's campaign curves, which are not
   * derived from the log and so live in the main Redis (REDIS_URL) beside the queues.
   */
  constructor(
    readonly redis: Redis,
    readonly keys: RedisKeys,
    private readonly seriesRedis: Redis = redis,
  ) {}

  async get(id: string): Promise<IncidentView | undefined> {
    const raw = await this.redis.get(this.keys.incident(id));
    return raw ? (JSON.parse(raw) as IncidentView) : undefined;
  }

  /** The curves the detector keeps for the incident's response campaign, if it has written any. */
  async campaignSeries(id: string): Promise<CampaignSeries | undefined> {
    const raw = await this.seriesRedis.get(this.keys.campaignSeries(id));
    if (!raw) return undefined;
    const decoded = decodeJson(raw, { maxBytes: MAX_CAMPAIGN_SERIES_BYTES });
    if (!decoded.ok) return undefined;
    const parsed = CampaignSeriesSchema.safeParse(decoded.value);
    return parsed.success ? parsed.data : undefined;
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
    for (const s of INCIDENT_STATUSES) pipeline.zcard(this.keys.incidentIndex('status', s));
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

  /**
   * Incidents newest first (openedAt, then id, descending), filtered, one page; `total` counts every match. Read from
   * the sorted-set indexes: one filter value is one index read as it is; several are combined in Redis (a union per
   * dimension, intersected across dimensions) into a short-lived key. Only the page's views are read.
   */
  async list(filter: ListFilter): Promise<{ items: IncidentSummary[]; total: number; nextCursor: string | null }> {
    const { redis, keys } = this;
    const dimensions: string[][] = [];
    if (filter.status?.length) dimensions.push(filter.status.map((v) => keys.incidentIndex('status', v)));
    if (filter.severity?.length) dimensions.push(filter.severity.map((v) => keys.incidentIndex('severity', v)));
    if (filter.type?.length) dimensions.push(filter.type.map((v) => keys.incidentIndex('type', v)));
    if (filter.scheme) dimensions.push([keys.incidentIndex('scheme', filter.scheme)]);
    const temporary: string[] = [];
    let source = keys.incidents;
    if (dimensions.length === 1 && dimensions[0]!.length === 1) source = dimensions[0]![0]!;
    else if (dimensions.length > 0) {
      const tx = redis.multi();
      const parts = dimensions.map((d) => {
        if (d.length === 1) return d[0]!;
        const tmp = `${keys.prefix}tmp:list:${randomUUID()}`;
        temporary.push(tmp);
        tx.zunionstore(tmp, d.length, ...d, 'AGGREGATE', 'MAX').pexpire(tmp, 10_000);
        return tmp;
      });
      if (parts.length === 1) source = parts[0]!;
      else {
        source = `${keys.prefix}tmp:list:${randomUUID()}`;
        temporary.push(source);
        tx.zinterstore(source, parts.length, ...parts, 'AGGREGATE', 'MAX').pexpire(source, 10_000);
      }
      await tx.exec();
    }
    try {
      const max = filter.untilMs ?? '+inf';
      const min = filter.sinceMs ?? '-inf';
      const total = await redis.zcount(source, min, max);
      const want = filter.limit + 1;
      let ids: string[];
      const c = filter.cursor;
      if (c) {
        // Rows with the cursor's openedAt come in id order, descending: those after its id, then the older ones.
        const inBounds = (filter.untilMs === undefined || c.openedAtMs <= filter.untilMs) && (filter.sinceMs === undefined || c.openedAtMs >= filter.sinceMs);
        const ties = inBounds ? (await redis.zrevrangebyscore(source, c.openedAtMs, c.openedAtMs)).filter((id) => id < c.id).slice(0, want) : [];
        const top = Math.min(c.openedAtMs, filter.untilMs ?? Number.POSITIVE_INFINITY);
        const older = ties.length < want ? await redis.zrevrangebyscore(source, top === c.openedAtMs ? `(${top}` : top, min, 'LIMIT', 0, want - ties.length) : [];
        ids = [...ties, ...older];
      } else {
        ids = await redis.zrevrangebyscore(source, max, min, 'LIMIT', filter.offset, want);
      }
      const page = ids.slice(0, filter.limit);
      const raws = page.length > 0 ? await redis.mget(page.map((id) => keys.incident(id))) : [];
      const items: IncidentSummary[] = [];
      for (const raw of raws) if (raw) items.push(summarize(JSON.parse(raw) as IncidentView));
      const last = items.at(-1);
      const nextCursor = ids.length > filter.limit && last ? encodeListCursor({ openedAtMs: Date.parse(last.openedAt), id: last.id }) : null;
      return { items, total, nextCursor };
    } finally {
      if (temporary.length > 0) await redis.del(...temporary);
    }
  }

  /** A page of an incident's timeline from its history list: the `limit` entries before `cursor` (a seq), or the newest. */
  async timeline(id: string, limit: number, cursor?: number): Promise<HistoryPage<TimelineEntry> | undefined> {
    return this.historyPage(id, this.keys.incidentTimeline(id), limit, cursor, (v) => v.timelineCount ?? v.timeline.length, (raw) => raw as TimelineEntry);
  }

  /** A page of an incident's alerts from its history list, as {@link timeline}; each alert with its `seq`. */
  async alerts(id: string, limit: number, cursor?: number): Promise<HistoryPage<{ seq: number; alert: Alert }> | undefined> {
    return this.historyPage(id, this.keys.incidentAlerts(id), limit, cursor, (v) => v.alertCount ?? v.alerts.length, (raw) => raw as { seq: number; alert: Alert });
  }

  private async historyPage<T extends { seq: number }>(
    id: string,
    key: string,
    limit: number,
    cursor: number | undefined,
    totalOf: (view: IncidentView) => number,
    cast: (raw: unknown) => T,
  ): Promise<HistoryPage<T> | undefined> {
    const [viewRaw, length, firstRaw] = ((await this.redis.multi().get(this.keys.incident(id)).llen(key).lindex(key, 0).exec()) ?? []).map((r) => r?.[1]);
    if (typeof viewRaw !== 'string') return undefined;
    const total = totalOf(JSON.parse(viewRaw) as IncidentView);
    const n = Number(length ?? 0);
    if (n === 0 || typeof firstRaw !== 'string') return { items: [], total, firstSeq: null, nextCursor: null };
    const firstSeq = cast(JSON.parse(firstRaw)).seq;
    const lastSeq = firstSeq + n - 1;
    const end = Math.min(cursor === undefined ? lastSeq : cursor - 1, lastSeq);
    if (end < firstSeq) return { items: [], total, firstSeq, nextCursor: null };
    const start = Math.max(firstSeq, end - limit + 1);
    // Entries carry their seq, so a trim between the two reads shows as entries outside the range, which are dropped.
    const raws = await this.redis.lrange(key, start - firstSeq, end - firstSeq);
    const items = raws.map((r) => cast(JSON.parse(r))).filter((e) => e.seq >= start && e.seq <= end);
    return { items, total, firstSeq, nextCursor: start > firstSeq ? start : null };
  }
}
