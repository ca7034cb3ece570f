// The case list: filters, a table sorted by any column, keyset paging ("more"), CSV and
// Excel exports with the same filters (downloaded with the session's token), and live
// updates from the `cases` channel: a new case that matches the filters appears at the
// top, a changed one is updated in place, without a reload.

import { statusName, urgencyName } from '../shared/casewords';
import type { Ctx, Unmount } from './app';
import { h, fill, when, saveBlob } from './dom';
import { type Filters, matches, query, savedFilters, saveFilters } from './filters';
import { filterBar } from './filterbar';
import type { Case, CasePage } from './types';
import { explain, w } from './words';
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
      h('td', { class: 'nowrap' }, c.source_name ?? c.source),
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
      ctx.refs.learn(page.names);
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
      error.textContent = explain(err);
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
      error.textContent = explain(err);
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
