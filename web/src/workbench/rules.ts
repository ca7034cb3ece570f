// The case rules an operator edits (rules.configure): the category tree with each
// category's time limits (the deadline templates), the dispatch rules, and the working
// calendar's holidays and make-up working days. Each screen edits a copy of the document
// from `GET /api/config/rules` and saves it whole with `PUT /api/config/rules/{name}`; a
// document that does not check is refused with the document's name and the reason, shown
// as the server said it. Who last edited each document is shown above it.

import { ApiError } from '../shared/api';
import { URGENCY_CODES, urgencyName } from '../shared/casewords';
import type { Ctx } from './app';
import { choice } from './choice';
import { h, fill, when } from './dom';
import type { CategoryDoc, TimeLimitDoc } from './refs';
import { explain, w } from './words';

type Name = 'categories' | 'dispatch-rules' | 'calendar';

interface Doc<T> {
  body: T;
  source: 'file' | 'edited';
  version: number | null;
  updated_by: string | null;
  updated_at: string | null;
}

interface Rule {
  id: string;
  category_prefix: string;
  region_prefix: string;
  target: { kind: 'department'; department: string } | { kind: 'street_platform' } | { kind: 'grid_worker' };
  priority: number;
  enabled: boolean;
}

interface Calendar {
  utc_offset_minutes: number;
  office_hours: { start: string; end: string }[];
  weekend: string[];
  holidays: string[];
  makeup_workdays: string[];
}

interface Docs {
  categories: Doc<CategoryDoc[]>;
  'dispatch-rules': Doc<Rule[]>;
  calendar: Doc<Calendar>;
}

const UNITS = ['working_hours', 'working_days', 'hours', 'minutes'] as const;

/** Mounts the editor of document `name` in `el`. */
export async function rulesScreen(ctx: Ctx, el: HTMLElement, name: Name): Promise<void> {
  let docs: Docs;
  try {
    docs = await ctx.api.get<Docs>('/api/config/rules');
  } catch (err) {
    fill(el, h('p', { class: 'error', test: 'rules-error' }, explain(err)));
    return;
  }
  const doc = docs[name];
  const meta = h(
    'p',
    { class: 'muted', test: 'rules-meta', 'data-source': doc.source, 'data-version': doc.version ?? '' },
    doc.source === 'edited' && doc.updated_by
      ? `${w('lastEdited')}: ${doc.updated_by} · ${when(doc.updated_at)} · ${w('version')} ${doc.version}`
      : w('fromFile'),
  );
  const error = h('p', { class: 'error', role: 'alert', test: 'rules-error' });
  const notice = h('p', { class: 'notice', role: 'status', test: 'rules-notice' });
  const editor = h('div', { class: 'rules-editor', test: `rules-${name}` });
  // A deep copy: nothing is changed until saved.
  const body = JSON.parse(JSON.stringify(doc.body)) as unknown;
  const save = h('button', { type: 'button', class: 'primary', test: 'rules-save' }, w('saveDocument'));
  save.onclick = async () => {
    error.textContent = '';
    delete error.dataset.field;
    notice.textContent = '';
    save.disabled = true;
    try {
      const answer = await ctx.api.put<{ version: number }>(`/api/config/rules/${name}`, body);
      await rulesScreen(ctx, el, name);
      el.querySelector<HTMLElement>('[data-test=rules-notice]')!.textContent = `${w('saved')} (${w('version')} ${answer.version})`;
    } catch (err) {
      if (err instanceof ApiError && err.problem?.field) {
        error.dataset.field = err.problem.field;
        // The document's name, once (the server's reason may already start with it).
        const detail = err.problem.detail ?? err.message;
        error.textContent = `${w('refused')}: ${detail.includes(err.problem.field) ? detail : `${err.problem.field}: ${detail}`}`;
      } else {
        error.textContent = `${w('refused')}: ${explain(err)}`;
      }
    } finally {
      save.disabled = false;
    }
  };
  fill(el, h('div', { class: 'rules-head' }, meta, h('div', { class: 'buttons' }, save)), error, notice, editor);
  const categories = docs.categories.body;
  if (name === 'categories') categoryEditor(editor, body as CategoryDoc[]);
  else if (name === 'dispatch-rules') ruleEditor(ctx, editor, body as Rule[], categories);
  else calendarEditor(editor, body as Calendar);
}

