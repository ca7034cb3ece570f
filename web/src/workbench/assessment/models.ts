// The assessment models (#/assessment/models) and one model's editor
// (#/assessment/models/<id>, #/assessment/models/new): its names, subject and items, each
// with its measure (a case-handling rate or an indicator), weight and scoring rule with
// that rule's numbers; saved whole (POST to create, PUT to replace). The server's refusal
// is shown beside the input its field names (`items[1].weight`, `items[0].measure.id`).
// Those who do not keep models (indicators.manage) see the form disabled.

import { ApiError } from '../../shared/api';
import type { Ctx, Unmount } from '../app';
import { h, fill, when } from '../dom';
import { explain } from '../words';
import type { Better, Item, MeasureKind, Model, ModelView, Rule, Scoring } from './types';
import { aw, awf, named, type Key } from './words';

export function modelList(ctx: Ctx, el: HTMLElement): Unmount {
  const screen = h('div', { test: 'model-list', 'data-loaded': 'false' });
  const error = h('p', { class: 'error', role: 'alert' });
  el.append(screen);
  void ctx.api
    .get<{ models: ModelView[] }>('/api/assessment/models')
    .then((a) => {
      const head = h('tr', {}, [aw('id'), aw('name'), aw('subject'), aw('items'), aw('version'), aw('updated')].map((t) => h('th', {}, t)));
      const rows = a.models.map((m) =>
        h(
          'tr',
          { test: 'model-row', 'data-id': m.model.id },
          h('td', { class: 'name' }, h('a', { href: `#/assessment/models/${encodeURIComponent(m.model.id)}` }, m.model.id)),
          h('td', { class: 'name' }, named(m.model.name)),
          h('td', {}, aw(m.model.subject)),
          h('td', {}, awf('itemCount', { n: m.model.items.length })),
          h('td', {}, m.version),
          h('td', {}, `${m.updated_by} · ${when(m.updated_at)}`),
        ),
      );
      fill(
        screen,
        ctx.can('indicators.manage') ? h('p', {}, h('a', { href: '#/assessment/models/new', test: 'model-new' }, aw('newModel'))) : null,
        h('table', {}, h('thead', {}, head), h('tbody', {}, rows)),
      );
    })
    .catch((err) => fill(screen, error, explain(err)))
    .finally(() => (screen.dataset.loaded = 'true'));
  return () => {};
}

const KINDS: MeasureKind[] = ['on_time_rate', 'satisfaction_rate', 'overdue_rate', 'indicator'];
const RULES: Rule[] = ['linear', 'target', 'relative'];

/** A select of `values`, each named by its word. */
function choice(field: string, values: string[], word: (v: string) => string, value: string): HTMLSelectElement {
  const s = h('select', { 'data-field': field }, values.map((v) => h('option', { value: v }, word(v))));
  s.value = value;
  return s;
}

function numberInput(field: string, value: number | undefined): HTMLInputElement {
  return h('input', { type: 'number', step: 'any', size: 6, 'data-field': field, value: value ?? '' });
}

const labelled = (key: Key, input: HTMLElement) => h('label', {}, aw(key), input);

