// A small polygon editor on MapLibre: the polygon's vertices are circle handles on a WebGL
// layer. Drag a handle to move the vertex; click the small handle in the middle of an edge
// to add a vertex there; right-click a vertex (or long-press it on a touch screen, or select
// it and press Delete) to remove it. "Draw" mode starts a new outline: click the map for
// each vertex, then click the first vertex again, double-click or call `finishDraw()`.

import type { GeoJSONSource, Map as MlMap, MapLayerMouseEvent, MapLayerTouchEvent } from 'maplibre-gl';
import type { Feature, FeatureCollection } from 'geojson';
import { geometryOf, type Poly, type Pt, type Ring } from './shapes';

export type Mode = 'view' | 'edit' | 'draw';
type Idx = { p: number; r: number; i: number };

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };

export class VertexEditor {
  private polys: Poly[] = [];
  private draft: Ring = [];
  private selected: Idx | null = null;
  private mode: Mode = 'view';
  /** Called after every change (a moved, added or removed vertex, a finished outline). */
  onChange: () => void = () => {};
  /** Called when a drawn outline is finished. */
  onDrawn: () => void = () => {};

  constructor(
    readonly map: MlMap,
    readonly id = 'edit',
    color = '#d9480f',
  ) {
    const m = map;
    m.addSource(`${id}-shape`, { type: 'geojson', data: EMPTY });
    m.addSource(`${id}-handles`, { type: 'geojson', data: EMPTY });
    m.addSource(`${id}-draft`, { type: 'geojson', data: EMPTY });
    m.addLayer({ id: `${id}-fill`, type: 'fill', source: `${id}-shape`, paint: { 'fill-color': color, 'fill-opacity': 0.12 } });
    m.addLayer({ id: `${id}-line`, type: 'line', source: `${id}-shape`, paint: { 'line-color': color, 'line-width': 2 } });
    m.addLayer({ id: `${id}-draft-line`, type: 'line', source: `${id}-draft`, paint: { 'line-color': color, 'line-width': 2, 'line-dasharray': [2, 2] } });
    m.addLayer({
      id: `${id}-mid`,
      type: 'circle',
      source: `${id}-handles`,
      filter: ['==', ['get', 'kind'], 'mid'],
      paint: { 'circle-radius': 4, 'circle-color': '#ffffff', 'circle-stroke-color': color, 'circle-stroke-width': 1.5, 'circle-opacity': 0.9 },
    });
    m.addLayer({
      id: `${id}-vertex`,
      type: 'circle',
      source: `${id}-handles`,
      filter: ['==', ['get', 'kind'], 'vertex'],
      paint: {
        'circle-radius': ['case', ['boolean', ['get', 'selected'], false], 8, 6],
        'circle-color': ['case', ['boolean', ['get', 'selected'], false], '#1f6feb', color],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 2,
      },
    });
    this.listen();
  }

  /** The polygons to edit (replaces what was there). */
  set(polys: Poly[]): void {
    this.polys = polys.map((p) => p.map((r) => r.map(([x, y]) => [x, y] as Pt)));
    this.selected = null;
    this.draft = [];
    this.render();
  }

  get(): Poly[] {
    return this.polys;
  }

  setMode(mode: Mode): void {
    this.mode = mode;
    this.draft = [];
    this.selected = null;
    if (mode === 'draw') this.map.doubleClickZoom.disable();
    else this.map.doubleClickZoom.enable();
    this.map.getCanvas().style.cursor = mode === 'draw' ? 'crosshair' : '';
    this.render();
  }

  getMode(): Mode {
    return this.mode;
  }

  vertexCount(): number {
    return this.polys.reduce((n, p) => n + p.reduce((m, r) => m + r.length, 0), 0);
  }

  /** A vertex's position in the page (for tests and tooltips). */
  clientOf(p: number, r: number, i: number): { x: number; y: number } | null {
    const v = this.polys[p]?.[r]?.[i];
    if (!v) return null;
    const rect = this.map.getCanvas().getBoundingClientRect();
    const s = this.map.project(v);
    return { x: rect.left + s.x, y: rect.top + s.y };
  }

  /** Finishes the outline being drawn: it replaces the polygons. False when it has fewer
   *  than three vertices. */
  finishDraw(): boolean {
    if (this.mode !== 'draw' || this.draft.length < 3) return false;
    this.polys = [[this.draft]];
    this.draft = [];
    this.setMode('edit');
    this.onChange();
    this.onDrawn();
    return true;
  }

  /** Removes the selected vertex (a ring keeps at least three). */
  removeSelected(): boolean {
    if (!this.selected) return false;
    return this.remove(this.selected);
  }

  private remove({ p, r, i }: Idx): boolean {
    const ring = this.polys[p]?.[r];
    if (!ring || ring.length <= 3) return false;
    ring.splice(i, 1);
    this.selected = null;
    this.render();
    this.onChange();
    return true;
  }

