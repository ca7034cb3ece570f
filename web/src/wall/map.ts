// The map at the centre: MapLibre GL on a plain dark background (or a configured XYZ
// basemap), the city's regions as fills and lines, and every point layer as a WebGL
// circle layer fed by a GeoJSON source: never one DOM element per point. Region names and
// per-region counts are a few HTML labels placed over the map (CJK text from the
// machine's fonts, no glyph server): at most the children of the region in view. The
// sources and layers themselves, with their colours, are mapstyle.ts.

import * as maplibregl from 'maplibre-gl';
import type { GeoJSONSource, LngLatLike } from 'maplibre-gl';

import { flatMap, loaded, plainStyle } from '../shared/maplibre';
import { circle, contains, type Bounds } from './geometry';
import { addLayers } from './mapstyle';
import type { Feature, FeatureCollection, Geometry, Level } from './types';

/** How long the first frame with everything loaded is waited for before a frame with
 *  something still loading counts as drawn (see `whenDrawn`). */
const SETTLE_MS = 3000;

// Two workers tile the city's sources side by side (the grids alone keep one busy for a
// while on a loaded machine); MapLibre's default outside Safari is one.
maplibregl.setWorkerCount(2);

export interface Basemap {
  tiles: string[];
  tileSize?: number;
  attribution?: string;
}

/** Above this many cases the case layer clusters (see `WallMap.clusterCases`). */
export const CLUSTER_ABOVE = 20_000;

/** Toggleable layer groups and the map layers each one shows. */
export const LAYER_GROUPS = {
  cases: ['cases', 'cases-clusters', 'cases-fresh'],
  heat: ['cases-heat'],
  cameras: ['cameras'],
  resources: ['resources'],
  keyAreas: ['key-areas-fill', 'key-areas-line'],
  blindSpots: ['blind-spots-fill'],
  devices: ['devices'],
  alarms: ['alarms'],
  grids: ['grids-line'],
  rating: ['streets-rating'],
} as const;

export type LayerGroup = keyof typeof LAYER_GROUPS;

/** Sources only drawn by one switchable group: their data goes to the map's worker when the
 *  group is first switched on, not at start (the worker would tile them for nothing, and on
 *  a software-rendered wall every bit of work delays the first frame). */
const LAZY_SOURCES: Record<string, LayerGroup> = {
  cameras: 'cameras',
  resources: 'resources',
  'blind-spots': 'blindSpots',
};

export class WallMap {
  readonly map: maplibregl.Map;
  readonly ready: Promise<void>;
  private readonly labels: HTMLDivElement;
  private labelItems: { at: [number, number]; el: HTMLElement }[] = [];
  private pulseFrame = 0;
  private freshCount = 0;
  private clickableLevel: Level = 'street';
  private clickable: Feature[] = [];
  /** Data of lazy sources (see LAZY_SOURCES) not handed to the map yet. */
  private readonly held = new Map<string, FeatureCollection>();
  private readonly shown = new Set<LayerGroup>();
  regionClick: (level: Level, code: string) => void = () => {};
  /** The panels over the map, in page coordinates: a region label never hides under one. */
  obstacles: () => DOMRect[] = () => [];
  caseClick: (id: number) => void = () => {};
  /** A click on a key area or blind spot polygon (its `id` property). */
  areaClick: (id: string) => void = () => {};

