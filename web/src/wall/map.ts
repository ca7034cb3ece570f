// The map at the centre: MapLibre GL on a plain dark background (or a configured XYZ
// basemap), the city's regions as fills and lines, and every point layer as a WebGL
// circle layer fed by a GeoJSON source: never one DOM element per point. Region names and
// per-region counts are a few HTML labels placed over the map (CJK text from the
// machine's fonts, no glyph server): at most the children of the region in view.

import * as maplibregl from 'maplibre-gl';
import type { ExpressionSpecification, GeoJSONSource, LngLatLike } from 'maplibre-gl';

import { flatMap, loaded, plainStyle } from '../shared/maplibre';
import { circle, contains, type Bounds } from './geometry';
import type { Feature, FeatureCollection, Geometry, Level } from './types';
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

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };

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

/** Urgent and critical cases draw larger. */
const urgencyFactor: ExpressionSpecification = ['match', ['get', 'urgency'], 'critical', 1.8, 'urgent', 1.4, 1];

const STATUS_COLOURS: [string, string][] = [
  ['submitted', '#8c8c8c'],
  ['new', '#ff5c5c'],
  ['dispatched', '#ffa940'],
  ['accepted', '#ffd666'],
  ['in_progress', '#40a9ff'],
  ['handled', '#b37feb'],
  ['closed', '#73d13d'],
  ['evaluated_satisfied', '#73d13d'],
  ['evaluated_unsatisfied', '#36cfc9'],
];

