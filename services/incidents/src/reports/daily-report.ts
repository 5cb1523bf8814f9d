import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import type { IncidentStatus, Severity } from '@tingfeng/contracts';
import { SEVERITY_LABELS, STATUS_LABELS, TYPE_LABELS } from '@tingfeng/channels';
import type { Day } from '../domain/days.js';

/** A post as a report quotes it. */
export interface ReportPost {
  id: string;
  /** The post's own words, cut to a few lines. */
  text: string;
  author: string;
  followers: number | null;
  createdAt: string;
  url: string | null;
  sentiment: number;
}

/** The day's volume against the seven days before it (spam left out, as in search). */
export interface ReportVolume {
  posts: number;
  negative: number;
  negativeShare: number;
  /** Of the seven days before, those holding any post (the archive may be younger than a week). */
  previousDays: number;
  /** Mean posts per day over those days, and the negative share over all their posts. */
  previousMeanPosts: number;
  previousNegativeShare: number;
  /** `(posts − previousMeanPosts) / previousMeanPosts`; null when the week before holds nothing. */
  change: number | null;
  /** Eight days, oldest first: the seven before, then the day itself. */
  byDay: { day: Day; posts: number; negativeShare: number }[];
}

/** The response campaign of an incident, with what the detector measured of it when it has. */
export interface ReportResponse {
  accounts: string[];
  startedAt: string;
  by: string;
  /** Posts by the campaign's accounts, and the sum of their followers. */
  responsePosts: number | null;
  reach: number | null;
  /** Negative share of the narrative in the bucket before the response and over every bucket since. */
  negativeShareBefore: number | null;
  negativeShareAfter: number | null;
}

/** One incident opened on the day, with the figures its sentence is built from. */
export interface ReportIncident {
  id: string;
  title: string;
  type: string;
  severity: Severity;
  status: IncidentStatus;
  /** Event time of its first alert: when it started, by the data's clock. */
  startedAt: string;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  alertCount: number;
  terms: string[];
  /** The alert whose window was furthest above its baseline: observed, expected, their ratio. */
  peak: { observed: number; expected: number; ratio: number } | null;
  /** For a cascade: the root's reposts and comments archived on the day, and their negative share. */
  cascadePosts: number | null;
  cascadeNegativeShare: number | null;
  /** Every post id the alerts name. */
  evidencePosts: number;
  accounts: number;
  response: ReportResponse | null;
  /** The incident in one plain-Chinese sentence, from the figures above. */
  sentence: string;
  /** The root post first for a cascade, then the evidence's earliest posts. */
  representative: ReportPost[];
}

/** One of the day's biggest repost trees. */
export interface ReportCascade {
  rootId: string;
  posts: number;
  negativeShare: number;
  firstAt: string;
  lastAt: string;
  root: ReportPost | null;
  /** The incident about it, when one was opened on the day. */
  incidentId: string | null;
}

export interface ReportAccount {
  id: string;
  name: string | null;
  followers: number | null;
  verified: boolean | null;
  posts: number;
  negativeShare: number;
}

