import { createHash } from 'node:crypto';
import { SEVERITY_LABELS, STATUS_LABELS, TYPE_LABELS } from '@tingfeng/channels';
import { count, dayTime, longDay, percent, type DailyReport, type ReportIncident, type ReportPost } from './daily-report.js';

/** The report's one stylesheet, inline so the PDF and a saved copy need nothing else; allowed by its hash. */
const CSS = `
*{box-sizing:border-box}
body{margin:0;font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;color:#1d2330;background:#f4f5f7;line-height:1.6;font-size:16px}
main{max-width:760px;margin:0 auto;padding:16px;background:#fff}
header{border-bottom:3px solid #b3261e;padding-bottom:8px;margin-bottom:12px}
h1{font-size:1.5rem;margin:0;color:#b3261e;letter-spacing:.1em}
.meta{color:#5b6270;font-size:.85rem}
h2{font-size:1.15rem;border-left:4px solid #b3261e;padding-left:8px;margin:24px 0 8px}
.overview{font-size:1.02rem;background:#fbf4f3;border-radius:6px;padding:10px 12px;margin:0}
.stats{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
.stat{flex:1 1 140px;border:1px solid #e2e4e8;border-radius:6px;padding:8px 10px}
.stat b{display:block;font-size:1.4rem}
.stat span{color:#5b6270;font-size:.8rem}
.up{color:#b3261e}.down{color:#1b7f3b}
svg.week{width:100%;height:auto;display:block}
ol.incidents{list-style:none;padding:0;margin:0}
.incident{border:1px solid #e2e4e8;border-radius:6px;padding:10px 12px;margin:10px 0;break-inside:avoid}
.incident h3{font-size:1rem;margin:0 0 4px}
.incident h3 a{color:inherit;text-decoration:none}
.badge{display:inline-block;font-size:.75rem;border-radius:3px;padding:0 6px;margin-right:4px;color:#fff;background:#5b6270;vertical-align:middle}
.badge.critical{background:#b3261e}.badge.warning{background:#c77700}.badge.info{background:#2f6db3}
.badge.status{background:#fff;color:#1d2330;border:1px solid #b9bec8}
.sentence{margin:6px 0}
dl.facts{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;margin:6px 0;font-size:.88rem}
dl.facts dt{color:#5b6270}
dl.facts dd{margin:0}
ul.posts{list-style:none;padding:0;margin:6px 0 0}
ul.posts li{border-left:3px solid #d7dae0;padding:2px 8px;margin:6px 0;font-size:.9rem}
ul.posts li.negative{border-left-color:#b3261e}
.post-meta{color:#5b6270;font-size:.8rem}
.post-meta a{color:#2f6db3}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eceef1}
td.num,th.num{text-align:right;white-space:nowrap}
.terms{display:flex;flex-wrap:wrap;gap:6px;padding:0;list-style:none}
.terms li{background:#eef1f5;border-radius:12px;padding:0 10px;font-size:.88rem}
.empty{color:#5b6270}
footer{color:#5b6270;font-size:.78rem;margin-top:24px;border-top:1px solid #e2e4e8;padding-top:8px}
@media (max-width:480px){body{font-size:15px}main{padding:10px}.stat b{font-size:1.2rem}}
@media print{body{background:#fff}main{max-width:none;padding:0}a{color:inherit}h2{break-after:avoid}}
@page{size:A4;margin:14mm 12mm}
`;

/** The Content-Security-Policy of a report: nothing but its own inline stylesheet and data: images; framed only by the dashboard. */
export const REPORT_CSP = {
  'default-src': ["'none'"],
  'style-src': [`'sha256-${createHash('sha256').update(CSS).digest('base64')}'`],
  'img-src': ['data:'],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'self'"],
};

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content and attribute values. */
export function esc(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function safeUrl(url: string | null): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : null;
  } catch {
    return null;
  }
}

function incidentUrl(report: DailyReport, id: string): string {
  return `${report.publicUrl.replace(/\/+$/, '')}/#/incidents/${encodeURIComponent(id)}`;
}

function post(p: ReportPost, timeZone: string): string {
  const link = safeUrl(p.url);
  const followers = p.followers !== null ? ` · 粉丝 ${count(p.followers)}` : '';
  return `<li class="${p.sentiment < 0 ? 'negative' : ''}" data-id="${esc(p.id)}"><div class="post-text">${p.text ? esc(p.text) : '<span class="empty">（转发，无附言）</span>'}</div>
<div class="post-meta">@${esc(p.author)}${followers} · ${esc(dayTime(p.createdAt, timeZone))}${link ? ` · <a href="${esc(link)}" rel="noreferrer noopener" target="_blank">原文</a>` : ''}</div></li>`;
}