  private render(): void {
    const shape = this.map.getSource(`${this.id}-shape`) as GeoJSONSource | undefined;
    const handles = this.map.getSource(`${this.id}-handles`) as GeoJSONSource | undefined;
    const draft = this.map.getSource(`${this.id}-draft`) as GeoJSONSource | undefined;
    const polys = this.polys.filter((p) => p.length && p[0].length >= 3);
    shape?.setData(polys.length ? { type: 'Feature', properties: {}, geometry: geometryOf(polys) } : EMPTY);
    const fs: Feature[] = [];
    const point = (c: Pt, props: Record<string, unknown>): Feature => ({ type: 'Feature', properties: props, geometry: { type: 'Point', coordinates: c } });
    if (this.mode === 'edit') {
      this.polys.forEach((poly, p) =>
        poly.forEach((ring, r) =>
          ring.forEach((v, i) => {
            const next = ring[(i + 1) % ring.length];
            fs.push(point([(v[0] + next[0]) / 2, (v[1] + next[1]) / 2], { kind: 'mid', p, r, i }));
          }),
        ),
      );
      this.polys.forEach((poly, p) =>
        poly.forEach((ring, r) =>
          ring.forEach((v, i) => {
            const s = this.selected;
            fs.push(point(v, { kind: 'vertex', p, r, i, selected: !!s && s.p === p && s.r === r && s.i === i }));
          }),
        ),
      );
    }
    if (this.mode === 'draw') this.draft.forEach((v, i) => fs.push(point(v, { kind: 'vertex', p: -1, r: 0, i, selected: i === 0 })));
    handles?.setData({ type: 'FeatureCollection', features: fs });
    draft?.setData(this.draft.length > 1 ? { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: this.draft } } : EMPTY);
  }

  private listen(): void {
    const m = this.map;
    const vertex = `${this.id}-vertex`;
    const idx = (e: MapLayerMouseEvent | MapLayerTouchEvent): Idx | null => {
      const props = e.features?.[0]?.properties as Idx | undefined;
      return props && props.p >= 0 ? { p: Number(props.p), r: Number(props.r), i: Number(props.i) } : null;
    };
    const startDrag = (at: Idx, touch: boolean) => {
      this.selected = at;
      this.render();
      m.dragPan.disable();
      let moved = false;
      const started = Date.now();
      const move = (ev: { lngLat: { lng: number; lat: number } }) => {
        moved = true;
        const ring = this.polys[at.p]?.[at.r];
        if (!ring) return;
        ring[at.i] = [ev.lngLat.lng, ev.lngLat.lat];
        this.render();
      };
      const end = () => {
        if (touch) m.off('touchmove', move);
        else m.off('mousemove', move);
        m.dragPan.enable();
        m.getCanvas().style.cursor = '';
        if (moved) this.onChange();
        // A long press without moving removes the vertex on a touch screen.
        else if (touch && Date.now() - started > 600) this.remove(at);
      };
      if (touch) {
        m.on('touchmove', move);
        m.once('touchend', end);
      } else {
        m.on('mousemove', move);
        m.once('mouseup', end);
      }
    };
    m.on('mousedown', vertex, (e) => {
      if (this.mode !== 'edit' || e.originalEvent.button !== 0) return;
      const at = idx(e);
      if (!at) return;
      e.preventDefault();
      m.getCanvas().style.cursor = 'grabbing';
      startDrag(at, false);
    });
    m.on('touchstart', vertex, (e) => {
      if (this.mode !== 'edit' || e.points.length !== 1) return;
      const at = idx(e);
      if (!at) return;
      e.preventDefault();
      startDrag(at, true);
    });
    m.on('contextmenu', vertex, (e) => {
      if (this.mode !== 'edit') return;
      e.preventDefault();
      const at = idx(e);
      if (at) this.remove(at);
    });
    m.on('click', `${this.id}-mid`, (e) => {
      if (this.mode !== 'edit') return;
      const f = e.features?.[0];
      if (!f) return;
      const { p, r, i } = f.properties as Idx;
      const ring = this.polys[Number(p)]?.[Number(r)];
      if (!ring) return;
      const c = (f.geometry as unknown as { coordinates: Pt }).coordinates;
      ring.splice(Number(i) + 1, 0, [c[0], c[1]]);
      this.selected = { p: Number(p), r: Number(r), i: Number(i) + 1 };
      this.render();
      this.onChange();
    });
    for (const layer of [vertex, `${this.id}-mid`]) {
      m.on('mouseenter', layer, () => {
        if (this.mode === 'edit') m.getCanvas().style.cursor = layer === vertex ? 'move' : 'copy';
      });
      m.on('mouseleave', layer, () => {
        if (this.mode === 'edit') m.getCanvas().style.cursor = '';
      });
    }
    m.on('click', (e) => {
      if (this.mode !== 'draw') return;
      const first = this.draft[0];
      if (first && this.draft.length >= 3) {
        const a = m.project(first);
        if (Math.hypot(a.x - e.point.x, a.y - e.point.y) < 10) {
          this.finishDraw();
          return;
        }
      }
      this.draft.push([e.lngLat.lng, e.lngLat.lat]);
      this.render();
    });
    m.on('dblclick', (e) => {
      if (this.mode !== 'draw') return;
      e.preventDefault();
      // The double-click's two clicks added the same point twice.
      this.draft.pop();
      this.finishDraw();
    });
    m.getCanvas().addEventListener('keydown', (e) => {
      if ((e.key === 'Delete' || e.key === 'Backspace') && this.mode === 'edit') this.removeSelected();
      if (e.key === 'Escape' && this.mode === 'draw') this.setMode('edit');
      if (e.key === 'Enter' && this.mode === 'draw') this.finishDraw();
    });
  }
}