/** One item's inputs; `read` gives the item as they hold it. */
function itemForm(index: number, item: Item, remove: () => void): { el: HTMLElement; read: () => Item } {
  const p = `items[${index}]`;
  const zh = h('input', { 'data-field': `${p}.name.zh`, value: item.name.zh, size: 16 });
  const en = h('input', { 'data-field': `${p}.name.en`, value: item.name.en, size: 16 });
  const kind = choice(`${p}.measure.kind`, KINDS, (k) => aw(k === 'indicator' ? 'indicatorMeasure' : (k as Key)), item.measure.kind);
  const id = h('input', { 'data-field': `${p}.measure.id`, value: item.measure.id ?? '', size: 20 });
  const weight = numberInput(`${p}.weight`, item.weight);
  const rule = choice(`${p}.scoring.rule`, RULES, (r) => aw(r as Key), item.scoring.rule);
  const s = item.scoring;
  const best = numberInput(`${p}.scoring.best`, s.rule === 'linear' ? s.best : 100);
  const worst = numberInput(`${p}.scoring.worst`, s.rule === 'linear' ? s.worst : 0);
  const target = numberInput(`${p}.scoring.target`, s.rule === 'target' ? s.target : undefined);
  const better = choice(`${p}.scoring.better`, ['higher', 'lower'], (b) => aw(b as Key), s.rule === 'linear' ? 'higher' : s.better);
  const floor = numberInput(`${p}.scoring.floor`, s.rule === 'relative' ? s.floor : 0);
  const idLabel = labelled('indicator', id);
  const numbers = {
    linear: [labelled('best', best), labelled('worst', worst)],
    target: [labelled('targetValue', target), labelled('better', better)],
    relative: [labelled('better', better), labelled('floor', floor)],
  };
  const ruleBox = h('span', {});
  const sync = () => {
    idLabel.hidden = kind.value !== 'indicator';
    fill(ruleBox, numbers[rule.value as Rule]);
  };
  kind.addEventListener('change', sync);
  rule.addEventListener('change', sync);
  sync();
  const el = h(
    'div',
    { class: 'model-item', test: 'model-item', 'data-index': index },
    h('div', {}, h('strong', {}, `${index + 1}.`), ' ', labelled('nameZh', zh), labelled('nameEn', en), labelled('weight', weight), h('button', { type: 'button', class: 'link', test: 'item-remove', onclick: remove }, aw('removeItem'))),
    h('div', {}, labelled('measure', kind), idLabel),
    h('div', {}, labelled('rule', rule), ruleBox),
  );
  const read = (): Item => {
    const n = (i: HTMLInputElement) => (i.value.trim() === '' ? NaN : Number(i.value));
    const scoring: Scoring =
      rule.value === 'linear'
        ? { rule: 'linear', best: n(best), worst: n(worst) }
        : rule.value === 'target'
          ? { rule: 'target', target: n(target), better: better.value as Better }
          : { rule: 'relative', better: better.value as Better, floor: n(floor) };
    const k = kind.value as MeasureKind;
    return {
      name: { zh: zh.value.trim(), en: en.value.trim() },
      measure: k === 'indicator' ? { kind: k, id: id.value.trim() } : { kind: k },
      weight: n(weight),
      scoring,
    };
  };
  return { el, read };
}

