// The case list: filters, a table sorted by any column, keyset paging ("more"), CSV and
// Excel exports with the same filters (downloaded with the session's token), and live
// updates from the `cases` channel: a new case that matches the filters appears at the
// top, a changed one is updated in place, without a reload.

import { ApiError } from '../api';
import { statusName, urgencyName } from '../i18n';
import type { Ctx, Unmount } from './app';
import { h, fill, when, saveBlob } from './dom';
import { type Filters, OPEN, STATUSES, matches, query } from './filters';
import { regionSearch } from './search';
import type { Case, CasePage } from './types';
import { w } from './words';
import { assigneeText } from './assignee';

export interface ListOptions {
  /** Fixed filters (the leader view); no filter bar when set. */
  fixed?: Filters;
  title?: string;
  test?: string;
}

/** The server's orders (`sort=`): newest pages by `before`, the others by `offset`. */
type Sort = 'newest' | 'oldest' | 'deadline' | 'urgency';

const URGENCY_RANK: Record<string, number> = { critical: 0, urgent: 1, normal: 2 };

/** The same orders in the browser, to place a case that arrives over the live stream. */
function compare(sort: Sort, a: Case, b: Case): number {
  const due = (c: Case) => c.deadline?.due_at ?? '9999';
  switch (sort) {
    case 'newest':
      return b.id - a.id;
    case 'oldest':
      return a.id - b.id;
    case 'deadline':
      return due(a) < due(b) ? -1 : due(a) > due(b) ? 1 : b.id - a.id;
    case 'urgency':
      return (URGENCY_RANK[a.urgency] ?? 9) - (URGENCY_RANK[b.urgency] ?? 9) || b.id - a.id;
  }
}

