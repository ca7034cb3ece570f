// The list's filter bar: region (the tree of linked selects or a search), status,
// category, urgency, source, tag, keyword, time range, overdue.

import { statusName, URGENCY_CODES, urgencyName } from '../shared/casewords';
import type { Ctx } from './app';
import { h, fill } from './dom';
import { type Filters, OPEN, STATUSES, saveFilters } from './filters';
import { regionSearch } from './search';
import { w } from './words';

/** The bar over `f`; `apply` reloads the list. */
export function filterBar(ctx: Ctx, f: Filters, apply: () => void): HTMLElement {
  const select = (test: string, value: string | undefined, options: [string, string][], onchange: (v: string) => void) => {
    const s = h('select', { test, onchange: () => onchange(s.value) }, h('option', { value: '' }, w('any')), options.map(([v, l]) => h('option', { value: v }, l)));
    s.value = value ?? '';
    return s;
  };
  const text = (test: string, value: string | undefined, placeholder: string, onchange: (v: string) => void) => {
    const i = h('input', { test, value: value ?? '', placeholder, onchange: () => onchange(i.value.trim()) });
    i.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        onchange(i.value.trim());
        apply();
      }
    });
    return i;
  };
  const time = (test: string, value: string | undefined, onchange: (v: string) => void) => {
    const i = h('input', { type: 'datetime-local', test, value: value ?? '', onchange: () => onchange(i.value) });
    return i;
  };
  const set = <K extends keyof Filters>(k: K) => (v: Filters[K] | '') => {
    if (v === '' || v === undefined || v === false) delete f[k];
    else f[k] = v as Filters[K];
  };

  const chip = h('span', { class: 'region-chip', test: 'filter-region-chip' });
  const showChip = () => {
    fill(
      chip,
      f.region
        ? [
            f.region.name,
            h('button', { class: 'link', test: 'filter-region-clear', onclick: () => { delete f.region; showChip(); apply(); } }, '×'),
          ]
        : w('allRegions'),
    );
  };
  showChip();
  const search = regionSearch(ctx.api, w('regionSearch'), (r) => {
    f.region = { code: r.code, name: r.path || r.name };
    showChip();
    apply();
  }, 'filter-region');
  const tree = regionTree(ctx, (code, name) => {
    if (code) f.region = { code, name };
    else delete f.region;
    showChip();
    apply();
  });

  const statuses: [string, string][] = [[OPEN, `${statusName('new')}…${statusName('handled')}`], ...STATUSES.map((s): [string, string] => [s, statusName(s)])];
  const overdue = h('input', { type: 'checkbox', test: 'filter-overdue', checked: !!f.overdue, onchange: () => set('overdue')(overdue.checked) });
  const sources: [string, string][] = ctx.refs.sources.map((s) => [s.id, s.name]);
  const categories: [string, string][] = ctx.refs.categories.map((c) => [c.code, `${'　'.repeat(c.depth)}${c.name}`]);
  return h(
    'form',
    {
      class: 'filters',
      test: 'filters',
      onsubmit: (e: Event) => {
        e.preventDefault();
        apply();
      },
    },
    h('label', {}, w('region'), h('div', { class: 'region-filter' }, chip, tree, search)),
    h('label', {}, w('status'), select('filter-status', f.status, statuses, set('status'))),
    h('label', {}, w('category'), select('filter-category', f.category, categories, set('category'))),
    h('label', {}, w('urgency'), select('filter-urgency', f.urgency, URGENCY_CODES.map((u): [string, string] => [u, urgencyName(u)]), set('urgency'))),
    h('label', {}, w('source'), sources.length ? select('filter-source', f.source, sources, set('source')) : text('filter-source', f.source, 'manual', set('source'))),
    h('label', {}, w('tag'), text('filter-tag', f.tag, '', set('tag'))),
    h('label', {}, w('keyword'), text('filter-q', f.q, '', set('q'))),
    h('label', {}, w('from'), time('filter-from', f.from, set('from'))),
    h('label', {}, w('to'), time('filter-to', f.to, set('to'))),
    h('label', { class: 'check' }, overdue, w('overdueOnly')),
    h('div', { class: 'filter-buttons' },
      h('button', { type: 'submit', class: 'primary', test: 'filter-apply' }, w('apply')),
      h('button', {
        type: 'button',
        test: 'filter-reset',
        onclick: () => {
          for (const k of Object.keys(f)) delete f[k as keyof Filters];
          saveFilters(f);
          ctx.go('#/cases');
        },
      }, w('reset')),
    ),
  );
}

/** The region tree as three linked selects: street, then its villages, then their grids
 *  (`GET /api/regions?level=&parent=`). Picking one filters by it (the deepest chosen). */
function regionTree(ctx: Ctx, pick: (code: string | null, name: string) => void): HTMLElement {
  type Named = { code: string; name: string };
  const options = (items: Named[], label: string) => [
    h('option', { value: '' }, `${label} —`),
    ...items.map((r) => h('option', { value: r.code }, r.name)),
  ];
  const streets: Named[] = ctx.refs.streets.features.map((f) => ({ code: String(f.properties?.code), name: String(f.properties?.name) }));
  const street = h('select', { test: 'filter-street' }, options(streets, w('street')));
  const village = h('select', { test: 'filter-village', disabled: true }, options([], w('village')));
  const grid = h('select', { test: 'filter-grid', disabled: true }, options([], w('grid')));
  const children = async (level: string, parent: string): Promise<Named[]> => {
    try {
      const fc = await ctx.api.get<{ features: { properties: Named }[] }>(`/api/regions?level=${level}&parent=${parent}`);
      return fc.features.map((f) => ({ code: f.properties.code, name: f.properties.name })).sort((a, b) => a.code.localeCompare(b.code));
    } catch {
      return [];
    }
  };
  const label = (s: HTMLSelectElement) => s.selectedOptions[0]?.textContent ?? '';
  street.onchange = async () => {
    fill(village, options([], w('village')));
    fill(grid, options([], w('grid')));
    village.disabled = grid.disabled = true;
    if (!street.value) return pick(null, '');
    pick(street.value, label(street));
    fill(village, options(await children('village', street.value), w('village')));
    village.disabled = false;
    village.dataset.loaded = street.value;
  };
  village.onchange = async () => {
    fill(grid, options([], w('grid')));
    grid.disabled = true;
    if (!village.value) return pick(street.value, label(street));
    pick(village.value, `${label(street)} / ${label(village)}`);
    fill(grid, options(await children('grid', village.value), w('grid')));
    grid.disabled = false;
    grid.dataset.loaded = village.value;
  };
  grid.onchange = () => {
    if (!grid.value) return pick(village.value, `${label(street)} / ${label(village)}`);
    pick(grid.value, `${label(street)} / ${label(village)} / ${label(grid)}`);
  };
  return h('span', { class: 'region-tree' }, street, village, grid);
}
