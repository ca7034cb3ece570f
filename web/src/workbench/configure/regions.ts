// Regions: pick one (the tree district → street → village → grid, or a search), see its
// boundary on the map and edit it there (drag, add and remove vertices, or draw it anew),
// or import it from a GeoJSON file in WGS84 or GCJ-02 (previewed where it will land before
// it is saved); its persons in charge (role and name). Saved with
// `PUT /api/regions/{code}/boundary` and `PUT /api/regions/{code}/persons`; the server's
// answer is shown, and so is its refusal, next to the form.

import type { Feature, Geometry } from 'geojson';
import type { Ctx } from '../app';
import { h, fill } from '../dom';
import { regionSearch } from '../search';
import { editMap, fit, setContext, type EditMap } from './editmap';
import { clear, showProblem } from './problem';
import { type Crs, fileText, geometryOf, polysOf, readGeoJson, toWgs84 } from './shapes';
import { cw } from './words';

interface Person {
  role: string;
  name: string;
}

interface RegionProps {
  code: string;
  name: string;
  level: string;
  parent: string | null;
  ancestors?: { code: string; name: string; level: string }[];
  area_km2?: number;
  persons: Person[];
}

type Region = Feature<Geometry, RegionProps>;
type Named = { code: string; name: string };

const ROLES = ['网格长', '专职网格员', '兼职网格员', '网格指导员', '村（社区）书记', '街道联系领导', '街镇负责人', '区联系领导'];

