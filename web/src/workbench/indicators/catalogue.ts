// The indicator centre's catalogue (#/indicators): the search (words, system, domain,
// frequency, published), fifty to a page, the CSV export of the same search (downloaded
// with the session's token), and per indicator its edit link, publish or withdraw, and
// delete after a confirmation. The search is kept while the session lasts, so that coming
// back from an indicator finds the list as it was left.

import type { Ctx, Unmount } from '../app';
import { h, fill, saveBlob } from '../dom';
import { explain } from '../words';
import {
  DOMAINS,
  FREQUENCIES,
  SYSTEMS,
  type IndicatorAnswer,
  domainName,
  frequencyName,
  indicatorName,
  systemName,
} from '../../shared/catalogue';
import { iw, iwf } from './words';

const PAGE = 50;

interface SearchState {
  q: string;
  system: string;
  domain: string;
  frequency: string;
  published: string;
  page: number;
}

/** The last search, kept across screens. */
const last: SearchState = { q: '', system: '', domain: '', frequency: '', published: '', page: 0 };

function query(s: SearchState): string {
  const q = new URLSearchParams();
  for (const k of ['q', 'system', 'domain', 'frequency', 'published'] as const) if (s[k]) q.set(k, s[k]);
  return q.toString();
}

function select(test: string, options: [string, string][], value: string): HTMLSelectElement {
  const el = h('select', { test }, h('option', { value: '' }, `${iw('anyOption')}`), options.map(([v, label]) => h('option', { value: v }, label)));
  el.value = value;
  return el;
}

