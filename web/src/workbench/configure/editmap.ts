// The configuration screens' map: the workbench's small map (district and streets on a
// plain background, no basemap) at the size of the editing area, with a vertex editor.

import type { FeatureCollection } from 'geojson';
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
  const editor = new VertexEditor(small.map, 'edit');
  // The tests (and the console) reach the map and the editor here.
  (window as unknown as { __config: EditMap }).__config = { small, editor };
  return { small, editor };
}

export function fit(small: SmallMap, geometries: (Geometry | null | undefined)[], maxZoom = 17): void {
  const b = boundsOf(geometries);
  if (b) small.map.fitBounds(b, { padding: 40, duration: 0, maxZoom });
}
