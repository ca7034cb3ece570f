// Pulled indicator sources (#/indicator-pulls): the other systems' HTTP JSON APIs whose
// values the server pulls on a schedule, listed with their last success, staleness ("no
// data" for one that never succeeded, never a zero) and last error; a form to create or
// edit one (PUT /api/indicators/pulls/{id}; the server names the field at fault), and
// "试取 / Test fetch", which fetches the address now and shows what each JSONPath picks
// (POST /api/indicators/pulls/test-fetch), storing nothing. Header values are never shown:
// an edited pull's header left without a value keeps the stored one.

import { ApiError } from '../shared/api';
import type { Ctx, Unmount } from './app';
import { h, fill, when } from './dom';
import { explain, w, wf } from './words';

interface Pick {
  region: string;
  path: string;
  period_path?: string;
}

interface Pull {
  id: string;
  name: string;
  indicator: string;
  url: string;
  headers: { name: string; hint: string }[];
  picks: Pick[];
  interval_seconds: number | null;
  every_seconds: number;
  timeout_seconds: number;
  enabled: boolean;
  failures: number;
  last_attempt: string | null;
  last_success: string | null;
  last_error: string | null;
  staleness_seconds: number | null;
  stale: boolean;
}

interface Picked extends Pick {
  value: number | null;
  date: string | null;
  reason: string | null;
}

interface TestFetched {
  status: number | null;
  error: string | null;
  picks: Picked[];
  excerpt: string | null;
}

/** Seconds as the largest whole unit: 90 s, 5 min, 3 h, 2 d. */
function age(seconds: number): string {
  if (seconds < 120) return wf('pullSeconds', { n: seconds });
  if (seconds < 7200) return wf('pullMinutes', { n: Math.floor(seconds / 60) });
  if (seconds < 172800) return wf('pullHours', { n: Math.floor(seconds / 3600) });
  return wf('pullDays', { n: Math.floor(seconds / 86400) });
}

/** `Name: value` per line; a name without a value keeps the stored one. */
function readHeaders(text: string): { name: string; value?: string }[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l)
    .map((l) => {
      const at = l.indexOf(':');
      const name = (at < 0 ? l : l.slice(0, at)).trim();
      const value = at < 0 ? '' : l.slice(at + 1).trim();
      return value ? { name, value } : { name };
    });
}

/** `region path` per line, and ` | period-path` where the value's date is in the answer. */
function readPicks(text: string): Pick[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l)
    .map((l) => {
      const [region, ...rest] = l.split(/\s+/);
      const [path, period] = rest.join(' ').split(' | ');
      return period?.trim() ? { region, path: path.trim(), period_path: period.trim() } : { region, path: path.trim() };
    });
}