export function modelEditor(ctx: Ctx, el: HTMLElement, id: string | null): Unmount {
  const manage = ctx.can('indicators.manage');
  const screen = h('div', { test: 'model-edit', 'data-loaded': 'false', 'data-id': id ?? '' });
  const idInput = h('input', { 'data-field': 'id', test: 'model-id', size: 28 });
  const zh = h('input', { 'data-field': 'name.zh', test: 'model-name-zh', size: 28 });
  const en = h('input', { 'data-field': 'name.en', size: 28 });
  const subject = choice('subject', ['streets', 'departments'], (s) => aw(s as Key), 'streets');
  const itemsBox = h('div', { 'data-field': 'items' });
  const error = h('p', { class: 'error', role: 'alert', test: 'model-error' });
  const status = h('p', { class: 'muted', test: 'model-status' });
  let forms: ReturnType<typeof itemForm>[] = [];
  let stored: ModelView | null = null;

  function showItems(items: Item[]): void {
    forms = items.map((item, i) =>
      itemForm(i, item, () => {
        showItems(forms.map((f) => f.read()).filter((_, j) => j !== i));
      }),
    );
    fill(itemsBox, forms.map((f) => f.el));
    if (!manage) for (const input of screen.querySelectorAll('input, select, button.link')) input.setAttribute('disabled', '');
  }

  function read(): Model {
    return { id: idInput.value.trim(), name: { zh: zh.value.trim(), en: en.value.trim() }, subject: subject.value as Model['subject'], items: forms.map((f) => f.read()) };
  }

  function clearErrors(): void {
    error.textContent = '';
    delete error.dataset.field;
    for (const m of screen.querySelectorAll('.field-error')) m.remove();
    for (const i of screen.querySelectorAll('.invalid')) i.classList.remove('invalid');
  }

  /** The input a field names, or the nearest one above it (`items[0].scoring` → the rule). */
  function inputOf(field: string): HTMLElement | null {
    for (let f = field; f; f = f.replace(/(\.[^.[\]]+|\[\d+\])$/, '')) {
      const found = screen.querySelector<HTMLElement>(`[data-field="${CSS.escape(f)}"]`) ?? screen.querySelector<HTMLElement>(`[data-field="${CSS.escape(f)}.rule"]`);
      if (found) return found;
      if (!/(\.[^.[\]]+|\[\d+\])$/.test(f)) break;
    }
    return null;
  }

  function refuse(err: unknown): void {
    error.textContent = explain(err);
    const field = err instanceof ApiError ? err.problem?.field : undefined;
    if (!field) return;
    error.dataset.field = field;
    const input = inputOf(field);
    if (!input) return;
    input.classList.add('invalid');
    input.after(h('span', { class: 'field-error', test: 'field-error', 'data-for': field }, err instanceof ApiError ? (err.problem?.detail ?? '') : ''));
    input.focus();
  }

  function showStored(v: ModelView): void {
    stored = v;
    idInput.value = v.model.id;
    idInput.readOnly = true;
    zh.value = v.model.name.zh;
    en.value = v.model.name.en;
    subject.value = v.model.subject;
    showItems(v.model.items);
    screen.dataset.version = String(v.version);
    status.textContent = `${aw('version')} ${v.version} · ${v.updated_by} · ${when(v.updated_at)}`;
  }

  async function save(): Promise<void> {
    clearErrors();
    screen.dataset.saved = 'false';
    try {
      const m = read();
      const v = stored ? await ctx.api.put<ModelView>(`/api/assessment/models/${encodeURIComponent(stored.model.id)}`, m) : await ctx.api.post<ModelView>('/api/assessment/models', m);
      if (!stored) {
        ctx.go(`#/assessment/models/${encodeURIComponent(v.model.id)}`);
        return;
      }
      showStored(v);
      status.textContent = awf('saved', { version: v.version });
      screen.dataset.saved = 'true';
    } catch (err) {
      refuse(err);
    }
  }

  const form = h(
    'form',
    {
      class: 'model-form',
      test: 'model-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void save();
      },
    },
    h('div', {}, labelled('id', idInput), labelled('subject', subject)),
    h('div', {}, labelled('nameZh', zh), labelled('nameEn', en)),
    h('h3', {}, aw('items')),
    itemsBox,
    manage
      ? h('p', {}, h('button', { type: 'button', test: 'item-add', onclick: () => showItems([...forms.map((f) => f.read()), blankItem()]) }, aw('addItem')), ' ', h('button', { type: 'submit', class: 'primary', test: 'model-save' }, aw('save')))
      : null,
  );
  fill(screen, h('div', { class: 'list-head' }, h('h2', { test: 'model-title' }, id ?? aw('newModel')), h('a', { href: '#/assessment/models', class: 'exports' }, aw('back'))), status, form, error);
  el.append(screen);
  if (id) {
    void ctx.api
      .get<ModelView>(`/api/assessment/models/${encodeURIComponent(id)}`)
      .then(showStored)
      .catch((err) => (error.textContent = explain(err)))
      .finally(() => (screen.dataset.loaded = 'true'));
  } else {
    showItems([blankItem()]);
    screen.dataset.loaded = 'true';
  }
  return () => {};
}

function blankItem(): Item {
  return { name: { zh: '', en: '' }, measure: { kind: 'on_time_rate' }, weight: 100, scoring: { rule: 'linear', best: 100, worst: 80 } };
}
