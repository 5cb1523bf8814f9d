// The Tingfeng dashboard: plain ES modules, no build step. Hash routes: #/ (list), #/incidents/<id>, #/search?…, #/schemes,
// #/reports and #/reports/<day>?scheme=….
import { legend, lineChart } from './charts.js';
import { $, h } from './dom.js';
import { renderEvidence, termLink } from './evidence.js';
import { renderReports } from './reports.js';
import { renderSchemes } from './schemes.js';
import { renderSearch } from './search.js';

const TOKEN_KEY = 'tingfeng.token';
const STATUS_ZH = { triggered: '待处理', acknowledged: '已确认', resolved: '已解决' };
const SEVERITY_ZH = { critical: '严重', warning: '警告', info: '提示' };
const KIND_ZH = {
  opened: '事件开启', alert_appended: '新告警', acknowledged: '已确认', resolved: '已解决', note_added: '备注',
  assigned: '指派', notified: '已通知', escalated: '升级', response_started: '回应开始',
};
const LIST_PAGE = 50;
const TIMELINE_PAGE = 100;

const state = { token: localStorage.getItem(TOKEN_KEY) ?? '', me: null, source: null, filters: { status: '', severity: '', type: '', scheme: '' } };

const fmt = (iso) => {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('zh-CN', { hour12: false });
};
const badge = (kind, value, zh) => h('span', { class: `badge ${kind}-${value}`, 'data-value': value }, `${zh[value] ?? value} ${value}`);
// The server says what the caller's role may do (GET /api/whoami): the grants are written there only.
const can = (permission) => Boolean(state.me?.permissions?.includes(permission));

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${state.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(json.message ?? `HTTP ${res.status}`), { status: res.status, body: json });
  return json;
}

function showError(err) {
  const view = $('#view');
  const msg = err.status === 401 ? '令牌无效或缺失 (401): enter a valid token above.' : err.status === 403 ? `无权限 (403): ${err.message}` : `错误: ${err.message}`;
  view.prepend(h('div', { class: 'error', role: 'alert' }, msg));
}

async function identify() {
  state.me = null;
  $('#whoami').textContent = '';
  if (!state.token) return;
  try {
    state.me = await api('GET', '/api/whoami');
    $('#whoami').textContent = `${state.me.principal} · ${state.me.role}`;
  } catch (err) {
    $('#whoami').textContent = err.status === 401 ? '令牌无效 invalid token' : '';
  }
}

// The stream is opened with a single-use ticket taken with the bearer token (EventSource cannot send headers, and a
// token in a URL stays in logs and history). A ticket cannot be reused, so EventSource's own reconnection would be
// refused: on any error the stream is closed and opened again with a fresh ticket, and what it missed is reloaded.
let streamGeneration = 0;
async function connectStream(retryMs = 0) {
  const generation = ++streamGeneration;
  state.source?.close();
  state.source = null;
  $('#live').classList.remove('on');
  if (!state.me) return;
  if (retryMs > 0) await new Promise((r) => setTimeout(r, retryMs));
  if (generation !== streamGeneration) return;
  let url;
  try {
    url = (await api('POST', '/api/stream/ticket')).url;
  } catch {
    if (generation === streamGeneration) void connectStream(Math.min(30_000, Math.max(2_000, retryMs * 2)));
    return;
  }
  if (generation !== streamGeneration) return;
  const source = new EventSource(url);
  source.onopen = () => {
    $('#live').classList.add('on');
    // Changes made while the stream was down were not pushed: show the current state.
    if (retryMs > 0) void render();
  };
  source.onerror = () => {
    if (generation !== streamGeneration) return;
    void connectStream(2_000);
  };
  source.addEventListener('incident', (e) => {
    const { incident } = JSON.parse(e.data);
    const route = currentRoute();
    if (route.name === 'list') upsertRow(incident);
    else if (route.id === incident.id) renderDetail(route.id);
  });
  state.source = source;
}

