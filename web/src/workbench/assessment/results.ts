// A model's results for a month (#/assessment): the rank, name, each item's value ("—" for
// no data, never 0) and points, and the total, highest first; the publication's state and,
// for those who keep models (indicators.manage), 发布/撤回. Others see a month's results
// only once published: before, the server answers 404 and the screen says 未发布.

import { ApiError } from '../../shared/api';
import type { Ctx, Unmount } from '../app';
import { h, fill, when } from '../dom';
import { explain } from '../words';
import { monthPicker, num } from './month';
import type { ModelView, Results } from './types';
import { aw, awf, named } from './words';

export function resultsScreen(ctx: Ctx, el: HTMLElement): Unmount {
  const manage = ctx.can('indicators.manage');
  const screen = h('div', { test: 'assessment-results', 'data-loaded': 'false' });
  const model = h('select', { test: 'assessment-model' });
  const month = monthPicker(() => void load());
  const state = h('span', { class: 'state', test: 'assessment-state' });
  const action = h('span', {});
  const error = h('p', { class: 'error', role: 'alert', test: 'assessment-error' });
  const table = h('div', { class: 'table-wrap' });
  model.addEventListener('change', () => void load());
  let alive = true;
  let shown: Results | null = null;
  // Loads overlap when the pickers change quickly: only the latest is shown.
  let latest = 0;

  fill(
    screen,
    h('div', { class: 'pickers' }, h('label', {}, aw('model'), model), h('label', {}, aw('month'), month), state, action),
    error,
    table,
  );
  el.append(screen);

  async function load(): Promise<void> {
    const mine = ++latest;
    delete screen.dataset.shown;
    screen.dataset.loaded = 'false';
    error.textContent = '';
    shown = null;
    fill(table);
    fill(action);
    const q = `model=${encodeURIComponent(model.value)}&month=${encodeURIComponent(month.value)}`;
    try {
      const r = await ctx.api.get<Results>(`/api/assessment/results?${q}`);
      if (!alive || mine !== latest) return;
      show(r);
    } catch (err) {
      if (!alive || mine !== latest) return;
      if (err instanceof ApiError && err.status === 404 && !manage) {
        // Withheld: not published for those who do not keep models.
        showState(false, null, null);
        error.textContent = aw('notPublished');
      } else error.textContent = explain(err);
    } finally {
      if (alive && mine === latest) {
        // What the screen shows, for those who wait on it.
        screen.dataset.shown = `${model.value}@${month.value}`;
        screen.dataset.loaded = 'true';
      }
    }
  }

  function showState(published: boolean, who: string | null, at: string | null): void {
    screen.dataset.published = String(published);
    state.className = `state ${published ? 'on' : 'off'}`;
    state.textContent = published ? awf('published', { who: who ?? '', when: when(at) }) : aw('unpublished');
  }

  function show(r: Results): void {
    shown = r;
    showState(r.published, r.decided_by, r.decided_at);
    if (manage) {
      fill(
        action,
        h(
          'button',
          { test: r.published ? 'assessment-withdraw' : 'assessment-publish', onclick: () => void publish(!r.published) },
          r.published ? aw('withdraw') : aw('publish'),
        ),
      );
    }
    const head = h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { rowspan: 2 }, aw('rank')),
        h('th', { rowspan: 2 }, aw('name')),
        r.items.map((n) => h('th', { colspan: 2 }, named(n))),
        h('th', { rowspan: 2 }, aw('total'), h('br'), h('small', {}, awf('outOf', { points: num(r.points) }))),
      ),
      h('tr', {}, r.items.flatMap(() => [h('th', {}, aw('value')), h('th', {}, aw('points'))])),
    );
    const rows = r.results.map((s) =>
      h(
        'tr',
        { test: 'assessment-row', 'data-subject': s.subject },
        h('td', { test: 'rank' }, s.rank),
        h('td', { class: 'name', test: 'name' }, s.name),
        s.items.flatMap((i) => [h('td', { test: 'item-value' }, num(i.value)), h('td', { test: 'item-points' }, num(i.points))]),
        h('td', { test: 'total' }, num(s.total)),
      ),
    );
    fill(table, rows.length ? h('table', { test: 'assessment-table' }, head, h('tbody', {}, rows)) : h('p', { class: 'muted' }, aw('none')));
  }

  async function publish(on: boolean): Promise<void> {
    if (!shown) return;
    error.textContent = '';
    try {
      await ctx.api.put('/api/assessment/results/published', { model: shown.model, month: shown.month, published: on });
      await load();
    } catch (err) {
      error.textContent = explain(err);
    }
  }

  void ctx.api
    .get<{ models: ModelView[] }>('/api/assessment/models')
    .then((a) => {
      if (!alive) return;
      fill(model, a.models.map((m) => h('option', { value: m.model.id }, named(m.model.name))));
      return load();
    })
    .catch((err) => {
      error.textContent = explain(err);
      screen.dataset.loaded = 'true';
    });
  return () => {
    alive = false;
  };
}