/** The five colours of a street's rating (the indicators' `colour`) and how they are drawn. */
export const RATING_COLOURS: [string, string][] = [
  ['green', '#52c41a'],
  ['blue', '#1677ff'],
  ['yellow', '#fadb14'],
  ['orange', '#fa8c16'],
  ['red', '#f5222d'],
];

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
    void this.ready.then(() => this.addLayers(s));
    this.map.on('move', () => this.placeLabels());
    this.map.on('resize', () => this.placeLabels());
  }

  private source(id: string, options: Partial<maplibregl.GeoJSONSourceSpecification> = {}): void {
    this.map.addSource(id, { type: 'geojson', data: EMPTY, ...options });
  }

  private addLayers(s: number): void {
    const m = this.map;
    // The regions are outlines and flat fills: a small tile buffer is enough and spares the
    // worker much of its clipping; streets and villages take a coarser simplification (a
    // pixel, not a third of one). Grids keep the default: a coarser one would drop the
    // smallest town grids at district scale (942 must be drawn).
    // Streets are known by their code too (`promoteId`): the five-colour rating is a feature
    // state per street (see `setRating`), not a copy of their shapes.
    this.source('streets', { buffer: 16, tolerance: 1, promoteId: 'code' });
    this.source('villages', { buffer: 16, tolerance: 1 });
    this.source('grids', { buffer: 16 });
    for (const id of ['highlight', 'key-areas', 'blind-spots', 'area-highlight', 'radius']) this.source(id);
    for (const id of ['cameras', 'resources', 'devices', 'alarms', 'cases-fresh', 'radius-cameras']) this.source(id);
    // Clustered (in the map's worker) only when there are many cases: see `clusterCases`.
    m.addSource('cases', {
      type: 'geojson',
      data: EMPTY,
      cluster: false,
      clusterRadius: 36,
      clusterMaxZoom: 14,
      clusterProperties: { overdue: ['+', ['case', ['get', 'overdue'], 1, 0]] },
    });
    m.addLayer({
      id: 'streets-fill',
      type: 'fill',
      source: 'streets',
      paint: { 'fill-color': '#0f3050', 'fill-opacity': 0.55 },
    });
    // The five-colour rating (indicators.ts): each street filled by its colour, none unfilled.
    m.addLayer({
      id: 'streets-rating',
      type: 'fill',
      source: 'streets',
      layout: { visibility: 'none' },
      paint: {
        'fill-color': ['match', ['coalesce', ['feature-state', 'colour'], ''], ...RATING_COLOURS.flat(), 'rgba(0,0,0,0)'] as unknown as string,
        'fill-opacity': ['case', ['==', ['coalesce', ['feature-state', 'colour'], ''], ''], 0, 0.42],
      },
    });
    m.addLayer({
      id: 'key-areas-fill',
      type: 'fill',
      source: 'key-areas',
      paint: { 'fill-color': '#ff7a45', 'fill-opacity': 0.25 },
    });
    m.addLayer({
      id: 'key-areas-line',
      type: 'line',
      source: 'key-areas',
      paint: { 'line-color': '#ff7a45', 'line-width': 2 * s, 'line-dasharray': [2, 1] },
    });
    m.addLayer({
      id: 'blind-spots-fill',
      type: 'fill',
      source: 'blind-spots',
      paint: { 'fill-color': '#8c8c8c', 'fill-opacity': 0.45, 'fill-outline-color': '#d9d9d9' },
    });
    m.addLayer({
      id: 'grids-line',
      type: 'line',
      source: 'grids',
      paint: { 'line-color': '#2f6b99', 'line-width': 0.5 * s, 'line-opacity': 0.6 },
    });
    m.addLayer({
      id: 'villages-line',
      type: 'line',
      source: 'villages',
      paint: { 'line-color': '#3f8fce', 'line-width': 1 * s, 'line-opacity': 0.8 },
    });
    m.addLayer({
      id: 'streets-line',
      type: 'line',
      source: 'streets',
      paint: { 'line-color': '#5cc8ff', 'line-width': 2 * s },
    });
    m.addLayer({
      id: 'cases-heat',
      type: 'heatmap',
      source: 'cases',
      layout: { visibility: 'none' },
      paint: {
        'heatmap-radius': 18 * s,
        'heatmap-weight': ['coalesce', ['get', 'point_count'], 1],
        'heatmap-intensity': 0.8,
        'heatmap-opacity': 0.75,
        'heatmap-color': [
          'interpolate',
          ['linear'],
          ['heatmap-density'],
          0,
          'rgba(0,0,0,0)',
          0.2,
          '#1f4e9c',
          0.45,
          '#2fc4b2',
          0.7,
          '#f5d547',
          1,
          '#ff4d4f',
        ],
      },
    });
    m.addLayer({
      id: 'highlight',
      type: 'line',
      source: 'highlight',
      paint: { 'line-color': '#ffe066', 'line-width': 4 * s, 'line-blur': 1 },
    });
    // The key area or blind spot chosen in the list or on the map.
    m.addLayer({
      id: 'area-highlight-fill',
      type: 'fill',
      source: 'area-highlight',
      paint: { 'fill-color': '#ffe066', 'fill-opacity': 0.3 },
    });
    m.addLayer({
      id: 'area-highlight-line',
      type: 'line',
      source: 'area-highlight',
      paint: { 'line-color': '#ffe066', 'line-width': 3 * s },
    });
    m.addLayer({
      id: 'radius-fill',
      type: 'fill',
      source: 'radius',
      paint: { 'fill-color': '#36cfc9', 'fill-opacity': 0.12 },
    });
    m.addLayer({
      id: 'radius-line',
      type: 'line',
      source: 'radius',
      paint: { 'line-color': '#36cfc9', 'line-width': 2 * s, 'line-dasharray': [3, 2] },
    });
    m.addLayer({
      id: 'cameras',
      type: 'circle',
      source: 'cameras',
      layout: { visibility: 'none' },
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 1.2 * s, 15, 4 * s],
        'circle-color': '#36cfc9',
        'circle-opacity': 0.8,
      },
    });
    m.addLayer({
      id: 'devices',
      type: 'circle',
      source: 'devices',
      paint: {
        'circle-radius': 3 * s,
        'circle-color': [
          'match',
          ['get', 'health'],
          'online',
          '#52c41a',
          'warning',
          '#faad14',
          'abnormal',
          '#ff4d4f',
          '#8c8c8c',
        ] as unknown as string,
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 0.5 * s,
      },
    });
    // A device alarm: a ring round its device, red when major or critical.
    m.addLayer({
      id: 'alarms',
      type: 'circle',
      source: 'alarms',
      paint: {
        'circle-radius': 9 * s,
        'circle-color': 'rgba(255,77,79,0.18)',
        'circle-stroke-color': ['case', ['get', 'severe'], '#ff4d4f', '#faad14'],
        'circle-stroke-width': 2.5 * s,
      },
    });
    m.addLayer({
      id: 'resources',
      type: 'circle',
      source: 'resources',
      paint: {
        // Rings, not dots: resources must not be taken for cases.
        'circle-radius': 4 * s,
        'circle-color': '#07121f',
        'circle-stroke-color': ['match', ['get', 'kind'], 'hospital', '#ff85c0', 'fire_station', '#ff4d4f', '#95de64'],
        'circle-stroke-width': 2.5 * s,
      },
    });
    m.addLayer({
      id: 'cases-clusters',
      type: 'circle',
      source: 'cases',
      filter: ['has', 'point_count'],
      paint: {
        'circle-radius': ['step', ['get', 'point_count'], 6 * s, 20, 9 * s, 100, 13 * s, 1000, 18 * s],
        'circle-color': ['case', ['>', ['get', 'overdue'], 0], 'rgba(255,77,79,0.75)', 'rgba(64,169,255,0.7)'],
        'circle-stroke-color': 'rgba(255,255,255,0.7)',
        'circle-stroke-width': 1 * s,
      },
    });
    m.addLayer({
      id: 'cases',
      type: 'circle',
      source: 'cases',
      filter: ['!', ['has', 'point_count']],
      paint: {
        'circle-radius': [
          'interpolate',
          ['linear'],
          ['zoom'],
          10,
          ['*', urgencyFactor, 5 * s],
          14,
          ['*', urgencyFactor, 6 * s],
          17,
          ['*', urgencyFactor, 8 * s],
        ],
        'circle-color': ['match', ['get', 'status'], ...STATUS_COLOURS.flat(), '#bfbfbf'] as unknown as string,
        'circle-stroke-color': ['case', ['get', 'overdue'], '#ff1f1f', 'rgba(255,255,255,0.6)'],
        'circle-stroke-width': ['case', ['get', 'overdue'], 1.6 * s, 0.4 * s],
        'circle-opacity': ['case', ['get', 'open'], 0.95, 0.45],
      },
    });
    m.addLayer({
      id: 'cases-fresh',
      type: 'circle',
      source: 'cases-fresh',
      paint: {
        'circle-radius': 10 * s,
        'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-color': '#ffec3d',
        'circle-stroke-width': 2.5 * s,
        'circle-stroke-opacity': 0.9,
      },
    });
    m.addLayer({
      id: 'radius-cameras',
      type: 'circle',
      source: 'radius-cameras',
      paint: {
        'circle-radius': 5 * s,
        'circle-color': '#36cfc9',
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1.5 * s,
      },
    });
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