export function caseList(ctx: Ctx, root: HTMLElement, options: ListOptions): Unmount {
  const filters: Filters = { ...(options.fixed ?? {}) };
  if (!options.fixed) Object.assign(filters, savedFilters());
  const rows = new Map<number, Case>();
  let order: number[] = [];
  let nextBefore: number | null = null;
  let nextOffset: number | null = null;
  let sort: Sort = 'newest';
  let loadSeq = 0;
  let subscription: string | null = null;
  const fresh = new Set<number>();

  const test = options.test ?? 'case-list';
  const tbody = h('tbody', { test: `${test}-rows` });
  const status = h('p', { class: 'list-status', test: `${test}-status` });
  const more = h('button', { test: `${test}-more`, onclick: () => void load(false) }, w('more'));
  const liveBadge = h('span', { class: 'live-badge', test: 'live-badge' });
  const error = h('p', { class: 'error', test: `${test}-error`, role: 'alert' });

  /** A column header; those with a server order sort by it (the id and creation time
   *  toggle newest/oldest). */
  const header = (label: string, orders?: Sort[]) =>
    h(
      'th',
      orders
        ? {
            test: `sort-${orders[0]}`,
            class: 'sortable',
            'data-sorts': orders.join(' '),
            onclick: () => {
              sort = orders.length > 1 && sort === orders[0] ? orders[1] : orders[0];
              void load(true);
            },
          }
        : {},
      label,
    );
  const table = h(
    'table',
    { class: 'cases', test },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        header(w('id'), ['newest', 'oldest']),
        header(w('titleCol')),
        header(w('category')),
        header(w('status')),
        header(w('urgency'), ['urgency']),
        header(w('location')),
        header(w('source')),
        header(w('assignee')),
        header(w('createdAt'), ['newest', 'oldest']),
        header(w('dueAt'), ['deadline']),
      ),
    ),
    tbody,
  );

  function row(c: Case): HTMLTableRowElement {
    const region = [c.street?.name, c.village?.name, c.grid?.name].filter(Boolean).join(' / ');
    const deadline =
      c.overdue || c.deadline?.state === 'overdue'
        ? h('span', { class: 'tag overdue' }, w('overdue'))
        : c.deadline?.state === 'warning'
          ? h('span', { class: 'tag warning' }, w('warning'))
          : null;
    return h(
      'tr',
      {
        test: 'case-row',
        'data-id': c.id,
        'data-status': c.status,
        class: fresh.has(c.id) ? 'fresh' : null,
        onclick: () => ctx.go(`#/cases/${c.id}`),
      },
      h('td', { class: 'num' }, h('a', { href: `#/cases/${c.id}` }, String(c.id))),
      h('td', { class: 'title', title: c.description }, c.title, c.tags.map((t) => h('span', { class: 'tag' }, t))),
      h('td', {}, c.category.name ?? c.category.code),
      h('td', { test: 'case-status' }, h('span', { class: `status s-${c.status}` }, statusName(c.status))),
      h('td', {}, h('span', { class: `urgency u-${c.urgency}` }, urgencyName(c.urgency))),
      h('td', {}, region || (c.outside_district ? w('outside') : '—')),
      h('td', {}, c.source_name ?? c.source),
      h('td', { test: 'case-assignee' }, assigneeText(ctx, c.assignee)),
      h('td', { class: 'num' }, when(c.created_at)),
      h('td', { class: 'num' }, when(c.deadline?.due_at), deadline),
    );
  }

  function render(): void {
    const list = order.map((id) => rows.get(id)).filter((c): c is Case => !!c);
    fill(tbody, list.map(row));
    for (const th of table.querySelectorAll('th.sortable')) {
      const sorts = (th.getAttribute('data-sorts') ?? '').split(' ');
      th.classList.toggle('sorted', sorts.includes(sort));
      th.classList.toggle('desc', sort !== 'oldest');
    }
    table.dataset.sort = sort;
    const end = nextBefore === null && nextOffset === null;
    status.textContent = list.length === 0 ? w('empty') : `${list.length}${end ? ` · ${w('noMore')}` : ''}`;
    more.hidden = end;
    root.dataset.loaded = 'true';
  }

  async function load(reset: boolean): Promise<void> {
    const mine = ++loadSeq;
    error.textContent = '';
    if (reset) root.dataset.loaded = 'false';
    const p = query(filters);
    p.set('limit', '50');
    if (sort !== 'newest') p.set('sort', sort);
    if (!reset && nextBefore !== null) p.set('before', String(nextBefore));
    if (!reset && nextOffset !== null) p.set('offset', String(nextOffset));
    try {
      const page = await ctx.api.get<CasePage>(`/api/cases?${p}`);
      if (mine !== loadSeq) return;
      if (reset) {
        rows.clear();
        order = [];
        fresh.clear();
      }
      for (const c of page.items) {
        if (!rows.has(c.id)) order.push(c.id);
        rows.set(c.id, c);
      }
      nextBefore = page.next_before ?? null;
      nextOffset = page.next_offset ?? null;
      render();
    } catch (err) {
      if (mine !== loadSeq) return;
      error.textContent = err instanceof ApiError ? err.detail : String(err);
      root.dataset.loaded = 'true';
    }
  }

  function subscribe(): void {
    if (subscription) ctx.live.unsubscribe(subscription);
    subscription = ctx.live.subscribe({
      channel: 'cases',
      filter: filters.region ? { region: filters.region.code } : undefined,
      // The REST page is the list's state; after a gap the stream could not fill, reload it.
      onSnapshot: (_items, afterNotRecovered) => {
        if (afterNotRecovered) void load(true);
      },
      onDelta: (data) => {
        const c = data as Case;
        if (!c || typeof c.id !== 'number') return;
        const known = rows.has(c.id);
        if (known) {
          rows.set(c.id, { ...rows.get(c.id)!, ...c });
        } else if (matches(c, filters, ctx.me.username)) {
          // In its place in the order: at the top for the newest first; elsewhere only
          // within the loaded pages (beyond them, "more" brings it).
          const at = order.findIndex((id) => compare(sort, c, rows.get(id)!) < 0);
          if (at < 0 && (nextBefore !== null || nextOffset !== null)) return;
          rows.set(c.id, c);
          order.splice(at < 0 ? order.length : at, 0, c.id);
          fresh.add(c.id);
        } else {
          return;
        }
        render();
      },
    });
  }

  const apply = () => {
    saveFilters(filters);
    void load(true);
    subscribe();
  };

  const exportAs = async (kind: 'csv' | 'xlsx', button: HTMLButtonElement) => {
    error.textContent = '';
    button.disabled = true;
    try {
      const { blob, fileName } = await ctx.api.blob(`/api/cases/export.${kind}?${query(filters)}`);
      saveBlob(blob, fileName ?? `cases.${kind}`);
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.detail : String(err);
    } finally {
      button.disabled = false;
    }
  };

  const bar = options.fixed ? null : filterBar(ctx, filters, apply);
  const exports = ctx.can('cases.export')
    ? h(
        'span',
        { class: 'exports' },
        h('button', { test: 'export-csv', onclick: (e: Event) => void exportAs('csv', e.currentTarget as HTMLButtonElement) }, w('exportCsv')),
        h('button', { test: 'export-xlsx', onclick: (e: Event) => void exportAs('xlsx', e.currentTarget as HTMLButtonElement) }, w('exportXlsx')),
      )
    : null;
  const offLive = ctx.onLive((s) => {
    liveBadge.textContent = s === 'live' ? `● ${w('liveOn')}` : w('liveOff');
    liveBadge.className = `live-badge ${s}`;
  });

  fill(
    root,
    h(
      'section',
      { class: 'list-screen', test: `${test}-screen` },
      h('div', { class: 'list-head' }, h('h2', {}, options.title ?? w('navCases')), liveBadge, exports),
      bar,
      error,
      h('div', { class: 'table-wrap' }, table),
      h('div', { class: 'list-foot' }, status, more),
    ),
  );
  void load(true);
  subscribe();
  return () => {
    offLive();
    if (subscription) ctx.live.unsubscribe(subscription);
    loadSeq++;
  };
}

