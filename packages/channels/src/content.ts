import type { Alert, Incident, Severity } from '@tingfeng/contracts';
import type { FormatOptions, NotificationItem, OutgoingMessage, ReportNotice } from './types.js';

export const SEVERITY_LABELS: Record<Severity, string> = { info: '提示', warning: '警告', critical: '严重' };

export const TYPE_LABELS: Record<string, string> = {
  cascade: '转发扩散',
  story: '话题爆发',
  coordination: '疑似协同发布',
  spam: '垃圾营销',
  response: '回应效果',
  scheme: '监测方案异动',
};

export const STATUS_LABELS: Record<string, string> = { triggered: '待处理', acknowledged: '已认领', resolved: '已解除' };

const CHANGE_LABELS: Record<string, string> = {
  opened: '新事件',
  alert_appended: '事件更新',
  severity_raised: '级别上调',
  acknowledged: '已认领',
  resolved: '已解除',
  auto_resolved: '已自动解除',
  escalated: '升级提醒',
  note_added: '新增备注',
  assigned: '已指派',
  response_started: '已启动回应',
};

/** The Chinese label of a change kind; unknown kinds are shown as they are. */
export function changeLabel(item: Pick<NotificationItem, 'change' | 'incident' | 'escalationLevel'>): string {
  if (item.change === 'resolved' && item.incident.resolvedBy?.startsWith('system:')) return CHANGE_LABELS.auto_resolved ?? item.change;
  if (item.change === 'escalated') return `升级提醒（第 ${item.escalationLevel ?? 1} 级，仍未认领）`;
  return CHANGE_LABELS[item.change] ?? item.change;
}

/** The evidence of an incident as messages show it: taken from its latest alert, terms merged over all alerts. */
export interface Evidence {
  terms: string[];
  postIds: string[];
  totalPosts: number;
  observed: number | undefined;
  expected: number | undefined;
  schemes: string[];
  alertCount: number;
}

const MAX_TERMS = 8;
const MAX_POSTS = 5;

export function evidenceOf(incident: Incident): Evidence {
  const alerts: Alert[] = [...(incident.alerts ?? [])].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const latest = alerts[alerts.length - 1];
  const terms = new Set<string>();
  for (const alert of [latest, ...alerts.slice(0, -1).reverse()]) for (const t of alert?.terms ?? []) terms.add(t);
  const schemes = new Set<string>(incident.schemes ?? []);
  for (const alert of alerts) for (const s of alert.schemes ?? []) schemes.add(s);
  const postIds = latest?.postIds ?? [];
  return {
    terms: [...terms].slice(0, MAX_TERMS),
    postIds: postIds.slice(0, MAX_POSTS),
    totalPosts: postIds.length,
    observed: latest?.observed,
    expected: latest?.expected,
    schemes: [...schemes],
    alertCount: alerts.length,
  };
}

