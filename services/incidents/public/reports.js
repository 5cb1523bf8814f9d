// The 日报 Reports page: the daily reports (舆情日报) the morning job built, and any day's report read in place.
// #/reports lists them; #/reports/<day>?scheme=… shows one in a frame (the report is its own page, with its own CSP),
// with buttons to open it alone and to download the PDF. A frame or a new tab cannot send the bearer token: each is
// opened with a single-use ticket (POST /api/stream/ticket), never with the token in the URL. The PDF is fetched
// with the token and saved from a blob.
import { h } from './dom.js';

const SEVERITY_ZH = { critical: '严重', warning: '警告', info: '提示' };

/** The report a hash names: `{ day, scheme }`, or undefined for the list. */
export function reportRoute(hash = location.hash) {
  const m = /^#\/reports\/(\d{4}-\d{2}-\d{2})(?:\?(.*))?$/.exec(hash);
  if (!m) return undefined;
  return { day: m[1], scheme: new URLSearchParams(m[2] ?? '').get('scheme') ?? '' };
}

/** `30 7 * * *` (the job's cron pattern) as `07:30`; any other pattern as it is. */
function clockOf(pattern) {
  const m = /^(\d+) (\d+) \* \* \*$/.exec(pattern ?? '');
  return m ? `${m[2].padStart(2, '0')}:${m[1].padStart(2, '0')}` : pattern;
}

function reportHash(day, scheme) {
  return `#/reports/${day}${scheme ? `?scheme=${encodeURIComponent(scheme)}` : ''}`;
}

function reportPath(day, scheme, format) {
  const q = new URLSearchParams({ date: day, format });
  if (scheme) q.set('scheme', scheme);
  return `/api/reports/daily?${q}`;
}

/** The report's URL with a fresh single-use ticket. */
async function ticketed(api, day, scheme) {
  const { ticket } = await api('POST', '/api/stream/ticket');
  return `${reportPath(day, scheme, 'html')}&ticket=${encodeURIComponent(ticket)}`;
}

async function downloadPdf(token, day, scheme, button) {
  button.disabled = true;
  try {
    const res = await fetch(reportPath(day, scheme, 'pdf'), { headers: { authorization: `Bearer ${token()}` } });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw Object.assign(new Error(body.message ?? `HTTP ${res.status}`), { status: res.status });
    }
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: `tingfeng-daily-${day}${scheme ? `-${scheme}` : ''}.pdf`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } finally {
    button.disabled = false;
  }
}

const yesterday = () => {
  const d = new Date();
  d.setDate(d.getDate() - 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

function picker({ day, scheme, schemes }) {
  const dayInput = h('input', { id: 'report-day', type: 'date', value: day, required: true });
  const schemeSelect = h('select', { id: 'report-scheme' }, h('option', { value: '' }, '全部 all posts'), ...schemes.map((s) => h('option', { value: s.name, selected: s.name === scheme }, s.name)));
  return h(
    'form',
    {
      class: 'filters report-picker',
      onsubmit: (e) => {
        e.preventDefault();
        if (dayInput.value) location.hash = reportHash(dayInput.value, schemeSelect.value);
      },
    },
    h('label', {}, '日期 Day ', dayInput),
    h('label', {}, '监测方案 Scheme ', schemeSelect),
    h('button', { id: 'report-open', type: 'submit' }, '查看日报 Open'),
  );
}

function deliveries(record) {
  if (record.deliveries.length === 0) return h('span', { class: 'muted' }, '未推送');
  return h('span', {}, ...record.deliveries.map((d) => h('span', { class: `delivery ${d.ok ? 'ok' : 'failed'}`, title: d.error ?? d.at }, `${d.ok ? '✓' : '✗'} ${d.channel}`)));
}

async function renderList(view, { api, schemes }) {
  const { reports, schedule } = await api('GET', '/api/reports?limit=60');
  view.append(
    h('h2', {}, '舆情日报 Daily reports'),
    h('p', { class: 'muted', id: 'report-schedule' }, schedule ? `每日 ${clockOf(schedule.pattern)}（${schedule.tz}）生成前一日日报；下次 ${schedule.next ? new Date(schedule.next).toLocaleString('zh-CN', { hour12: false }) : '—'}` : '未排程'),
    picker({ day: yesterday(), scheme: '', schemes }),
    reports.length === 0
      ? h('p', { class: 'muted', id: 'reports-empty' }, '还没有自动生成的日报：在监测方案中开启 report.daily，或选择日期直接查看。')
      : h(
          'ul',
          { id: 'report-list', class: 'report-list' },
          ...reports.map((r) =>
            h(
              'li',
              { class: 'report-item', 'data-day': r.day, 'data-scheme': r.scheme },
              h('a', { href: reportHash(r.day, r.scheme) }, h('strong', {}, `${r.day} ${r.scheme || '全部'}`)),
              h('p', { class: 'overview' }, r.overview),
              r.incidents.length ? h('ul', { class: 'report-incidents' }, ...r.incidents.slice(0, 5).map((i) => h('li', {}, h('span', { class: `badge sev-${i.severity}` }, SEVERITY_ZH[i.severity] ?? i.severity), ' ', i.sentence))) : '',
              h('p', { class: 'muted' }, `生成 ${new Date(r.builtAt).toLocaleString('zh-CN', { hour12: false })} · `, deliveries(r)),
            ),
          ),
        ),
  );
}

async function renderOne(view, { api, token, showError, schemes }, route) {
  const frame = h('iframe', { id: 'report-frame', class: 'report-frame', title: `舆情日报 ${route.day}` });
  const alone = h('button', { id: 'report-alone', type: 'button' }, '单独打开 Open alone');
  alone.addEventListener('click', () => ticketed(api, route.day, route.scheme).then((url) => window.open(url, '_blank', 'noopener'), showError));
  const pdf = h('button', { id: 'report-pdf', type: 'button' }, '下载 PDF');
  pdf.addEventListener('click', () => downloadPdf(token, route.day, route.scheme, pdf).catch(showError));
  view.append(h('p', {}, h('a', { href: '#/reports' }, '← 全部日报 All reports')), picker({ day: route.day, scheme: route.scheme, schemes }), h('p', { class: 'report-actions' }, alone, ' ', pdf), frame);
  // The frame grows to its content, so the page scrolls as one (the report is same-origin).
  frame.addEventListener('load', () => {
    const doc = frame.contentDocument;
    if (doc?.body) frame.style.height = `${doc.documentElement.scrollHeight + 20}px`;
  });
  frame.src = await ticketed(api, route.day, route.scheme);
}

/** Renders #/reports or #/reports/<day>. */
export async function renderReports(view, options) {
  view.replaceChildren();
  if (!options.signedIn) {
    view.append(h('p', { class: 'muted' }, '请先输入访问令牌 Enter a token above.'));
    return;
  }
  let schemes = [];
  try {
    schemes = await options.api('GET', '/api/schemes');
  } catch {
    // Reports open without the scheme list.
  }
  try {
    const route = reportRoute();
    if (route) await renderOne(view, { ...options, schemes }, route);
    else await renderList(view, { ...options, schemes });
  } catch (err) {
    options.showError(err);
  }
}
