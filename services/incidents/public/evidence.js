// The incident page's evidence posts, read from the archive: text, author and time, the cascade's root first.
import { h } from './dom.js';

const fmt = (iso) => (iso ? new Date(iso).toLocaleString('zh-CN', { hour12: false }) : '—');
const PAGE = 20;

/** A sentiment as a word and a colour class: below 0 negative. */
export function sentimentBadge(score) {
  const kind = score < 0 ? 'neg' : score > 0 ? 'pos' : 'neu';
  const zh = { neg: '负面', pos: '正面', neu: '中性' }[kind];
  return h('span', { class: `senti senti-${kind}`, title: `sentiment ${score.toFixed(2)}` }, zh);
}

/** One post as a list item; a click opens it whole. */
export function postItem(p, { onOpen, extra } = {}) {
  return h(
    'li',
    { class: `post${p.root ? ' root' : ''}`, 'data-id': p.id, tabindex: 0, onclick: () => onOpen?.(p), onkeydown: (e) => e.key === 'Enter' && onOpen?.(p) },
    h(
      'div',
      { class: 'post-head' },
      p.root ? h('span', { class: 'badge root-badge' }, '源帖 root') : '',
      h('b', { class: 'author' }, p.author.name ? `@${p.author.name}` : p.author.id),
      p.author.verified ? h('span', { class: 'verified', title: '认证 verified' }, 'V') : '',
      h('time', { datetime: p.createdAt }, fmt(p.createdAt)),
      sentimentBadge(p.sentiment),
      extra ?? '',
    ),
    h('div', { class: 'post-text' }, p.text),
  );
}

/** The whole post in a dialog: text, author, time, sentiment, keywords, its place in a cascade, and its link. */
export function openPost(p) {
  document.querySelector('dialog.post-dialog')?.remove();
  const dialog = h(
    'dialog',
    { class: 'post-dialog', 'data-id': p.id },
    h('div', { class: 'post-head' }, h('b', {}, p.author.name ? `@${p.author.name}` : p.author.id), h('time', {}, fmt(p.createdAt)), sentimentBadge(p.sentiment)),
    h('p', { class: 'post-full' }, p.text),
    h(
      'dl',
      {},
      h('dt', {}, '帖子 id'), h('dd', {}, `${p.platform} · ${p.id}`),
      h('dt', {}, '作者 author'), h('dd', {}, `${p.author.id}${p.author.followers !== null ? ` · 粉丝 ${p.author.followers}` : ''}`),
      h('dt', {}, '情感 sentiment'), h('dd', {}, p.sentiment.toFixed(2)),
      p.keywords?.length ? [h('dt', {}, '关键词 keywords'), h('dd', {}, p.keywords.join('、'))] : '',
      p.rootId ? [h('dt', {}, '转发链 cascade'), h('dd', {}, h('a', { href: `#/search?rootId=${encodeURIComponent(p.rootId)}` }, `源帖 ${p.rootId} 的全部转发`))] : '',
      p.root ? [h('dt', {}, '转发链 cascade'), h('dd', {}, h('a', { href: `#/search?rootId=${encodeURIComponent(p.id)}` }, '本帖的全部转发与评论'))] : '',
    ),
    h(
      'div',
      { class: 'actions' },
      p.url ? h('a', { href: p.url, target: '_blank', rel: 'noopener noreferrer', class: 'button' }, '打开原帖 open original') : h('span', { class: 'muted' }, '无原帖链接 no link'),
      h('button', { type: 'button', onclick: () => dialog.close() }, '关闭 Close'),
    ),
  );
  dialog.addEventListener('close', () => dialog.remove());
  dialog.addEventListener('click', (e) => e.target === dialog && dialog.close());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/**
 * Fills `section` with the incident's evidence from `GET /api/incidents/:id/posts`, a page at a time. Posts the
 * archive does not hold yet are listed by id, with the alerts' sample text when they carry one; while the
 * archive is unavailable the samples alone are shown.
 */
export async function renderEvidence(section, inc, { api }) {
  const samples = new Map((inc.detail.samples ?? []).map((s) => [s.id, s]));
  const list = h('ul', { class: 'posts', id: 'evidence' });
  const count = h('span', { class: 'muted', id: 'evidence-count' });
  const more = h('button', { type: 'button', id: 'evidence-more', hidden: true }, '更多 More');
  const note = h('p', { class: 'muted', id: 'evidence-note' });
  section.replaceChildren(h('h2', {}, '证据帖子 Evidence posts ', count), list, more, note);
  const sampleItem = (id) => {
    const s = samples.get(id);
    return h('li', { class: 'post missing', 'data-id': id }, h('div', { class: 'pid' }, id, s?.author ? ` · @${s.author}` : '', ' · 未归档 not archived'), s ? h('div', { class: 'post-text' }, s.text) : '');
  };
  let cursor;
  const load = async () => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (cursor) q.set('cursor', cursor);
    const page = await api('GET', `/api/incidents/${encodeURIComponent(inc.id)}/posts?${q}`);
    list.append(...page.posts.map((p) => postItem(p, { onOpen: openPost })));
    if (!cursor) {
      count.textContent = `(${page.total}${page.missing.length ? ` + ${page.missing.length} 未归档` : ''})`;
      if (page.missing.length) list.after(h('ul', { class: 'posts missing-list' }, page.missing.slice(0, 50).map(sampleItem)));
    }
    cursor = page.nextCursor;
    more.hidden = !cursor;
  };
  more.addEventListener('click', () => load().catch((err) => (note.textContent = `错误: ${err.message}`)));
  try {
    await load();
  } catch (err) {
    // Without the archive, what the alerts carry.
    count.textContent = `(${inc.detail.postIds.length})`;
    note.textContent = err.status === 503 ? '帖子库暂不可用，显示告警中的样例 The archive is unavailable: showing the alerts’ samples.' : `错误: ${err.message}`;
    list.replaceChildren(...inc.detail.postIds.slice(0, 50).map(sampleItem));
  }
  return section;
}

/** A link into the search for one of the incident's terms, over the incident's event-time days. */
export function termLink(term, inc) {
  const q = new URLSearchParams({ q: term });
  const day = (iso, plus = 0) => {
    const d = new Date(Date.parse(iso) + plus * 86_400_000);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  };
  if (inc.firstAlertEventAt) q.set('from', day(inc.firstAlertEventAt, -1));
  // The search page's days are inclusive, as its date pickers show them.
  if (inc.lastAlertEventAt) q.set('to', day(inc.lastAlertEventAt, 1));
  return h('a', { href: `#/search?${q}`, class: 'term', title: `在搜索中查看「${term}」 search for ${term}` }, term);
}

