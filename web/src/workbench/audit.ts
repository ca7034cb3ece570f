// The auditor's screen: the audit trail searched by action (a prefix), actor, object,
// result (ok, refused, locked), client address and time range (`GET /api/audit`, newest first, a page at a time), the hash chain verified
// (`GET /api/audit/verify`), and the same search exported as CSV (`GET
// /api/audit/export.csv`, fetched with the session's token and saved as a file).
// Records hold what callers chose (a failed login's username, an object's name): every
// value is set as text, never parsed as HTML.

import { cityInput, cityTime } from '../shared/citytime';
import { actionName } from '../shared/casewords';
import { currentLanguage } from '../shared/language';
import type { Ctx, Unmount } from './app';
import { h, fill, saveBlob } from './dom';
import { explain, w } from './words';

/** One record as `GET /api/audit` answers it (cockpit-server/src/api/audit.rs). */
export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  role: string;
  address: string;
  action: string;
  object: string;
  result: string;
  detail: unknown;
  hash: string;
}

interface AuditPage {
  records: AuditRecord[];
  next_before: number | null;
}

/** `GET /api/audit/verify`. */
export interface ChainReport {
  intact: boolean;
  records: number;
  last_hash: string;
  broken_at: number | null;
  reason: string | null;
}

/** The search as the API takes it: `action` a prefix, `actor`, `object`, `result` and
 *  `address` exact, `from`/`to` as typed in a datetime-local field, read in Beijing time. */
export interface AuditFilters {
  action?: string;
  actor?: string;
  object?: string;
  /** `ok`, `refused` or `locked`; empty for all. */
  result?: string;
  address?: string;
  from?: string;
  to?: string;
}

const PAGE = 100;

/** The results a record has (the result filter offers them). */
export const RESULTS = ['ok', 'refused', 'locked'] as const;

/** The actions the server records, with their names (the filter offers them). */
const ACTIONS: Record<string, { zh: string; en: string }> = {
  auth: { zh: '登录与会话（全部）', en: 'log-ins and sessions (all)' },
  'auth.login': { zh: '登录', en: 'log in' },
  'auth.logout': { zh: '退出登录', en: 'log out' },
  'auth.logout_everywhere': { zh: '退出全部会话', en: 'log out everywhere' },
  'auth.refresh_replayed': { zh: '刷新令牌被重放', en: 'refresh token replayed' },
  'auth.lockout': { zh: '登录锁定', en: 'log-ins locked out' },
  'auth.change_password': { zh: '修改密码', en: 'password changed' },
  'auth.totp_enrol': { zh: '生成动态验证码密钥', en: 'one-time code enrolled' },
  'auth.totp_enable': { zh: '启用动态验证码', en: 'one-time code enabled' },
  user: { zh: '用户管理（全部）', en: 'users (all)' },
  'user.create': { zh: '新建用户', en: 'user created' },
  'user.update': { zh: '修改用户', en: 'user changed' },
  'user.set_roles': { zh: '设置用户角色', en: 'roles granted' },
  'user.reset_password': { zh: '重置密码', en: 'password reset' },
  'role.update': { zh: '修改角色权限', en: 'role changed' },
  'department.create': { zh: '新增部门', en: 'department added' },
  'source.set_enabled': { zh: '启停接入来源', en: 'intake source switched' },
  'source.token_issue': { zh: '签发接入令牌', en: 'intake token issued' },
  'open311.key_issue': { zh: '签发 Open311 密钥', en: 'Open311 key issued' },
  'open311.key_revoke': { zh: '吊销 Open311 密钥', en: 'Open311 key revoked' },
  device: { zh: '物联设备（全部）', en: 'devices (all)' },
  'device.create': { zh: '登记设备', en: 'device registered' },
  'device.import': { zh: '导入设备', en: 'devices imported' },
  'config.update': { zh: '修改配置', en: 'configuration changed' },
  case: { zh: '案件操作（全部）', en: 'case actions (all)' },
  'case.list': { zh: '查询案件列表', en: 'case list read' },
  'case.view': { zh: '查看案件', en: 'case read' },
  'case.export': { zh: '导出案件', en: 'cases exported' },
  'case.acknowledge_alarms': { zh: '确认案件告警', en: 'case alarms acknowledged' },
  'alarm.acknowledge': { zh: '确认设备告警', en: 'alarm acknowledged' },
  'personal_data.unmask': { zh: '查看完整个人信息', en: 'personal data shown in full' },
  'audit.export': { zh: '导出审计记录', en: 'audit trail exported' },
};

function word(x: { zh: string; en: string }): string {
  return currentLanguage() === 'zh' ? x.zh : x.en;
}

/** An action's name: a known one's, a case action's by its lifecycle name, else the code. */
export function auditActionName(action: string): string {
  const known = ACTIONS[action];
  if (known) return word(known);
  const kind = /^case\.(\w+)$/.exec(action)?.[1];
  if (kind) {
    const name = actionName(kind);
    return currentLanguage() === 'zh' ? `案件${name}` : `case: ${name}`;
  }
  return action;
}