function currentRoute() {
  if (location.hash === '#/schemes') return { name: 'schemes' };
  if (location.hash === '#/reports' || location.hash.startsWith('#/reports/')) return { name: 'reports' };
  if (location.hash === '#/search' || location.hash.startsWith('#/search?')) return { name: 'search' };
  const m = /^#\/incidents\/(.+)$/.exec(location.hash);
  return m ? { name: 'detail', id: decodeURIComponent(m[1]) } : { name: 'list' };
}

// ---- list ----

function matchesFilters(i) {
  const f = state.filters;
  return (!f.status || i.status === f.status) && (!f.severity || i.severity === f.severity) && (!f.type || i.type === f.type) && (!f.scheme || (i.schemes ?? []).includes(f.scheme));
}

function row(i) {
  return h(
    'tr',
    { class: 'incident-row', 'data-id': i.id, 'data-opened': i.openedAt, onclick: () => (location.hash = `#/incidents/${encodeURIComponent(i.id)}`) },
    h('td', {}, badge('sev', i.severity, SEVERITY_ZH)),
    h('td', { class: 'status' }, badge('st', i.status, STATUS_ZH)),
    h(
      'td',
      {},
      h('a', { href: `#/incidents/${encodeURIComponent(i.id)}`, class: 'title' }, i.title),
      h('div', { class: 'muted' }, (i.terms ?? []).slice(0, 5).join(' · ')),
      i.schemes?.length ? h('div', { class: 'chips schemes' }, i.schemes.map((s) => h('span', {}, s))) : '',
    ),
    h('td', {}, i.type),
    h('td', {}, i.alertCount),
    h('td', {}, fmt(i.openedAt)),
    h('td', {}, fmt(i.lastAlertAt)),
  );
}

function upsertRow(incident) {
  const tbody = $('#incident-rows');
  if (!tbody) return;
  const existing = tbody.querySelector(`tr[data-id="${CSS.escape(incident.id)}"]`);
  if (!matchesFilters(incident)) {
    existing?.remove();
    return;
  }
  const fresh = row(incident);
  if (existing) existing.replaceWith(fresh);
  else {
    $('.empty')?.remove();
    const later = [...tbody.children].find((tr) => tr.dataset.opened < incident.openedAt);
    tbody.insertBefore(fresh, later ?? null);
  }
}

async function renderList() {
  const view = $('#view');
  view.replaceChildren($('#list-template').content.cloneNode(true));
  for (const key of ['status', 'severity', 'type', 'scheme']) {
    const select = $(`#filter-${key}`);
    select.value = state.filters[key];
    select.addEventListener('change', () => {
      state.filters[key] = select.value;
      renderList();
    });
  }
  if (!state.me) {
    $('#incident-rows').append(h('tr', { class: 'empty' }, h('td', { colspan: 7 }, '请输入访问令牌 Enter an API token to see incidents.')));
    return;
  }
  const q = new URLSearchParams({ limit: String(LIST_PAGE) });
  for (const [k, v] of Object.entries(state.filters)) if (v) q.set(k, v);
  const tbody = $('#incident-rows');
  const more = $('#list-more');
  const names = new Set();
  // Pages by the API's cursor: rows arriving meanwhile over the stream neither repeat nor shift what More loads.
  const load = async (cursor) => {
    if (cursor) q.set('cursor', cursor);
    const page = await api('GET', `/api/incidents?${q}`);
    $('#list-count').textContent = `共 ${page.total} 个事件 incidents`;
    // Scheme names to pick from: those the listed incidents carry (analysts cannot read the admin scheme list).
    for (const n of page.items.flatMap((i) => i.schemes ?? [])) names.add(n);
    $('#scheme-options').replaceChildren(...[...names].sort().map((n) => h('option', { value: n })));
    const fresh = page.items.filter((i) => !tbody.querySelector(`tr[data-id="${CSS.escape(i.id)}"]`));
    if (cursor) tbody.append(...fresh.map(row));
    else tbody.replaceChildren(...page.items.map(row));
    if (tbody.children.length === 0) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: 7 }, '暂无事件 No incidents.')));
    more.hidden = !page.nextCursor;
    more.onclick = () => load(page.nextCursor).catch(showError);
  };
  try {
    await load(undefined);
  } catch (err) {
    showError(err);
  }
}

