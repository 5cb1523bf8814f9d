// The 搜索 Search page: queries over the post archive with the volume and negative-share chart, top terms and
// accounts, paged results and a CSV export. The query lives in the hash (#/search?q=…&from=…&to=…), so the back
// button, a shared link and an incident's term links all land on the same search.
import { volumeShareChart } from './charts.js';
import { h } from './dom.js';
import { openPost, postItem } from './evidence.js';

const PAGE = 30;
const FIELDS = ['q', 'from', 'to', 'scheme', 'sentiment', 'author', 'rootId', 'interval'];

/** The search as the hash holds it: every field a string ('' when unset); `from`/`to` are inclusive days. */
export function searchState(hash = location.hash) {
  const i = hash.indexOf('?');
  const params = new URLSearchParams(i >= 0 ? hash.slice(i + 1) : '');
  return Object.fromEntries(FIELDS.map((f) => [f, params.get(f) ?? '']));
}

function hashOf(state) {
  const q = new URLSearchParams();
  for (const f of FIELDS) if (state[f]) q.set(f, state[f]);
  return `#/search${q.size ? `?${q}` : ''}`;
}

const nextDay = (day) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
};

/** The API's filter: the inclusive `to` day becomes the exclusive next midnight. */
function apiFilter(state) {
  const q = new URLSearchParams();
  for (const f of ['q', 'from', 'scheme', 'sentiment', 'author', 'rootId']) if (state[f]) q.set(f, state[f]);
  if (state.to) q.set('to', nextDay(state.to));
  return q;
}

/** Hours for three days or fewer (both ends counted), days beyond or when no range is given. */
function intervalFor(state) {
  if (state.interval === 'hour' || state.interval === 'day') return state.interval;
  if (state.from && state.to) return (Date.parse(state.to) - Date.parse(state.from)) / 86_400_000 + 1 <= 3 ? 'hour' : 'day';
  return 'day';
}

const pct = (x) => `${Math.round(x * 1000) / 10}%`;

function queryError(err, q) {
  const body = err.body ?? {};
  if (body.error !== 'invalid_query') return h('div', { class: 'error', role: 'alert', id: 'search-error' }, `错误: ${err.message}`);
  const pos = Math.min(Math.max(0, body.position ?? 0), q.length);
  return h(
    'div',
    { class: 'scheme-error', role: 'alert', id: 'search-error', 'data-position': pos },
    h('b', {}, '查询有误 Invalid query: '),
    h('span', { class: 'why' }, String(body.message ?? '').replace(/^querystring\.q: /, '')),
    h('pre', { class: 'rule-excerpt' }, q.slice(0, pos), h('mark', { class: pos >= q.length ? 'at-end' : '' }, q.slice(pos, pos + 1) || ' '), q.slice(pos + 1)),
  );
}