export function resultName(result: string): string {
  if (result === 'ok') return w('auditOk');
  if (result === 'refused') return w('auditRefused');
  if (result === 'locked') return w('auditLocked');
  return result;
}

/** A time to the second in Beijing time (the records' `at` is UTC). */
export const beijing = (iso: string): string => cityTime(iso);

/** A datetime-local value (YYYY-MM-DDTHH:MM[:SS]) read in Beijing time, as RFC 3339. */
export const beijingInput = cityInput;

/** The query of a search (without paging). */
export function auditQuery(f: AuditFilters): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of ['action', 'actor', 'object', 'result', 'address'] as const) {
    const v = f[k]?.trim();
    if (v) p.set(k, v);
  }
  for (const k of ['from', 'to'] as const) {
    const v = f[k] ? beijingInput(f[k]!) : null;
    if (v) p.set(k, v);
  }
  return p;
}

/** A record's detail as one line of text (the server's JSON as it is). */
function detailText(detail: unknown): string {
  if (detail === null || detail === undefined || detail === '') return '';
  if (typeof detail === 'string') return detail;
  if (typeof detail === 'object' && Object.keys(detail as object).length === 0) return '';
  return JSON.stringify(detail);
}

export function auditScreen(ctx: Ctx, root: HTMLElement): Unmount {
  if (!ctx.can('audit.read')) {
    fill(root, h('p', { class: 'error', test: 'audit-forbidden' }, w('forbidden')));
    return () => {};
  }
  const filters: AuditFilters = {};
  let records: AuditRecord[] = [];
  let nextBefore: number | null = null;
  let loadSeq = 0;

  const screen = h('section', { class: 'list-screen audit-screen', test: 'audit-screen' });
  const error = h('p', { class: 'error', role: 'alert', test: 'audit-error' });
  const status = h('p', { class: 'list-status', test: 'audit-status' });
  const more = h('button', { test: 'audit-more', hidden: true, onclick: () => void load(false) }, w('more'));
  const tbody = h('tbody', { test: 'audit-rows' });
  const columns = [w('auditSeq'), w('auditTime'), w('auditActor'), w('address'), w('auditAction'), w('auditObject'), w('auditResult'), w('auditDetail')];
  const table = h('table', { class: 'cases audit', test: 'audit-table' }, h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c)))), tbody);

  const row = (r: AuditRecord) =>
    h(
      'tr',
      { test: 'audit-row', 'data-seq': r.seq, 'data-action': r.action, 'data-result': r.result },
      h('td', { class: 'num' }, r.seq),
      h('td', { class: 'num', test: 'audit-at' }, beijing(r.at)),
      h('td', {}, h('span', { test: 'audit-actor' }, r.actor), r.role ? h('small', { class: 'muted role' }, r.role) : null),
      h('td', { test: 'audit-address' }, r.address),
      h('td', {}, h('span', { test: 'audit-action' }, auditActionName(r.action)), h('small', { class: 'muted code' }, r.action)),
      h('td', { test: 'audit-object', class: 'object' }, r.object),
      h('td', {}, h('span', { class: `result r-${r.result === 'ok' || r.result === 'locked' ? r.result : 'refused'}`, test: 'audit-result' }, resultName(r.result))),
      h('td', { class: 'detail', test: 'audit-detail' }, detailText(r.detail)),
    );

  const render = () => {
    fill(tbody, records.map(row));
    more.hidden = nextBefore === null;
    status.textContent = records.length
      ? `${w('auditLoaded')} ${records.length}${nextBefore === null ? ` · ${w('noMore')}` : ''}`
      : w('auditEmpty');
    screen.dataset.loaded = 'true';
  };

  async function load(reset: boolean): Promise<void> {
    const mine = ++loadSeq;
    error.textContent = '';
    if (reset) screen.dataset.loaded = 'false';
    const p = auditQuery(filters);
    p.set('limit', String(PAGE));
    if (!reset && nextBefore !== null) p.set('before', String(nextBefore));
    try {
      const page = await ctx.api.get<AuditPage>(`/api/audit?${p}`);
      if (mine !== loadSeq) return;
      records = reset ? page.records : [...records, ...page.records];
      nextBefore = page.next_before ?? null;
      render();
    } catch (err) {
      if (mine !== loadSeq) return;
      error.textContent = explain(err);
      screen.dataset.loaded = 'true';
    }
  }

  // The search form.
  const text = (key: 'actor' | 'object', test: string, placeholder: string) => {
    const i = h('input', { test, placeholder, autocomplete: 'off', onchange: () => (filters[key] = i.value.trim()) });
    return i;
  };
  const actionInput = h('input', {
    test: 'audit-action-filter',
    list: 'audit-actions',
    placeholder: 'auth.login',
    autocomplete: 'off',
    onchange: () => (filters.action = actionInput.value.trim()),
  });
  const actions = h(
    'datalist',
    { id: 'audit-actions' },
    Object.entries(ACTIONS).map(([code, name]) => h('option', { value: code, label: word(name) })),
  );
  const actor = text('actor', 'audit-actor-filter', w('auditExact'));
  const object = text('object', 'audit-object-filter', 'user:auditor · case:12');
  const time = (key: 'from' | 'to', test: string) => {
    const i = h('input', { type: 'datetime-local', step: 1, test, onchange: () => (filters[key] = i.value) });
    return i;
  };
  const from = time('from', 'audit-from');
  const to = time('to', 'audit-to');
  const result = h(
    'select',
    { test: 'audit-result-filter', onchange: () => (filters.result = result.value) },
    h('option', { value: '' }, w('auditResultAll')),
    RESULTS.map((r) => h('option', { value: r }, resultName(r))),
  );
  const address = h('input', {
    test: 'audit-address-filter',
    placeholder: w('auditAddressHint'),
    autocomplete: 'off',
    onchange: () => (filters.address = address.value.trim()),
  });
  const inputs = [actionInput, actor, object, address, from, to, result];
  const readForm = () => {
    filters.action = actionInput.value.trim();
    filters.actor = actor.value.trim();
    filters.object = object.value.trim();
    filters.result = result.value;
    filters.address = address.value.trim();
    filters.from = from.value;
    filters.to = to.value;
  };
  const form = h(
    'form',
    {
      class: 'filters',
      test: 'audit-filters',
      onsubmit: (e: Event) => {
        e.preventDefault();
        readForm();
        void load(true);
      },
    },
    h('label', {}, w('auditActionPrefix'), actionInput, actions),
    h('label', {}, w('auditActor'), actor),
    h('label', {}, w('auditObject'), object),
    h('label', {}, w('auditResult'), result),
    h('label', {}, w('auditClientAddress'), address),
    h('label', {}, `${w('from')}${w('beijingTime')}`, from),
    h('label', {}, `${w('to')}${w('beijingTime')}`, to),
    h(
      'div',
      { class: 'filter-buttons' },
      h('button', { type: 'submit', class: 'primary', test: 'audit-apply' }, w('apply')),
      h(
        'button',
        {
          type: 'button',
          test: 'audit-reset',
          onclick: () => {
            for (const i of inputs) i.value = '';
            readForm();
            void load(true);
          },
        },
        w('reset'),
      ),
    ),
  );

  // Verifying the chain: the answer in words, the first broken record named.
  const verdict = h('div', { class: 'audit-verdict', test: 'audit-verdict', role: 'status', hidden: true });
  const verify = h(
    'button',
    {
      test: 'audit-verify',
      onclick: async () => {
        verify.disabled = true;
        verdict.hidden = false;
        verdict.className = 'audit-verdict';
        delete verdict.dataset.intact;
        fill(verdict, w('auditVerifying'));
        try {
          const r = await ctx.api.get<ChainReport>('/api/audit/verify');
          verdict.dataset.intact = String(r.intact);
          verdict.classList.add(r.intact ? 'intact' : 'broken');
          if (r.intact) {
            fill(
              verdict,
              h('b', {}, `✓ ${w('auditIntact')}`),
              ` · ${w('auditChecked')} ${r.records} ${w('auditRecordsUnit')}`,
              h('small', { class: 'muted hash' }, `${w('auditLastHash')} ${r.last_hash}`),
            );
          } else {
            fill(
              verdict,
              h('b', {}, `✗ ${w('auditBroken')}`),
              ` · ${w('auditFirstBroken')} `,
              h('span', { test: 'audit-broken-at' }, `#${r.broken_at ?? '?'}`),
              h('span', { test: 'audit-broken-reason' }, r.reason ? `: ${r.reason}` : ''),
              ` (${w('auditChecked')} ${r.records} ${w('auditRecordsUnit')})`,
            );
          }
        } catch (err) {
          verdict.classList.add('broken');
          fill(verdict, explain(err));
        } finally {
          verify.disabled = false;
        }
      },
    },
    w('auditVerify'),
  );

  // The export: the search as it stands in the form, with the session's token.
  const exportCsv = ctx.can('audit.export')
    ? h(
        'button',
        {
          test: 'audit-export',
          onclick: async () => {
            error.textContent = '';
            readForm();
            exportCsv!.disabled = true;
            try {
              const { blob, fileName } = await ctx.api.blob(`/api/audit/export.csv?${auditQuery(filters)}`);
              saveBlob(blob, fileName ?? 'audit.csv');
            } catch (err) {
              error.textContent = explain(err);
            } finally {
              exportCsv!.disabled = false;
            }
          },
        },
        w('exportCsv'),
      )
    : null;

  fill(
    screen,
    h('div', { class: 'list-head' }, h('h2', {}, w('auditTitle')), h('span', { class: 'exports' }, verify, exportCsv)),
    verdict,
    form,
    error,
    h('div', { class: 'table-wrap' }, table),
    h('div', { class: 'list-foot' }, status, more),
  );
  fill(root, screen);
  void load(true);
  return () => {
    loadSeq++;
  };
}
