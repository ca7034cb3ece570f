// One indicator of the centre (#/indicators/<id>, #/indicators/new): every field of the
// catalogue entry in one form, saved whole (POST to create, PUT to replace); the server's
// refusal is shown beside the field it names (`name.zh`, `regions[2]`, `owner.department`).
// A stored indicator also has publish or withdraw, delete after a confirmation, and above
// its form the manual entry with its stored values (entry.ts).

import { ApiError } from '../../shared/api';
import {
  DOMAINS,
  FREQUENCIES,
  SYSTEMS,
  type CatalogueEntry,
  type IndicatorAnswer,
  domainName,
  frequencyName,
  indicatorName,
  systemName,
} from '../../shared/catalogue';
import type { Ctx, Unmount } from '../app';
import { h, fill, when } from '../dom';
import { explain } from '../words';
import { manualEntry } from './entry';
import { iw, iwf, type Key } from './words';

/** The form's inputs, by the field of the entry they hold. */
type Inputs = ReturnType<typeof inputs>;

function inputs() {
  const text = (test: string, size = 40) => h('input', { test: `indicator-${test}`, size });
  const choice = (test: string, options: [string, string][]) =>
    h('select', { test: `indicator-${test}` }, options.map(([v, label]) => h('option', { value: v }, label)));
  return {
    id: text('id', 32),
    'name.zh': text('name-zh'),
    'name.en': text('name-en'),
    definition: h('textarea', { test: 'indicator-definition', rows: 3, cols: 60 }),
    system: choice('system', SYSTEMS.map((s) => [s, systemName(s)])),
    domain: choice('domain', DOMAINS.map((d) => [d, domainName(d)])),
    unit: text('unit', 8),
    better: choice('better', [
      ['higher', iw('betterHigher')],
      ['lower', iw('betterLower')],
    ]),
    'owner.department': text('department', 24),
    'owner.person': text('person', 16),
    leader: text('leader', 16),
    frequency: choice('frequency', FREQUENCIES.map((f) => [f, frequencyName(f)])),
    target: h('input', { test: 'indicator-target', type: 'number', step: 'any', size: 10 }),
    regions: text('regions'),
    public: h('input', { test: 'indicator-public', type: 'checkbox' }),
    keywords: text('keywords'),
    published: h('input', { test: 'indicator-published', type: 'checkbox' }),
    source: text('source'),
  };
}

/** The form's rows, two to a line (the definition takes a line of its own). */
const LABELS: Record<keyof Inputs, Key> = {
  id: 'id',
  'name.zh': 'nameZh',
  'name.en': 'nameEn',
  unit: 'unit',
  definition: 'definition',
  system: 'system',
  domain: 'domain',
  better: 'better',
  frequency: 'frequency',
  'owner.department': 'department',
  'owner.person': 'person',
  leader: 'leader',
  target: 'target',
  regions: 'regions',
  keywords: 'keywords',
  public: 'public',
  published: 'publishedField',
  source: 'source',
};

const words = (text: string) => text.split(/[\s,，、]+/).filter(Boolean);

function show(f: Inputs, e: CatalogueEntry): void {
  f.id.value = e.id;
  f['name.zh'].value = e.name.zh;
  f['name.en'].value = e.name.en;
  f.definition.value = e.definition;
  f.system.value = e.system;
  f.domain.value = e.domain;
  f.unit.value = e.unit;
  f.better.value = e.better;
  f['owner.department'].value = e.owner.department;
  f['owner.person'].value = e.owner.person;
  f.leader.value = e.leader;
  f.frequency.value = e.frequency;
  f.target.value = e.target === null || e.target === undefined ? '' : String(e.target);
  f.regions.value = e.regions.join(' ');
  f.public.checked = e.public;
  f.keywords.value = e.keywords.join(' ');
  f.published.checked = e.published;
  f.source.value = e.source ?? '';
}

function read(f: Inputs): CatalogueEntry {
  const target = f.target.value.trim();
  return {
    id: f.id.value.trim(),
    name: { zh: f['name.zh'].value.trim(), en: f['name.en'].value.trim() },
    definition: f.definition.value.trim(),
    system: f.system.value as CatalogueEntry['system'],
    domain: f.domain.value as CatalogueEntry['domain'],
    unit: f.unit.value.trim(),
    better: f.better.value as CatalogueEntry['better'],
    owner: { department: f['owner.department'].value.trim(), person: f['owner.person'].value.trim() },
    leader: f.leader.value.trim(),
    frequency: f.frequency.value as CatalogueEntry['frequency'],
    target: target === '' ? null : Number(target),
    regions: words(f.regions.value),
    public: f.public.checked,
    keywords: words(f.keywords.value),
    published: f.published.checked,
    source: f.source.value.trim() || null,
  };
}

/** The input a problem's field names: `regions[2]` is the regions' input. */
function fieldOf(f: Inputs, field: string | undefined): HTMLElement | null {
  if (!field) return null;
  const key = field.replace(/\[\d+\]$/, '') as keyof Inputs;
  return key in f ? f[key] : null;
}

