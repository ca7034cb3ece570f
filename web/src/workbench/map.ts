// Small MapLibre maps for the workbench (no basemap: the district's streets on a plain
// background, and what the screen adds): the case's point and grid outline on the detail
// screen, a picked point on the create screen.

import * as maplibregl from 'maplibre-gl';
import type { GeoJSONSource, StyleSpecification } from 'maplibre-gl';
import type { Feature, FeatureCollection } from 'geojson';
import { flatMap, loaded } from '../shared/maplibre';
import { boundsOf } from './configure/shapes';

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };

export class SmallMap {
  readonly map: maplibregl.Map;
  readonly ready: Promise<void>;

  constructor(container: HTMLElement, streets: FeatureCollection, district: FeatureCollection) {
    const style: StyleSpecification = {
      version: 8,
      sources: {
        district: { type: 'geojson', data: district },
        streets: { type: 'geojson', data: streets },
        outline: { type: 'geojson', data: EMPTY },
        point: { type: 'geojson', data: EMPTY },
      },
      layers: [
        { id: 'background', type: 'background', paint: { 'background-color': '#eef2f6' } },
        { id: 'district-fill', type: 'fill', source: 'district', paint: { 'fill-color': '#ffffff' } },
        { id: 'streets-line', type: 'line', source: 'streets', paint: { 'line-color': '#9fb3c8', 'line-width': 1 } },
        { id: 'district-line', type: 'line', source: 'district', paint: { 'line-color': '#51708f', 'line-width': 2 } },
        { id: 'outline-fill', type: 'fill', source: 'outline', paint: { 'fill-color': '#1f6feb', 'fill-opacity': 0.08 } },
        { id: 'outline-line', type: 'line', source: 'outline', paint: { 'line-color': '#1f6feb', 'line-width': 2 } },
        {
          id: 'point',
          type: 'circle',
          source: 'point',
          paint: {
            'circle-radius': 8,
            'circle-color': '#d9480f',
            'circle-stroke-color': '#ffffff',
            'circle-stroke-width': 2,
          },
        },
      ],
    };
    this.map = flatMap(container, style, { fadeDuration: 0 });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    this.ready = loaded(this.map);
    void this.ready.then(() => {
      const b = bounds(district.features);
      if (b) this.map.fitBounds(b, { padding: 20, duration: 0 });
      container.dataset.ready = 'true';
    });
  }

  setPoint(lon: number, lat: number, zoomTo = false): void {
    (this.map.getSource('point') as GeoJSONSource | undefined)?.setData({
      type: 'Feature',
      properties: {},
      geometry: { type: 'Point', coordinates: [lon, lat] },
    });
    if (zoomTo) this.map.easeTo({ center: [lon, lat], zoom: Math.max(this.map.getZoom(), 14), duration: 0 });
  }

  setOutline(feature: Feature | null, fit: boolean): void {
    (this.map.getSource('outline') as GeoJSONSource | undefined)?.setData(feature ?? EMPTY);
    if (fit && feature) {
      const b = bounds([feature]);
      if (b) this.map.fitBounds(b, { padding: 40, duration: 0, maxZoom: 16 });
    }
  }

  remove(): void {
    this.map.remove();
  }
}

function bounds(features: Feature[]): [[number, number], [number, number]] | null {
  return boundsOf(features.map((f) => f.geometry));
}
