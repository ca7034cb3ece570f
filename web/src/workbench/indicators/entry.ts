// Manual entry of an indicator's values (the owner's form, PUT …/values, audited by the
// server): a region the indicator is kept for (the district's indicator also for each
// street), a period as its frequency cuts time (a day, or one of the recent months,
// quarters, half-years or years; never a future one), the value. Below, the values stored
// for it, newest period first, each with its source, who or what sent it, and when.
// The list follows the live `indicators` channel: a value arriving from anywhere shows.

import { ApiError } from '../../shared/api';
import {
  type CatalogueEntry,
  type StoredValue,
  cityToday,
  formatNumber,
  periodLabel,
  recentPeriods,
} from '../../shared/catalogue';
import type { Ctx, Unmount } from '../app';
import { h, fill, when } from '../dom';
import { explain } from '../words';
import { iw, iwf, type Key } from './words';

function owns(ctx: Ctx, e: CatalogueEntry): boolean {
  return (e.owner.person !== '' && e.owner.person === ctx.me.username) || (ctx.me.department !== null && ctx.me.department === e.owner.department);
}

export function manualEntry(ctx: Ctx, el: HTMLElement, e: CatalogueEntry): Unmount {
  const district = ctx.refs.district.features[0];
  const names = new Map<string, string>();
  if (district) names.set(String(district.properties?.code), String(district.properties?.name));
  for (const s of ctx.refs.streets.features) names.set(String(s.properties?.code), String(s.properties?.name));
  const regions: string[] = [];
  for (const code of e.regions) {
    regions.push(code);
    // The district's (or a street's) indicator may be kept for the regions inside it.
    for (const s of ctx.refs.streets.features) {
      const c = String(s.properties?.code);
      if (c !== code && c.startsWith(code)) regions.push(c);
    }
  }
  const regionName = (code: string) => names.get(code) ?? code;
  const region = h('select', { test: 'entry-region' }, regions.map((c) => h('option', { value: c }, `${regionName(c)}（${c}）`)));
  const today = cityToday();
  const daily = e.frequency === 'daily' || e.frequency === 'real_time';
  const period = daily
    ? h('input', { test: 'entry-period', type: 'date', max: today, value: today })
    : h('select', { test: 'entry-period' }, recentPeriods(e.frequency, today).map((p) => h('option', { value: p }, periodLabel(e.frequency, p))));
  const value = h('input', { test: 'entry-value', type: 'number', step: 'any', size: 12 });
  const error = h('p', { class: 'error', role: 'alert', test: 'entry-error' });
  const done = h('p', { class: 'muted', test: 'entry-status' });
  const tbody = h('tbody', { test: 'value-rows' });
  const section = h('section', { class: 'indicator-entry', test: 'indicator-entry' });
  const allowed = ctx.can('indicators.enter') && owns(ctx, e);

  async function submit(): Promise<void> {
    error.textContent = '';
    delete error.dataset.field;
    done.textContent = '';
    section.dataset.entered = 'false';
    const typed = value.value.trim();
    try {
      const written = await ctx.api.put<{ received: number; changed: number }>(`/api/indicators/catalogue/${encodeURIComponent(e.id)}/values`, {
        region: region.value,
        period: period.value,
        // Blank is sent as not-a-number so that the server names the field.
        value: typed === '' ? null : Number(typed),
      });
      done.textContent = iwf('entryDone', { changed: written.changed });
      section.dataset.entered = 'true';
      await list();
    } catch (err) {
      error.textContent = explain(err);
      if (err instanceof ApiError && err.problem?.field) error.dataset.field = err.problem.field;
    }
  }

  const sourceWord = (s: string) => (['manual', 'pushed', 'pulled', 'computed'].includes(s) ? iw(`source_${s}` as Key) : s);
  const row = (v: StoredValue) =>
    h(
      'tr',
      { test: 'value-row', 'data-region': v.region, 'data-period': v.period, 'data-source': v.source },
      h('td', {}, regionName(v.region)),
      h('td', { class: 'num' }, periodLabel(e.frequency, v.period)),
      h('td', { class: 'num', test: 'value-value' }, `${formatNumber(v.value)} ${e.unit}`),
      h('td', {}, sourceWord(v.source)),
      h('td', {}, v.source_name),
      h('td', { class: 'num' }, when(v.recorded_at)),
    );

  async function list(): Promise<void> {
    try {
      const { values } = await ctx.api.get<{ values: StoredValue[] }>(`/api/indicators/catalogue/${encodeURIComponent(e.id)}/values?limit=200`);
      fill(tbody, values.length ? values.map(row) : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, iw('storedNone'))));
      section.dataset.values = String(values.length);
    } catch (err) {
      error.textContent = explain(err);
    }
  }

  fill(
    section,
    h('h3', {}, iw('entry')),
    allowed
      ? h(
          'form',
          {
            class: 'filters entry-form',
            test: 'entry-form',
            onsubmit: (ev: Event) => {
              ev.preventDefault();
              void submit();
            },
          },
          h('label', {}, iw('entryRegion'), region),
          h('label', {}, iw('entryPeriod'), period),
          h('label', {}, `${iw('entryValue')}${e.unit ? `（${e.unit}）` : ''}`, value),
          h('button', { type: 'submit', class: 'primary', test: 'entry-submit' }, iw('entrySubmit')),
        )
      : h('p', { class: 'muted', test: 'entry-owner' }, iwf('entryOwner', { person: e.owner.person || '—', department: e.owner.department })),
    error,
    done,
    h('h3', {}, iw('stored')),
    h(
      'table',
      { class: 'cases values', test: 'value-table' },
      h('thead', {}, h('tr', {}, [iw('entryRegion'), iw('period'), iw('value'), iw('sourceCol'), iw('by'), iw('recordedAt')].map((t) => h('th', {}, t)))),
      tbody,
    ),
  );
  fill(el, section);
  void list();
  // Values from other systems or people show as they arrive (the workbench's stream carries
  // the indicators channel for those who see the wall).
  let timer: ReturnType<typeof setTimeout> | null = null;
  const subscription = ctx.can('wall.view') || ctx.can('statistics.view')
    ? ctx.live.subscribe({
        channel: 'indicators',
        filter: {},
        onSnapshot: () => {},
        onDelta: (_d, key) => {
          if (!key.startsWith(`value:${e.id}:`) || timer) return;
          timer = setTimeout(() => {
            timer = null;
            void list();
          }, 300);
        },
      })
    : null;
  return () => {
    if (timer) clearTimeout(timer);
    if (subscription) ctx.live.unsubscribe(subscription);
  };
}
