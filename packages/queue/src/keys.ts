import { DEFAULT_REDIS_PREFIX, schemesKey } from '@tingfeng/contracts';

export { DEFAULT_REDIS_PREFIX };

/**
 * The Redis keys of the incident view and the shared configuration, under one prefix.
 * The incidents service writes the view (it is the single writer); the notifier reads it.
 */
export interface RedisKeys {
  readonly prefix: string;
  /** JSON incident view (contract Incident + `timeline` of IncidentEvents and a few derived fields). */
  incident(id: string): string;
  /** ZSET of incident ids scored by `openedAt` epoch ms (wall time). */
  readonly incidents: string;
  /** Id of the open (not resolved) incident for an alert dedup key. */
  incidentOpen(key: string): string;
  /**
   * ZSET of the incident ids with one value of a list dimension (`status`, `severity`, `type`, `scheme`), scored by
   * `openedAt` epoch ms: the indexes `GET /api/incidents` pages through.
   */
  incidentIndex(dimension: string, value: string): string;
  /** LIST of an incident's timeline entries (JSON, with `seq`), oldest first, the newest INCIDENT_HISTORY_MAX kept. */
  incidentTimeline(id: string): string;
  /** LIST of an incident's alerts (JSON `{ seq, alert }`), oldest first, the newest INCIDENT_HISTORY_MAX kept. */
  incidentAlerts(id: string): string;
  /** ZSET of the event ids applied to an incident, scored by `seq`: a copy of an event in the log applies once. */
  incidentSeen(id: string): string;
  /** ZSET of resolved incident ids scored by the wall-clock ms they leave Redis (`retainedUntil`). */
  readonly incidentsExpiry: string;
  /** The layout version of the derived view; a view written by another layout is removed and rebuilt from the log. */
  readonly viewVersion: string;
  /**
   * HASH naming the view's generation: `id` (random, new whenever the view is started from empty) and `caughtUpAt`
   * (set once it held the whole log). Gone means the view's Redis was wiped: the incidents service exits and rebuilds.
   */
  readonly viewEpoch: string;
  /** ZSET of open incident ids scored by the wall-clock ms of their last alert: what auto-resolve scans. */
  readonly openByActivity: string;
  /** Id of the incident an alert was appended to: a redelivered alert adds nothing. */
  alertIncident(alertId: string): string;
  /** Last offset of `topic`/`partition` applied to the view. */
  appliedOffset(topic: string, partition: number): string;
  /** JSON routing rules (RoutesConfig). */
  readonly routes: string;
  /** JSON silences (Silence[]). */
  readonly silences: string;
  /** JSON channels (Channel[]), secrets included: never returned by the API unredacted. */
  readonly channels: string;
  /**
   * JSON monitoring schemes (SchemeSchema[] of `@tingfeng/contracts`), written by the incidents API, read by the
   * analyzer: `schemesKey(prefix)` of contracts, which the analyzer uses directly.
   */
  readonly schemes: string;
  /** LIST of audit records of configuration changes, newest first. */
  readonly audit: string;
  /** Counter of the notes one principal added in one fixed window (`window` = epoch ms / window length); expires with it. */
  noteRate(principal: string, window: number): string;
  /** Principal JSON a single-use SSE ticket stands for, under the SHA-256 of the ticket; expires with the ticket. */
  streamTicket(ticketHash: string): string;
  /** JSON CampaignRecord of an incident answered by a response campaign (written by the incidents service, read by the detector). */
  campaign(incidentId: string): string;
  /** SET of incident ids whose response campaign the detector tracks (open incidents with a campaign). */
  readonly campaignsActive: string;
  /** JSON CampaignSeries of a campaign, per time bucket (written by the detector, read by the incidents API). */
  campaignSeries(incidentId: string): string;
  /** ZSET of the daily reports built and sent, member `<day>|<scheme or empty>`, scored by the day's start (epoch ms). */
  readonly reports: string;
  /** JSON ReportRecord of one daily report (`day` YYYY-MM-DD, `scheme` '' for all posts). */
  report(day: string, scheme: string): string;
}

/** Key builders for the incident view under `prefix` (`REDIS_PREFIX`, default `tf:`). Both services import these. */
export function redisKeys(prefix: string = DEFAULT_REDIS_PREFIX): RedisKeys {
  return {
    prefix,
    incident: (id) => `${prefix}incident:${id}`,
    incidents: `${prefix}incidents`,
    incidentOpen: (key) => `${prefix}incident-open:${key}`,
    incidentIndex: (dimension, value) => `${prefix}incidents-idx:${dimension}:${value}`,
    incidentTimeline: (id) => `${prefix}incident-timeline:${id}`,
    incidentAlerts: (id) => `${prefix}incident-alerts:${id}`,
    incidentSeen: (id) => `${prefix}incident-seen:${id}`,
    incidentsExpiry: `${prefix}incidents-expiry`,
    viewVersion: `${prefix}view-version`,
    viewEpoch: `${prefix}view-epoch`,
    openByActivity: `${prefix}incidents-open-activity`,
    alertIncident: (alertId) => `${prefix}alert-incident:${alertId}`,
    appliedOffset: (topic, partition) => `${prefix}applied-offset:${topic}:${partition}`,
    routes: `${prefix}config:routes`,
    silences: `${prefix}config:silences`,
    channels: `${prefix}config:channels`,
    schemes: schemesKey(prefix),
    audit: `${prefix}audit`,
    noteRate: (principal, window) => `${prefix}rate:notes:${window}:${principal}`,
    streamTicket: (ticketHash) => `${prefix}stream-ticket:${ticketHash}`,
    campaign: (incidentId) => `${prefix}campaign:${incidentId}`,
    campaignsActive: `${prefix}campaigns:active`,
    campaignSeries: (incidentId) => `${prefix}campaign-series:${incidentId}`,
    reports: `${prefix}reports`,
    report: (day, scheme) => `${prefix}report:${day}:${scheme}`,
  };
}