// ---- detail ----

function volumeChart(volume) {
  const points = (key) => volume.map((v) => ({ x: Date.parse(v.windowEnd ?? v.at), y: v[key] }));
  const series = [
    { name: '实际 observed', color: '#c62828', points: points('observed') },
    { name: '基线 expected', color: '#1f6feb', points: points('expected'), dashed: true },
  ];
  return [lineChart(series, { isTime: true, yLabel: '每窗口 per window' }), legend(series)];
}

/** The latest cascade forecast among the incident's alerts (the detector's growth model: peak reposts an hour, 80 % interval). */
function latestForecast(inc) {
  const withForecast = (inc.alerts ?? []).filter((a) => a.forecast && Number.isFinite(a.forecast.peakPerHour));
  withForecast.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const a = withForecast[withForecast.length - 1];
  return a ? { ...a.forecast, atMs: Date.parse(a.at), observed: a.observed } : null;
}

/** The forecast beside the growth curve: the predicted peak, as the curve's per-bucket rate, over the hour after the call. */
function forecastSeries(fc, points) {
  const stepMs = points.length > 1 ? points[1].x - points[0].x : 60_000;
  const perBucket = (perHour) => Math.round(((perHour * stepMs) / 3600_000) * 10) / 10;
  const flat = (perHour) => [{ x: fc.atMs, y: perBucket(perHour) }, { x: fc.atMs + 3600_000, y: perBucket(perHour) }];
  return [
    { name: `预测峰值 forecast peak ${fc.peakPerHour}/h`, color: '#c62828', points: flat(fc.peakPerHour), dashed: true },
    { name: `80% 区间 interval ${fc.low}–${fc.high}/h`, color: '#e0a0a0', points: flat(fc.high), dashed: true },
    { name: '', color: '#e0a0a0', points: flat(fc.low), dashed: true },
  ];
}

function seriesCharts(detail, inc) {
  const fc = latestForecast(inc);
  return detail.series.map((s) => {
    const name = s.field === 'curve' ? '扩散增长曲线 cascade growth' : s.field;
    const series = [{ name, color: '#7b5cd6', points: s.points }];
    if (s.field !== 'curve' || !fc || !s.xIsTime) return h('div', { class: 'series', 'data-field': s.field }, h('h3', {}, name), lineChart(series, { isTime: s.xIsTime }), legend(series));
    const withForecast = [...series, ...forecastSeries(fc, s.points)];
    const caption = `预测 forecast (${fmt(new Date(fc.atMs).toISOString())}): 近1小时 ${fc.observed ?? '—'} 条; 预计峰值 ${fc.peakPerHour} 条/小时 (80% 区间 ${fc.low}–${fc.high}); 达到 ${fc.level}/小时 的概率 P = ${fc.pLevel}`;
    return h(
      'div',
      { class: 'series', 'data-field': s.field },
      h('h3', {}, name),
      lineChart(withForecast, { isTime: true, yLabel: `每 ${Math.max(1, Math.round((s.points.length > 1 ? s.points[1].x - s.points[0].x : 60_000) / 60_000))} 分钟 per bucket`, markers: [{ x: fc.atMs, label: '预测 forecast' }] }),
      legend(withForecast.filter((x) => x.name)),
      h('p', { class: 'forecast', id: 'cascade-forecast' }, caption),
    );
  });
}

