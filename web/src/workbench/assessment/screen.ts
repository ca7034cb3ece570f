// The workbench's assessment (#/assessment...): a model's monthly results with their
// publication (results.ts), several models side by side (#/assessment/compare,
// compare.ts), the models and their editor (#/assessment/models[/<id>|/new], models.ts)
// and the streets' vital-sign index (#/assessment/vital-signs, vitals.ts). The month
// chosen on one is kept for the others while the page lives.

import type { Ctx, Unmount } from '../app';
import { h } from '../dom';
import { compareScreen } from './compare';
import { modelEditor, modelList } from './models';
import { resultsScreen } from './results';
import { vitalsScreen } from './vitals';
import { aw, type Key } from './words';
import './assessment.css';

const TABS: [string, Key][] = [
  ['#/assessment', 'results'],
  ['#/assessment/compare', 'compare'],
  ['#/assessment/models', 'models'],
  ['#/assessment/vital-signs', 'vitals'],
];

/** Mounts the screen for `hash` (one starting with `#/assessment`). */
export function assessmentScreens(ctx: Ctx, el: HTMLElement, hash: string): Unmount {
  const rest = hash.replace(/^#\/assessment\/?/, '');
  const current = rest === '' ? '#/assessment' : `#/assessment/${rest.split('/')[0]}`;
  const tabs = h(
    'nav',
    { class: 'assessment-tabs', test: 'assessment-tabs' },
    TABS.map(([href, key]) => h('a', { href, test: `assessment-tab-${key}`, class: href === current ? 'active' : null }, aw(key))),
  );
  const body = h('div', { class: 'assessment-body' });
  el.append(h('section', { class: 'assessment' }, tabs, body));
  if (rest === 'compare') return compareScreen(ctx, body);
  if (rest === 'models') return modelList(ctx, body);
  if (rest.startsWith('models/')) {
    const id = decodeURIComponent(rest.slice('models/'.length));
    return modelEditor(ctx, body, id === 'new' ? null : id);
  }
  if (rest === 'vital-signs') return vitalsScreen(ctx, body);
  return resultsScreen(ctx, body);
}
