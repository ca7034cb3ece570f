// Indicator thresholds and alarms (#/indicator-alarms): an indicator's threshold edited
// as a form (a line or yellow/red bands, raise and clear levels, minimum durations, the
// measure, a do-not-disturb window), saved whole with PUT /api/indicators/catalogue/{id}/
// threshold (the server names the field at fault); below, the indicator alarms in the
// caller's scope, filtered by status and level, each acknowledged with one button.

import { ApiError } from '../shared/api';
import type { Ctx, Unmount } from './app';
import { h, fill, when } from './dom';
import { explain, w, wf } from './words';

interface Level {
  raise: number;
  clear?: number | null;
}

interface Threshold {
  enabled: boolean;
  measure: { kind: 'value' | 'change_from_last_year' | 'change_from_baseline'; periods?: number };
  yellow?: Level | null;
  red: Level;
  raise_after_seconds: number;
  clear_after_seconds: number;
  quiet?: { from: string; to: string } | null;
  case_category?: string | null;
}

interface ThresholdAnswer {
  indicator: string;
  threshold: Threshold | null;
  version: number;
}

interface Alarm {
  id: number;
  indicator: string;
  region: string;
  status: 'open' | 'cleared';
  level: 'yellow' | 'red';
  peak: 'yellow' | 'red';
  value: number;
  measure: number;
  opened_at: string;
  cleared_at: string | null;
  /** Why it ended: the values came back, the threshold was edited, or switched off. */
  cleared_by: 'value' | 'edit' | 'disabled' | null;
  acknowledged_by: string | null;
  case_id: number | null;
}

/** An input of the form, named by the threshold's field it holds. */
function input(test: string, type = 'text', size = 8): HTMLInputElement {
  return h('input', { test: `threshold-${test}`, type, size });
}

/** A number typed, or null when blank. */
function number(el: HTMLInputElement): number | null {
  return el.value.trim() === '' ? null : Number(el.value);
}

