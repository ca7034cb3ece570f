// One configuration document of `GET /api/config/rules` (device rules, camera detections,
// a source's field mapping) edited as a table, with the JSON itself as a fallback for what
// the table does not cover; saved whole with `PUT /api/config/rules/{name}`. Who last
// edited it is shown above it; a refusal is shown as the server gave it.

import type { Ctx } from '../app';
import { h, fill, when } from '../dom';
import type { CategoryDoc } from '../refs';
import { clear, showProblem } from './problem';
import { cw } from './words';

export interface Doc<T = unknown> {
  body: T;
  source: 'file' | 'edited';
  version: number | null;
  updated_by: string | null;
  updated_at: string | null;
}

export type Docs = Record<string, Doc>;

/** What a table editor gets besides the body: the category tree in force, for choices. */
export interface Extras {
  categories: CategoryDoc[];
  docs: Docs;
}

/** Renders the body into `el` as a table, changing it in place as it is edited. */
export type TableEditor<T> = (el: HTMLElement, body: T, extras: Extras) => void;

export async function documentScreen<T>(ctx: Ctx, el: HTMLElement, name: string, table: TableEditor<T>, notice = ''): Promise<void> {
  let docs: Docs;
  try {
    docs = await ctx.api.get<Docs>('/api/config/rules');
  } catch (err) {
    const p = h('p', { class: 'error', test: 'doc-error' });
    showProblem(p, err);
    fill(el, p);
    return;
  }
  const doc = docs[name] as Doc<T> | undefined;
  if (!doc) {
    fill(el, h('p', { class: 'error', test: 'doc-error', 'data-missing': name }, `${cw('noDocument')}: ${name}`));
    return;
  }
  const extras: Extras = { categories: (docs.categories?.body as CategoryDoc[] | undefined) ?? [], docs };
  let body = JSON.parse(JSON.stringify(doc.body)) as T;
  let json = false;
  const meta = h(
    'p',
    { class: 'muted', test: 'doc-meta', 'data-source': doc.source, 'data-version': doc.version ?? '' },
    doc.source === 'edited' && doc.updated_by ? `${cw('lastEdited')}: ${doc.updated_by} · ${when(doc.updated_at)} · ${cw('version')} ${doc.version}` : cw('fromFile'),
  );
  const error = h('p', { class: 'error', role: 'alert', test: 'doc-error' });
  const done = h('p', { class: 'notice', role: 'status', test: 'doc-notice' }, notice);
  const editor = h('div', { class: 'rules-editor', test: `doc-${name.replace(/[^\w-]/g, '-')}`, 'data-name': name });
  const text = h('textarea', { class: 'cfg-json', test: 'doc-json', spellcheck: 'false', rows: 28 });
  const toggle = h('button', { type: 'button', test: 'doc-json-toggle' }, cw('editJson'));
  const save = h('button', { type: 'button', class: 'primary', test: 'doc-save' }, cw('saveDocument'));
  const render = () => {
    if (json) {
      text.value = JSON.stringify(body, null, 2);
      fill(editor, text);
      toggle.textContent = cw('editTable');
    } else {
      editor.replaceChildren();
      table(editor, body, extras);
      toggle.textContent = cw('editJson');
    }
    editor.dataset.mode = json ? 'json' : 'table';
  };
  /** The JSON text read back; false (with the reason shown) when it is not JSON. */
  const readJson = (): boolean => {
    try {
      body = JSON.parse(text.value) as T;
      return true;
    } catch (e) {
      error.textContent = `JSON: ${(e as Error).message}`;
      return false;
    }
  };
  toggle.onclick = () => {
    clear(error);
    if (json && !readJson()) return;
    json = !json;
    render();
  };
  save.onclick = async () => {
    clear(error);
    done.textContent = '';
    if (json && !readJson()) return;
    save.disabled = true;
    try {
      const answer = await ctx.api.put<{ version: number }>(`/api/config/rules/${name}`, body);
      await documentScreen(ctx, el, name, table, `${cw('savedApplied')} (${cw('version')} ${answer.version})`);
    } catch (err) {
      showProblem(error, err);
    } finally {
      save.disabled = false;
    }
  };
  fill(el, h('div', { class: 'rules-head' }, meta, h('div', { class: 'buttons' }, toggle, save)), error, done, editor);
  render();
}

/** A number input bound to `obj[key]` (empty: the key removed when `optional`). `scale`
 *  shows milliseconds as seconds, say. */
export function numberField(obj: Record<string, unknown>, key: string, test: string, { scale = 1, optional = false, width = '6em' } = {}): HTMLInputElement {
  const v = obj[key];
  const input = h('input', { type: 'number', step: 'any', test, value: typeof v === 'number' ? String(v / scale) : '', style: `width: ${width}` });
  input.oninput = () => {
    if (input.value === '' && optional) delete obj[key];
    else obj[key] = Math.round(Number(input.value) * scale * 1e9) / 1e9;
  };
  return input;
}

/** A text input bound to `obj[key]` (empty: removed when `optional`). */
export function textField(obj: Record<string, unknown>, key: string, test: string, { optional = false, size = 12, list = '' } = {}): HTMLInputElement {
  const input = h('input', { test, value: obj[key] === undefined || obj[key] === null ? '' : String(obj[key]), size, list: list || null });
  input.oninput = () => {
    const v = input.value.trim();
    if (!v && optional) delete obj[key];
    else obj[key] = v;
  };
  return input;
}

/** A select bound to `obj[key]`. */
export function selectField(obj: Record<string, unknown>, key: string, test: string, options: [string, string][], onchange?: () => void): HTMLSelectElement {
  const s = h('select', { test }, options.map(([v, l]) => h('option', { value: v }, l)));
  s.value = String(obj[key] ?? options[0]?.[0] ?? '');
  if (obj[key] === undefined && options[0]) obj[key] = options[0][0];
  s.onchange = () => {
    obj[key] = s.value;
    onchange?.();
  };
  return s;
}