async function downloadCsv(token, filter, button) {
  button.disabled = true;
  try {
    const res = await fetch(`/api/posts?${filter}&format=csv`, { headers: { authorization: `Bearer ${token()}` } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'tingfeng-posts.csv';
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } finally {
    button.disabled = false;
  }
}

/** Renders the search page into `view` and runs the search the hash describes (when it has any filter). */
export async function renderSearch(view, { api, token, signedIn, showError }) {
  const state = searchState();
  const input = (name, attrs) => h('input', { name, id: `search-${name}`, value: state[name], ...attrs });
  const sentiment = h(
    'select',
    { name: 'sentiment', id: 'search-sentiment' },
    [['', '全部 all'], ['negative', '负面 negative'], ['neutral', '中性 neutral'], ['positive', '正面 positive']].map(([v, t]) => h('option', { value: v, selected: state.sentiment === v }, t)),
  );
  const interval = h('select', { name: 'interval', id: 'search-interval' }, [['', '自动 auto'], ['hour', '小时 hour'], ['day', '天 day']].map(([v, t]) => h('option', { value: v, selected: state.interval === v }, t)));
  const schemes = h('datalist', { id: 'search-scheme-options' });
  const exportButton = h('button', { type: 'button', id: 'search-export', disabled: !signedIn }, '导出 CSV Export');
  const chips = [
    state.author ? h('span', { class: 'filter-chip', id: 'chip-author' }, `作者 author: ${state.author} `, h('a', { href: hashOf({ ...state, author: '' }), title: '去掉 remove' }, '×')) : '',
    state.rootId ? h('span', { class: 'filter-chip', id: 'chip-root' }, `转发链 cascade of ${state.rootId} `, h('a', { href: hashOf({ ...state, rootId: '' }), title: '去掉 remove' }, '×')) : '',
  ];
  const form = h(
    'form',
    {
      class: 'search-form',
      id: 'search-form',
      onsubmit: (e) => {
        e.preventDefault();
        const data = new FormData(form);
        const next = { ...state, ...Object.fromEntries(['q', 'from', 'to', 'scheme', 'sentiment', 'interval'].map((f) => [f, String(data.get(f) ?? '').trim()])) };
        const hash = hashOf(next);
        if (hash === location.hash) renderSearch(view, { api, token, signedIn, showError });
        else location.hash = hash;
      },
    },
    h('label', { class: 'q' }, '关键词 Query', input('q', { placeholder: '昆明 AND (地铁 OR 公交) NOT 天气', spellcheck: 'false', autocomplete: 'off' })),
    h('label', {}, '从 From', input('from', { type: 'date' })),
    h('label', {}, '到 To', input('to', { type: 'date' })),
    h('label', {}, '监测方案 Scheme', input('scheme', { list: 'search-scheme-options', placeholder: '全部 all', size: 10 })),
    h('label', {}, '情感 Sentiment', sentiment),
    h('label', {}, '粒度 Interval', interval),
    schemes,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'search-submit', disabled: !signedIn }, '搜索 Search'), exportButton, ...chips),
  );
  const summary = h('p', { id: 'search-summary', class: 'muted' });
  const chart = h('section', { class: 'panel', id: 'search-chart' }, h('h2', {}, '声量与负面占比 Volume and negative share'));
  const results = h('ul', { class: 'posts', id: 'search-results' });
  const more = h('button', { type: 'button', id: 'search-more', hidden: true }, '更多 More');
  const terms = h('div', { class: 'chips', id: 'search-terms' });
  const accounts = h('ol', { class: 'accounts', id: 'search-accounts' });
  view.replaceChildren(
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, '搜索 Search'),
      form,
      h('p', { class: 'syntax' }, '语法 Syntax: 空格或 ', h('code', {}, 'AND'), ' 同时包含, ', h('code', {}, 'OR'), ' 任一, ', h('code', {}, 'NOT'), ' 排除, ', h('code', {}, '( )'), ' 分组, ', h('code', {}, '"死去的城市"'), ' 短语, ', h('code', {}, '@昆明发布'), ' 提及.'),
      summary,
    ),
    chart,
    h(
      'div',
      { class: 'grid2 search-grid' },
      h('section', { class: 'panel' }, h('h2', {}, '帖子 Posts'), results, more),
      h('div', {}, h('section', { class: 'panel' }, h('h2', {}, '热词 Top terms'), terms), h('section', { class: 'panel' }, h('h2', {}, '活跃账号 Top accounts'), accounts)),
    ),
  );
  if (!signedIn) {
    summary.textContent = '请输入访问令牌 Enter an API token to search.';
    return;
  }
  api('GET', '/api/schemes')
    .then((list) => schemes.replaceChildren(...list.map((s) => h('option', { value: s.name }))))
    .catch(() => undefined);
  const filter = apiFilter(state);
  exportButton.addEventListener('click', () => downloadCsv(token, filter, exportButton).catch(showError));
  if ([...filter.keys()].length === 0) {
    summary.textContent = '输入关键词或选择时间范围后搜索 Enter words or a time range, then search.';
    return;
  }

  let cursor = null;
  const loadPage = async () => {
    const q = new URLSearchParams(filter);
    q.set('limit', String(PAGE));
    if (cursor) q.set('cursor', cursor);
    const page = await api('GET', `/api/posts?${q}`);
    results.append(...page.posts.map((p) => postItem(p, { onOpen: openPost })));
    cursor = page.nextCursor;
    more.hidden = !cursor;
    return page;
  };
  more.addEventListener('click', () => loadPage().catch(showError));
  const every = interval.value || intervalFor(state);
  try {
    const [page, hist, top, acc] = await Promise.all([
      loadPage(),
      api('GET', `/api/posts/histogram?${filter}&interval=${every}`),
      api('GET', `/api/posts/top-terms?${filter}&limit=30`),
      api('GET', `/api/posts/top-accounts?${filter}&limit=15`),
    ]);
    const counted = hist.buckets.reduce((n, b) => n + b.count, 0);
    const negative = hist.buckets.reduce((n, b) => n + b.negative, 0);
    summary.replaceChildren(h('b', { id: 'search-total', 'data-total': page.total }, `共 ${page.total} 条`), ` 匹配 matches · 负面占比 negative ${pct(counted ? negative / counted : 0)}`);
    chart.append(
      volumeShareChart(hist.buckets, { interval: every }),
      h('div', { class: 'legend' }, h('span', {}, h('i', { style: 'background:#90a4c8;height:8px' }), `帖子数 posts per ${every === 'hour' ? '小时 hour' : '天 day'}`), h('span', {}, h('i', { style: 'background:#8e24aa' }), '负面占比 negative share')),
    );
    const addTerm = (term) => hashOf({ ...state, q: state.q ? `${state.q} ${term}` : term });
    terms.replaceChildren(...top.terms.map((t) => h('a', { href: addTerm(t.term), class: 'term', title: `加入查询 add to the query (${t.count})` }, t.term, h('small', {}, ` ${t.count}`))));
    accounts.replaceChildren(
      ...acc.accounts.map((a) =>
        h('li', {}, h('a', { href: hashOf({ ...state, author: a.id }) }, a.name ? `@${a.name}` : a.id), a.verified ? h('span', { class: 'verified' }, 'V') : '', h('span', { class: 'muted' }, ` ${a.posts} 条 · 负面 ${pct(a.negativeShare)}${a.followers !== null ? ` · 粉丝 ${a.followers}` : ''}`)),
      ),
    );
    if (page.total === 0) results.append(h('li', { class: 'empty' }, '没有匹配的帖子 No posts match.'));
  } catch (err) {
    if (err.status === 400) view.querySelector('.panel').append(queryError(err, state.q));
    else showError(err);
  }
}