/** The response campaign's curves per bucket: the narrative's volume and negative share against the response's volume and reach. */
function campaignCharts(cs) {
  const at = (i) => cs.startMs + i * cs.bucketMs;
  const points = (values, f = (v) => v) => values.map((v, i) => ({ x: at(i), y: f(v, i) }));
  const markers = [{ x: cs.startedAtMs, label: '回应开始' }];
  const volume = [
    { name: '舆情声量 narrative posts', color: '#c62828', points: points(cs.narrative) },
    { name: '回应声量 response posts', color: '#1f6feb', points: points(cs.response) },
  ];
  const share = [{ name: '负面占比 negative share %', color: '#8e24aa', points: points(cs.negative, (neg, i) => (cs.narrative[i] > 0 ? Math.round((neg / cs.narrative[i]) * 1000) / 10 : 0)) }];
  const reach = [{ name: '回应触达 response reach (万粉丝)', color: '#2e7d32', points: points(cs.reach, (r) => Math.round(r / 1000) / 10) }];
  const minutes = Math.round(cs.bucketMs / 60000);
  return [
    h('h3', {}, `舆情声量 vs 回应声量 (每 ${minutes} 分钟)`),
    lineChart(volume, { isTime: true, yLabel: '帖子数 posts', markers }),
    legend(volume),
    h('div', { class: 'grid2' }, h('div', {}, h('h3', {}, '负面占比 Negative share'), lineChart(share, { isTime: true, height: 160, yLabel: '%', markers }), legend(share)), h('div', {}, h('h3', {}, '回应触达 Reach'), lineChart(reach, { isTime: true, height: 160, yLabel: '万', markers }), legend(reach))),
    cs.baseline ? h('p', { class: 'muted' }, `回应前一桶: 舆情 ${cs.baseline.narrative} 条, 负面 ${cs.baseline.negative} 条`) : '',
  ];
}

function campaignPanel(inc, act, operate) {
  if (inc.campaign) {
    const cs = inc.campaignSeries;
    return h(
      'section',
      { class: 'panel', id: 'campaign-chart' },
      h('h2', {}, '回应效果 Response campaign'),
      h('p', {}, `${fmt(inc.campaign.startedAt)} 起 · ${inc.campaign.accounts.join('、')}`),
      ...(cs ? campaignCharts(cs) : [h('p', { class: 'muted' }, '检测器尚未写入曲线 The detector has not written the curves yet.')]),
    );
  }
  if (!operate || inc.status === 'resolved') return '';
  const accounts = h('input', { id: 'campaign-accounts', placeholder: '回应账号, 逗号分隔 accounts, e.g. 昆明发布,春城晚报' });
  const startedAt = h('input', { id: 'campaign-started', type: 'datetime-local', title: '回应开始时间 (留空 = 现在)' });
  return h(
    'section',
    { class: 'panel', id: 'campaign-form' },
    h('h2', {}, '标记回应 Mark as answered by a response campaign'),
    h(
      'form',
      {
        class: 'note',
        onsubmit: (ev) => {
          ev.preventDefault();
          const list = accounts.value.split(/[,，、\s]+/).map((a) => a.trim()).filter(Boolean);
          if (list.length === 0) return;
          act('response', { accounts: list, ...(startedAt.value ? { startedAt: new Date(startedAt.value).toISOString() } : {}) });
        },
      },
      accounts,
      startedAt,
      h('button', { type: 'submit' }, '开始跟踪 Track'),
    ),
  );
}

function timelineItem(e) {
  const d = e.data ?? {};
  const extra =
    e.kind === 'note_added' ? d.text :
    e.kind === 'assigned' ? `→ ${d.assignee}` :
    e.kind === 'alert_appended' ? `${d.alertId ?? ''}${d.previousSeverity ? ` 级别 ${d.previousSeverity} → ${d.severity}` : ''}` :
    e.kind === 'opened' ? `${d.alertId ?? ''} (${d.severity ?? ''})` :
    e.kind === 'resolved' ? (d.reason ?? '') :
    e.kind === 'response_started' ? (d.accounts ?? []).join(', ') :
    e.kind === 'notified' || e.kind === 'escalated' ? [d.channel, d.level !== undefined ? `L${d.level}` : ''].filter(Boolean).join(' ') : '';
  return h('li', { 'data-kind': e.kind }, h('time', {}, fmt(e.at)), h('span', { class: 'kind' }, `${KIND_ZH[e.kind] ?? e.kind}`), h('span', { class: 'actor muted' }, e.actor), h('span', {}, extra));
}

