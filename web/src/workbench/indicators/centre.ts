// The workbench's indicator centre: the catalogue (#/indicators), a new indicator
// (#/indicators/new) and one indicator with its manual entry (#/indicators/<id>). The
// thresholds and alarms have their own screen (#/indicator-alarms), linked from here.

import type { Ctx, Unmount } from '../app';
import { catalogueScreen } from './catalogue';
import { indicatorScreen } from './form';
import './centre.css';

/** Mounts the centre's screen for `hash` (one starting with `#/indicators`). */
export function indicatorCentre(ctx: Ctx, el: HTMLElement, hash: string): Unmount {
  const rest = hash.replace(/^#\/indicators\/?/, '');
  if (rest === '') return catalogueScreen(ctx, el);
  if (rest === 'new') return indicatorScreen(ctx, el, null);
  return indicatorScreen(ctx, el, decodeURIComponent(rest));
}
