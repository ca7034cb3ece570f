// The IoT rules an operator edits: `device-rules` (per device type and metric, a condition
// that raises an alarm with a severity, and optionally the case the alarm opens) and
// `detections` (which camera AI detections open cases, from which confidence). Tables over
// the documents' JSON (the form of data/ouhai/iot/rules.json), the JSON as a fallback.

import { URGENCY_CODES, urgencyName } from '../../shared/casewords';
import type { Ctx } from '../app';
import { h, fill } from '../dom';
import { documentScreen, numberField, selectField, textField, type Extras } from './document';
import { cw } from './words';

type Obj = Record<string, unknown>;
interface CaseSpec extends Obj {
  category: string;
  urgency: string;
  title: string;
}
interface DeviceRule extends Obj {
  id: string;
  device_type: string;
  metric: string;
  severity: string;
  condition: Obj & { kind: string };
  case?: CaseSpec;
}
interface Detection extends Obj {
  kind: string;
  min_confidence: number;
  /** One case per camera and kind within this many seconds (default 600). */
  cooldown_seconds?: number;
  case: CaseSpec;
}

const SEVERITIES = ['info', 'warning', 'major', 'critical'];
const KINDS = ['above', 'below', 'rate_of_change', 'stale'];
const URGENCIES = URGENCY_CODES;
/** Device types and metrics of the sample city (iot/src/device.rs, metric.rs), offered as choices. */
const TYPES = ['water_level_river', 'water_level_reservoir', 'smoke', 'road_hazard', 'manhole_cover', 'air_quality', 'noise', 'camera'];
/** What the cameras' AI reports (iot EventKind). */
const DETECTIONS = ['illegal_parking', 'street_vending', 'fire_lane_blocked', 'river_floating_object'];
const METRICS = ['water_level_m', 'smoke_obscuration_pct', 'ponding_depth_cm', 'cover_open', 'tilt_deg', 'pm25_ugm3', 'pm10_ugm3', 'noise_db', 'battery_pct'];

export function deviceRulesScreen(ctx: Ctx, el: HTMLElement): Promise<void> {
  return documentScreen<DeviceRule[]>(ctx, el, 'device-rules', ruleTable);
}

export function detectionsScreen(ctx: Ctx, el: HTMLElement): Promise<void> {
  return documentScreen<Detection[]>(ctx, el, 'detections', detectionTable);
}

/** The case an alarm or a detection opens: category, urgency, title. */
function caseFields(spec: CaseSpec, extras: Extras): HTMLElement[] {
  const cats: [string, string][] = extras.categories.map((c) => [c.code, `${c.code} ${c.name}`]);
  if (spec.category && !cats.some(([c]) => c === spec.category)) cats.unshift([spec.category, `${spec.category} ?`]);
  return [
    selectField(spec, 'category', 'case-category', cats),
    selectField(spec, 'urgency', 'case-urgency', URGENCIES.map((u): [string, string] => [u, urgencyName(u)])),
    textField(spec, 'title', 'case-title', { size: 14 }),
  ];
}

/** The parameters of a condition of its kind; a change of kind keeps what still applies. */
function conditionFields(cond: Obj & { kind: string }): HTMLElement[] {
  const n = (key: string, label: string, opts: { scale?: number; optional?: boolean } = {}) =>
    h('label', { class: 'cfg-param' }, label, numberField(cond, key, `cond-${key.replace(/_/g, '-').replace(/-ms$/, '')}`, { ...opts, width: '5.5em' }));
  switch (cond.kind) {
    case 'above':
    case 'below':
      return [n('raise', cw('raise')), n('clear', cw('clearAt')), n('for_ms', cw('forSeconds'), { scale: 1000, optional: true })];
    case 'rate_of_change':
      return [n('per_minute', cw('perMinute')), n('clear_per_minute', cw('clearPerMinute')), n('window_ms', cw('windowSeconds'), { scale: 1000 })];
    case 'stale':
      return [n('after_ms', cw('afterSeconds'), { scale: 1000 })];
    default:
      return [h('code', {}, JSON.stringify(cond))];
  }
}

function reshape(cond: Obj & { kind: string }, kind: string): void {
  const keep = (keys: string[]) => {
    for (const k of Object.keys(cond)) if (k !== 'kind' && !keys.includes(k)) delete cond[k];
  };
  const was = cond.kind;
  cond.kind = kind;
  if (kind === 'above' || kind === 'below') {
    if (was !== 'above' && was !== 'below') keep([]);
    keep(['raise', 'clear', 'for_ms']);
    cond.raise ??= 0;
    cond.clear ??= cond.raise;
  } else if (kind === 'rate_of_change') {
    keep(['per_minute', 'clear_per_minute', 'window_ms']);
    cond.per_minute ??= 0.05;
    cond.clear_per_minute ??= 0.02;
    cond.window_ms ??= 600_000;
  } else if (kind === 'stale') {
    keep(['after_ms']);
    cond.after_ms ??= 900_000;
  }
}