/** Eight days of volume as bars, the negative share as a line over them; the day itself in red. */
function weekChart(report: DailyReport): string {
  const days = report.volume.byDay;
  if (days.length === 0) return '';
  const width = 720;
  const height = 180;
  const top = 16;
  const bottom = 34;
  const plot = height - top - bottom;
  const slot = width / days.length;
  const max = Math.max(1, ...days.map((d) => d.posts));
  const bars = days
    .map((d, i) => {
      const h = Math.round((d.posts / max) * plot);
      const x = Math.round(i * slot + slot * 0.2);
      const fill = d.day === report.day ? '#b3261e' : '#9aa3b2';
      return `<rect class="bar" x="${x}" y="${top + plot - h}" width="${Math.round(slot * 0.6)}" height="${h}" fill="${fill}"><title>${esc(d.day)}：${count(d.posts)} 条，负面 ${percent(d.negativeShare)}</title></rect>
<text x="${Math.round(i * slot + slot / 2)}" y="${top + plot - h - 3}" font-size="11" text-anchor="middle" fill="#1d2330">${count(d.posts)}</text>
<text x="${Math.round(i * slot + slot / 2)}" y="${height - 18}" font-size="11" text-anchor="middle" fill="#5b6270">${esc(d.day.slice(5))}</text>`;
    })
    .join('\n');
  const points = days.map((d, i) => `${Math.round(i * slot + slot / 2)},${Math.round(top + plot - d.negativeShare * plot)}`).join(' ');
  return `<svg class="week" viewBox="0 0 ${width} ${height}" role="img" aria-label="近 8 日声量与负面占比">
${bars}
<polyline class="share" points="${points}" fill="none" stroke="#c77700" stroke-width="2"/>
<text x="4" y="${height - 2}" font-size="11" fill="#5b6270">柱：每日信息量；折线（橙）：负面占比，满格 100%</text>
</svg>`;
}

