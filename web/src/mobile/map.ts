// A small map of one case: the case's point, my position, and the grid's outline, on a
// plain light background (no tiles fetched from anywhere); fitted to show both points.

import * as maplibregl from 'maplibre-gl';
import type { GeoJSONSource } from 'maplibre-gl';
import { flatMap, loaded, plainStyle } from '../shared/maplibre';

type Point = { lon: number; lat: number };

const point = (p: Point | null) => ({
  type: 'FeatureCollection' as const,
  features: p ? [{ type: 'Feature' as const, properties: {}, geometry: { type: 'Point' as const, coordinates: [p.lon, p.lat] } }] : [],
});

export class CaseMap {
  readonly map: maplibregl.Map;
  private readonly loaded: Promise<void>;
  private me: Point | null = null;

  constructor(
    container: HTMLElement,
    private readonly place: Point,
  ) {
    this.map = flatMap(container, plainStyle('#f2efe6'), { center: [place.lon, place.lat], zoom: 15 });
    this.loaded = loaded(this.map);
    void this.loaded.then(() => {
      this.map.addSource('grid', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
      this.map.addLayer({ id: 'grid-fill', type: 'fill', source: 'grid', paint: { 'fill-color': '#1d4ed8', 'fill-opacity': 0.06 } });
      this.map.addLayer({ id: 'grid-line', type: 'line', source: 'grid', paint: { 'line-color': '#1d4ed8', 'line-width': 2 } });
      this.map.addSource('case', { type: 'geojson', data: point(place) });
      this.map.addLayer({
        id: 'case',
        type: 'circle',
        source: 'case',
        paint: { 'circle-radius': 11, 'circle-color': '#c81e1e', 'circle-stroke-color': '#fff', 'circle-stroke-width': 3 },
      });
      this.map.addSource('me', { type: 'geojson', data: point(this.me) });
      this.map.addLayer({
        id: 'me',
        type: 'circle',
        source: 'me',
        paint: { 'circle-radius': 9, 'circle-color': '#1d4ed8', 'circle-stroke-color': '#fff', 'circle-stroke-width': 3 },
      });
    });
  }

  /** The grid's boundary (GeoJSON geometry or feature). */
  async outline(geojson: unknown): Promise<void> {
    await this.loaded;
    (this.map.getSource('grid') as GeoJSONSource | undefined)?.setData(geojson as GeoJSON.GeoJSON);
  }

  async setMe(me: Point): Promise<void> {
    this.me = me;
    await this.loaded;
    (this.map.getSource('me') as GeoJSONSource | undefined)?.setData(point(me));
    const bounds = new maplibregl.LngLatBounds([this.place.lon, this.place.lat], [this.place.lon, this.place.lat]);
    bounds.extend([me.lon, me.lat]);
    this.map.fitBounds(bounds, { padding: 48, maxZoom: 16, duration: 0 });
  }

  remove(): void {
    this.map.remove();
  }
}