export function regionsScreen(ctx: Ctx, el: HTMLElement): () => void {
  const mapBox = h('div', { class: 'cfg-map', test: 'region-map' });
  const info = h('div', { class: 'cfg-picked', test: 'region-picked' }, h('span', { class: 'muted' }, cw('pickRegion')));
  const boundary = h('div', { class: 'cfg-part', test: 'region-boundary', hidden: true });
  const persons = h('div', { class: 'cfg-part', test: 'region-persons', hidden: true });
  const side = h(
    'div',
    { class: 'cfg-side' },
    h('div', { class: 'cfg-part' }, h('h3', {}, cw('region')), regionTree(ctx, (code) => void open(code)), regionSearch(ctx.api, cw('regionSearch'), (r) => void open(r.code), 'region-search'), info),
    boundary,
    persons,
  );
  const screen = h('section', { class: 'cfg-geo', test: 'config-regions' }, side, mapBox);
  fill(el, screen);

  let em: EditMap | null = null;
  let region: Region | null = null;
  /** The file imported and not yet saved, as read, with its coordinate system. */
  let imported: { raw: unknown; crs: Crs; edited: boolean } | null = null;
  let dirty = false;
  const mapReady = editMap(mapBox, ctx.refs.streets, ctx.refs.district).then((m) => {
    em = m;
    m.editor.onChange = () => {
      dirty = true;
      if (imported) imported.edited = true;
      showState();
    };
    m.editor.onDrawn = () => showModes();
    mapBox.dataset.ready = 'true';
    return m;
  });

  // Boundary controls.
  const state = h('p', { class: 'muted', test: 'region-state' });
  const bError = h('p', { class: 'error', role: 'alert', test: 'region-boundary-error' });
  const bNotice = h('p', { class: 'notice', role: 'status', test: 'region-boundary-notice' });
  const modeEdit = h('button', { type: 'button', test: 'region-mode-edit', onclick: () => { em?.editor.setMode('edit'); showModes(); } }, cw('editVertices'));
  const modeDraw = h('button', { type: 'button', test: 'region-mode-draw', onclick: () => { em?.editor.setMode('draw'); showModes(); } }, cw('redraw'));
  const finish = h('button', { type: 'button', test: 'region-draw-finish', onclick: () => { if (!em?.editor.finishDraw()) bError.textContent = cw('drawThree'); showModes(); } }, cw('finishDraw'));
  const removeVertex = h('button', { type: 'button', test: 'region-vertex-remove', onclick: () => em?.editor.removeSelected() }, cw('removeVertex'));
  const revert = h('button', { type: 'button', test: 'region-revert', onclick: () => { if (region) show(region, cw('reverted')); } }, cw('revert'));
  const crs = h('select', { test: 'region-import-crs' }, h('option', { value: 'wgs84' }, 'WGS84'), h('option', { value: 'gcj02' }, cw('gcj02')));
  const file = h('input', { type: 'file', accept: '.geojson,.json,application/geo+json,application/json', test: 'region-import-file' });
  const importStatus = h('p', { class: 'muted', test: 'region-import-status' });
  const save = h('button', { type: 'button', class: 'primary', test: 'region-save-boundary' }, cw('saveBoundary'));
  const hint = h('p', { class: 'muted small' }, cw('vertexHint'));

  const showModes = () => {
    const mode = em?.editor.getMode() ?? 'view';
    modeEdit.classList.toggle('active', mode === 'edit');
    modeDraw.classList.toggle('active', mode === 'draw');
    finish.hidden = mode !== 'draw';
    boundary.dataset.mode = mode;
  };
  const showState = () => {
    const n = em?.editor.vertexCount() ?? 0;
    const parts = [`${cw('vertices')}: ${n}`];
    if (imported) parts.push(imported.edited ? cw('importEdited') : `${cw('importPreview')} (${imported.crs === 'gcj02' ? cw('gcj02') : 'WGS84'})`);
    else if (dirty) parts.push(cw('unsaved'));
    state.textContent = parts.join(' · ');
    boundary.dataset.dirty = String(dirty);
    boundary.dataset.vertices = String(n);
  };

  const loadFile = async () => {
    const f = file.files?.[0];
    if (!f || !em) return;
    clear(bError, bNotice);
    try {
      const read = readGeoJson(await fileText(f));
      const chosen = crs.value as Crs;
      const polys = read.features.flatMap((x) => polysOf(toWgs84(x.geometry, chosen)));
      if (!polys.length) throw new Error(cw('noPolygon'));
      imported = { raw: read.raw, crs: chosen, edited: false };
      dirty = true;
      em.editor.set(polys);
      em.editor.setMode('edit');
      fit(em.small, [geometryOf(polys)]);
      importStatus.textContent = `${f.name}: ${read.features.length} ${cw('features')}${chosen === 'gcj02' ? ` · ${cw('gcjShown')}` : ''}`;
      importStatus.dataset.loaded = f.name;
      showModes();
      showState();
    } catch (e) {
      bError.textContent = `${cw('badFile')}: ${(e as Error).message}`;
    } finally {
      file.value = '';
    }
  };
  file.onchange = () => void loadFile();
  // A change of coordinate system after the file was read reads it again.
  crs.onchange = () => {
    if (imported && !imported.edited && em) {
      const chosen = crs.value as Crs;
      imported.crs = chosen;
      const features = readGeoJson(JSON.stringify(imported.raw)).features;
      em.editor.set(features.flatMap((x) => polysOf(toWgs84(x.geometry, chosen))));
      em.editor.setMode('edit');
      showState();
    }
  };

  save.onclick = async () => {
    if (!region || !em) return;
    clear(bError, bNotice);
    const multi = region.geometry?.type !== 'Polygon';
    const body = imported && !imported.edited
      ? { crs: imported.crs, geometry: imported.raw }
      : { crs: 'wgs84', geometry: geometryOf(em.editor.get(), multi) };
    save.disabled = true;
    try {
      const answer = await ctx.api.put<Region>(`/api/regions/${region.properties.code}/boundary`, body);
      show(answer, `${cw('saved')}: ${answer.properties.name} · ${cw('vertices')} ${polysOf(answer.geometry).reduce((n, p) => n + p.reduce((m, r) => m + r.length, 0), 0)}${answer.properties.area_km2 !== undefined ? ` · ${answer.properties.area_km2} km²` : ''}`);
    } catch (err) {
      showProblem(bError, err);
    } finally {
      save.disabled = false;
    }
  };

  fill(
    boundary,
    h('h3', {}, cw('boundary')),
    h('div', { class: 'buttons wrap' }, modeEdit, modeDraw, finish, removeVertex, revert),
    hint,
    state,
    h('div', { class: 'cfg-import' }, h('label', {}, cw('importGeoJson'), file), h('label', {}, cw('crs'), crs)),
    importStatus,
    h('div', { class: 'buttons' }, save),
    bError,
    bNotice,
  );

  // Persons in charge.
  const pRows = h('tbody', {});
  const pError = h('p', { class: 'error', role: 'alert', test: 'region-persons-error' });
  const pNotice = h('p', { class: 'notice', role: 'status', test: 'region-persons-notice' });
  let list: Person[] = [];
  const renderPersons = () => {
    fill(
      pRows,
      list.map((p, i) => {
        const role = h('input', { test: 'person-role', value: p.role, list: 'cfg-person-roles', oninput: () => { p.role = role.value.trim(); } });
        const name = h('input', { test: 'person-name', value: p.name, oninput: () => { p.name = name.value.trim(); } });
        return h(
          'tr',
          { test: 'person-row', 'data-role': p.role, 'data-name': p.name },
          h('td', {}, role),
          h('td', {}, name),
          h('td', {}, h('button', { type: 'button', class: 'link', test: 'person-remove', onclick: () => { list.splice(i, 1); renderPersons(); } }, cw('remove'))),
        );
      }),
    );
  };
  const savePersons = h('button', { type: 'button', class: 'primary', test: 'region-save-persons' }, cw('savePersons'));
  savePersons.onclick = async () => {
    if (!region) return;
    clear(pError, pNotice);
    savePersons.disabled = true;
    try {
      const answer = await ctx.api.put<Region>(`/api/regions/${region.properties.code}/persons`, { persons: list.map((p) => ({ role: p.role, name: p.name })) });
      region = answer;
      list = (answer.properties.persons ?? []).map((p) => ({ ...p }));
      renderPersons();
      persons.dataset.saved = String(list.length);
      pNotice.textContent = `${cw('saved')}: ${list.map((p) => `${p.role} ${p.name}`).join('、') || cw('nobody')}`;
    } catch (err) {
      showProblem(pError, err);
    } finally {
      savePersons.disabled = false;
    }
  };
  fill(
    persons,
    h('h3', {}, cw('persons')),
    h('datalist', { id: 'cfg-person-roles' }, ROLES.map((r) => h('option', { value: r }))),
    h('table', { class: 'cases rules-table', test: 'person-table' }, h('thead', {}, h('tr', {}, h('th', {}, cw('role')), h('th', {}, cw('personName')), h('th', {}))), pRows),
    h('div', { class: 'buttons' }, h('button', { type: 'button', test: 'person-add', onclick: () => { list.push({ role: '', name: '' }); renderPersons(); pRows.querySelector<HTMLInputElement>('tr:last-child [data-test=person-role]')?.focus(); } }, `+ ${cw('addPerson')}`), savePersons),
    pError,
    pNotice,
  );

  /** Shows region `r` (as the server gave it): its boundary in the editor, its persons. */
  const show = (r: Region, message = '') => {
    region = r;
    imported = null;
    dirty = false;
    const path = [...(r.properties.ancestors ?? []).map((a) => a.name), r.properties.name].join(' / ');
    fill(info, h('b', {}, r.properties.name), ' ', h('span', { class: 'muted' }, `${cw(r.properties.level as 'grid')} · ${r.properties.code}`), h('div', { class: 'muted small' }, path));
    info.dataset.code = r.properties.code;
    boundary.hidden = persons.hidden = false;
    clear(bError, bNotice, pError, pNotice);
    importStatus.textContent = '';
    delete importStatus.dataset.loaded;
    if (em) {
      em.editor.set(polysOf(r.geometry));
      em.editor.setMode('edit');
      fit(em.small, [r.geometry]);
      const small = em.small;
      const { level, parent, code } = r.properties;
      setContext(small, { type: 'FeatureCollection', features: [] });
      if (parent) {
        void ctx.api
          .get<{ type: 'FeatureCollection'; features: Feature[] }>(`/api/regions?level=${level}&parent=${parent}`)
          .then((fc) => {
            if (region?.properties.code === code) setContext(small, { type: 'FeatureCollection', features: fc.features.filter((f) => f.properties?.code !== code) });
          })
          .catch(() => {});
      }
    }
    list = (r.properties.persons ?? []).map((p) => ({ ...p }));
    renderPersons();
    showModes();
    showState();
    bNotice.textContent = message;
    screen.dataset.code = r.properties.code;
  };

  let asked = 0;
  const open = async (code: string) => {
    clear(bError);
    delete screen.dataset.code;
    const mine = ++asked;
    try {
      const [r] = await Promise.all([ctx.api.get<Region>(`/api/regions/${code}`), mapReady]);
      if (mine === asked) show(r);
    } catch (err) {
      showProblem(bError, err);
      boundary.hidden = false;
    }
  };

  return () => {
    void mapReady.then((m) => m.small.remove());
  };
}