function facts(i: ReportIncident, report: DailyReport): string {
  const tz = report.timeZone;
  const rows: [string, string][] = [
    ['类型', TYPE_LABELS[i.type] ?? i.type],
    ['开始', dayTime(i.startedAt, tz)],
    ['状态', STATUS_LABELS[i.status] ?? i.status],
    ['认领', i.acknowledgedBy && i.acknowledgedAt ? `${i.acknowledgedBy}（${dayTime(i.acknowledgedAt, tz)}）` : '—'],
  ];
  if (i.peak) rows.push(['高峰/基线', `${count(i.peak.observed)} / ${i.peak.expected.toFixed(1)}${i.peak.expected > 0 ? `（${i.peak.ratio.toFixed(1)} 倍）` : ''}`]);
  if (i.cascadePosts !== null) rows.push(['当日转发评论', `${count(i.cascadePosts)}${i.cascadeNegativeShare !== null ? `，负面 ${percent(i.cascadeNegativeShare)}` : ''}`]);
  rows.push(['证据帖子', count(i.evidencePosts)], ['告警', count(i.alertCount)]);
  if (i.terms.length > 0) rows.push(['关键词', i.terms.join('、')]);
  const r = i.response;
  rows.push([
    '回应',
    r
      ? `${dayTime(r.startedAt, tz)} 起，${r.accounts.map((a) => `@${a}`).join('、')}（${r.by} 标记）` +
        (r.responsePosts !== null ? `；回应 ${count(r.responsePosts)} 条，触达 ${count(r.reach ?? 0)}` : '') +
        (r.negativeShareBefore !== null && r.negativeShareAfter !== null ? `；负面占比 ${percent(r.negativeShareBefore)} → ${percent(r.negativeShareAfter)}` : '')
      : '未启动回应',
  ]);
  return `<dl class="facts">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

function incident(i: ReportIncident, report: DailyReport): string {
  return `<li class="incident" data-id="${esc(i.id)}" data-type="${esc(i.type)}">
<h3><span class="badge ${esc(i.severity)}">${esc(SEVERITY_LABELS[i.severity] ?? i.severity)}</span><span class="badge status">${esc(STATUS_LABELS[i.status] ?? i.status)}</span> <a href="${esc(incidentUrl(report, i.id))}" target="_top">${esc(i.title)}</a></h3>
<p class="sentence">${esc(i.sentence)}</p>
${facts(i, report)}
${i.representative.length > 0 ? `<ul class="posts">${i.representative.map((p) => post(p, report.timeZone)).join('\n')}</ul>` : ''}
</li>`;
}

function change(report: DailyReport): string {
  const c = report.volume.change;
  if (c === null) return '<span>前 7 日无数据</span>';
  const pct = Math.round(c * 100);
  const days = report.volume.previousDays >= 7 ? '前 7 日' : `前 ${report.volume.previousDays} 个有数据日`;
  return `<span class="${pct > 0 ? 'up' : pct < 0 ? 'down' : ''}">较${days}日均 ${pct > 0 ? '+' : ''}${pct}%</span>`;
}

/** The report as one self-contained HTML page that reads on a phone and prints on A4 (the PDF is printed from it). */
export function renderReportHtml(report: DailyReport): string {
  const v = report.volume;
  const tz = report.timeZone;
  const title = `舆情日报 ${longDay(report.day)}${report.scheme ? ` · ${report.scheme}` : ''}`;
  const critical = report.incidents.filter((i) => i.severity === 'critical').length;
  const cascades = report.cascades.length
    ? `<ol class="incidents">${report.cascades
        .map(
          (c) => `<li class="incident cascade" data-root="${esc(c.rootId)}"><h3>${c.incidentId ? `<a href="${esc(incidentUrl(report, c.incidentId))}" target="_top">` : ''}转发评论 ${count(c.posts)} 次${c.incidentId ? '</a> <span class="badge warning">已立事件</span>' : ''}</h3>
<p class="post-meta">负面占比 ${percent(c.negativeShare)} · ${esc(dayTime(c.firstAt, tz))} 至 ${esc(dayTime(c.lastAt, tz))}</p>
${c.root ? `<ul class="posts">${post(c.root, tz)}</ul>` : `<p class="empty">原帖 ${esc(c.rootId)} 不在存档中</p>`}</li>`,
        )
        .join('\n')}</ol>`
    : '<p class="empty">当日没有转发链。</p>';
  const stories = report.stories.length
    ? `<ol class="incidents">${report.stories.map((s) => `<li class="incident story" data-id="${esc(s.id)}"><h3><a href="${esc(incidentUrl(report, s.id))}" target="_top">${esc(s.title)}</a></h3><p class="post-meta">${esc(s.terms.join('、'))}</p>${s.representative.length ? `<ul class="posts">${s.representative.map((p) => post(p, tz)).join('\n')}</ul>` : ''}</li>`).join('\n')}</ol>`
    : '<p class="empty">当日没有话题爆发事件。</p>';
  const accounts = report.accounts.length
    ? `<table class="accounts"><thead><tr><th>账号</th><th class="num">粉丝</th><th class="num">发帖</th><th class="num">负面</th></tr></thead><tbody>${report.accounts
        .map((a) => `<tr><td>@${esc(a.name ?? a.id)}${a.verified ? ' ✔' : ''}</td><td class="num">${a.followers !== null ? count(a.followers) : '—'}</td><td class="num">${count(a.posts)}</td><td class="num">${percent(a.negativeShare)}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p class="empty">当日无发帖账号。</p>';
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main id="report" data-day="${esc(report.day)}" data-scheme="${esc(report.scheme ?? '')}">
<header>
<h1>舆情日报</h1>
<div class="meta">${esc(longDay(report.day))}${report.scheme ? ` · 监测方案「${esc(report.scheme)}」` : ' · 全部监测范围'} · 生成于 ${esc(dayTime(report.builtAt, tz))}（${esc(tz)}）</div>
</header>
<section id="overview">
<h2>今日概况</h2>
<p class="overview">${esc(report.overview)}</p>
<div class="stats">
<div class="stat" id="stat-posts"><b>${count(v.posts)}</b><span>信息量 · ${change(report)}</span></div>
<div class="stat" id="stat-negative"><b>${percent(v.negativeShare)}</b><span>负面占比 · 前 7 日 ${percent(v.previousNegativeShare)}</span></div>
<div class="stat" id="stat-incidents"><b>${count(report.incidents.length)}</b><span>新增事件${critical > 0 ? ` · 严重 ${critical}` : ''}</span></div>
</div>
${weekChart(report)}
</section>
<section id="incidents">
<h2>舆情事件（${count(report.incidents.length)}）</h2>
${report.incidents.length ? `<ol class="incidents">${report.incidents.map((i) => incident(i, report)).join('\n')}</ol>` : '<p class="empty">当日未发生新的舆情事件。</p>'}
</section>
<section id="stories">
<h2>热点话题</h2>
${stories}
</section>
<section id="cascades">
<h2>主要传播链</h2>
${cascades}
</section>
<section id="accounts">
<h2>活跃账号</h2>
${accounts}
</section>
<section id="terms">
<h2>热词</h2>
${report.terms.length ? `<ul class="terms">${report.terms.map((t) => `<li>${esc(t.term)} <small>${count(t.count)}</small></li>`).join('')}</ul>` : '<p class="empty">—</p>'}
</section>
<footer>听风 Tingfeng 自动生成。统计按 ${esc(tz)} 自然日，不含识别为垃圾营销的信息；负面指情感得分低于 0 的信息。事件按首条告警的发生时间归入当日，状态为生成时的状态。</footer>
</main>
</body>
</html>
`;
}