export function catalogueScreen(ctx: Ctx, el: HTMLElement): Unmount {
  const manage = ctx.can('indicators.manage');
  const screen = h('section', { class: 'indicator-centre', test: 'indicator-catalogue' });
  const q = h('input', { test: 'catalogue-q', type: 'search', size: 32, placeholder: iw('search'), value: last.q });
  const system = select('catalogue-system', SYSTEMS.map((s) => [s, systemName(s)]), last.system);
  const domain = select('catalogue-domain', DOMAINS.map((d) => [d, domainName(d)]), last.domain);
  const frequency = select('catalogue-frequency', FREQUENCIES.map((f) => [f, frequencyName(f)]), last.frequency);
  const published = select('catalogue-published', [['true', iw('publishedYes')], ['false', iw('publishedNo')]], last.published);
  const error = h('p', { class: 'error', role: 'alert', test: 'catalogue-error' });
  const summary = h('span', { class: 'muted', test: 'catalogue-total' });
  const tbody = h('tbody', { test: 'catalogue-rows' });
  const pager = h('div', { class: 'pager', test: 'catalogue-pager' });
  let found: IndicatorAnswer[] = [];

  const read = (): SearchState => ({
    q: q.value.trim(),
    system: system.value,
    domain: domain.value,
    frequency: frequency.value,
    published: published.value,
    page: 0,
  });

  /** The latest search asked: an earlier one's answer arriving after it is dropped. */
  let asked = 0;
  async function load(): Promise<void> {
    const mine = ++asked;
    error.textContent = '';
    screen.dataset.loaded = 'false';
    try {
      const answer = await ctx.api.get<{ total: number; indicators: IndicatorAnswer[] }>(`/api/indicators/catalogue?${query(last)}`);
      if (mine !== asked) return;
      found = answer.indicators;
      last.page = Math.min(last.page, Math.max(0, Math.ceil(found.length / PAGE) - 1));
      render();
    } catch (err) {
      if (mine === asked) error.textContent = explain(err);
    } finally {
      if (mine === asked) screen.dataset.loaded = 'true';
    }
  }

  async function setPublished(a: IndicatorAnswer, on: boolean): Promise<void> {
    error.textContent = '';
    try {
      const stored = await ctx.api.put<IndicatorAnswer>(`/api/indicators/catalogue/${encodeURIComponent(a.indicator.id)}/published`, { published: on });
      found = found.map((f) => (f.indicator.id === stored.indicator.id ? stored : f));
      render();
    } catch (err) {
      error.textContent = explain(err);
    }
  }

  async function remove(a: IndicatorAnswer): Promise<void> {
    if (!window.confirm(iwf('confirmRemove', { name: indicatorName(a.indicator) }))) return;
    error.textContent = '';
    try {
      const r = await ctx.api.send(`/api/indicators/catalogue/${encodeURIComponent(a.indicator.id)}`, { method: 'DELETE' });
      if (!r.ok) throw new Error(`${r.status} ${(await r.json().catch(() => ({})))?.detail ?? ''}`);
      await load();
    } catch (err) {
      error.textContent = explain(err);
    }
  }

  const row = (a: IndicatorAnswer) => {
    const e = a.indicator;
    const open = () => ctx.go(`#/indicators/${encodeURIComponent(e.id)}`);
    return h(
      'tr',
      { test: 'catalogue-row', 'data-id': e.id, 'data-published': String(e.published) },
      h('td', { class: 'num' }, e.id),
      h('td', {}, h('a', { href: `#/indicators/${encodeURIComponent(e.id)}`, test: 'catalogue-open' }, indicatorName(e))),
      h('td', {}, systemName(e.system)),
      h('td', {}, domainName(e.domain)),
      h('td', {}, e.unit),
      h('td', {}, frequencyName(e.frequency)),
      h('td', {}, e.owner.department),
      h('td', { test: 'catalogue-state' }, h('span', { class: `badge ${e.published ? 'on' : 'off'}` }, e.published ? iw('publishedYes') : iw('publishedNo'))),
      h(
        'td',
        { class: 'actions', onclick: (ev: Event) => ev.stopPropagation() },
        h('button', { test: 'catalogue-edit', onclick: open }, iw('edit')),
        manage
          ? h('button', { test: e.published ? 'catalogue-withdraw' : 'catalogue-publish', onclick: () => void setPublished(a, !e.published) }, e.published ? iw('withdraw') : iw('publish'))
          : null,
        manage ? h('button', { class: 'danger', test: 'catalogue-delete', onclick: () => void remove(a) }, iw('remove')) : null,
      ),
    );
  };

  function render(): void {
    const pages = Math.max(1, Math.ceil(found.length / PAGE));
    summary.textContent = iwf('total', { n: found.length });
    const shown = found.slice(last.page * PAGE, (last.page + 1) * PAGE);
    fill(tbody, shown.length ? shown.map(row) : h('tr', {}, h('td', { colspan: 9, class: 'muted', test: 'catalogue-empty' }, iw('none'))));
    const turn = (by: number) => {
      last.page += by;
      render();
    };
    fill(
      pager,
      h('button', { test: 'catalogue-previous', disabled: last.page === 0, onclick: () => turn(-1) }, iw('previous')),
      h('span', { test: 'catalogue-page' }, iwf('page', { page: last.page + 1, pages })),
      h('button', { test: 'catalogue-next', disabled: last.page + 1 >= pages, onclick: () => turn(1) }, iw('next')),
    );
  }

  const search = () => {
    Object.assign(last, read());
    void load();
  };
  const exportCsv = async () => {
    error.textContent = '';
    try {
      const { blob, fileName } = await ctx.api.blob(`/api/indicators/catalogue/export.csv?${query(read())}`);
      saveBlob(blob, fileName ?? 'indicators.csv');
    } catch (err) {
      error.textContent = explain(err);
    }
  };
  const form = h(
    'form',
    {
      class: 'filters catalogue-filters',
      test: 'catalogue-search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        search();
      },
    },
    q,
    h('label', {}, iw('system'), system),
    h('label', {}, iw('domain'), domain),
    h('label', {}, iw('frequency'), frequency),
    h('label', {}, iw('published'), published),
    h('button', { type: 'submit', class: 'primary', test: 'catalogue-apply' }, iw('apply')),
  );
  for (const s of [system, domain, frequency, published]) s.addEventListener('change', search);
  fill(
    screen,
    h(
      'div',
      { class: 'list-head' },
      h('h2', {}, `${iw('centreTitle')} · ${iw('catalogue')}`),
      summary,
      h(
        'span',
        { class: 'exports' },
        h('a', { href: '#/indicator-alarms', test: 'catalogue-thresholds' }, iw('thresholds')),
        h('button', { test: 'catalogue-export', onclick: () => void exportCsv() }, iw('exportCsv')),
        manage ? h('button', { class: 'primary', test: 'catalogue-new', onclick: () => ctx.go('#/indicators/new') }, iw('newIndicator')) : null,
      ),
    ),
    form,
    error,
    h(
      'table',
      { class: 'cases catalogue', test: 'catalogue-table' },
      h(
        'thead',
        {},
        h('tr', {}, [iw('id'), iw('name'), iw('system'), iw('domain'), iw('unit'), iw('frequency'), iw('department'), iw('published'), ''].map((t) => h('th', {}, t))),
      ),
      tbody,
    ),
    pager,
  );
  fill(el, screen);
  void load();
  return () => {};
}