/**
 * The view carries the newest timeline entries; 较早 Earlier pages back through the rest (GET …/timeline?cursor=,
 * a seq), prepending each page. Shown only when the view holds fewer entries than the incident has.
 */
function earlierButton(inc) {
  let cursor = inc.timeline[0]?.seq;
  const hidden = !(cursor > 1);
  const button = h('button', { type: 'button', id: 'timeline-earlier', hidden }, `较早 Earlier (${(cursor ?? 1) - 1})`);
  button.addEventListener('click', async () => {
    try {
      const page = await api('GET', `/api/incidents/${encodeURIComponent(inc.id)}/timeline?limit=${TIMELINE_PAGE}&cursor=${cursor}`);
      $('#timeline').prepend(...page.items.map(timelineItem));
      cursor = page.nextCursor;
      button.textContent = `较早 Earlier (${(cursor ?? 1) - 1})`;
      if (!cursor) {
        button.hidden = true;
        // Older entries than Redis keeps (INCIDENT_HISTORY_MAX) are in the log only.
        if (page.firstSeq > 1) button.after(h('p', { class: 'muted' }, `更早的 ${page.firstSeq - 1} 条仅保存在事件日志中 (incident-events)`));
      }
    } catch (err) {
      showError(err);
    }
  });
  return button;
}

