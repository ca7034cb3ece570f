// The wall map's style: its sources and layers in drawing order, and the colours of case
// statuses, urgencies and the five-colour rating. The map itself (data, clicks, labels) is
// map.ts.

import type * as maplibregl from 'maplibre-gl';
import type { ExpressionSpecification, GeoJSONSourceSpecification } from 'maplibre-gl';

import type { FeatureCollection } from './types';

/** An empty collection, what every source holds until its data comes. */
export const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };

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

function source(m: maplibregl.Map, id: string, options: Partial<GeoJSONSourceSpecification> = {}): void {
  m.addSource(id, { type: 'geojson', data: EMPTY, ...options });
}

/** The wall's sources (empty until data comes) and layers, in drawing order; `s` scales
 *  widths and radii to the screen. */
export function addLayers(m: maplibregl.Map, s: number): void {
  // The regions are outlines and flat fills: a small tile buffer is enough and spares the
  // worker much of its clipping; streets and villages take a coarser simplification (a
  // pixel, not a third of one). Grids keep the default: a coarser one would drop the
  // smallest town grids at district scale (942 must be drawn).
  // Streets are known by their code too (`promoteId`): the five-colour rating is a feature
  // state per street (see `setRating`), not a copy of their shapes.
  source(m, 'streets', { buffer: 16, tolerance: 1, promoteId: 'code' });
  source(m, 'villages', { buffer: 16, tolerance: 1 });
  source(m, 'grids', { buffer: 16 });
  for (const id of ['highlight', 'key-areas', 'blind-spots', 'area-highlight', 'radius']) source(m, id);
  for (const id of ['cameras', 'resources', 'devices', 'alarms', 'cases-fresh', 'radius-cameras']) source(m, id);
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
}
