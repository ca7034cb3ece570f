// The configuration screens' map: the workbench's small map (district and streets on a
// plain background, no basemap) at the size of the editing area, with a vertex editor.

import type { FeatureCollection } from 'geojson';
import type { GeoJSONSource } from 'maplibre-gl';
import { SmallMap } from '../map';
import { boundsOf } from './shapes';
import { VertexEditor } from './vertices';
import type { Geometry } from 'geojson';

export interface EditMap {
  small: SmallMap;
  editor: VertexEditor;
}

export async function editMap(container: HTMLElement, streets: FeatureCollection, district: FeatureCollection): Promise<EditMap> {
  const small = new SmallMap(container, streets, district);
  await small.ready;
  // The neighbours of what is edited (the other grids of its village, say), for context.
  small.map.addSource('context', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  small.map.addLayer({ id: 'context-line', type: 'line', source: 'context', paint: { 'line-color': '#868e96', 'line-width': 1, 'line-dasharray': [3, 2] } });
  const editor = new VertexEditor(small.map, 'edit');
  // The tests (and the console) reach the map and the editor here.
  (window as unknown as { __config: EditMap }).__config = { small, editor };
  return { small, editor };
}

export function setContext(small: SmallMap, fc: FeatureCollection): void {
  (small.map.getSource('context') as GeoJSONSource | undefined)?.setData(fc);
}

export function fit(small: SmallMap, geometries: (Geometry | null | undefined)[], maxZoom = 17): void {
  const b = boundsOf(geometries);
  if (b) small.map.fitBounds(b, { padding: 40, duration: 0, maxZoom });
}
