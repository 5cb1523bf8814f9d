import type { Alert } from '@tingfeng/contracts';
import type { RedisKeys } from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import { campaignRecordOf } from '../domain/campaign.js';
import { indexEntries, isOpen, type IncidentView, type TimelineEntry } from '../domain/incident-view.js';

/** How much of an incident Redis keeps, and for how long. */
export interface ViewBounds {
  /** Newest timeline entries and alerts kept per incident in the history lists (INCIDENT_HISTORY_MAX). */
  historyMax: number;
  /** How long a resolved incident stays after its resolution (INCIDENT_RETENTION_MS). */
  retentionMs: number;
}

/** What one write puts in the history lists beside the view. */
export interface HistoryAppend {
  entries: TimelineEntry[];
  alerts: { seq: number; alert: Alert }[];
}

type Tx = ReturnType<Redis['multi']>;

/**
 * The layout of the derived view this code writes. A view of another layout (version 1: whole timelines, status SETs,
 * no indexes, no history lists) is removed at start and rebuilt from the log, which is what the log is for.
 */
export const VIEW_VERSION = '2';

/** Key patterns (after the prefix) of everything derived from the log; configuration and the detector's series are not among them. */
const DERIVED = ['incident:*', 'incident-*', 'incidents', 'incidents-*', 'alert-incident:*', 'applied-offset:*', 'campaign:*', 'campaigns:active', 'view-epoch'];

/**
 * The incident view's writes, for the applier (the only writer), the expiry sweep and a rebuild. Each method adds its
 * commands to a MULTI the caller executes with the applied offset, so Redis never holds half a change.
 *
 * Per incident: `{p}incident:<id>` (the capped view, JSON), `{p}incident-timeline:<id>` and `{p}incident-alerts:<id>`
 * (the pageable history, trimmed to `historyMax`), `{p}incident-seen:<id>` (event ids applied), the list indexes
 * (`{p}incidents` and `{p}incidents-idx:<dimension>:<value>`), `{p}alert-incident:<alertId>` per alert, and, once
 * resolved, a member of `{p}incidents-expiry`.
 */
