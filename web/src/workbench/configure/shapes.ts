// Polygons as the editors hold them (rings without the closing vertex, WGS84), to and from
// GeoJSON; GeoJSON files read for an import (any of a geometry, a Feature or a
// FeatureCollection), their coordinates converted for the preview when they are GCJ-02.

import type { Feature, FeatureCollection, Geometry, MultiPolygon, Polygon, Position } from 'geojson';
import { gcj02ToWgs84 } from './gcj02';

export type Pt = [number, number];
/** A ring without its closing vertex. */
export type Ring = Pt[];
/** An outer ring and its holes. */
export type Poly = Ring[];
export type Crs = 'wgs84' | 'gcj02';

const round = (v: number) => Math.round(v * 1e7) / 1e7;

function openRing(ring: Position[]): Ring {
  const r = ring.map((p) => [p[0], p[1]] as Pt);
  if (r.length > 1 && r[0][0] === r[r.length - 1][0] && r[0][1] === r[r.length - 1][1]) r.pop();
  return r;
}

function closeRing(ring: Ring): Position[] {
  const r = ring.map(([x, y]) => [round(x), round(y)]);
  if (r.length) r.push([...r[0]]);
  return r;
}

/** The polygons of a geometry (Polygon or MultiPolygon; others have none). */
export function polysOf(g: Geometry | null | undefined): Poly[] {
  if (!g) return [];
  if (g.type === 'Polygon') return [g.coordinates.map(openRing)];
  if (g.type === 'MultiPolygon') return g.coordinates.map((p) => p.map(openRing));
  if (g.type === 'GeometryCollection') return g.geometries.flatMap(polysOf);
  return [];
}

/** A Polygon for one polygon, else a MultiPolygon; rings closed, coordinates to 1e-7°. */
export function geometryOf(polys: Poly[], multi = polys.length !== 1): Polygon | MultiPolygon {
  const coords = polys.map((p) => p.map(closeRing));
  return multi ? { type: 'MultiPolygon', coordinates: coords } : { type: 'Polygon', coordinates: coords[0] ?? [] };
}

/** Every position of a GeoJSON value mapped through `f` (a deep copy). */
export function mapPositions<T>(value: T, f: (p: Pt) => Pt): T {
  const walk = (c: unknown): unknown => {
    if (Array.isArray(c) && typeof c[0] === 'number') {
      const [x, y, ...rest] = c as number[];
      const [nx, ny] = f([x, y]);
      return [round(nx), round(ny), ...rest];
    }
    if (Array.isArray(c)) return c.map(walk);
    return c;
  };
  const copy = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(copy);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = k === 'coordinates' ? walk(x) : k === 'properties' ? x : copy(x);
      return o;
    }
    return v;
  };
  return copy(value) as T;
}

/** What the server stores for coordinates given in `crs` (GCJ-02 converted as the server does). */
export function toWgs84<T>(value: T, crs: Crs): T {
  return crs === 'gcj02' ? mapPositions(value, gcj02ToWgs84) : mapPositions(value, (p) => p);
}

export interface Imported {
  /** The file's object as it was read (sent as is when saved untouched). */
  raw: unknown;
  /** Its features (a bare geometry becomes one feature). */
  features: Feature[];
}

/** Reads a GeoJSON text; throws an Error with the reason when it is not one. */
export function readGeoJson(text: string): Imported {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new Error(`JSON: ${(e as Error).message}`);
  }
  const o = raw as { type?: string };
  let features: Feature[];
  if (o?.type === 'FeatureCollection') features = (raw as FeatureCollection).features ?? [];
  else if (o?.type === 'Feature') features = [raw as Feature];
  else if (typeof o?.type === 'string' && 'coordinates' in (raw as object)) features = [{ type: 'Feature', properties: {}, geometry: raw as Geometry }];
  else throw new Error('GeoJSON: type');
  return { raw, features: features.filter((f) => f && f.geometry) };
}

export function boundsOf(values: (Geometry | null | undefined)[]): [[number, number], [number, number]] | null {
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  const walk = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') {
      const [x, y] = c as number[];
      w = Math.min(w, x);
      e = Math.max(e, x);
      s = Math.min(s, y);
      n = Math.max(n, y);
    } else if (Array.isArray(c)) c.forEach(walk);
  };
  const visit = (g: Geometry | null | undefined) => {
    if (!g) return;
    if (g.type === 'GeometryCollection') g.geometries.forEach(visit);
    else walk(g.coordinates);
  };
  values.forEach(visit);
  return w === Infinity ? null : [[w, s], [e, n]];
}

/** Reads a chosen file as text. */
export function fileText(file: File): Promise<string> {
  return file.text();
}
