import type { Archive, ArchivedPost, PostFilter } from '@tingfeng/archive';
import type { Alert } from '@tingfeng/contracts';
import type { CampaignSeries } from '@tingfeng/contracts';
import { dayBounds, dayOf, shiftDay, type Day } from '../domain/days.js';
import { evidenceIds } from '../domain/evidence.js';
import { rankTerms, type IncidentView } from '../domain/incident-view.js';
import type { ViewStore } from '../store/view-store.js';
import {
  byGravity,
  incidentSentence,
  overviewSentence,
  type DailyReport,
  type ReportCascade,
  type ReportIncident,
  type ReportPost,
  type ReportResponse,
  type ReportVolume,
} from './daily-report.js';

export interface BuildReportOptions {
  archive: Archive;
  store: ViewStore;
  day: Day;
  /** One monitoring scheme, or every post. */
  scheme?: string | undefined;
  timeZone: string;
  publicUrl: string;
  /** Wall time the report is built at (tests pin it). */
  nowMs?: number;
}

const WEEK = 7;
const TOP_CASCADES = 5;
const TOP_ACCOUNTS = 10;
const TOP_TERMS = 20;
const REPRESENTATIVE = 3;

function reportPost(p: ArchivedPost): ReportPost {
  const own = p.ownText.trim() || p.text;
  return {
    id: p.id,
    text: own.length > 140 ? `${own.slice(0, 139)}…` : own,
    author: p.author.name ?? p.author.id,
    followers: p.author.followers ?? null,
    createdAt: p.createdAt,
    url: p.url ?? null,
    sentiment: p.sentiment,
  };
}