function ruleTable(el: HTMLElement, rules: DeviceRule[], extras: Extras): void {
  const render = () => {
    const rows = rules.map((r) => {
      const cond = h('div', { class: 'cfg-params' }, conditionFields(r.condition));
      const kind = selectField(r.condition, 'kind', 'cond-kind', KINDS.map((k): [string, string] => [k, cw(`kind_${k}` as 'kind_above')]));
      kind.onchange = () => {
        reshape(r.condition, kind.value);
        fill(cond, conditionFields(r.condition));
      };
      const caseBox = h('div', { class: 'cfg-params' });
      const opens = h('input', { type: 'checkbox', test: 'rule-opens-case', checked: !!r.case });
      const showCase = () => fill(caseBox, r.case ? caseFields(r.case, extras) : h('span', { class: 'muted' }, cw('alarmOnly')));
      opens.onchange = () => {
        if (opens.checked) r.case = { category: extras.categories[0]?.code ?? '', urgency: 'normal', title: '' };
        else delete r.case;
        showCase();
      };
      showCase();
      const id = textField(r, 'id', 'drule-id', { size: 16 });
      id.addEventListener('input', () => (row.dataset.id = r.id));
      const row = h(
        'tr',
        { test: 'drule-row', 'data-id': r.id },
        h('td', {}, id),
        h('td', {}, textField(r, 'device_type', 'drule-type', { size: 16, list: 'cfg-device-types' }), h('br'), textField(r, 'metric', 'drule-metric', { size: 16, list: 'cfg-metrics' })),
        h('td', {}, selectField(r, 'severity', 'drule-severity', SEVERITIES.map((s): [string, string] => [s, cw(`sev_${s}` as 'sev_info')]))),
        h('td', {}, kind, cond),
        h('td', {}, h('label', { class: 'check' }, opens, cw('opensCase')), caseBox),
        h('td', {}, h('button', { type: 'button', class: 'link', test: 'drule-remove', onclick: () => { rules.splice(rules.indexOf(r), 1); render(); } }, cw('remove'))),
      );
      return row;
    });
    const types = [...new Set([...TYPES, ...rules.map((r) => r.device_type)])];
    const metrics = [...new Set([...METRICS, ...rules.map((r) => r.metric)])];
    fill(
      el,
      h('datalist', { id: 'cfg-device-types' }, types.map((t) => h('option', { value: t }))),
      h('datalist', { id: 'cfg-metrics' }, metrics.map((t) => h('option', { value: t }))),
      h(
        'table',
        { class: 'cases rules-table', test: 'drule-table' },
        h('thead', {}, h('tr', {}, [cw('ruleId'), `${cw('deviceType')} / ${cw('metric')}`, cw('severity'), cw('condition'), cw('caseOpened'), ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows),
      ),
      h('p', { class: 'muted' }, cw('deviceRuleHint')),
      h(
        'button',
        {
          type: 'button',
          test: 'drule-add',
          onclick: () => {
            rules.push({ id: '', device_type: '', metric: '', severity: 'warning', condition: { kind: 'above', raise: 0, clear: 0 } });
            render();
            el.querySelector<HTMLInputElement>('[data-test=drule-row]:last-child [data-test=drule-id]')?.focus();
          },
        },
        `+ ${cw('addRule')}`,
      ),
    );
  };
  render();
}

function detectionTable(el: HTMLElement, list: Detection[], extras: Extras): void {
  const render = () => {
    const rows = list.map((d) => {
      d.case ??= { category: extras.categories[0]?.code ?? '', urgency: 'normal', title: '' };
      const kinds = DETECTIONS.includes(d.kind) || !d.kind ? DETECTIONS : [d.kind, ...DETECTIONS];
      const kind = selectField(d, 'kind', 'detection-kind', kinds.map((k): [string, string] => [k, `${cw(`det_${k}` as 'det_illegal_parking') ?? k} (${k})`]), () => (row.dataset.kind = d.kind));
      const row = h(
        'tr',
        { test: 'detection-row', 'data-kind': d.kind },
        h('td', {}, kind),
        h('td', {}, numberField(d, 'min_confidence', 'detection-confidence', { width: '5em' })),
        h('td', {}, numberField(d, 'cooldown_seconds', 'detection-cooldown', { width: '6em', optional: true })),
        h('td', {}, h('div', { class: 'cfg-params' }, caseFields(d.case, extras))),
        h('td', {}, h('button', { type: 'button', class: 'link', test: 'detection-remove', onclick: () => { list.splice(list.indexOf(d), 1); render(); } }, cw('remove'))),
      );
      return row;
    });
    fill(
      el,
      h('table', { class: 'cases rules-table', test: 'detection-table' }, h('thead', {}, h('tr', {}, [cw('detectionKind'), cw('minConfidence'), cw('cooldown'), cw('caseOpened'), ''].map((t) => h('th', {}, t)))), h('tbody', {}, rows)),
      h('p', { class: 'muted' }, cw('detectionHint')),
      h('button', { type: 'button', test: 'detection-add', onclick: () => { list.push({ kind: '', min_confidence: 0.8, cooldown_seconds: 600, case: { category: extras.categories[0]?.code ?? '', urgency: 'normal', title: '' } }); render(); } }, `+ ${cw('addDetection')}`),
    );
  };
  render();
}