const SAVED = 'cockpit.workbench.filters';

function savedFilters(): Filters {
  try {
    return JSON.parse(sessionStorage.getItem(SAVED) ?? '{}') as Filters;
  } catch {
    return {};
  }
}

function saveFilters(f: Filters): void {
  sessionStorage.setItem(SAVED, JSON.stringify(f));
}

function filterBar(ctx: Ctx, f: Filters, apply: () => void): HTMLElement {
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
  const categories: [string, string][] = ctx.refs.categories.map((c) => [c.code, c.leaf && c.group ? `　${c.name}` : c.name]);
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
    h('label', {}, w('urgency'), select('filter-urgency', f.urgency, ['normal', 'urgent', 'critical'].map((u): [string, string] => [u, urgencyName(u)]), set('urgency'))),
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
  const options = (items: Named[]) => [h('option', { value: '' }, '—'), ...items.map((r) => h('option', { value: r.code }, r.name))];
  const streets: Named[] = ctx.refs.streets.features.map((f) => ({ code: String(f.properties?.code), name: String(f.properties?.name) }));
  const street = h('select', { test: 'filter-street' }, options(streets));
  const village = h('select', { test: 'filter-village', disabled: true });
  const grid = h('select', { test: 'filter-grid', disabled: true });
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
    fill(village, []);
    fill(grid, []);
    village.disabled = grid.disabled = true;
    if (!street.value) return pick(null, '');
    pick(street.value, label(street));
    fill(village, options(await children('village', street.value)));
    village.disabled = false;
    village.dataset.loaded = street.value;
  };
  village.onchange = async () => {
    fill(grid, []);
    grid.disabled = true;
    if (!village.value) return pick(street.value, label(street));
    pick(village.value, `${label(street)} / ${label(village)}`);
    fill(grid, options(await children('grid', village.value)));
    grid.disabled = false;
    grid.dataset.loaded = village.value;
  };
  grid.onchange = () => {
    if (!grid.value) return pick(village.value, `${label(street)} / ${label(village)}`);
    pick(grid.value, `${label(street)} / ${label(village)} / ${label(grid)}`);
  };
  return h('span', { class: 'region-tree' }, street, village, grid);
}
