// The streets' vital-sign index for a month (#/assessment/vital-signs): each street's
// index with its five-colour rating and rank, the city and governance indices, and its
// sixteen domain scores in the tender's order; "—" where there is no data.

import { domainName } from '../../shared/catalogue';
import type { Ctx, Unmount } from '../app';
import { h, fill } from '../dom';
import { explain } from '../words';
import { monthPicker, num } from './month';
import type { VitalSigns } from './types';
import { aw, type Key } from './words';

const COLOURS = ['green', 'blue', 'yellow', 'orange', 'red'];

export function vitalsScreen(ctx: Ctx, el: HTMLElement): Unmount {
  const screen = h('div', { test: 'vital-signs', 'data-loaded': 'false' });
  const month = monthPicker(() => void load());
  const error = h('p', { class: 'error', role: 'alert', test: 'vital-error' });
  const table = h('div', { class: 'table-wrap' });
  let alive = true;
  // Loads overlap when the month changes quickly: only the latest is shown.
  let latest = 0;
  fill(screen, h('div', { class: 'pickers' }, h('label', {}, aw('month'), month)), error, table);
  el.append(screen);

  async function load(): Promise<void> {
    const mine = ++latest;
    delete screen.dataset.shown;
    screen.dataset.loaded = 'false';
    error.textContent = '';
    try {
      const v = await ctx.api.get<VitalSigns>(`/api/indicators/vital-signs?month=${encodeURIComponent(month.value)}`);
      if (alive && mine === latest) show(v);
    } catch (err) {
      if (alive && mine === latest) error.textContent = explain(err);
    } finally {
      if (alive && mine === latest) {
        screen.dataset.shown = month.value;
        screen.dataset.loaded = 'true';
      }
    }
  }

  function show(v: VitalSigns): void {
    const domains = v.streets[0]?.domains.map((d) => d.domain) ?? [];
    // Ranked streets first, those with no data after, in the city's order.
    const streets = [...v.streets].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
    const head = h(
      'tr',
      {},
      [aw('rank'), aw('name'), aw('index'), aw('colour'), aw('city'), aw('governance')].map((t) => h('th', {}, t)),
      domains.map((d) => h('th', {}, domainName(d))),
    );
    const rows = streets.map((s) =>
      h(
        'tr',
        { test: 'vital-row', 'data-street': s.street, 'data-colour': s.colour ?? '' },
        h('td', { test: 'vital-rank' }, s.rank ?? '—'),
        h('td', { class: 'name' }, s.name),
        h('td', { test: 'vital-index' }, num(s.index)),
        h(
          'td',
          { test: 'vital-colour' },
          s.colour && COLOURS.includes(s.colour) ? [h('span', { class: `swatch ${s.colour}` }), aw(s.colour as Key)] : '—',
        ),
        h('td', { test: 'vital-city' }, num(s.city)),
        h('td', { test: 'vital-governance' }, num(s.governance)),
        s.domains.map((d) => h('td', { test: 'vital-domain', 'data-domain': d.domain }, num(d.score))),
      ),
    );
    fill(table, h('table', { test: 'vital-table' }, h('thead', {}, head), h('tbody', {}, rows)));
  }

  void load();
  return () => {
    alive = false;
  };
}
