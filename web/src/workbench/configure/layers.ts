// Resource points and key areas: the layers of `GET /api/layers`. Pick a layer; its features
// are listed (id, name, kind and the rest of their properties) and drawn on the map. Add a
// point by clicking the map, move one by dragging it, draw an area's outline or edit its
// vertices (the regions' vertex editor), edit properties, delete; import a GeoJSON file in
// WGS84 or GCJ-02 (replacing the layer or added to it), previewed before saving. Save
// replaces the whole layer (`PUT /api/layers/{name}`); a new layer names its kind.

import type { Feature, FeatureCollection, Geometry } from 'geojson';
import type { GeoJSONSource, MapMouseEvent } from 'maplibre-gl';
import type { Ctx } from '../app';
import { h, fill } from '../dom';
import { editMap, fit, type EditMap } from './editmap';
import { clear, showProblem } from './problem';
import { type Crs, fileText, geometryOf, polysOf, readGeoJson, toWgs84 } from './shapes';
import { cw, layerTitle } from './words';

interface LayerInfo {
  name: string;
  kind: 'points' | 'areas';
  count: number;
}

type Props = Record<string, unknown>;
type F = Feature<Geometry, Props>;

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };
const SHOWN = 100;
/** The kinds each sample layer's features carry (data/ouhai/points, data/ouhai/areas). */
const KINDS: Record<string, string[]> = {
  cameras: ['camera'],
  fire_stations: ['fire_station'],
  hospitals: ['hospital'],
  shelters: ['shelter'],
  key_areas: ['flood', 'landslide', 'crowd', 'safety_production'],
  blind_spots: ['blind_spot'],
};