export function indicatorAlarmsScreen(ctx: Ctx, el: HTMLElement): Unmount {
  const screen = h('section', { class: 'indicator-alarms-screen', test: 'indicator-alarms-screen' });
  const id = h('input', { test: 'threshold-indicator', size: 24, placeholder: 'public_security.001' });
  const enabled = input('enabled', 'checkbox');
  const kind = h(
    'select',
    { test: 'threshold-measure' },
    (['value', 'change_from_last_year', 'change_from_baseline'] as const).map((k) => h('option', { value: k }, w(`measure_${k}`))),
  );
  const [periods, yRaise, yClear, rRaise, rClear] = ['periods', 'yellow-raise', 'yellow-clear', 'red-raise', 'red-clear'].map((t) => input(t, 'number'));
  const [raiseAfter, clearAfter] = ['raise-after', 'clear-after'].map((t) => input(t, 'number'));
  const [quietFrom, quietTo, category] = ['quiet-from', 'quiet-to', 'category'].map((t) => input(t, 'text', 6));
  const message = h('p', { class: 'muted', test: 'threshold-status' });
  const error = h('p', { class: 'error', role: 'alert', test: 'threshold-error' });
  const editable = ctx.can('indicators.manage');

  function show(t: Threshold | null): void {
    enabled.checked = t?.enabled ?? true;
    kind.value = t?.measure.kind ?? 'value';
    periods.value = String(t?.measure.periods ?? '');
    yRaise.value = String(t?.yellow?.raise ?? '');
    yClear.value = String(t?.yellow?.clear ?? '');
    rRaise.value = String(t?.red.raise ?? '');
    rClear.value = String(t?.red.clear ?? '');
    raiseAfter.value = String(t?.raise_after_seconds ?? 0);
    clearAfter.value = String(t?.clear_after_seconds ?? 0);
    quietFrom.value = t?.quiet?.from ?? '';
    quietTo.value = t?.quiet?.to ?? '';
    category.value = t?.case_category ?? '';
  }

  function read(): Threshold {
    const level = (raise: HTMLInputElement, clear: HTMLInputElement): Level => ({ raise: number(raise) ?? NaN, clear: number(clear) });
    const measure = kind.value as Threshold['measure']['kind'];
    return {
      enabled: enabled.checked,
      measure: measure === 'change_from_baseline' ? { kind: measure, periods: number(periods) ?? 0 } : { kind: measure },
      yellow: number(yRaise) === null ? null : level(yRaise, yClear),
      red: level(rRaise, rClear),
      raise_after_seconds: number(raiseAfter) ?? 0,
      clear_after_seconds: number(clearAfter) ?? 0,
      quiet: quietFrom.value.trim() || quietTo.value.trim() ? { from: quietFrom.value.trim(), to: quietTo.value.trim() } : null,
      case_category: category.value.trim() || null,
    };
  }

  const path = () => `/api/indicators/catalogue/${encodeURIComponent(id.value.trim())}/threshold`;
  async function load(): Promise<void> {
    error.textContent = '';
    try {
      const a = await ctx.api.get<ThresholdAnswer>(path());
      show(a.threshold);
      message.textContent = a.threshold ? wf('thresholdVersion', { version: a.version }) : w('thresholdNone');
    } catch (err) {
      error.textContent = explain(err);
    }
  }
  async function save(): Promise<void> {
    error.textContent = '';
    screen.dataset.saved = 'false';
    try {
      const a = await ctx.api.put<ThresholdAnswer>(path(), read());
      message.textContent = wf('thresholdVersion', { version: a.version });
      screen.dataset.saved = 'true';
    } catch (err) {
      error.textContent = explain(err);
      if (err instanceof ApiError && err.problem?.field) error.dataset.field = err.problem.field;
    }
  }
  const row = (label: string, ...children: HTMLElement[]) => h('label', { class: 'field' }, h('span', {}, label), ...children);
  const form = h(
    'div',
    { class: 'threshold-form', test: 'threshold-form' },
    row(w('thresholdIndicator'), id, h('button', { test: 'threshold-load', onclick: () => void load() }, w('load'))),
    row(w('thresholdEnabled'), enabled),
    row(w('thresholdMeasure'), kind, periods),
    row(w('thresholdYellow'), yRaise, yClear),
    row(w('thresholdRed'), rRaise, rClear),
    row(w('thresholdDurations'), raiseAfter, clearAfter),
    row(w('thresholdQuiet'), quietFrom, quietTo),
    row(w('thresholdCategory'), category),
    editable ? h('button', { test: 'threshold-save', onclick: () => void save() }, w('save')) : null,
    message,
    error,
  );

  // The alarms.
  const status = h('select', { test: 'alarms-status' }, ['', 'open', 'cleared'].map((s) => h('option', { value: s }, s ? w(`alarm_${s}` as 'alarm_open') : w('any'))));
  const severity = h('select', { test: 'alarms-severity' }, ['', 'yellow', 'red'].map((s) => h('option', { value: s }, s ? w(`level_${s}` as 'level_red') : w('any'))));
  const tbody = h('tbody', { test: 'alarm-rows' });
  const listError = h('p', { class: 'error', role: 'alert', test: 'alarms-error' });
  const acknowledge = async (a: Alarm) => {
    try {
      await ctx.api.post(`/api/indicators/alarms/${a.id}/acknowledge`, {});
      await list();
    } catch (err) {
      listError.textContent = explain(err);
    }
  };
  const alarmRow = (a: Alarm) =>
    h(
      'tr',
      { test: 'alarm-row', 'data-id': a.id, 'data-level': a.level, 'data-status': a.status },
      h('td', { class: 'object' }, a.indicator),
      h('td', {}, a.region),
      h('td', { class: `level ${a.level}`, test: 'alarm-level' }, w(`level_${a.level}`)),
      h('td', { class: 'num' }, a.value),
      h('td', { test: 'alarm-status', 'data-cleared-by': a.cleared_by ?? '' }, a.cleared_by ? w(`cleared_${a.cleared_by}`) : w(`alarm_${a.status}`)),
      h('td', { class: 'num' }, when(a.opened_at)),
      h('td', {}, a.case_id ? h('a', { href: `#/cases/${a.case_id}`, test: 'alarm-case' }, `#${a.case_id}`) : '—'),
      h(
        'td',
        { test: 'alarm-acknowledged' },
        a.acknowledged_by ??
          (ctx.can('alarms.acknowledge') ? h('button', { test: 'alarm-acknowledge', onclick: () => void acknowledge(a) }, w('acknowledge')) : '—'),
      ),
    );
  async function list(): Promise<void> {
    listError.textContent = '';
    screen.dataset.loaded = 'false';
    const q = new URLSearchParams();
    if (status.value) q.set('status', status.value);
    if (severity.value) q.set('severity', severity.value);
    try {
      const { alarms } = await ctx.api.get<{ total: number; alarms: Alarm[] }>(`/api/indicators/alarms?${q}`);
      fill(tbody, alarms.map(alarmRow));
    } catch (err) {
      listError.textContent = explain(err);
    } finally {
      screen.dataset.loaded = 'true';
    }
  }
  status.addEventListener('change', () => void list());
  severity.addEventListener('change', () => void list());
  fill(
    screen,
    h('h2', {}, w('thresholdsTitle')),
    form,
    h(
      'div',
      { class: 'list-head' },
      h('h2', {}, w('indicatorAlarmsTitle')),
      h('span', { class: 'exports' }, status, severity, h('button', { test: 'alarms-refresh', onclick: () => void list() }, w('refresh'))),
    ),
    listError,
    h(
      'table',
      { class: 'cases audit', test: 'alarms-table' },
      h('thead', {}, h('tr', {}, [w('indicator'), w('region'), w('level'), w('value'), w('status'), w('openedAt'), w('case'), w('acknowledged')].map((t) => h('th', {}, t)))),
      tbody,
    ),
  );
  fill(el, screen);
  show(null);
  void list();
  return () => {};
}
