// Several models' results for one month side by side (#/assessment/compare): two to five
// models assessing the same subjects (once one is ticked, those of the other subject are
// disabled), each subject's total and rank under each, ordered by the first.

import type { Ctx, Unmount } from '../app';
import { h, fill } from '../dom';
import { explain } from '../words';
import { monthPicker, num } from './month';
import type { Comparison, ModelView } from './types';
import { aw, named } from './words';

export function compareScreen(ctx: Ctx, el: HTMLElement): Unmount {
  const screen = h('div', { test: 'assessment-compare', 'data-loaded': 'false' });
  const boxes = h('span', { class: 'pickers' });
  const month = monthPicker(() => void run());
  const go = h('button', { class: 'primary', test: 'compare-run', onclick: () => void run() }, aw('compareRun'));
  const error = h('p', { class: 'error', role: 'alert', test: 'compare-error' });
  const table = h('div', { class: 'table-wrap' });
  let models: ModelView[] = [];
  let alive = true;

  fill(screen, h('p', { class: 'muted' }, aw('pickModels')), boxes, h('div', { class: 'pickers' }, h('label', {}, aw('month'), month), go), error, table);
  el.append(screen);

  const ticked = () => [...boxes.querySelectorAll<HTMLInputElement>('input:checked')].map((b) => b.value);

  function limit(): void {
    const first = models.find((m) => ticked().includes(m.model.id));
    for (const b of boxes.querySelectorAll<HTMLInputElement>('input')) {
      const m = models.find((x) => x.model.id === b.value);
      b.disabled = !!first && !!m && m.model.subject !== first.model.subject;
    }
    go.disabled = ticked().length < 2 || ticked().length > 5;
  }

  async function run(): Promise<void> {
    const ids = ticked();
    if (ids.length < 2) return;
    delete screen.dataset.shown;
    screen.dataset.loaded = 'false';
    error.textContent = '';
    fill(table);
    try {
      const c = await ctx.api.get<Comparison>(`/api/assessment/compare?models=${ids.map(encodeURIComponent).join(',')}&month=${month.value}`);
      if (alive) show(c);
      screen.dataset.shown = `${ids.join(',')}@${month.value}`;
    } catch (err) {
      if (alive) error.textContent = explain(err);
    } finally {
      if (alive) screen.dataset.loaded = 'true';
    }
  }

  function show(c: Comparison): void {
    const title = (id: string) => {
      const m = models.find((x) => x.model.id === id);
      return m ? named(m.model.name) : id;
    };
    const head = h(
      'thead',
      {},
      h('tr', {}, h('th', { rowspan: 2 }, aw('name')), c.models.map((id) => h('th', { colspan: 2 }, title(id)))),
      h('tr', {}, c.models.flatMap(() => [h('th', {}, aw('total')), h('th', {}, aw('rank'))])),
    );
    const rows = c.subjects.map((s) =>
      h(
        'tr',
        { test: 'compare-row', 'data-subject': s.subject },
        h('td', { class: 'name' }, s.name),
        s.totals.flatMap((t, i) => [h('td', { test: 'compare-total' }, num(t)), h('td', { test: 'compare-rank' }, s.ranks[i] || '—')]),
      ),
    );
    fill(table, h('table', { test: 'compare-table' }, head, h('tbody', {}, rows)));
  }

  void ctx.api
    .get<{ models: ModelView[] }>('/api/assessment/models')
    .then((a) => {
      if (!alive) return;
      models = a.models;
      fill(
        boxes,
        models.map((m) =>
          h(
            'label',
            {},
            h('input', { type: 'checkbox', value: m.model.id, test: 'compare-model', onchange: limit }),
            `${named(m.model.name)}（${aw(m.model.subject)}）`,
          ),
        ),
      );
      limit();
      screen.dataset.loaded = 'true';
    })
    .catch((err) => {
      error.textContent = explain(err);
      screen.dataset.loaded = 'true';
    });
  return () => {
    alive = false;
  };
}