/** The link to an incident's page on the dashboard. */
export function incidentLink(publicUrl: string, incidentId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/#/incidents/${encodeURIComponent(incidentId).replace(/[()!'*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/** One message's content before a channel renders it. */
export interface MessageContent {
  /** One line, e.g. `【舆情·严重】新事件：…`. */
  title: string;
  severity: Severity;
  /** Label/value pairs in display order. */
  fields: { label: string; value: string }[];
  /** Digest lines (empty for a single notification). */
  lines: { text: string; link: string }[];
  link: string;
  /** Why several were folded into one, for a digest. */
  note?: string;
}

/** Collapses whitespace and caps length: titles come from post text and must stay on one line. */
export function oneLine(text: string, maxChars = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > maxChars ? `${flat.slice(0, maxChars - 1)}…` : flat;
}

export function formatTime(iso: string | null | undefined, timeZone = 'Asia/Shanghai'): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function singleContent(item: NotificationItem, options: FormatOptions): MessageContent {
  const { incident } = item;
  const evidence = evidenceOf(incident);
  const severity = SEVERITY_LABELS[incident.severity] ?? incident.severity;
  const typeLabel = TYPE_LABELS[incident.type];
  const fields: MessageContent['fields'] = [
    { label: '类型', value: typeLabel ? `${typeLabel}（${incident.type}）` : incident.type },
    { label: '级别', value: severity },
    { label: '状态', value: STATUS_LABELS[incident.status] ?? incident.status },
  ];
  if (evidence.terms.length > 0) fields.push({ label: '关键词', value: evidence.terms.join('、') });
  if (evidence.observed !== undefined) {
    const expected = evidence.expected;
    const ratio = expected !== undefined && expected > 0 ? `，约为基线的 ${(evidence.observed / expected).toFixed(1)} 倍` : '';
    fields.push({
      label: '观测/基线',
      value: `${formatNumber(evidence.observed)} / ${expected === undefined ? '—' : formatNumber(expected)}${ratio}`,
    });
  }
  if (evidence.postIds.length > 0) {
    const more = evidence.totalPosts > evidence.postIds.length ? ` 等 ${evidence.totalPosts} 条` : '';
    fields.push({ label: '证据帖子', value: `${evidence.postIds.join('、')}${more}` });
  }
  if (evidence.schemes.length > 0) fields.push({ label: '监测方案', value: evidence.schemes.join('、') });
  if (evidence.alertCount > 1) fields.push({ label: '告警数', value: String(evidence.alertCount) });
  fields.push({ label: '发现时间', value: formatTime(incident.openedAt, options.timeZone) });
  if (item.change === 'acknowledged' && incident.acknowledgedBy) {
    fields.push({ label: '认领人', value: `${incident.acknowledgedBy}（${formatTime(incident.acknowledgedAt, options.timeZone)}）` });
  }
  if (item.change === 'resolved' && incident.resolvedAt) fields.push({ label: '解除时间', value: formatTime(incident.resolvedAt, options.timeZone) });
  const link = incidentLink(options.publicUrl, incident.id);
  return {
    title: `【舆情·${severity}】${changeLabel(item)}：${oneLine(incident.title)}`,
    severity: incident.severity,
    fields,
    lines: [],
    link,
  };
}

const MAX_DIGEST_LINES = 20;

function digestContent(items: NotificationItem[], reason: 'rate_limit' | 'quiet_hours', options: FormatOptions): MessageContent {
  const rank: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
  const top = items.reduce<Severity>((acc, it) => (rank[it.incident.severity] > rank[acc] ? it.incident.severity : acc), 'info');
  const incidents = new Set(items.map((it) => it.incident.id));
  const lines = items.slice(0, MAX_DIGEST_LINES).map((it) => ({
    text: `【${SEVERITY_LABELS[it.incident.severity]}】${changeLabel(it)}：${oneLine(it.incident.title, 60)}`,
    link: incidentLink(options.publicUrl, it.incident.id),
  }));
  const note =
    reason === 'rate_limit'
      ? '通知过于频繁，已超过本群机器人的发送频率限制，以下合并为一条摘要发送。'
      : '免打扰时段内的非紧急通知，合并为一条摘要发送。';
  const rest = items.length - lines.length;
  return {
    title: `【舆情摘要】${items.length} 条通知，涉及 ${incidents.size} 个事件`,
    severity: top,
    fields: rest > 0 ? [{ label: '另有', value: `${rest} 条未列出，请在系统中查看` }] : [],
    lines,
    link: `${options.publicUrl.replace(/\/+$/, '')}/#/incidents`,
    note,
  };
}

const MAX_REPORT_LINES = 10;

function reportContent(report: ReportNotice, options: FormatOptions): MessageContent {
  const rank: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
  const top = report.incidents.reduce<Severity>((acc, i) => (rank[i.severity] > rank[acc] ? i.severity : acc), 'info');
  const lines = report.incidents.slice(0, MAX_REPORT_LINES).map((i) => ({
    text: `【${SEVERITY_LABELS[i.severity]}】${oneLine(i.sentence, 200)}`,
    link: incidentLink(options.publicUrl, i.id),
  }));
  const rest = report.incidents.length - lines.length;
  return {
    title: `【舆情日报】${report.day}${report.scheme ? ` · ${report.scheme}` : ''}`,
    severity: top,
    fields: rest > 0 ? [{ label: '另有', value: `${rest} 起事件未列出，请阅读日报全文` }] : [],
    lines,
    link: report.link,
    note: report.overview,
  };
}

/** The content of an outgoing message, independent of the channel that renders it. */
export function buildContent(message: OutgoingMessage, options: FormatOptions): MessageContent {
  if (message.kind === 'report') return reportContent(message.report, options);
  return message.kind === 'single' ? singleContent(message.item, options) : digestContent(message.items, message.reason, options);
}

// Markup characters of the bots' Markdown (WeCom, DingTalk, Feishu lark_md) and of the HTML-like tags they read
// (`<font>`, `<at id=all>`), each replaced by its full-width form. None of the three documents a backslash escape,
// so `\[` may show as `\[` or still open a link; a full-width bracket is plain text everywhere and reads naturally in
// Chinese.
const MARKUP_LOOKALIKES: Record<string, string> = {
  '[': '［',
  ']': '］',
  '(': '（',
  ')': '）',
  '<': '＜',
  '>': '＞',
  '*': '＊',
  '_': '＿',
  '~': '～',
  '`': '｀',
  '#': '＃',
  '|': '｜',
  '!': '！',
  '&': '＆',
  '\\': '＼',
};

/**
 * Text that came from posts (titles, terms, post ids, names) made inert in Markdown: markup characters become their
 * full-width look-alikes, `://` and `www.` are broken so that no client auto-links a URL, and line breaks are
 * collapsed so the text cannot start a heading, a quote or a list of its own. A post can then show words in an
 * alert, never a clickable link, a mention of everyone, or a fake field.
 */
export function escapeMarkup(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/[[\]()<>*_~`#|!&\\]/g, (c) => MARKUP_LOOKALIKES[c] ?? c)
    .replace(/:\/\//g, '：//')
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}．`);
}

/**
 * Markdown common to the bots (WeCom, DingTalk and Feishu's lark_md all read this subset). Every text is escaped
 * ({@link escapeMarkup}); only the links this system makes (to its own dashboard) are markup.
 */
export function renderMarkdown(content: MessageContent, options: { withTitle: boolean; severityColor?: boolean } = { withTitle: true }): string {
  const out: string[] = [];
  if (options.withTitle) out.push(`### ${escapeMarkup(content.title)}`);
  if (content.note) out.push(`> ${escapeMarkup(content.note)}`);
  for (const f of content.fields) {
    const text = escapeMarkup(f.value);
    const value = options.severityColor && f.label === '级别' ? `<font color="${content.severity === 'info' ? 'comment' : 'warning'}">${text}</font>` : text;
    out.push(`> **${escapeMarkup(f.label)}**：${value}`);
  }
  for (const line of content.lines) out.push(`- ${escapeMarkup(line.text)} [查看](${linkTarget(line.link)})`);
  out.push(`[查看详情](${linkTarget(content.link)})`);
  return out.join('\n\n');
}

/** A link target that cannot close the Markdown link early: parentheses, spaces and angle brackets percent-encoded. */
function linkTarget(url: string): string {
  return url.replace(/[()<> ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Plain text, for receivers that show no markup. */
export function renderText(content: MessageContent): string {
  const out = [content.title];
  if (content.note) out.push(content.note);
  for (const f of content.fields) out.push(`${f.label}：${f.value}`);
  for (const line of content.lines) out.push(`· ${line.text} ${line.link}`);
  out.push(`详情：${content.link}`);
  return out.join('\n');
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > maxBytes - 3) break;
    bytes += size;
    out += ch;
  }
  return `${out}…`;
}