export function layersScreen(ctx: Ctx, el: HTMLElement): () => void {
  const mapBox = h('div', { class: 'cfg-map', test: 'layer-map' });
  const pickLayer = h('select', { test: 'layer-select' });
  const newName = h('input', { test: 'layer-new-name', placeholder: 'parking_lots', pattern: '[a-z][a-z0-9_]*' });
  const newKind = h('select', { test: 'layer-new-kind' }, h('option', { value: 'points' }, cw('points')), h('option', { value: 'areas' }, cw('areas')));
  const newForm = h('div', { class: 'cfg-import', hidden: true }, h('label', {}, cw('layerName'), newName), h('label', {}, cw('layerKind'), newKind), h('button', { type: 'button', test: 'layer-new-create', onclick: () => createLayer() }, cw('createLayer')));
  const error = h('p', { class: 'error', role: 'alert', test: 'layer-error' });
  const notice = h('p', { class: 'notice', role: 'status', test: 'layer-notice' });
  const state = h('p', { class: 'muted', test: 'layer-state' });
  const addPoint = h('button', { type: 'button', test: 'layer-add-point' }, cw('addPoint'));
  const drawArea = h('button', { type: 'button', test: 'layer-draw-area' }, cw('drawArea'));
  const finishDraw = h('button', { type: 'button', test: 'layer-draw-finish', hidden: true }, cw('finishDraw'));
  const crs = h('select', { test: 'layer-import-crs' }, h('option', { value: 'wgs84' }, 'WGS84'), h('option', { value: 'gcj02' }, cw('gcj02')));
  const mode = h('select', { test: 'layer-import-mode' }, h('option', { value: 'replace' }, cw('importReplace')), h('option', { value: 'append' }, cw('importAppend')));
  const file = h('input', { type: 'file', accept: '.geojson,.json,application/geo+json,application/json', test: 'layer-import-file' });
  const save = h('button', { type: 'button', class: 'primary', test: 'layer-save' }, cw('saveLayer'));
  const revert = h('button', { type: 'button', test: 'layer-revert' }, cw('revert'));
  const filter = h('input', { type: 'search', test: 'layer-filter', placeholder: cw('filterFeatures') });
  const rows = h('tbody', {});
  const more = h('p', { class: 'muted', test: 'layer-more' });
  const tools = h(
    'div',
    { class: 'cfg-part', test: 'layer-tools', hidden: true },
    h('div', { class: 'buttons wrap' }, addPoint, drawArea, finishDraw),
    h('p', { class: 'muted small', test: 'layer-hint' }),
    state,
    h('div', { class: 'cfg-import' }, h('label', {}, cw('importGeoJson'), file), h('label', {}, cw('crs'), crs), h('label', {}, cw('importHow'), mode)),
    h('div', { class: 'buttons' }, save, revert),
    error,
    notice,
  );
  const listPart = h('div', { class: 'cfg-part cfg-features', hidden: true }, h('h3', {}, cw('featureList')), filter, h('table', { class: 'cases rules-table', test: 'layer-features' }, h('thead', {}, h('tr', {}, ['ID', cw('name'), cw('kindCol'), cw('otherProps'), ''].map((t) => h('th', {}, t)))), rows), more);
  const screen = h(
    'section',
    { class: 'cfg-geo', test: 'config-layers' },
    h('div', { class: 'cfg-side' }, h('div', { class: 'cfg-part' }, h('h3', {}, cw('layer')), pickLayer, newForm), tools, listPart),
    mapBox,
  );
  fill(el, screen);

  let layers: LayerInfo[] = [];
  let current: { name: string; kind: 'points' | 'areas'; isNew: boolean } | null = null;
  let features: F[] = [];
  let selected: F | null = null;
  let adding = false;
  let imported: { raw: unknown; crs: Crs; edited: boolean } | null = null;
  let dirty = false;
  let em: EditMap | null = null;

  const setHint = () => {
    const hint = tools.querySelector<HTMLElement>('[data-test=layer-hint]')!;
    hint.textContent = adding ? cw('clickToAdd') : current?.kind === 'points' ? cw('pointHint') : cw('areaHint');
    addPoint.classList.toggle('active', adding);
  };
  const touched = () => {
    dirty = true;
    if (imported) imported.edited = true;
    showState();
  };
  const showState = () => {
    const parts = [`${features.length} ${cw('features')}`];
    if (imported) parts.push(imported.edited ? cw('importEdited') : `${cw('importPreview')} (${imported.crs === 'gcj02' ? cw('gcj02') : 'WGS84'})`);
    else if (dirty) parts.push(cw('unsaved'));
    state.textContent = parts.join(' · ');
    screen.dataset.count = String(features.length);
    screen.dataset.dirty = String(dirty);
  };

  // The map: every feature, the selected point on top (draggable), the selected area in the editor.
  const draw = () => {
    if (!em) return;
    const m = em.small.map;
    const shown = features.map((f, i) => ({ ...f, properties: { ...f.properties, __i: i, __sel: f === selected } }));
    (m.getSource('lyr') as GeoJSONSource | undefined)?.setData({ type: 'FeatureCollection', features: shown.filter((f) => !(f.properties.__sel && f.geometry?.type !== 'Point')) } as FeatureCollection);
    (m.getSource('lyr-sel') as GeoJSONSource | undefined)?.setData(selected && selected.geometry?.type === 'Point' ? selected : EMPTY);
  };
  const mapReady = editMap(mapBox, ctx.refs.streets, ctx.refs.district).then((m) => {
    em = m;
    const map = m.small.map;
    map.addSource('lyr', { type: 'geojson', data: EMPTY });
    map.addSource('lyr-sel', { type: 'geojson', data: EMPTY });
    const isArea = ['match', ['geometry-type'], ['Polygon', 'MultiPolygon'], true, false] as unknown as boolean;
    map.addLayer({ id: 'lyr-fill', type: 'fill', source: 'lyr', filter: isArea as never, paint: { 'fill-color': '#7048e8', 'fill-opacity': 0.15 } }, 'edit-fill');
    map.addLayer({ id: 'lyr-line', type: 'line', source: 'lyr', filter: isArea as never, paint: { 'line-color': '#7048e8', 'line-width': 1.5 } }, 'edit-fill');
    map.addLayer({ id: 'lyr-point', type: 'circle', source: 'lyr', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 2.5, 15, 6], 'circle-color': '#0b7285', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } });
    map.addLayer({ id: 'lyr-sel-point', type: 'circle', source: 'lyr-sel', paint: { 'circle-radius': 9, 'circle-color': '#d9480f', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
    m.editor.onChange = () => {
      if (selected && selected.geometry?.type !== 'Point') {
        selected.geometry = geometryOf(m.editor.get(), selected.geometry?.type === 'MultiPolygon');
        touched();
      }
    };
    m.editor.onDrawn = () => {
      const made: F = { type: 'Feature', properties: { id: nextId(), name: '', kind: KINDS[current?.name ?? '']?.[0] ?? '' }, geometry: geometryOf(m.editor.get(), false) };
      features.push(made);
      selectFeature(made, true);
      finishDraw.hidden = true;
      touched();
    };
    map.on('click', (e: MapMouseEvent) => {
      if (!current || m.editor.getMode() === 'draw') return;
      if (adding) {
        const made: F = { type: 'Feature', properties: { id: nextId(), name: '', kind: KINDS[current.name]?.[0] ?? '' }, geometry: { type: 'Point', coordinates: [round(e.lngLat.lng), round(e.lngLat.lat)] } };
        features.push(made);
        adding = false;
        setHint();
        selectFeature(made, true);
        touched();
        return;
      }
      const hit = map.queryRenderedFeatures(e.point, { layers: ['lyr-point', 'lyr-fill', 'edit-vertex', 'edit-mid', 'lyr-sel-point'] });
      if (hit.some((x) => x.layer.id.startsWith('edit-') || x.layer.id === 'lyr-sel-point')) return;
      const i = hit[0]?.properties?.__i;
      if (i !== undefined) selectFeature(features[Number(i)] ?? null, true);
    });
    // Dragging the selected point.
    const startDrag = (touch: boolean) => {
      const f = selected;
      if (!f || f.geometry?.type !== 'Point') return;
      map.dragPan.disable();
      let moved = false;
      const move = (ev: { lngLat: { lng: number; lat: number } }) => {
        moved = true;
        f.geometry = { type: 'Point', coordinates: [round(ev.lngLat.lng), round(ev.lngLat.lat)] };
        (map.getSource('lyr-sel') as GeoJSONSource).setData(f);
      };
      const end = () => {
        if (touch) map.off('touchmove', move);
        else map.off('mousemove', move);
        map.dragPan.enable();
        if (moved) {
          touched();
          draw();
          renderRows();
        }
      };
      if (touch) {
        map.on('touchmove', move);
        map.once('touchend', end);
      } else {
        map.on('mousemove', move);
        map.once('mouseup', end);
      }
    };
    map.on('mousedown', 'lyr-sel-point', (e) => {
      if (e.originalEvent.button !== 0) return;
      e.preventDefault();
      startDrag(false);
    });
    map.on('touchstart', 'lyr-sel-point', (e) => {
      if (e.points.length !== 1) return;
      e.preventDefault();
      startDrag(true);
    });
    map.on('mouseenter', 'lyr-sel-point', () => (map.getCanvas().style.cursor = 'move'));
    map.on('mouseleave', 'lyr-sel-point', () => (map.getCanvas().style.cursor = ''));
    (window as unknown as { __config: unknown }).__config = { ...m, layer: { features: () => features, select: (i: number) => selectFeature(features[i] ?? null, true) } };
    mapBox.dataset.ready = 'true';
    return m;
  });

  const round = (v: number) => Math.round(v * 1e7) / 1e7;

  /** The next id in the layer's own pattern (SHEL-039 → SHEL-040). */
  const nextId = (): string => {
    let prefix = `${(current?.name ?? 'F').slice(0, 4).toUpperCase()}-`;
    let width = 3;
    let max = 0;
    for (const f of features) {
      const m = /^(.*?)(\d+)$/.exec(String(f.properties.id ?? ''));
      if (!m) continue;
      prefix = m[1];
      width = m[2].length;
      max = Math.max(max, Number(m[2]));
    }
    const taken = new Set(features.map((f) => String(f.properties.id)));
    let n = max + 1;
    while (taken.has(`${prefix}${String(n).padStart(width, '0')}`)) n++;
    return `${prefix}${String(n).padStart(width, '0')}`;
  };

  const selectFeature = (f: F | null, scroll: boolean, zoom = false) => {
    selected = f;
    if (zoom && f && em) fit(em.small, [f.geometry], 16);
    if (em) {
      if (f && f.geometry?.type !== 'Point') {
        em.editor.set(polysOf(f.geometry));
        em.editor.setMode('edit');
      } else {
        em.editor.set([]);
        em.editor.setMode('view');
      }
    }
    // The selected feature's row is shown even when the filter or the page hides it.
    renderRows();
    draw();
    const row = rows.querySelector<HTMLElement>('tr.selected');
    if (row && scroll) row.scrollIntoView({ block: 'nearest' });
    screen.dataset.selected = f ? String(f.properties.id ?? '') : '';
  };

  const renderRows = () => {
    const q = filter.value.trim().toLowerCase();
    const matching = features.filter((f) => !q || JSON.stringify(f.properties).toLowerCase().includes(q));
    const shown = matching.slice(-SHOWN);
    if (selected && !shown.includes(selected)) shown.unshift(selected);
    fill(
      rows,
      shown.map((f) => {
        const p = f.properties;
        const id = h('input', { test: 'feature-id', value: String(p.id ?? ''), size: 10, oninput: () => { p.id = id.value.trim(); row.dataset.id = p.id as string; touched(); } });
        const name = h('input', { test: 'feature-name', value: String(p.name ?? ''), oninput: () => { p.name = name.value.trim(); touched(); } });
        const kind = h('input', { test: 'feature-kind', value: String(p.kind ?? ''), size: 10, list: 'cfg-feature-kinds', oninput: () => { p.kind = kind.value.trim(); touched(); } });
        const rest = Object.entries(p).filter(([k]) => !['id', 'name', 'kind', 'generated'].includes(k));
        const where = f.geometry?.type === 'Point' ? (f.geometry.coordinates as number[]).map((c) => c.toFixed(5)).join(', ') : `${polysOf(f.geometry).reduce((n, x) => n + x[0].length, 0)} ${cw('vertices')}`;
        const row = h(
          'tr',
          { test: 'layer-feature', 'data-id': String(p.id ?? ''), class: f === selected ? 'selected' : '', onclick: (e: Event) => { if (!(e.target instanceof HTMLInputElement) && !(e.target instanceof HTMLButtonElement)) selectFeature(f, false, true); } },
          h('td', {}, id),
          h('td', {}, name),
          h('td', {}, kind),
          h('td', { class: 'muted small' }, rest.map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' · '), h('div', { test: 'feature-where' }, where)),
          h(
            'td',
            {},
            h('button', {
              type: 'button',
              class: 'link',
              test: 'feature-remove',
              onclick: () => {
                features.splice(features.indexOf(f), 1);
                if (selected === f) selectFeature(null, false);
                else {
                  renderRows();
                  draw();
                }
                touched();
              },
            }, cw('remove')),
          ),
        );
        return row;
      }),
    );
    more.textContent = matching.length > SHOWN ? cw('moreFeatures').replace('{n}', String(matching.length - SHOWN)).replace('{shown}', String(SHOWN)) : '';
  };
  filter.oninput = () => renderRows();

  const showLayer = (name: string, kind: 'points' | 'areas', fc: FeatureCollection, isNew: boolean, message = '') => {
    current = { name, kind, isNew };
    features = (fc.features as F[]).map((f) => ({ ...f, properties: { ...(f.properties ?? {}) } }));
    selected = null;
    imported = null;
    dirty = isNew;
    adding = false;
    addPoint.hidden = kind !== 'points';
    drawArea.hidden = kind !== 'areas';
    finishDraw.hidden = true;
    tools.hidden = listPart.hidden = false;
    clear(error);
    notice.textContent = message;
    filter.value = '';
    const kinds = KINDS[name] ?? [...new Set(features.map((f) => String(f.properties.kind ?? '')).filter(Boolean))];
    listPart.querySelector('datalist')?.remove();
    listPart.append(h('datalist', { id: 'cfg-feature-kinds' }, kinds.map((k) => h('option', { value: k }))));
    setHint();
    showState();
    selectFeature(null, false);
    if (em && features.length) fit(em.small, features.map((f) => f.geometry), 15);
    screen.dataset.layer = name;
  };

  const openLayer = async (name: string, message = '') => {
    clear(error);
    delete screen.dataset.layer;
    try {
      const [fc] = await Promise.all([ctx.api.get<FeatureCollection>(`/api/layers/${encodeURIComponent(name)}`), mapReady]);
      const info = layers.find((l) => l.name === name);
      showLayer(name, info?.kind ?? (fc.features.some((f) => f.geometry?.type === 'Point') ? 'points' : 'areas'), fc, false, message);
    } catch (err) {
      showProblem(error, err);
      tools.hidden = false;
    }
  };

  const loadLayers = async (choose?: string) => {
    try {
      layers = (await ctx.api.get<{ layers: LayerInfo[] }>('/api/layers')).layers;
    } catch (err) {
      showProblem(error, err);
      tools.hidden = false;
      return;
    }
    fill(
      pickLayer,
      h('option', { value: '' }, `${cw('layer')} —`),
      layers.map((l) => h('option', { value: l.name }, `${layerTitle(l.name)}（${l.kind === 'points' ? cw('points') : cw('areas')}，${l.count}）`)),
      h('option', { value: '__new' }, cw('newLayer')),
    );
    if (choose) pickLayer.value = choose;
  };
  pickLayer.onchange = () => {
    newForm.hidden = pickLayer.value !== '__new';
    if (pickLayer.value && pickLayer.value !== '__new') void openLayer(pickLayer.value);
  };
  const createLayer = async () => {
    const name = newName.value.trim();
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      error.textContent = cw('badLayerName');
      tools.hidden = false;
      return;
    }
    await mapReady;
    showLayer(name, newKind.value as 'points' | 'areas', EMPTY, true);
  };

  addPoint.onclick = () => {
    adding = !adding;
    setHint();
  };
  drawArea.onclick = () => {
    if (!em) return;
    selected = null;
    draw();
    em.editor.set([]);
    em.editor.setMode('draw');
    finishDraw.hidden = false;
  };
  finishDraw.onclick = () => {
    if (!em?.editor.finishDraw()) error.textContent = cw('drawThree');
  };
  revert.onclick = () => {
    if (!current) return;
    if (current.isNew) showLayer(current.name, current.kind, EMPTY, true);
    else void openLayer(current.name);
  };

  file.onchange = async () => {
    const f = file.files?.[0];
    if (!f || !current) return;
    clear(error);
    notice.textContent = '';
    try {
      const read = readGeoJson(await fileText(f));
      const chosen = crs.value as Crs;
      const incoming = read.features.map((x) => toWgs84({ ...x, properties: { ...(x.properties ?? {}) } }, chosen) as F);
      if (mode.value === 'append') {
        features.push(...incoming);
        touched();
      } else {
        features = incoming;
        dirty = true;
        // Sent as read, with its coordinate system, unless it is changed here before saving.
        imported = { raw: read.raw, crs: chosen, edited: false };
        showState();
      }
      selectFeature(null, false);
      if (em) fit(em.small, incoming.map((x) => x.geometry), 15);
      notice.textContent = `${f.name}: ${incoming.length} ${cw('features')}${chosen === 'gcj02' ? ` · ${cw('gcjShown')}` : ''} · ${cw('notSavedYet')}`;
    } catch (e) {
      error.textContent = `${cw('badFile')}: ${(e as Error).message}`;
    } finally {
      file.value = '';
    }
  };

  save.onclick = async () => {
    if (!current) return;
    clear(error);
    notice.textContent = '';
    const raw = imported && !imported.edited ? imported.raw : null;
    const collection: FeatureCollection = raw
      ? ((raw as { type?: string }).type === 'FeatureCollection'
          ? (raw as FeatureCollection)
          : { type: 'FeatureCollection', features: readGeoJson(JSON.stringify(raw)).features })
      : { type: 'FeatureCollection', features: features.map((f) => ({ type: 'Feature', properties: f.properties, geometry: f.geometry })) };
    const body: Record<string, unknown> = { crs: raw && imported ? imported.crs : 'wgs84', features: collection };
    if (current.isNew) body.kind = current.kind;
    save.disabled = true;
    try {
      const answer = await ctx.api.put<{ name: string; kind: string; count: number; version: number }>(`/api/layers/${encodeURIComponent(current.name)}`, body);
      await loadLayers(answer.name);
      await openLayer(answer.name, `${cw('saved')}: ${layerTitle(answer.name)} · ${answer.count} ${cw('features')} · ${cw('version')} ${answer.version}`);
      screen.dataset.version = String(answer.version);
    } catch (err) {
      showProblem(error, err);
    } finally {
      save.disabled = false;
    }
  };

  void loadLayers();
  return () => {
    void mapReady.then((m) => m.small.remove());
  };
}