function share(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

async function volumeOf(archive: Archive, filter: PostFilter, day: Day, timeZone: string): Promise<ReportVolume> {
  const from = dayBounds(shiftDay(day, -WEEK), timeZone).startMs;
  const to = dayBounds(day, timeZone).endMs;
  const buckets = await archive.histogram({ ...filter, from, to }, { interval: 'day', timeZone });
  const byDay = buckets.map((b) => ({ day: dayOf(Date.parse(b.start), timeZone), posts: b.count, negative: b.negative }));
  const today = byDay.find((d) => d.day === day) ?? { day, posts: 0, negative: 0 };
  const before = byDay.filter((d) => d.day < day);
  const beforePosts = before.reduce((s, d) => s + d.posts, 0);
  const beforeNegative = before.reduce((s, d) => s + d.negative, 0);
  // Days before the archive held anything (a new deployment, a demo) are not quiet days: the mean is over the days with posts.
  const previousDays = before.filter((d) => d.posts > 0).length;
  const previousMeanPosts = previousDays === 0 ? 0 : beforePosts / previousDays;
  return {
    previousDays,
    posts: today.posts,
    negative: today.negative,
    negativeShare: share(today.negative, today.posts),
    previousMeanPosts,
    previousNegativeShare: share(beforeNegative, beforePosts),
    change: beforePosts === 0 ? null : (today.posts - previousMeanPosts) / previousMeanPosts,
    byDay: byDay.map((d) => ({ day: d.day, posts: d.posts, negativeShare: share(d.negative, d.posts) })),
  };
}

function peakOf(alerts: readonly Alert[]): ReportIncident['peak'] {
  let peak: ReportIncident['peak'] = null;
  for (const a of alerts) {
    if (typeof a.observed !== 'number' || typeof a.expected !== 'number') continue;
    const ratio = a.expected > 0 ? a.observed / a.expected : 0;
    if (!peak || ratio > peak.ratio || (ratio === peak.ratio && a.observed > peak.observed)) peak = { observed: a.observed, expected: a.expected, ratio };
  }
  return peak;
}

/** Hours either side of a response's start compared when the detector has measured nothing (negative share of the cascade). */
const RESPONSE_WINDOW_MS = 6 * 3_600_000;

async function responseOf(archive: Archive, view: IncidentView, series: CampaignSeries | undefined, rootId: string | undefined): Promise<ReportResponse | null> {
  if (!view.response) return null;
  const out: ReportResponse = { ...view.response, responsePosts: null, reach: null, negativeShareBefore: null, negativeShareAfter: null };
  if (!series) {
    // Without the detector's curves, the cascade's own reposts from the archive: six hours before against six after.
    const startMs = Date.parse(view.response.startedAt);
    if (!rootId || !Number.isFinite(startMs)) return out;
    const window = async (from: number, to: number) => {
      const [all, negative] = await Promise.all([archive.count({ rootId, from, to }), archive.count({ rootId, from, to, sentiment: 'negative' })]);
      return all === 0 ? null : negative / all;
    };
    [out.negativeShareBefore, out.negativeShareAfter] = await Promise.all([window(startMs - RESPONSE_WINDOW_MS, startMs), window(startMs, startMs + RESPONSE_WINDOW_MS)]);
    return out;
  }
  const first = Math.max(0, Math.floor((series.startedAtMs - series.startMs) / series.bucketMs));
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
  out.responsePosts = sum(series.response);
  out.reach = sum(series.reach);
  const narrative = sum(series.narrative.slice(first));
  if (narrative > 0) out.negativeShareAfter = sum(series.negative.slice(first)) / narrative;
  if (series.baseline && series.baseline.narrative > 0) out.negativeShareBefore = series.baseline.negative / series.baseline.narrative;
  return out;
}

/** Builds a day's report from the archive and the incident view. Read-only: building it twice gives the same report. */
export async function buildDailyReport(o: BuildReportOptions): Promise<DailyReport> {
  const { archive, store, day, timeZone } = o;
  const { startMs, endMs } = dayBounds(day, timeZone);
  const filter: PostFilter = o.scheme ? { scheme: o.scheme } : {};
  const dayFilter: PostFilter = { ...filter, from: startMs, to: endMs };

  const [volume, cascadeCounts, accounts, terms] = await Promise.all([
    volumeOf(archive, filter, day, timeZone),
    archive.topCascades(dayFilter, { limit: TOP_CASCADES }),
    archive.topAccounts(dayFilter, { limit: TOP_ACCOUNTS }),
    archive.topTerms(dayFilter, { limit: TOP_TERMS }),
  ]);

  // An incident is the day's when its first alert's event time falls in it. Its wall-clock opening is never
  // before that (posts more than a day ahead are refused at ingest), so the view is read from a day earlier on.
  const views = (await store.openedSince(startMs - 24 * 3_600_000)).filter((v) => {
    const at = Date.parse(v.firstAlertEventAt ?? v.alerts[0]?.at ?? v.openedAt);
    return at >= startMs && at < endMs && (!o.scheme || (v.schemes ?? []).includes(o.scheme));
  });

  const incidents: ReportIncident[] = [];
  for (const view of views) {
    const { rootIds, postIds } = evidenceIds(view.alerts);
    const rootId = rootIds[0];
    let cascadePosts: number | null = null;
    let cascadeNegativeShare: number | null = null;
    if (view.type === 'cascade' && rootId) {
      const [all, negative] = await Promise.all([
        archive.count({ rootId, from: startMs, to: endMs }),
        archive.count({ rootId, from: startMs, to: endMs, sentiment: 'negative' }),
      ]);
      // The root post itself is among rootId's matches; its reposts are the rest.
      const rootOnDay = (await archive.count({ ids: [rootId], from: startMs, to: endMs })) > 0 ? 1 : 0;
      cascadePosts = Math.max(0, all - rootOnDay);
      cascadeNegativeShare = all === 0 ? null : negative / all;
    }
    // The roots, then evidence that says something of its own (a bare repost quotes nothing worth reading here).
    const found = await archive.postsByIds([...rootIds, ...postIds.slice(0, 40)]);
    const roots = new Set(rootIds);
    const representative = found.filter((p) => roots.has(p.id) || p.ownText.trim().length > 0).slice(0, REPRESENTATIVE).map(reportPost);
    const narrative = view.alerts.filter((a) => a.type !== 'response');
    const figures = {
      id: view.id,
      title: view.title,
      type: view.type,
      severity: view.severity,
      status: view.status,
      startedAt: view.firstAlertEventAt ?? view.alerts[0]?.at ?? view.openedAt,
      acknowledgedBy: view.acknowledgedBy,
      acknowledgedAt: view.acknowledgedAt,
      resolvedAt: view.resolvedAt,
      resolvedBy: view.resolvedBy ?? null,
      alertCount: view.alertCount ?? view.alerts.length,
      terms: rankTerms(narrative).slice(0, 8),
      peak: peakOf(narrative),
      cascadePosts,
      cascadeNegativeShare,
      evidencePosts: new Set([...rootIds, ...postIds]).size,
      accounts: new Set(view.alerts.flatMap((a) => a.accounts ?? [])).size,
      response: await responseOf(archive, view, view.response ? await store.campaignSeries(view.id) : undefined, rootId),
    };
    incidents.push({ ...figures, sentence: incidentSentence(figures, timeZone), representative });
  }
  incidents.sort(byGravity);

  const roots = await archive.postsByIds(cascadeCounts.map((c) => c.rootId));
  const rootById = new Map(roots.map((p) => [p.id, p]));
  const incidentOfRoot = new Map<string, string>();
  for (const view of views) for (const a of view.alerts) if (a.type === 'cascade' && a.rootId && !incidentOfRoot.has(a.rootId)) incidentOfRoot.set(a.rootId, view.id);
  const cascades: ReportCascade[] = cascadeCounts.map((c) => {
    const root = rootById.get(c.rootId);
    return { ...c, root: root ? reportPost(root) : null, incidentId: incidentOfRoot.get(c.rootId) ?? null };
  });

  return {
    day,
    scheme: o.scheme ?? null,
    timeZone,
    builtAt: new Date(o.nowMs ?? Date.now()).toISOString(),
    volume,
    incidents,
    stories: incidents.filter((i) => i.type === 'story'),
    cascades,
    accounts: accounts.map((a) => ({ id: a.id, name: a.name ?? null, followers: a.followers ?? null, verified: a.verified ?? null, posts: a.posts, negativeShare: a.negativeShare })),
    terms,
    overview: overviewSentence(day, o.scheme ?? null, volume, incidents),
    publicUrl: o.publicUrl,
  };
}
