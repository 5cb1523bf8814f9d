// The 监测方案 page: list, add, edit, delete and switch monitoring schemes. Admins change them; the API enforces it.
import { $, h } from './dom.js';

// The parser's reasons (`SchemeRuleError` in @tingfeng/text) in Chinese; the English reason is shown beside.
const REASON_ZH = [
  [/^missing \) for this \(/, '括号未闭合'],
  [/^unexpected \)/, '多余的右括号'],
  [/needs a term after it$/, '运算符后缺少关键词'],
  [/needs a term before it$/, '运算符前缺少关键词'],
  [/^empty parentheses/, '括号内为空'],
  [/^empty rule/, '规则为空'],
  [/^empty phrase/, '引号内为空'],
  [/^unterminated quote/, '引号未闭合'],
  [/^closing quote/, '缺少左引号'],
  [/^the rule ends where a term is expected/, '规则在应有关键词处结束'],
  [/^unexpected token/, '无法识别的写法'],
];

/** The scheme being edited, by name; null while adding. Kept across re-renders of the page. */
let editing = null;

const isEnabled = (s) => s.enabled !== false;
const splitAccounts = (text) => text.split(/[,，、\s]+/).map((a) => a.trim()).filter(Boolean);

/** The rule with its operators and parentheses marked, as written. */
function ruleView(rule) {
  if (!rule.trim()) return h('span', { class: 'muted' }, '（无规则: 账号的全部帖子 all posts of the accounts）');
  const parts = rule.split(/(\s+|[()（）]|"[^"]*"|“[^”]*”)/).filter(Boolean);
  return h('code', { class: 'rule' }, parts.map((p) => (/^(AND|OR|NOT)$/.test(p) ? h('b', { class: 'op' }, p) : /^[()（）]$/.test(p) ? h('span', { class: 'paren' }, p) : p)));
}

/** The API's 400 `invalid_scheme` as a reason and the rule with the offending character marked; focuses it in the editor. */
function ruleError(body, rule, ruleInput) {
  const pos = body.position;
  let reason = body.message ?? '';
  if (reason.startsWith(`scheme ${body.scheme}: `)) reason = reason.slice(`scheme ${body.scheme}: `.length);
  const cut = reason.indexOf(` at position ${pos}:`);
  if (cut >= 0) reason = reason.slice(0, cut);
  const zh = REASON_ZH.find(([re]) => re.test(reason))?.[1];
  const title = `规则有误 Invalid rule${body.scheme ? ` · 方案 ${body.scheme}` : ''}`;
  if (typeof pos !== 'number') return [h('b', {}, title), h('div', {}, zh ? `${zh} (${reason})` : reason)];
  ruleInput.focus();
  ruleInput.setSelectionRange(pos, Math.min(pos + 1, rule.length));
  // At the very end (e.g. a missing term) there is no character to mark: mark an empty slot.
  const marked = rule.slice(pos, pos + 1);
  return [
    h('b', {}, title),
    h('div', { class: 'reason' }, `位置 position ${pos} (第 ${pos + 1} 个字符): `, h('span', { class: 'why' }, zh ? `${zh} ` : '', h('span', { class: 'muted' }, reason))),
    h('pre', { class: 'rule-excerpt', id: 'scheme-error-excerpt' }, rule.slice(0, pos), h('mark', { 'data-position': pos, class: marked ? '' : 'at-end' }, marked || ' '), rule.slice(pos + 1)),
  ];
}

/**
 * Renders the schemes page into `view`. `ctx`: `api(method, path, body)` (throws with `status` and the JSON
 * `body`), the caller's `role`, `canAdmin`, `showError(err)`.
 */
export async function renderSchemes(view, ctx) {
  const { api, role, canAdmin, showError } = ctx;
  if (!role) {
    view.replaceChildren(h('div', { class: 'empty' }, '请输入访问令牌 Enter an API token.'));
    return;
  }
  // Every role reads the list (analysts filter by schemes); only admins change it.
  let schemes = null;
  let listError = null;
  try {
    schemes = await api('GET', '/api/schemes');
  } catch (err) {
    listError = err;
  }
  const current = editing !== null ? schemes?.find((s) => s.name === editing) : undefined;
  if (!current) editing = null;
  const rerender = () => renderSchemes(view, ctx);
  const locked = !canAdmin;
  const lockedTitle = locked ? '需要 admin 角色 admin only' : '';

  const nameInput = h('input', { id: 'scheme-name', maxlength: 100, placeholder: '如 昆明衰落', required: true, disabled: locked || Boolean(current), value: current?.name ?? '' });
  const ruleInput = h('textarea', { id: 'scheme-rule', rows: 2, maxlength: 4000, spellcheck: 'false', disabled: locked, placeholder: '昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气' });
  ruleInput.value = current?.rule ?? '';
  const accountsInput = h('input', { id: 'scheme-accounts', disabled: locked, placeholder: '可选, 逗号分隔 optional, e.g. 昆明发布, 春城晚报', value: (current?.accounts ?? []).join(', ') });
  const enabledInput = h('input', { id: 'scheme-enabled', type: 'checkbox', disabled: locked, checked: current ? isEnabled(current) : true });
  const errorBox = h('div', { id: 'scheme-error', class: 'scheme-error', role: 'alert', hidden: true });
  const fail = (...content) => {
    errorBox.replaceChildren(...content);
    errorBox.hidden = false;
  };

  const save = async (ev) => {
    ev.preventDefault();
    errorBox.hidden = true;
    const name = nameInput.value.trim();
    const rule = ruleInput.value;
    const accounts = splitAccounts(accountsInput.value);
    if (!name) return fail('请填写名称 A name is required.');
    if (!current && schemes?.some((s) => s.name === name)) return fail(`已有同名方案 “${name}”: 请在列表中编辑 A scheme of that name exists; edit it in the list.`);
    // Fields this form does not edit (a description, say) are kept.
    const { name: _name, accounts: _accounts, ...kept } = current ?? {};
    const body = { ...kept, rule, enabled: enabledInput.checked, ...(accounts.length ? { accounts } : {}) };
    try {
      await api('PUT', `/api/schemes/${encodeURIComponent(name)}`, body);
    } catch (err) {
      if (err.body?.error === 'invalid_scheme') return fail(...ruleError(err.body, rule, ruleInput));
      return fail(err.status === 403 ? `无权限 (403): ${err.message}` : `保存失败 Not saved: ${err.message}`);
    }
    editing = null;
    await rerender();
  };

  const act = async (work) => {
    try {
      await work();
      await rerender();
    } catch (err) {
      showError(err);
    }
  };
  const edit = (s) => {
    editing = s.name;
    rerender().then(() => $('#scheme-rule')?.focus());
  };
  const cancel = () => {
    editing = null;
    return rerender();
  };
  const toggle = (s) => {
    const { name: _name, ...rest } = s;
    return act(() => api('PUT', `/api/schemes/${encodeURIComponent(s.name)}`, { ...rest, enabled: !isEnabled(s) }));
  };
  const remove = (s) => {
    if (!confirm(`删除监测方案 “${s.name}”? Delete this scheme?`)) return;
    if (editing === s.name) editing = null;
    return act(() => api('DELETE', `/api/schemes/${encodeURIComponent(s.name)}`));
  };

  const row = (s) =>
    h(
      'tr',
      { class: `scheme-row${isEnabled(s) ? '' : ' off'}`, 'data-name': s.name, 'data-enabled': String(isEnabled(s)) },
      h('td', { class: 'name' }, s.name),
      h('td', {}, ruleView(s.rule)),
      h('td', {}, s.accounts?.length ? h('div', { class: 'chips' }, s.accounts.slice(0, 6).map((a) => h('span', {}, a)), s.accounts.length > 6 ? h('span', { class: 'muted' }, `等 ${s.accounts.length} 个`) : '') : h('span', { class: 'muted' }, '全部 any')),
      h('td', {}, h('span', { class: `badge ${isEnabled(s) ? 'on' : 'off'}` }, isEnabled(s) ? '启用 on' : '停用 off')),
      h(
        'td',
        { class: 'row-actions' },
        h('button', { class: 'edit', disabled: locked, title: lockedTitle, onclick: () => edit(s) }, '编辑 Edit'),
        h('button', { class: 'toggle', disabled: locked, title: lockedTitle, onclick: () => toggle(s) }, isEnabled(s) ? '停用 Disable' : '启用 Enable'),
        h('button', { class: 'delete', disabled: locked, title: lockedTitle, onclick: () => remove(s) }, '删除 Delete'),
      ),
    );

  const list = schemes
    ? h(
        'table',
        { class: 'schemes', id: 'scheme-list' },
        h('thead', {}, h('tr', {}, h('th', {}, '名称 Name'), h('th', {}, '规则 Rule'), h('th', {}, '账号 Accounts'), h('th', {}, '状态'), h('th', {}, '操作'))),
        h('tbody', {}, schemes.length ? schemes.map(row) : h('tr', { class: 'empty' }, h('td', { colspan: 5 }, '暂无方案: 在上方新增 No schemes yet; add one above.'))),
      )
    : h('p', { class: 'muted', id: 'scheme-list-error' }, `无法读取方案 Cannot read the schemes: ${listError?.message ?? ''}`);

  view.replaceChildren(
    h(
      'section',
      { class: 'panel', id: 'scheme-editor' },
      h('h2', {}, current ? `编辑方案 Edit scheme · ${current.name}` : '新增方案 Add a scheme'),
      h(
        'p',
        { class: 'syntax' },
        '规则语法 Rule syntax: ',
        h('code', {}, 'AND'), ' 且 · ', h('code', {}, 'OR'), ' 或 · ', h('code', {}, 'NOT'), ' 排除 · ', h('code', {}, '( )'), ' 分组 · ', h('code', {}, '"引号 短语"'), ' 整句匹配 quoted phrase · 相邻词即 AND — 例 e.g. ',
        ruleView('昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气'),
      ),
      h(
        'form',
        { id: 'scheme-form', class: 'scheme-form', autocomplete: 'off', onsubmit: save },
        h('label', {}, '名称 Name', nameInput),
        h('label', {}, '规则 Rule', ruleInput),
        h('label', { class: 'full' }, '账号 Accounts (可选 optional: 仅这些账号的帖子 only posts by these accounts)', accountsInput),
        h(
          'div',
          { class: 'actions' },
          h('label', { class: 'check' }, enabledInput, ' 启用 Enabled'),
          h('button', { id: 'scheme-save', type: 'submit', class: 'primary', disabled: locked, title: lockedTitle }, current ? '保存 Save' : '新增 Add'),
          current ? h('button', { id: 'scheme-cancel', type: 'button', onclick: cancel }, '取消 Cancel') : '',
          locked ? h('span', { class: 'muted' }, `角色 ${role} 只读 read-only: 修改方案需要 admin 角色`) : '',
        ),
        errorBox,
      ),
    ),
    h('section', { class: 'panel' }, h('h2', {}, `监测方案 Schemes${schemes ? ` (${schemes.length})` : ''}`), list),
  );
}
