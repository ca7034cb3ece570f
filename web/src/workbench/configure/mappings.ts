// Intake field mappings: for each source with a gateway, the document `mapping:<source>`
// (the form of data/ouhai/cases/mappings/*.json): the coordinate system and UTC offset the
// source sends, and for each field of our case where it comes from in the source's JSON,
// whether it is required, a default, a dictionary from the source's values to ours, the
// value for anything else, and a time format. The JSON itself as a fallback.

import { URGENCY_CODES } from '../../shared/casewords';
import type { Ctx } from '../app';
import { h, fill } from '../dom';
import { documentScreen, numberField, selectField, textField } from './document';
import { showProblem } from './problem';
import { cw } from './words';

/** As the server gives it back, absent parts may be null (`"format": null`). */
interface FieldRule {
  path?: string | null;
  required?: boolean;
  default?: unknown;
  dictionary?: Record<string, string>;
  otherwise?: string | null;
  format?: string | null;
}

interface Mapping {
  source: string;
  crs?: string;
  utc_offset_minutes?: number;
  fields: Record<string, FieldRule>;
}

/** The fields of a case a mapping can fill (events/src/mapping.rs, TargetField). */
const TARGETS = ['source_ref', 'title', 'description', 'category', 'urgency', 'tags', 'reporter_name', 'reporter_phone', 'address', 'location', 'longitude', 'latitude', 'occurred_at', 'region_hint'];

export async function mappingsScreen(ctx: Ctx, el: HTMLElement): Promise<void> {
  let names: string[];
  try {
    names = Object.keys(await ctx.api.get<Record<string, unknown>>('/api/config/rules')).filter((k) => k.startsWith('mapping:')).sort();
  } catch (err) {
    const p = h('p', { class: 'error', test: 'doc-error' });
    showProblem(p, err);
    fill(el, p);
    return;
  }
  const sourceName = (id: string) => ctx.refs.sources.find((s) => s.id === id)?.name ?? id;
  const body = h('div', { test: 'mapping-body' });
  const pick = h(
    'select',
    { test: 'mapping-source' },
    h('option', { value: '' }, `${cw('sourceWithGateway')} —`),
    names.map((n) => h('option', { value: n.slice('mapping:'.length) }, `${sourceName(n.slice('mapping:'.length))} (${n.slice('mapping:'.length)})`)),
  );
  pick.onchange = () => {
    if (pick.value) void documentScreen<Mapping>(ctx, body, `mapping:${pick.value}`, mappingTable);
    else body.replaceChildren();
  };
  fill(el, h('div', { class: 'inline-form' }, h('label', {}, cw('source'), pick)), names.length ? null : h('p', { class: 'muted', test: 'mapping-none' }, cw('noMappings')), body);
  if (names.length === 1) {
    pick.value = names[0].slice('mapping:'.length);
    pick.onchange(new Event('change'));
  }
}

function dictionaryText(d: Record<string, string> | undefined): string {
  return Object.entries(d ?? {})
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');
}

function parseDictionary(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at < 0) {
      if (line.trim()) out[line.trim()] = '';
      continue;
    }
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function mappingTable(el: HTMLElement, m: Mapping, extras: { categories: { code: string; name: string }[] }): void {
  m.fields ??= {};
  const head = h(
    'div',
    { class: 'inline-form' },
    h('label', {}, cw('source'), h('input', { value: m.source, readonly: true, test: 'mapping-source-id', size: 20 })),
    h('label', {}, cw('crs'), selectField(m as unknown as Record<string, unknown>, 'crs', 'mapping-crs', [['wgs84', 'WGS84'], ['gcj02', cw('gcj02')]])),
    h('label', {}, cw('utcOffset'), numberField(m as unknown as Record<string, unknown>, 'utc_offset_minutes', 'mapping-utc-offset', { optional: true })),
  );
  const rows = TARGETS.map((target) => {
    const used = h('input', { type: 'checkbox', test: 'mapping-used', checked: !!m.fields[target] });
    const row = h('tr', { test: 'mapping-row', 'data-field': target, 'data-used': String(!!m.fields[target]) });
    const render = () => {
      const rule = m.fields[target];
      row.dataset.used = String(!!rule);
      if (!rule) {
        fill(row, h('td', {}, h('label', { class: 'check' }, used, h('code', {}, target))), h('td', { class: 'muted', colspan: 6 }, cw('notMapped')));
        return;
      }
      const r = rule as Record<string, unknown>;
      const required = h('input', { type: 'checkbox', test: 'mapping-required', checked: !!rule.required });
      required.onchange = () => {
        if (required.checked) rule.required = true;
        else delete rule.required;
      };
      // A default keeps its JSON type: text stays text (an urgency default of "1" is text).
      const wasText = rule.default == null || typeof rule.default === 'string';
      const def = h('input', { test: 'mapping-default', size: 8, value: rule.default == null ? '' : wasText ? String(rule.default) : JSON.stringify(rule.default) });
      def.oninput = () => {
        const v = def.value;
        if (v === '') delete rule.default;
        else if (wasText) rule.default = v;
        else {
          try {
            rule.default = JSON.parse(v);
          } catch {
            rule.default = v;
          }
        }
      };
      const dict = h('textarea', { test: 'mapping-dictionary', rows: Math.min(8, Math.max(1, Object.keys(rule.dictionary ?? {}).length)), placeholder: cw('dictionaryHint'), spellcheck: 'false' });
      dict.value = dictionaryText(rule.dictionary);
      dict.oninput = () => {
        const d = parseDictionary(dict.value);
        if (Object.keys(d).length) rule.dictionary = d;
        else delete rule.dictionary;
      };
      const otherwise = textField(r, 'otherwise', 'mapping-otherwise', { optional: true, size: 6, list: target === 'category' ? 'cfg-map-categories' : target === 'urgency' ? 'cfg-map-urgencies' : '' });
      fill(
        row,
        h('td', {}, h('label', { class: 'check' }, used, h('code', {}, target))),
        h('td', {}, textField(r, 'path', 'mapping-path', { optional: true, size: 26 })),
        h('td', {}, required),
        h('td', {}, def),
        h('td', {}, dict),
        h('td', {}, otherwise),
        h('td', {}, target === 'occurred_at' ? textField(r, 'format', 'mapping-format', { optional: true, size: 16, list: 'cfg-map-formats' }) : ''),
      );
    };
    used.onchange = () => {
      if (used.checked) m.fields[target] ??= {};
      else delete m.fields[target];
      render();
    };
    render();
    return row;
  });
  fill(
    el,
    head,
    h('datalist', { id: 'cfg-map-categories' }, extras.categories.map((c) => h('option', { value: c.code }, c.name))),
    h('datalist', { id: 'cfg-map-urgencies' }, URGENCY_CODES.map((u) => h('option', { value: u }))),
    h('datalist', { id: 'cfg-map-formats' }, ['%Y-%m-%d %H:%M:%S', 'epoch_seconds', 'epoch_millis'].map((u) => h('option', { value: u }))),
    h(
      'table',
      { class: 'cases rules-table', test: 'mapping-table' },
      h('thead', {}, h('tr', {}, [cw('caseField'), cw('sourcePath'), cw('requiredCol'), cw('defaultCol'), cw('dictionary'), cw('otherwise'), cw('timeFormat')].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows),
    ),
    h('p', { class: 'muted' }, cw('mappingHint')),
  );
}
