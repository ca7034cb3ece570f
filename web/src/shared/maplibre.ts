// The map set-up the three front ends share: MapLibre GL with its worker and its styles
// bundled (nothing is fetched from elsewhere: no tiles, no glyphs, unless the wall is
// given a basemap), and a flat map of the district on a plain background that each app
// then fills with its own sources and layers.

import * as maplibregl from 'maplibre-gl';
import type { MapOptions, StyleSpecification } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';

maplibregl.setWorkerUrl(workerUrl);

/** Where a map looks before it knows its data: the middle of the district (Ouhai). */
export const DISTRICT_CENTRE: [number, number] = [120.62, 27.97];

/** A style of one plain background colour and nothing else. */
export function plainStyle(background: string): StyleSpecification {
  return {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': background } }],
  };
}

/** A map that stays flat and north up (no pitch, no rotation), without the attribution
 *  button, centred on the district; `options` add to that or override it. */
export function flatMap(container: HTMLElement, style: StyleSpecification, options: Partial<MapOptions> = {}): maplibregl.Map {
  return new maplibregl.Map({
    container,
    style,
    center: DISTRICT_CENTRE,
    zoom: 10,
    attributionControl: false,
    maxPitch: 0,
    dragRotate: false,
    pitchWithRotate: false,
    ...options,
  });
}

/** Resolves once the map's style has loaded (sources and layers may be added then). */
export function loaded(map: maplibregl.Map): Promise<void> {
  return new Promise((resolve) => map.once('load', () => resolve()));
}
