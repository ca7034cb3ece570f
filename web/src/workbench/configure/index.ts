// The configuration tabs of this folder, for config.ts: regions and persons in charge,
// resource points and key areas, device alarm rules, camera detections, intake field
// mappings. Each needs rules.configure (the permission the server's routes ask for).

import type { Ctx } from '../app';
import { deviceRulesScreen, detectionsScreen } from './devicerules';
import { layersScreen } from './layers';
import { mappingsScreen } from './mappings';
import { regionsScreen } from './regions';
import { cw } from './words';
import './configure.css';

/** The map screen mounted last: removed (its WebGL context freed) when another tab opens. */
let unmountLast: (() => void) | null = null;

const mount = (f: (ctx: Ctx, el: HTMLElement) => (() => void) | Promise<void>) => (ctx: Ctx, el: HTMLElement) => {
  unmountLast?.();
  unmountLast = null;
  const done = f(ctx, el);
  if (typeof done === 'function') unmountLast = done;
};

export function configureTabs(ctx: Ctx): [string, string, (el: HTMLElement) => void][] {
  if (!ctx.can('rules.configure')) return [];
  return [
    ['regions', cw('configRegions'), (el) => mount(regionsScreen)(ctx, el)],
    ['layers', cw('configLayers'), (el) => mount(layersScreen)(ctx, el)],
    ['device-rules', cw('configDeviceRules'), (el) => mount(deviceRulesScreen)(ctx, el)],
    ['detections', cw('configDetections'), (el) => mount(detectionsScreen)(ctx, el)],
    ['mappings', cw('configMappings'), (el) => mount(mappingsScreen)(ctx, el)],
  ];
}

/** Frees the last map screen (when the configuration screen itself is left). */
export function unmountConfigure(): void {
  unmountLast?.();
  unmountLast = null;
}