async function renderDetail(id) {
  const view = $('#view');
  if (!state.me) {
    view.replaceChildren(h('div', { class: 'empty' }, '请输入访问令牌 Enter an API token.'));
    return;
  }
  let inc;
  try {
    inc = await api('GET', `/api/incidents/${encodeURIComponent(id)}`);
  } catch (err) {
    view.replaceChildren(h('a', { href: '#/' }, '← 返回列表 back'));
    showError(err);
    return;
  }
  const d = inc.detail;
  const act = async (path, body) => {
    try {
      await api('POST', `/api/incidents/${encodeURIComponent(id)}/${path}`, body);
      await renderDetail(id);
    } catch (err) {
      showError(err);
    }
  };
  const operate = can('operate');
  const evidence = h('section', { class: 'panel', id: 'evidence-panel' });
  // Filled from the archive after the page is shown: the rest of the page does not wait on it.
  void renderEvidence(evidence, inc, { api });
  const noteInput = h('input', { id: 'note-input', placeholder: '添加备注 add a note', maxlength: 5000 });
  view.replaceChildren(
    h('a', { href: '#/' }, '← 返回列表 back to list'),
    h(
      'section',
      { class: 'panel detail-head', 'data-id': inc.id },
      h('div', {}, badge('sev', inc.severity, SEVERITY_ZH), ' ', h('span', { id: 'incident-status', 'data-status': inc.status }, badge('st', inc.status, STATUS_ZH))),
      h('h1', { id: 'incident-title' }, inc.title),
      h(
        'div',
        { class: 'meta' },
        h('span', {}, '类型 type: ', h('b', {}, inc.type)),
        h('span', {}, '键 key: ', h('b', {}, inc.key)),
        h('span', {}, '开始 opened: ', h('b', {}, fmt(inc.openedAt))),
        h('span', {}, '告警 alerts: ', h('b', { id: 'alert-count' }, inc.alertCount ?? inc.alerts.length)),
        h('span', {}, '确认 acked: ', h('b', {}, inc.acknowledgedAt ? `${fmt(inc.acknowledgedAt)} · ${inc.acknowledgedBy}` : '—')),
        h('span', {}, '解决 resolved: ', h('b', {}, inc.resolvedAt ? `${fmt(inc.resolvedAt)} · ${inc.resolvedBy}` : '—')),
        h('span', {}, '负责人 assignee: ', h('b', {}, inc.assignee ?? '—')),
        h('span', {}, '事件时间 event time: ', h('b', {}, `${fmt(inc.firstAlertEventAt)} – ${fmt(inc.lastAlertEventAt)}`)),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { id: 'ack-btn', class: 'primary', disabled: !operate || inc.status !== 'triggered', title: operate ? '' : '需要 oncall 角色', onclick: () => act('ack') }, '确认 Acknowledge'),
        h('button', { id: 'resolve-btn', class: 'resolve', disabled: !operate || inc.status === 'resolved', title: operate ? '' : '需要 oncall 角色', onclick: () => act('resolve', {}) }, '解决 Resolve'),
        operate ? '' : h('span', { class: 'muted' }, `角色 ${state.me.role} 只读 read-only`),
      ),
    ),
    h(
      'div',
      { class: 'grid2' },
      h('section', { class: 'panel', id: 'volume-chart' }, h('h2', {}, '声量 Volume: 实际 vs 基线 (observed vs expected)'), ...volumeChart(d.volume)),
      h('section', { class: 'panel', id: 'growth-chart' }, h('h2', {}, '增长曲线 Growth'), ...(d.series.length > 0 ? seriesCharts(d, inc) : [h('p', { class: 'muted' }, '告警未携带曲线 No series in the alerts.')])),
    ),
    campaignPanel(inc, act, operate),
    h(
      'div',
      { class: 'grid2' },
      evidence,
      h(
        'section',
        { class: 'panel' },
        h('h2', {}, '关键词 Terms'),
        h('div', { class: 'chips', id: 'terms' }, d.terms.map((t) => termLink(t, inc))),
        h('h2', { style: 'margin-top:14px' }, '监测方案 Schemes'),
        h('div', { class: 'chips schemes', id: 'schemes' }, inc.schemes?.length ? inc.schemes.map((s) => h('span', {}, s)) : h('span', { class: 'muted' }, '—')),
        h('h2', { style: 'margin-top:14px' }, '账号 Accounts'),
        h('div', { class: 'chips' }, d.accounts.length ? d.accounts.map((a) => h('span', {}, a)) : h('span', { class: 'muted' }, '—')),
        inc.response ? [h('h2', { style: 'margin-top:14px' }, '回应 Response campaign'), h('p', {}, `${fmt(inc.response.startedAt)} · ${inc.response.accounts.join(', ')} · ${inc.response.by}`)] : '',
      ),
    ),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, '时间线 Timeline'),
      earlierButton(inc),
      h('ol', { class: 'timeline', id: 'timeline' }, inc.timeline.map(timelineItem)),
      can('note')
        ? h(
            'form',
            {
              class: 'note',
              onsubmit: (e) => {
                e.preventDefault();
                if (noteInput.value.trim()) act('notes', { text: noteInput.value.trim() });
              },
            },
            noteInput,
            h('button', { type: 'submit' }, '添加 Add note'),
          )
        : '',
    ),
  );
}

const PAGE_TITLES = { list: '舆情事件', schemes: '监测方案', search: '搜索', reports: '舆情日报' };

function render() {
  const route = currentRoute();
  const page = route.name === 'detail' ? 'list' : route.name;
  for (const a of document.querySelectorAll('nav.pages a')) a.classList.toggle('active', a.dataset.page === page);
  document.title = `听风 Tingfeng · ${PAGE_TITLES[page]}`;
  if (route.name === 'schemes') return renderSchemes($('#view'), { api, role: state.me?.role, canAdmin: can('admin'), showError });
  if (route.name === 'reports') return renderReports($('#view'), { api, token: () => state.token, signedIn: Boolean(state.me), showError });
  if (route.name === 'search') return renderSearch($('#view'), { api, token: () => state.token, signedIn: Boolean(state.me), showError });
  return route.name === 'detail' ? renderDetail(route.id) : renderList();
}

$('#token-input').value = state.token;
$('#token-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  state.token = $('#token-input').value.trim();
  localStorage.setItem(TOKEN_KEY, state.token);
  await identify();
  void connectStream();
  await render();
});
window.addEventListener('hashchange', render);
await identify();
void connectStream();
await render();