/** The tree as a table, parents before their children; each category with its time limits. */
function categoryEditor(el: HTMLElement, list: CategoryDoc[]): void {
  const depth = (c: CategoryDoc): number => {
    let d = 0;
    let p = c.parent;
    while (p && d < 10) {
      d++;
      p = list.find((x) => x.code === p)?.parent;
    }
    return d;
  };
  const render = () => {
    const ordered = [...list].sort((a, b) => a.code.localeCompare(b.code));
    const rows = ordered.map((c) => {
      c.time_limits ??= [];
      const code = h('input', { test: 'category-code', value: c.code, size: 8, oninput: () => { c.code = code.value.trim(); } });
      const name = h('input', { test: 'category-name', value: c.name, oninput: () => { c.name = name.value.trim(); } });
      const parent = h(
        'select',
        { test: 'category-parent', onchange: () => { c.parent = parent.value || null; } },
        h('option', { value: '' }, w('topLevel')),
        ordered.filter((x) => x !== c).map((x) => h('option', { value: x.code }, `${x.code} ${x.name}`)),
      );
      parent.value = c.parent ?? '';
      const limits = h(
        'div',
        { class: 'limits' },
        c.time_limits.length ? null : h('span', { class: 'muted' }, c.parent ? w('inheritsLimit') : '—'),
        c.time_limits.map((t, i) => limitRow(t, () => { c.time_limits!.splice(i, 1); render(); })),
        h('button', { type: 'button', class: 'link', test: 'limit-add', onclick: () => { c.time_limits!.push({ urgency: null, limit: { working_days: 1 } }); render(); } }, `+ ${w('timeLimit')}`),
      );
      return h(
        'tr',
        { test: 'category-row', 'data-code': c.code },
        h('td', { style: `padding-left: ${8 + depth(c) * 20}px` }, code),
        h('td', {}, name),
        h('td', {}, parent),
        h('td', {}, limits),
        h('td', {}, h('button', { type: 'button', test: 'category-remove', onclick: () => { list.splice(list.indexOf(c), 1); render(); } }, w('remove'))),
      );
    });
    fill(
      el,
      h(
        'table',
        { class: 'cases rules-table', test: 'category-table' },
        h('thead', {}, h('tr', {}, [w('code'), w('name'), w('parentCategory'), w('timeLimits'), ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows),
      ),
      h('p', { class: 'muted' }, w('timeLimitHint')),
      h('button', { type: 'button', test: 'category-add', onclick: () => { list.push({ code: '', name: '', parent: null, time_limits: [] }); render(); } }, `+ ${w('addCategory')}`),
    );
  };
  render();
}

/** One time limit: the urgency it is for (or any), the unit and the count. */
function limitRow(t: TimeLimitDoc, remove: () => void): HTMLElement {
  const [unit0, count0] = Object.entries(t.limit)[0] ?? ['working_days', 1];
  const urgency = h(
    'select',
    { test: 'limit-urgency', onchange: () => { t.urgency = urgency.value || null; } },
    h('option', { value: '' }, w('anyUrgency')),
    URGENCY_CODES.map((u) => h('option', { value: u }, urgencyName(u))),
  );
  urgency.value = t.urgency ?? '';
  const count = h('input', { type: 'number', min: 1, test: 'limit-count', value: count0, style: 'width: 5em' });
  const unit = h('select', { test: 'limit-unit' }, UNITS.map((u) => h('option', { value: u }, w(u))));
  unit.value = unit0;
  const sync = () => {
    t.limit = { [unit.value]: Number(count.value) };
  };
  count.oninput = sync;
  unit.onchange = sync;
  return h(
    'div',
    { class: 'limit-row', test: 'limit-row' },
    urgency,
    count,
    unit,
    h('button', { type: 'button', class: 'link', test: 'limit-remove', onclick: remove, title: w('remove') }, '×'),
  );
}

/** The rules as a table in the order they are tried (priority, then the longer prefixes). */
function ruleEditor(ctx: Ctx, el: HTMLElement, rules: Rule[], categories: CategoryDoc[]): void {
  const departments = ctx.refs.targets?.departments.map((d) => d.name) ?? ctx.refs.departments?.filter((d) => d.parent !== null).map((d) => d.name) ?? [];
  const catList = h('datalist', { id: 'rule-categories' }, categories.map((c) => h('option', { value: c.code }, c.name)));
  const streets = ctx.refs.streets.features.map((f) => [String(f.properties?.code), String(f.properties?.name)] as const);
  const regionList = h('datalist', { id: 'rule-regions' }, streets.map(([code, n]) => h('option', { value: code }, n)));
  const catName = (prefix: string) => (prefix ? (categories.find((c) => c.code === prefix)?.name ?? '?') : w('allCategories'));
  const render = () => {
    const rows = rules.map((r) => {
      const hint = h('span', { class: 'muted', test: 'rule-category-name' }, catName(r.category_prefix));
      const id = h('input', { test: 'rule-id', value: r.id, oninput: () => { r.id = id.value.trim(); } });
      const category = h('input', { test: 'rule-category', value: r.category_prefix, list: 'rule-categories', size: 8 });
      category.oninput = () => {
        r.category_prefix = category.value.trim();
        hint.textContent = catName(r.category_prefix);
      };
      const region = h('input', { test: 'rule-region', value: r.region_prefix, list: 'rule-regions', size: 12, placeholder: w('allRegions'), oninput: () => { r.region_prefix = region.value.trim(); } });
      const kind = h(
        'select',
        { test: 'rule-kind' },
        h('option', { value: 'department' }, w('department')),
        h('option', { value: 'street_platform' }, w('streetPlatform')),
        h('option', { value: 'grid_worker' }, w('gridWorker')),
      );
      kind.value = r.target.kind;
      const department = choice('rule-department', departments.map((n): [string, string] => [n, n]));
      if (r.target.kind === 'department') department.set(r.target.department);
      const setTarget = () => {
        department.el.hidden = kind.value !== 'department';
        r.target = kind.value === 'department' ? { kind: 'department', department: department.value() } : { kind: kind.value as 'street_platform' | 'grid_worker' };
      };
      kind.onchange = setTarget;
      department.select.addEventListener('change', setTarget);
      department.input.addEventListener('input', setTarget);
      department.el.hidden = kind.value !== 'department';
      const priority = h('input', { type: 'number', test: 'rule-priority', value: r.priority, style: 'width: 5em', oninput: () => { r.priority = Number(priority.value); } });
      const enabled = h('input', { type: 'checkbox', test: 'rule-enabled', checked: r.enabled !== false, onchange: () => { r.enabled = enabled.checked; } });
      return h(
        'tr',
        { test: 'rule-row', 'data-id': r.id, 'data-enabled': String(r.enabled !== false) },
        h('td', {}, id),
        h('td', {}, category, ' ', hint),
        h('td', {}, region),
        h('td', {}, kind, ' ', department.el),
        h('td', {}, priority),
        h('td', {}, enabled),
        h('td', {}, h('button', { type: 'button', test: 'rule-remove', onclick: () => { rules.splice(rules.indexOf(r), 1); render(); } }, w('remove'))),
      );
    });
    fill(
      el,
      catList,
      regionList,
      h(
        'table',
        { class: 'cases rules-table', test: 'rule-table' },
        h('thead', {}, h('tr', {}, [w('ruleId'), w('categoryPrefix'), w('regionPrefix'), w('target'), w('priority'), w('enabled'), ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows),
      ),
      h('p', { class: 'muted' }, w('ruleHint')),
      h(
        'button',
        {
          type: 'button',
          test: 'rule-add',
          onclick: () => {
            rules.push({ id: '', category_prefix: '', region_prefix: '', target: { kind: 'department', department: departments[0] ?? '' }, priority: 0, enabled: true });
            render();
            el.querySelector<HTMLInputElement>('[data-test=rule-row]:last-of-type [data-test=rule-id]')?.focus();
          },
        },
        `+ ${w('addRule')}`,
      ),
    );
  };
  render();
}

/** Holidays and make-up working days, each a list of dates to add to or remove from; the
 *  office hours and the weekend as they are. */
function calendarEditor(el: HTMLElement, cal: Calendar): void {
  const dates = (key: 'holidays' | 'makeup_workdays', test: string, title: string) => {
    const box = h('div', { class: 'date-list', test: `calendar-${test}s` });
    const render = () => {
      cal[key].sort();
      const input = h('input', { type: 'date', test: `${test}-date` });
      fill(
        box,
        h('h3', {}, title),
        h(
          'ul',
          {},
          cal[key].map((d) =>
            h('li', { test: `calendar-${test}`, 'data-date': d }, d, ' ', h('button', { type: 'button', class: 'link', test: `${test}-remove`, onclick: () => { cal[key].splice(cal[key].indexOf(d), 1); render(); } }, w('remove'))),
          ),
        ),
        h(
          'div',
          { class: 'inline-form' },
          input,
          h(
            'button',
            {
              type: 'button',
              test: `${test}-add`,
              onclick: () => {
                if (input.value && !cal[key].includes(input.value)) cal[key].push(input.value);
                render();
              },
            },
            w('addDate'),
          ),
        ),
      );
    };
    render();
    return box;
  };
  fill(
    el,
    h(
      'p',
      { class: 'muted', test: 'calendar-week' },
      `${w('officeHours')}: ${cal.office_hours.map((p) => `${p.start.slice(0, 5)}–${p.end.slice(0, 5)}`).join('、')} · ${w('weekend')}: ${cal.weekend.map(dayName).join('、')} · UTC${cal.utc_offset_minutes >= 0 ? '+' : ''}${cal.utc_offset_minutes / 60}`,
    ),
    h('div', { class: 'calendar-lists' }, dates('holidays', 'holiday', w('holidays')), dates('makeup_workdays', 'makeup', w('makeupWorkdays'))),
  );
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** A day of the weekend in the interface's language (`Sat`: 周六). */
function dayName(d: string): string {
  const i = DAYS.indexOf(d.slice(0, 3));
  return i >= 0 ? (w('weekdays').split(',')[i] ?? d) : d;
}