export function indicatorPullsScreen(ctx: Ctx, el: HTMLElement): Unmount {
  const screen = h('section', { class: 'indicator-pulls-screen', test: 'indicator-pulls-screen' });
  const field = (test: string, size = 24, placeholder = '') => h('input', { test: `pull-${test}`, size, placeholder });
  const id = field('id', 20, 'stats-gdp');
  const name = field('name', 30);
  const indicator = field('indicator', 24, 'economy.001');
  const url = field('url', 50, 'https://');
  const headers = h('textarea', { test: 'pull-headers', rows: 2, cols: 50, placeholder: 'Authorization: Bearer …' });
  const picks = h('textarea', { test: 'pull-picks', rows: 3, cols: 50, placeholder: "330304001 $.data[?@.code == '330304001'].value" });
  const interval = h('input', { test: 'pull-interval', type: 'number', size: 8, placeholder: w('pullFromFrequency') });
  const timeout = h('input', { test: 'pull-timeout', type: 'number', size: 4, value: 10 });
  const enabled = h('input', { test: 'pull-enabled', type: 'checkbox', checked: true });
  const message = h('p', { class: 'muted', test: 'pull-status' });
  const error = h('p', { class: 'error', role: 'alert', test: 'pull-error' });
  const preview = h('div', { class: 'pull-preview', test: 'pull-preview' });
  /** The stored pull being edited (its header values fill those left blank). */
  let editing: string | null = null;

  function definition() {
    const seconds = interval.value.trim();
    return {
      name: name.value.trim(),
      indicator: indicator.value.trim(),
      url: url.value.trim(),
      headers: readHeaders(headers.value),
      picks: readPicks(picks.value),
      interval_seconds: seconds ? Number(seconds) : null,
      timeout_seconds: Number(timeout.value || 10),
      enabled: enabled.checked,
    };
  }
  function failed(err: unknown): void {
    error.textContent = explain(err);
    if (err instanceof ApiError && err.problem?.field) error.dataset.field = err.problem.field;
  }
  function edit(p: Pull | null): void {
    editing = p?.id ?? null;
    id.value = p?.id ?? '';
    id.disabled = !!p;
    name.value = p?.name ?? '';
    indicator.value = p?.indicator ?? '';
    url.value = p?.url ?? '';
    headers.value = (p?.headers ?? []).map((x) => `${x.name}:`).join('\n');
    headers.title = (p?.headers ?? []).map((x) => `${x.name}: ${x.hint}`).join('\n');
    picks.value = (p?.picks ?? []).map((x) => `${x.region} ${x.path}${x.period_path ? ` | ${x.period_path}` : ''}`).join('\n');
    interval.value = p?.interval_seconds == null ? '' : String(p.interval_seconds);
    timeout.value = String(p?.timeout_seconds ?? 10);
    enabled.checked = p?.enabled ?? true;
    message.textContent = p ? wf('pullEditing', { id: p.id }) : '';
    error.textContent = '';
    preview.replaceChildren();
  }
  async function save(): Promise<void> {
    error.textContent = '';
    delete error.dataset.field;
    screen.dataset.saved = 'false';
    try {
      const saved = await ctx.api.put<Pull>(`/api/indicators/pulls/${encodeURIComponent(id.value.trim())}`, definition());
      edit(saved);
      message.textContent = wf('pullSaved', { id: saved.id });
      screen.dataset.saved = 'true';
      await list();
    } catch (err) {
      failed(err);
    }
  }
  async function tryFetch(): Promise<void> {
    error.textContent = '';
    delete error.dataset.field;
    screen.dataset.fetched = 'false';
    preview.replaceChildren(h('p', { class: 'muted' }, w('pullFetching')));
    try {
      const body = editing ? { id: editing, definition: definition() } : { definition: definition() };
      const t = await ctx.api.post<TestFetched>('/api/indicators/pulls/test-fetch', body);
      fill(
        preview,
        t.error
          ? h('p', { class: 'error', test: 'preview-error' }, t.error)
          : h('p', { class: 'muted', test: 'preview-status' }, wf('pullAnswered', { status: t.status ?? '—' })),
        h(
          'table',
          { class: 'cases audit', test: 'preview-table' },
          h('thead', {}, h('tr', {}, [w('region'), w('pullPath'), w('value'), w('pullDate'), w('pullReason')].map((x) => h('th', {}, x)))),
          h(
            'tbody',
            {},
            t.picks.map((p) =>
              h(
                'tr',
                { test: 'preview-row', 'data-region': p.region },
                h('td', {}, p.region),
                h('td', { class: 'object' }, p.path),
                h('td', { class: 'num', test: 'preview-value' }, p.value ?? w('noData')),
                h('td', { class: 'num', test: 'preview-date' }, p.date ?? w('pullFetchPeriod')),
                h('td', { test: 'preview-reason' }, p.reason ?? '—'),
              ),
            ),
          ),
        ),
        t.excerpt ? h('pre', { class: 'excerpt', test: 'preview-excerpt' }, t.excerpt) : null,
      );
      screen.dataset.fetched = 'true';
    } catch (err) {
      preview.replaceChildren();
      failed(err);
    }
  }

  const row = (label: string, ...children: HTMLElement[]) => h('label', { class: 'field' }, h('span', {}, label), ...children);
  const form = h(
    'div',
    { class: 'threshold-form', test: 'pull-form' },
    row(w('pullId'), id),
    row(w('pullName'), name),
    row(w('indicator'), indicator),
    row(w('pullUrl'), url),
    row(w('pullHeaders'), headers),
    row(w('pullPicks'), picks),
    row(w('pullInterval'), interval, timeout),
    row(w('pullEnabled'), enabled),
    h(
      'div',
      { class: 'actions' },
      h('button', { test: 'pull-test-fetch', onclick: () => void tryFetch() }, w('pullTestFetch')),
      h('button', { class: 'primary', test: 'pull-save', onclick: () => void save() }, w('save')),
      h('button', { test: 'pull-new', onclick: () => edit(null) }, w('pullNew')),
    ),
    message,
    error,
    preview,
  );

  const tbody = h('tbody', { test: 'pull-rows' });
  const listError = h('p', { class: 'error', role: 'alert', test: 'pulls-error' });
  const pullRow = (p: Pull) =>
    h(
      'tr',
      { test: 'pull-row', 'data-id': p.id, 'data-stale': String(p.stale) },
      h('td', { class: 'object' }, h('button', { class: 'link', test: 'pull-edit', onclick: () => edit(p) }, p.id)),
      h('td', {}, p.name),
      h('td', {}, p.indicator),
      h('td', { class: 'num' }, age(p.every_seconds)),
      h('td', { class: 'num' }, when(p.last_success)),
      h(
        'td',
        { class: p.stale ? 'level red' : 'level green', test: 'pull-staleness' },
        p.staleness_seconds === null ? w('noData') : `${age(p.staleness_seconds)}${p.stale ? ` · ${w('pullStale')}` : ''}`,
      ),
      h('td', { test: 'pull-last-error' }, p.last_error ? `${p.last_error}（${wf('pullFailures', { n: p.failures })}）` : '—'),
      h('td', {}, p.enabled ? w('pullOn') : w('pullOff')),
    );
  async function list(): Promise<void> {
    listError.textContent = '';
    screen.dataset.loaded = 'false';
    try {
      const { pulls } = await ctx.api.get<{ pulls: Pull[] }>('/api/indicators/pulls');
      fill(tbody, pulls.length ? pulls.map(pullRow) : h('tr', {}, h('td', { colspan: 8, class: 'muted' }, w('pullNone'))));
    } catch (err) {
      listError.textContent = explain(err);
    } finally {
      screen.dataset.loaded = 'true';
    }
  }
  fill(
    screen,
    h(
      'div',
      { class: 'list-head' },
      h('h2', {}, w('pullsTitle')),
      h('span', { class: 'exports' }, h('button', { test: 'pulls-refresh', onclick: () => void list() }, w('refresh'))),
    ),
    listError,
    h(
      'table',
      { class: 'cases audit', test: 'pulls-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          [w('pullId'), w('pullName'), w('indicator'), w('pullEvery'), w('pullLastSuccess'), w('pullStaleness'), w('pullLastError'), w('status')].map((x) =>
            h('th', {}, x),
          ),
        ),
      ),
      tbody,
    ),
    h('h2', {}, w('pullFormTitle')),
    form,
  );
  fill(el, screen);
  void list();
  // Staleness grows by itself: the list is read again every half minute while shown.
  const timer = window.setInterval(() => void list(), 30_000);
  return () => window.clearInterval(timer);
}