/** The district and its streets, then a street's villages, then a village's grids, as
 *  linked selects (`GET /api/regions?level=&parent=`); `pick` gets the deepest chosen. */
function regionTree(ctx: Ctx, pick: (code: string) => void): HTMLElement {
  const options = (items: Named[], label: string) => [h('option', { value: '' }, `${label} —`), ...items.map((r) => h('option', { value: r.code }, r.name))];
  const named = (fs: { properties: unknown }[]) => fs.map((f) => f.properties as Named).map((p) => ({ code: String(p.code), name: String(p.name) })).sort((a, b) => a.code.localeCompare(b.code));
  const district = named(ctx.refs.district.features as { properties: unknown }[]);
  const street = h('select', { test: 'region-street' }, options([...district.map((d) => ({ code: d.code, name: `${d.name}（${cw('district')}）` })), ...named(ctx.refs.streets.features as { properties: unknown }[])], cw('street')));
  const village = h('select', { test: 'region-village', disabled: true }, options([], cw('village')));
  const grid = h('select', { test: 'region-grid', disabled: true }, options([], cw('grid')));
  const children = async (level: string, parent: string): Promise<Named[]> => {
    try {
      return named((await ctx.api.get<{ features: { properties: unknown }[] }>(`/api/regions?level=${level}&parent=${parent}`)).features);
    } catch {
      return [];
    }
  };
  street.onchange = async () => {
    fill(village, options([], cw('village')));
    fill(grid, options([], cw('grid')));
    village.disabled = grid.disabled = true;
    if (!street.value) return;
    pick(street.value);
    if (district.some((d) => d.code === street.value)) return;
    fill(village, options(await children('village', street.value), cw('village')));
    village.disabled = false;
    village.dataset.loaded = street.value;
  };
  village.onchange = async () => {
    fill(grid, options([], cw('grid')));
    grid.disabled = true;
    if (!village.value) return street.value ? pick(street.value) : undefined;
    pick(village.value);
    fill(grid, options(await children('grid', village.value), cw('grid')));
    grid.disabled = false;
    grid.dataset.loaded = village.value;
  };
  grid.onchange = () => pick(grid.value || village.value);
  return h('div', { class: 'region-tree cfg-tree' }, street, village, grid);
}