  constructor(container: HTMLElement, basemap: Basemap | null, private readonly scale: number) {
    const s = scale;
    const style = plainStyle('#07121f');
    if (basemap) {
      style.sources.basemap = {
        type: 'raster',
        tiles: basemap.tiles,
        tileSize: basemap.tileSize ?? 256,
        attribution: basemap.attribution,
      };
      style.layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.55 } });
    }
    this.map = flatMap(container, style, {
      zoom: 10.5,
      localIdeographFontFamily: "'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif",
      fadeDuration: 0,
      canvasContextAttributes: { antialias: false },
    });
    this.labels = document.createElement('div');
    this.labels.className = 'map-labels';
    container.appendChild(this.labels);
    this.ready = loaded(this.map);
    void this.ready.then(() => {
      addLayers(this.map, s);
      this.listen();
    });
    this.map.on('move', () => this.placeLabels());
    this.map.on('resize', () => this.placeLabels());
  }

  /** Clicks on cases, clusters, areas and regions, and the pointer over what takes one. */
  private listen(): void {
    const m = this.map;
    m.on('click', (e: maplibregl.MapMouseEvent) => {
      const cluster = m.queryRenderedFeatures(e.point, { layers: ['cases-clusters'] })[0];
      if (cluster) {
        m.easeTo({ center: e.lngLat, zoom: m.getZoom() + 2, duration: 500 });
        return;
      }
      const hit = m.queryRenderedFeatures(e.point, { layers: ['cases-fresh', 'cases'] });
      const id = hit[0]?.properties?.id;
      if (typeof id === 'number') {
        this.caseClick(id);
        return;
      }
      const area = m.queryRenderedFeatures(e.point, { layers: ['key-areas-fill', 'blind-spots-fill'] })[0];
      if (typeof area?.properties?.id === 'string') {
        this.areaClick(area.properties.id);
        return;
      }
      // Regions are found by their shapes, not by rendered fills: no invisible fill layers
      // to rasterise on every frame.
      const at: [number, number] = [e.lngLat.lng, e.lngLat.lat];
      const region = this.clickable.find((f) => contains(f.geometry, at));
      const code = region?.properties?.code;
      if (typeof code === 'string') this.regionClick(this.clickableLevel, code);
    });
    for (const layer of ['cases', 'streets-fill', 'key-areas-fill', 'blind-spots-fill']) {
      m.on('mouseenter', layer, () => (m.getCanvas().style.cursor = 'pointer'));
      m.on('mouseleave', layer, () => (m.getCanvas().style.cursor = ''));
    }
  }

  /** Whether the case layer draws clusters below zoom 15 instead of every case: above
   *  `CLUSTER_ABOVE` cases a dot each costs more than it tells at district scale. New cases
   *  still pulse one by one (their own source). */
  clusterCases(on: boolean): void {
    const src = this.map.getSource('cases') as GeoJSONSource | undefined;
    if (src && src.getClusterOptions().cluster !== on) void src.setClusterOptions({ cluster: on });
  }

  set(source: string, data: FeatureCollection): void {
    const group = LAZY_SOURCES[source];
    if (group && !this.shown.has(group)) {
      this.held.set(source, data);
      return;
    }
    (this.map.getSource(source) as GeoJSONSource | undefined)?.setData(data);
  }

  /** Applies a diff to a source whose features carry numeric `id`s. */
  update(source: string, diff: { add?: Feature[]; update?: Feature[]; remove?: number[] }): void {
    const src = this.map.getSource(source) as GeoJSONSource | undefined;
    if (!src) return;
    void src.updateData({
      add: diff.add,
      remove: diff.remove,
      update: diff.update?.map((f) => ({
        id: f.id as number,
        newGeometry: f.geometry,
        addOrUpdateProperties: Object.entries(f.properties ?? {}).map(([key, value]) => ({ key, value })),
      })),
    });
  }

  setVisible(group: LayerGroup, on: boolean): void {
    if (on) {
      this.shown.add(group);
      for (const [source, g] of Object.entries(LAZY_SOURCES)) {
        const data = this.held.get(source);
        if (g === group && data) {
          this.held.delete(source);
          this.set(source, data);
        }
      }
    }
    for (const id of LAYER_GROUPS[group])
      if (this.map.getLayer(id)) this.map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
  }

  /** The streets' five-colour rating as feature states (`colour`, null for none). */
  setRating(colours: Map<string, string | null>): void {
    if (!this.map.getSource('streets')) return;
    for (const [code, colour] of colours) this.map.setFeatureState({ source: 'streets', id: code }, { colour });
  }

  /** Which regions a click selects: the children of the region in view. */
  setClickable(level: Level, regions: Feature[]): void {
    this.clickableLevel = level;
    this.clickable = regions;
  }

  private highlighted = false;

  highlight(geometry: Geometry | null): void {
    if (!geometry && !this.highlighted) return;
    this.highlighted = geometry !== null;
    this.set('highlight', {
      type: 'FeatureCollection',
      features: geometry ? [{ type: 'Feature', properties: {}, geometry }] : [],
    });
  }

  /** Draws the chosen key area or blind spot (or none) in the highlight colour. */
  highlightArea(geometry: Geometry | null): void {
    this.set('area-highlight', {
      type: 'FeatureCollection',
      features: geometry ? [{ type: 'Feature', properties: {}, geometry }] : [],
    });
  }

  /** Brings an area into view, clear of the panels over the map. */
  fitArea(b: Bounds): void {
    const k = this.scale;
    this.map.fitBounds(b, {
      padding: { top: 230 * k, bottom: 110 * k, left: 320 * k, right: 60 * k },
      maxZoom: 15 + Math.log2(k),
      duration: 600,
    });
  }

  fit(b: Bounds, padding: number | maplibregl.PaddingOptions, duration = 600): void {
    this.map.fitBounds(b, { padding, duration });
  }

  showRadius(centre: [number, number] | null, radius: number, cameras: FeatureCollection): void {
    this.set('radius', {
      type: 'FeatureCollection',
      features: centre ? [{ type: 'Feature', properties: {}, geometry: circle(centre, radius) }] : [],
    });
    this.set('radius-cameras', cameras);
  }

  /** Flies to `centre`, placed in the middle of the map's part left of `rightPx` pixels. */
  flyTo(centre: LngLatLike, zoom: number, rightPx = 0): void {
    this.map.flyTo({
      center: centre,
      // A 4K wall shows the same ground as a 1920 one, one zoom level deeper.
      zoom: Math.max(this.map.getZoom(), zoom + Math.log2(this.scale)),
      duration: 600,
      offset: [-rightPx / 2, 0],
    });
  }

  /** New cases pulse: a ring that grows and fades, drawn only while there are some. */
  setFresh(fresh: FeatureCollection): void {
    // Asked every two seconds: nothing new stays nothing, without a frame for it.
    if (fresh.features.length === 0 && this.freshCount === 0) return;
    this.set('cases-fresh', fresh);
    this.freshCount = fresh.features.length;
    if (this.freshCount > 0 && !this.pulseFrame) this.pulse();
  }

  /** Calls `then` once the data set so far is drawn. If everything may have been drawn
   *  already, at the frame MapLibre has pending, if any, not one more forced (a frame costs
   *  a large part of a second in software GL). Otherwise at the first frame drawn with
   *  everything loaded; not the map's 'idle', which never comes while a new case pulses. A
   *  pulse also keeps the map from ever reporting itself loaded (its source is set again and
   *  again), so after a few seconds of frames any frame will do: on a wall where cases keep
   *  arriving the boards must still be drawn. */
  whenDrawn(then: () => void): void {
    const map = this.map;
    if (map.loaded()) {
      requestAnimationFrame(then);
      return;
    }
    const since = performance.now();
    const check = (): void => {
      if (!map.loaded() && performance.now() - since < SETTLE_MS) return;
      map.off('render', check);
      then();
    };
    map.on('render', check);
  }

  private pulse(): void {
    const step = () => {
      if (this.freshCount === 0) {
        this.pulseFrame = 0;
        return;
      }
      const phase = (performance.now() % 1400) / 1400;
      if (this.map.getLayer('cases-fresh')) {
        this.map.setPaintProperty('cases-fresh', 'circle-radius', (6 + phase * 16) * this.scale);
        this.map.setPaintProperty('cases-fresh', 'circle-stroke-opacity', 1 - phase);
      }
      this.pulseFrame = requestAnimationFrame(step);
    };
    this.pulseFrame = requestAnimationFrame(step);
  }

  /** Replaces the HTML labels. */
  setLabels(items: { at: [number, number]; html: string; className?: string }[]): void {
    this.labels.replaceChildren();
    this.labelItems = items.map(({ at, html, className }) => {
      const el = document.createElement('div');
      el.className = `map-label ${className ?? ''}`;
      el.innerHTML = html;
      this.labels.appendChild(el);
      return { at, el };
    });
    this.placeLabels();
  }

  /** Places the labels over their points; where two would overlap, the later one shows
   *  its name only, and is hidden when even that overlaps (labels come in priority order). */
  private placeLabels(): void {
    const placed: DOMRect[] = this.obstacles();
    const gap = 10 * this.scale;
    const overlaps = (r: DOMRect) =>
      placed.some(
        (p) => r.left < p.right + gap && r.right + gap > p.left && r.top < p.bottom + gap / 2 && r.bottom + gap / 2 > p.top,
      );
    for (const { at, el } of this.labelItems) {
      const p = this.map.project(at);
      el.style.transform = `translate(-50%, -50%) translate(${Math.round(p.x)}px, ${Math.round(p.y)}px)`;
      el.classList.remove('compact', 'hidden');
      let r = el.getBoundingClientRect();
      if (overlaps(r)) {
        el.classList.add('compact');
        r = el.getBoundingClientRect();
        if (overlaps(r)) {
          el.classList.add('hidden');
          continue;
        }
      }
      placed.push(r);
    }
  }
}