export class ViewWriter {
  /** `seriesRedis`: where the detector's campaign curves live (the main Redis), when the view has a Redis of its own. */
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    readonly bounds: ViewBounds,
    private readonly seriesRedis: Redis = redis,
  ) {}

  /**
   * Makes sure the view in Redis has this code's layout: if it was written by another (or its version is unknown while
   * view keys exist), removes every derived key, offsets and the view's epoch included, so the applier rebuilds it
   * from the log's start (and a process still holding the old epoch stops).
   * Returns how many keys were removed.
   */
  async ensureLayout(): Promise<number> {
    const { redis, keys } = this;
    if ((await redis.get(keys.viewVersion)) === VIEW_VERSION) return 0;
    let removed = 0;
    for (const pattern of DERIVED) {
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${keys.prefix}${pattern}`, 'COUNT', 1000);
        cursor = next;
        if (found.length > 0) removed += await redis.unlink(...found);
      } while (cursor !== '0');
    }
    await redis.set(keys.viewVersion, VIEW_VERSION);
    return removed;
  }

  /** When a resolved view leaves Redis: `retentionMs` after its resolution, or later if it was rebuilt later. Null while open. */
  retainedUntilMs(view: IncidentView): number | null {
    if (isOpen(view) || !view.resolvedAt) return null;
    const kept = view.retainedUntil ? Date.parse(view.retainedUntil) : Number.NEGATIVE_INFINITY;
    return Math.max(Number.isFinite(kept) ? kept : Number.NEGATIVE_INFINITY, Date.parse(view.resolvedAt) + this.bounds.retentionMs);
  }

  /**
   * Writes `after` (serialised as `json`) in place of `before`, appends `history`, and keeps the indexes, the open-key
   * pointer, the alert pointers and the campaign record in step. `openKeyOwner` is the id `{p}incident-open:<key>`
   * names now (read by the caller before the MULTI).
   */
  write(tx: Tx, before: IncidentView | undefined, after: IncidentView, json: string, history: HistoryAppend, openKeyOwner: string | null, opened: boolean): void {
    const { keys, bounds } = this;
    const id = after.id;
    tx.set(keys.incident(id), json);
    const score = Date.parse(after.openedAt);
    tx.zadd(keys.incidents, score, id);
    const now = new Set(indexEntries(after).map(([d, v]) => keys.incidentIndex(d, v)));
    for (const [d, v] of before ? indexEntries(before) : []) {
      const key = keys.incidentIndex(d, v);
      if (!now.has(key)) tx.zrem(key, id);
    }
    for (const key of now) tx.zadd(key, score, id);

    if (history.entries.length > 0) {
      tx.rpush(keys.incidentTimeline(id), ...history.entries.map((e) => JSON.stringify(e)));
      tx.ltrim(keys.incidentTimeline(id), -bounds.historyMax, -1);
      tx.zadd(keys.incidentSeen(id), ...history.entries.flatMap((e) => [e.seq, e.eventId]));
      tx.zremrangebyrank(keys.incidentSeen(id), 0, -bounds.historyMax - 1);
    }
    if (history.alerts.length > 0) {
      tx.rpush(keys.incidentAlerts(id), ...history.alerts.map((a) => JSON.stringify(a)));
      tx.ltrim(keys.incidentAlerts(id), -bounds.historyMax, -1);
      for (const a of history.alerts) tx.set(keys.alertIncident(a.alert.id), id);
    }

    if (isOpen(after)) {
      tx.zadd(keys.openByActivity, Date.parse(after.lastAlertAt), id);
      tx.zrem(keys.incidentsExpiry, id);
      // The newest open incident owns its key; an older one still open (a race lost to it) stays reachable by id.
      if (opened) tx.set(keys.incidentOpen(after.key), id);
    } else {
      tx.zrem(keys.openByActivity, id);
      if (openKeyOwner === id) tx.del(keys.incidentOpen(after.key));
      const until = this.retainedUntilMs(after);
      if (until !== null) tx.zadd(keys.incidentsExpiry, until, id);
    }
    // The campaign registry the detector tracks: rewritten on every change (new alerts add terms and roots),
    // dropped from the active set once the incident is resolved (its series stays for the incident page).
    const campaign = campaignRecordOf(after);
    if (campaign) {
      tx.set(keys.campaign(id), JSON.stringify(campaign));
      if (isOpen(after)) tx.sadd(keys.campaignsActive, id);
      else tx.srem(keys.campaignsActive, id);
    }
  }

  /**
   * Removes every key of an incident and its index entries. `alertIds` are the alerts whose pointers go with it (read
   * by {@link alertIdsOf} before the MULTI); `openKeyOwner` as in {@link write}.
   */
  remove(tx: Tx, view: IncidentView, alertIds: readonly string[], openKeyOwner: string | null): void {
    const { keys } = this;
    const id = view.id;
    tx.del(keys.incident(id), keys.incidentTimeline(id), keys.incidentAlerts(id), keys.incidentSeen(id), keys.campaign(id));
    // The curves go with the incident: in the same MULTI when they share its Redis, just before it otherwise.
    if (this.seriesRedis === this.redis) tx.del(keys.campaignSeries(id));
    else void this.seriesRedis.del(keys.campaignSeries(id)).catch(() => undefined);
    tx.zrem(keys.incidents, id);
    for (const [d, v] of indexEntries(view)) tx.zrem(keys.incidentIndex(d, v), id);
    tx.zrem(keys.incidentsExpiry, id);
    tx.zrem(keys.openByActivity, id);
    tx.srem(keys.campaignsActive, id);
    if (openKeyOwner === id) tx.del(keys.incidentOpen(view.key));
    for (let i = 0; i < alertIds.length; i += 500) tx.del(...alertIds.slice(i, i + 500).map((a) => keys.alertIncident(a)));
  }

  /** The ids of the alerts an incident holds: its history list and its view (the view's are the newest). */
  async alertIdsOf(view: IncidentView): Promise<string[]> {
    const ids = new Set(view.alerts.map((a) => a.id));
    for (const raw of await this.redis.lrange(this.keys.incidentAlerts(view.id), 0, -1)) {
      try {
        const id = (JSON.parse(raw) as { alert?: { id?: unknown } }).alert?.id;
        if (typeof id === 'string') ids.add(id);
      } catch {
        // a malformed entry names no alert
      }
    }
    return [...ids];
  }

  /** Whether `eventId` was already applied to incident `id` (its seen set reaches the newest `historyMax` events). */
  async seen(id: string, eventId: string): Promise<boolean> {
    return (await this.redis.zscore(this.keys.incidentSeen(id), eventId)) !== null;
  }

  /** The id `{p}incident-open:<key>` names. */
  async openKeyOwner(key: string): Promise<string | null> {
    return this.redis.get(this.keys.incidentOpen(key));
  }
}