export function indicatorScreen(ctx: Ctx, el: HTMLElement, id: string | null): Unmount {
  const manage = ctx.can('indicators.manage');
  const f = inputs();
  const screen = h('section', { class: 'indicator-centre indicator-edit', test: 'indicator-edit', 'data-id': id ?? '' });
  const error = h('p', { class: 'error', role: 'alert', test: 'indicator-error' });
  const status = h('p', { class: 'muted', test: 'indicator-status' });
  const actions = h('div', { class: 'indicator-actions' });
  const below = h('div', { class: 'indicator-below' });
  const title = h('h2', { test: 'indicator-title' }, id ?? iw('newIndicator'));
  const messages = new Map<keyof Inputs, HTMLElement>();
  let stored: IndicatorAnswer | null = null;

  const rows = (Object.keys(LABELS) as (keyof Inputs)[]).map((key) => {
    const message = h('span', { class: 'field-error', test: `indicator-error-${key.replace('.', '-')}` });
    messages.set(key, message);
    return h('label', { class: 'field', 'data-field': key }, h('span', {}, iw(LABELS[key])), f[key], message);
  });
  if (!manage) for (const input of Object.values(f)) input.setAttribute('disabled', '');

  function clearErrors(): void {
    error.textContent = '';
    delete error.dataset.field;
    for (const [key, m] of messages) {
      m.textContent = '';
      f[key].classList.remove('invalid');
    }
  }

  function refuse(err: unknown): void {
    error.textContent = explain(err);
    const field = err instanceof ApiError ? err.problem?.field : undefined;
    if (!field) return;
    error.dataset.field = field;
    const input = fieldOf(f, field);
    if (!input) return;
    input.classList.add('invalid');
    const key = field.replace(/\[\d+\]$/, '') as keyof Inputs;
    const m = messages.get(key);
    if (m) m.textContent = err instanceof ApiError ? (err.problem?.detail ?? '') : '';
    input.focus();
  }

  function showStored(a: IndicatorAnswer): void {
    stored = a;
    show(f, a.indicator);
    f.id.setAttribute('readonly', '');
    screen.dataset.id = a.indicator.id;
    screen.dataset.published = String(a.indicator.published);
    title.textContent = `${indicatorName(a.indicator)} · ${a.indicator.id}`;
    status.textContent = iwf('updated', { who: a.updated_by, when: when(a.updated_at) });
    fill(
      actions,
      manage
        ? h(
            'button',
            { test: a.indicator.published ? 'indicator-withdraw' : 'indicator-publish', onclick: () => void publish(!a.indicator.published) },
            a.indicator.published ? iw('withdraw') : iw('publish'),
          )
        : null,
      manage ? h('button', { class: 'danger', test: 'indicator-delete', onclick: () => void remove() }, iw('remove')) : null,
    );
  }

  const path = (id: string) => `/api/indicators/catalogue/${encodeURIComponent(id)}`;

  async function save(): Promise<void> {
    clearErrors();
    screen.dataset.saved = 'false';
    const entry = read(f);
    try {
      const a = stored ? await ctx.api.put<IndicatorAnswer>(path(stored.indicator.id), entry) : await ctx.api.post<IndicatorAnswer>('/api/indicators/catalogue', entry);
      screen.dataset.saved = 'true';
      if (!stored) {
        // The new indicator's own address: its values can be entered there.
        ctx.go(`#/indicators/${encodeURIComponent(a.indicator.id)}`);
        return;
      }
      showStored(a);
      status.textContent = `${iw('saved')} · ${status.textContent}`;
    } catch (err) {
      refuse(err);
    }
  }

  async function publish(on: boolean): Promise<void> {
    if (!stored) return;
    clearErrors();
    try {
      showStored(await ctx.api.put<IndicatorAnswer>(`${path(stored.indicator.id)}/published`, { published: on }));
    } catch (err) {
      refuse(err);
    }
  }

  async function remove(): Promise<void> {
    if (!stored || !window.confirm(iwf('confirmRemove', { name: indicatorName(stored.indicator) }))) return;
    clearErrors();
    try {
      const r = await ctx.api.send(path(stored.indicator.id), { method: 'DELETE' });
      if (!r.ok) throw new ApiError(r.status, `DELETE: ${r.status}`, await r.json().catch(() => null));
      ctx.go('#/indicators');
    } catch (err) {
      refuse(err);
    }
  }

  fill(
    screen,
    h(
      'div',
      { class: 'list-head' },
      title,
      h('span', { class: 'exports' }, actions, h('a', { href: '#/indicators', test: 'indicator-back' }, iw('cancel'))),
    ),
    status,
    // The owner comes for the entry, more often than anyone for the definition.
    below,
    id ? h('h3', {}, iw('details')) : null,
    h(
      'form',
      {
        class: 'indicator-form',
        test: 'indicator-form',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void save();
        },
      },
      rows,
      manage ? h('button', { type: 'submit', class: 'primary', test: 'indicator-save' }, iw('save')) : null,
    ),
    error,
  );
  fill(el, screen);

  let stopEntry: Unmount = () => {};
  if (id) {
    screen.dataset.loaded = 'false';
    void ctx.api
      .get<IndicatorAnswer>(path(id))
      .then((a) => {
        showStored(a);
        stopEntry = manualEntry(ctx, below, a.indicator);
      })
      .catch((err) => (error.textContent = explain(err)))
      .finally(() => (screen.dataset.loaded = 'true'));
  } else {
    // A new indicator: for the district, by its owner's department, published.
    f.regions.value = ctx.refs.district.features[0]?.properties?.code ?? '330304';
    f['owner.department'].value = ctx.me.department ?? '';
    f['owner.person'].value = ctx.me.username;
    f.frequency.value = 'monthly';
    f.published.checked = true;
    screen.dataset.loaded = 'true';
  }
  return () => stopEntry();
}