/** A daily report (舆情日报): everything the HTML, the PDF and the announcement are made from. */
export interface DailyReport {
  day: Day;
  /** The monitoring scheme it covers; null for every post. */
  scheme: string | null;
  timeZone: string;
  /** Wall time it was built. */
  builtAt: string;
  volume: ReportVolume;
  /** Opened on the day (event time of the first alert), most severe first. */
  incidents: ReportIncident[];
  /** Story incidents of the day, the conversations that burst. */
  stories: ReportIncident[];
  cascades: ReportCascade[];
  accounts: ReportAccount[];
  terms: { term: string; count: number }[];
  /** The day in one or two sentences. */
  overview: string;
  /** Base URL of the dashboard, for links. */
  publicUrl: string;
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** Most severe first, then earliest. */
export function byGravity(a: Pick<ReportIncident, 'severity' | 'startedAt'>, b: Pick<ReportIncident, 'severity' | 'startedAt'>): number {
  return SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || Date.parse(a.startedAt) - Date.parse(b.startedAt);
}

/** `12,345`. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `63%`; one decimal under 10 %. */
export function percent(share: number): string {
  const p = share * 100;
  return `${p > 0 && p < 10 ? p.toFixed(1) : Math.round(p)}%`;
}

/** `10月20日 09:40` in `timeZone`. */
export function dayTime(iso: string, timeZone: string): string {
  return format(new TZDate(Date.parse(iso), timeZone), 'M月d日 HH:mm');
}

/** `2015年10月20日` of a day. */
export function longDay(day: Day): string {
  const [y, m, d] = day.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

function clip(text: string, maxChars: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > maxChars ? `${flat.slice(0, maxChars - 1)}…` : flat;
}

/** `@昆明发布、@春城晚报 等 4 个账号`. */
function accountList(accounts: readonly string[]): string {
  const named = accounts.slice(0, 3).map((a) => `@${a.replace(/^@/, '')}`).join('、');
  return accounts.length > 3 ? `${named} 等 ${accounts.length} 个账号` : named;
}

/**
 * The incident in one sentence a leader reads without the dashboard: when and what, how big, who took it, how it
 * was answered and where it stands. Built only from the figures, so the same incident always reads the same.
 */
export function incidentSentence(i: Omit<ReportIncident, 'sentence' | 'representative'>, timeZone: string): string {
  const type = TYPE_LABELS[i.type] ?? i.type;
  const parts: string[] = [`${dayTime(i.startedAt, timeZone)} 起出现${type}事件「${clip(i.title, 40)}」（${SEVERITY_LABELS[i.severity]}）`];
  const size: string[] = [];
  if (i.cascadePosts !== null && i.cascadePosts > 0) {
    size.push(`原帖当日被转发评论 ${count(i.cascadePosts)} 次${i.cascadeNegativeShare !== null ? `，负面占比 ${percent(i.cascadeNegativeShare)}` : ''}`);
  } else if (i.evidencePosts > 0) {
    size.push(`涉及帖子 ${count(i.evidencePosts)} 条`);
  }
  if (i.peak && i.peak.expected > 0 && i.peak.ratio >= 1.5) size.push(`高峰时段声量为平时的 ${i.peak.ratio.toFixed(1)} 倍`);
  if (i.type === 'coordination' && i.accounts > 0) size.push(`涉及 ${count(i.accounts)} 个账号`);
  if (size.length > 0) parts.push(size.join('，'));
  if (i.acknowledgedBy && i.acknowledgedAt) parts.push(`${i.acknowledgedBy} 于 ${dayTime(i.acknowledgedAt, timeZone)} 认领`);
  else if (i.status === 'triggered') parts.push('尚无人认领');
  const r = i.response;
  if (r) {
    let answer = `${dayTime(r.startedAt, timeZone)} 起 ${accountList(r.accounts)} 发布回应`;
    if (r.responsePosts !== null && r.responsePosts > 0) answer += ` ${count(r.responsePosts)} 条${r.reach ? `，触达粉丝约 ${count(r.reach)} 人次` : ''}`;
    if (r.negativeShareBefore !== null && r.negativeShareAfter !== null) {
      const verb = r.negativeShareAfter < r.negativeShareBefore ? '降至' : r.negativeShareAfter > r.negativeShareBefore ? '升至' : '持平于';
      answer += `，回应后负面占比由 ${percent(r.negativeShareBefore)} ${verb} ${percent(r.negativeShareAfter)}`;
    }
    parts.push(answer);
  }
  if (i.status === 'resolved' && i.resolvedAt) parts.push(`${i.resolvedBy?.startsWith('system:') ? '已自动解除' : '已解除'}（${dayTime(i.resolvedAt, timeZone)}）`);
  else parts.push(`目前${STATUS_LABELS[i.status] ?? i.status}`);
  return `${parts.join('；')}。`;
}

/** The day's overview: volume against the week before, negative share, incidents opened. */
export function overviewSentence(day: Day, scheme: string | null, v: ReportVolume, incidents: readonly Pick<ReportIncident, 'severity'>[]): string {
  const scope = scheme ? `监测方案「${scheme}」` : '全部监测范围';
  let volume = `${longDay(day)}，${scope}共监测到信息 ${count(v.posts)} 条`;
  if (v.change === null) volume += '（前 7 日无数据可比）';
  else {
    const pct = Math.abs(v.change * 100);
    const trend = pct < 5 ? '基本持平' : v.change > 0 ? `上升 ${Math.round(pct)}%` : `下降 ${Math.round(pct)}%`;
    const before = v.previousDays >= 7 ? '前 7 日' : `前 7 日中有数据的 ${v.previousDays} 日`;
    volume += `，较${before}日均 ${count(v.previousMeanPosts)} 条${trend}`;
  }
  volume += `；负面信息 ${count(v.negative)} 条，占 ${percent(v.negativeShare)}`;
  if (v.change !== null) volume += `（前 7 日 ${percent(v.previousNegativeShare)}）`;
  const critical = incidents.filter((i) => i.severity === 'critical').length;
  const opened =
    incidents.length === 0 ? '当日未发生新的舆情事件' : `当日新增舆情事件 ${incidents.length} 起${critical > 0 ? `，其中严重 ${critical} 起` : ''}`;
  return `${volume}。${opened}。`;
}
