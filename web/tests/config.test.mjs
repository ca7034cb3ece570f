// The workbench's configuration screens (web/src/workbench/configure/) in Chromium against a
// real cockpit-server and PostgreSQL: a grid's boundary edited by dragging a vertex and by
// drawing it anew on the map, then imported from a GCJ-02 GeoJSON file (stored converted to
// WGS84) and refused when it lies outside its village; its persons in charge (also on the
// wall's region panel); a shelter added by clicking the map, refused with an id used twice,
// moved by dragging it; a key area drawn; a new layer imported from GCJ-02; a device rule's
// threshold and a camera detection changed; a bad intake mapping refused with the server's
// reason, then saved.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Server } from './support/server.mjs';
import { artifacts as wallArtifacts, launch, openWall } from './support/browser.mjs';

const artifacts = join(wallArtifacts, '..', 'config');
mkdirSync(artifacts, { recursive: true });

// 景山街道 / 繁荣社区 / 繁荣社区第1网格.
const GRID = '330304001002001';
const DESK = { locale: 'zh-CN', timezoneId: 'Asia/Shanghai', deviceScaleFactor: 1 };

let server;
let browser;
const token = (user) => server.token(user);
const api = (user, method, path, body) => server.apiAs(user, method, path, body);
const attempt = (user, method, path, body) => server.attempt(user, method, path, body);

async function open(user, hash, { width = 1600, height = 1000 } = {}) {
  const context = await browser.newContext({ ...DESK, viewport: { width, height } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.url}/workbench.html${hash}`);
  await page.fill('[data-test=login-username]', user);
  await page.fill('[data-test=login-password]', server.accounts[user]);
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=whoami]');
  return { context, page };
}

/** The published WGS84 → GCJ-02 transform (what AMap exports hold), for the test's file. */
function toGcj02([lon, lat]) {
  const A = 6378245.0;
  const EE = 0.006693421622965943;
  const x = lon - 105;
  const y = lat - 35;
  let dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  dLat += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  dLat += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  let dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLon += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  dLon += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  dLon += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  const radLat = (lat / 180) * Math.PI;
  const magic = 1 - EE * Math.sin(radLat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lon + dLon, lat + dLat];
}

/** Metres between two WGS84 points (haversine). */
function metres([a, b], [c, d]) {
  const r = (v) => (v * Math.PI) / 180;
  const h = Math.sin(r(d - b) / 2) ** 2 + Math.cos(r(b)) * Math.cos(r(d)) * Math.sin(r(c - a) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

/** Every vertex of a Polygon or MultiPolygon, closing vertices dropped. */
function vertices(geometry) {
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  return polys.flatMap((p) => p.flatMap((ring) => ring.slice(0, -1)));
}

const nearest = (list, p) => Math.min(...list.map((q) => metres(p, q)));

/** Waits until a save is answered: the notice (saved) or the error (refused, shown); fails
 *  with the error's text when it was refused. */
async function answered(page, notice, error) {
  await page.waitForSelector(`[data-test=${notice}]:not(:empty), [data-test=${error}]:not(:empty)`);
  assert.equal(await page.textContent(`[data-test=${error}]`), '', 'refused');
}

before(async () => {
  server = await Server.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Drags with the mouse from one page position to another, in small steps. */
async function drag(page, from, to) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
  await page.mouse.move(to.x, to.y, { steps: 4 });
  await page.mouse.up();
}

/** The page position of a longitude/latitude on the screen's map, and back. */
const pageOf = (page, lngLat) =>
  page.evaluate(([lon, lat]) => {
    const { map } = window.__config.small;
    const rect = map.getCanvas().getBoundingClientRect();
    const p = map.project([lon, lat]);
    // Whole pixels: the mouse events land on them.
    return { x: Math.round(rect.left + p.x), y: Math.round(rect.top + p.y) };
  }, lngLat);
const lngLatOf = (page, { x, y }) =>
  page.evaluate(([x, y]) => {
    const { map } = window.__config.small;
    const rect = map.getCanvas().getBoundingClientRect();
    const l = map.unproject([x - rect.left, y - rect.top]);
    return [l.lng, l.lat];
  }, [x, y]);

/** Waits until the map has drawn all it was given (MapLibre's `idle` after a repaint): the
 *  handles of the latest edit, and the canvas at the size the layout gives it now (a line
 *  of status text can move it), so that positions computed next are where the clicks land. */
const settled = (page) =>
  page.evaluate(
    () =>
      new Promise((resolve) => {
        const { map } = window.__config.small;
        requestAnimationFrame(() =>
          requestAnimationFrame(() => {
            map.once('idle', resolve);
            map.triggerRepaint();
          }),
        );
      }),
  );

describe('the configuration screens', () => {
  test('a grid boundary: a vertex dragged, the outline redrawn, a GCJ-02 file imported, one outside the village refused; persons in charge', async () => {
    const original = await api('sysadmin', 'GET', `/api/regions/${GRID}`);
    const originalVertices = vertices(original.geometry);
    const { context, page } = await open('sysadmin', '#/config/regions');
    try {
      await page.waitForSelector('[data-test=region-map][data-ready=true]');
      await page.fill('[data-test=region-search]', '繁荣社区第1网格');
      await page.click(`[data-test=region-option][data-code="${GRID}"]`);
      await page.waitForSelector(`[data-test=config-regions][data-code="${GRID}"]`);
      assert.equal(Number(await page.getAttribute('[data-test=region-boundary]', 'data-vertices')), originalVertices.length);

      // 1. The first vertex dragged a third of the way towards the middle of the grid.
      const [v0, centre] = await page.evaluate(() => {
        const ring = window.__config.editor.get()[0][0];
        const c = ring.reduce((s, p) => [s[0] + p[0] / ring.length, s[1] + p[1] / ring.length], [0, 0]);
        return [ring[0], c];
      });
      await settled(page);
      const from = await page.evaluate(() => window.__config.editor.clientOf(0, 0, 0));
      const to = await pageOf(page, [v0[0] + (centre[0] - v0[0]) / 3, v0[1] + (centre[1] - v0[1]) / 3]);
      await drag(page, from, to);
      await page.waitForSelector('[data-test=region-boundary][data-dirty=true]');
      const dropped = await lngLatOf(page, to);
      const moved = await page.evaluate(() => window.__config.editor.get()[0][0][0]);
      assert.ok(metres(moved, dropped) < 1, `the vertex is where it was dropped: ${moved} / ${dropped}`);
      assert.ok(metres(moved, v0) > 10, 'the vertex moved');
      // A vertex added by clicking the middle of an edge, then removed by a right-click.
      const n = originalVertices.length;
      const [a, b] = await page.evaluate(() => window.__config.editor.get()[0][0].slice(1, 3));
      await settled(page);
      const middle = await pageOf(page, [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2]);
      await page.mouse.click(middle.x, middle.y);
      await page.waitForSelector(`[data-test=region-boundary][data-vertices="${n + 1}"]`);
      await page.mouse.click(middle.x, middle.y, { button: 'right' });
      await page.waitForSelector(`[data-test=region-boundary][data-vertices="${n}"]`);
      assert.deepEqual(await page.evaluate(() => window.__config.editor.get()[0][0].slice(1, 3)), [a, b]);
      await page.screenshot({ path: join(artifacts, 'region-dragged-1600x1000.png') });
      await page.click('[data-test=region-save-boundary]');
      await answered(page, 'region-boundary-notice', 'region-boundary-error');
      assert.equal(await page.textContent('[data-test=region-boundary-error]'), '');
      let stored = vertices((await api('sysadmin', 'GET', `/api/regions/${GRID}`)).geometry);
      assert.equal(stored.length, originalVertices.length);
      assert.ok(nearest(stored, moved) < 0.05, 'the moved vertex is stored');
      assert.ok(nearest(stored, v0) > 10, 'its old place is not');

      // 2. Redrawn: four clicks around the middle of the grid, then the first one again.
      await page.click('[data-test=region-mode-draw]');
      await settled(page);
      const mid = await pageOf(page, centre);
      const corners = [[-25, -20], [25, -20], [25, 20], [-25, 20]].map(([dx, dy]) => ({ x: mid.x + dx, y: mid.y + dy }));
      for (const c of corners) await page.mouse.click(c.x, c.y);
      await page.mouse.click(corners[0].x, corners[0].y);
      await page.waitForSelector('[data-test=region-boundary][data-mode=edit][data-vertices="4"]');
      const drawn = await Promise.all(corners.map((c) => lngLatOf(page, c)));
      await page.click('[data-test=region-save-boundary]');
      await answered(page, 'region-boundary-notice', 'region-boundary-error');
      stored = vertices((await api('sysadmin', 'GET', `/api/regions/${GRID}`)).geometry);
      assert.equal(stored.length, 4);
      for (const d of drawn) assert.ok(nearest(stored, d) < 0.5, `a drawn corner is stored: ${d} (${nearest(stored, d)} m; ${JSON.stringify(stored)} / ${JSON.stringify(drawn)})`);

      // 3. The original outline imported from a GCJ-02 file (as AMap exports it): the preview
      // and the stored boundary are where the WGS84 original is, within a few metres.
      const gcj = {
        type: 'FeatureCollection',
        features: [{ type: 'Feature', properties: { name: original.properties.name }, geometry: { type: original.geometry.type, coordinates: JSON.parse(JSON.stringify(original.geometry.coordinates), (k, v) => (Array.isArray(v) && typeof v[0] === 'number' ? toGcj02(v) : v)) } }],
      };
      const gcjVertices = vertices(gcj.features[0].geometry);
      assert.ok(metres(gcjVertices[0], originalVertices[0]) > 300, 'the GCJ-02 offset around Wenzhou is hundreds of metres');
      await page.selectOption('[data-test=region-import-crs]', 'gcj02');
      await page.setInputFiles('[data-test=region-import-file]', { name: 'grid-gcj02.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(gcj)) });
      await page.waitForSelector('[data-test=region-import-status][data-loaded="grid-gcj02.geojson"]');
      const preview = await page.evaluate(() => window.__config.editor.get().flatMap((p) => p.flat()));
      assert.equal(preview.length, originalVertices.length);
      for (const p of preview) assert.ok(nearest(originalVertices, p) < 1, `the preview is where it lands: ${p}`);
      await page.screenshot({ path: join(artifacts, 'region-import-preview-1600x1000.png') });
      await page.click('[data-test=region-save-boundary]');
      await answered(page, 'region-boundary-notice', 'region-boundary-error');
      stored = vertices((await api('sysadmin', 'GET', `/api/regions/${GRID}`)).geometry);
      assert.equal(stored.length, originalVertices.length);
      for (const p of originalVertices) assert.ok(nearest(stored, p) < 5, `stored converted to WGS84: ${p} (${nearest(stored, p).toFixed(1)} m)`);

      // 4. A file whose outline lies in another street: refused; the reason is shown and nothing changes.
      const far = { type: 'Polygon', coordinates: [[[120.70, 27.95], [120.705, 27.95], [120.705, 27.955], [120.70, 27.95]]] };
      await page.selectOption('[data-test=region-import-crs]', 'wgs84');
      await page.setInputFiles('[data-test=region-import-file]', { name: 'far.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(far)) });
      await page.waitForSelector('[data-test=region-import-status][data-loaded="far.geojson"]');
      await page.click('[data-test=region-save-boundary]');
      await page.waitForSelector('[data-test=region-boundary-error]:not(:empty)');
      const refused = await attempt('sysadmin', 'PUT', `/api/regions/${GRID}/boundary`, { crs: 'wgs84', geometry: far });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.field ?? refused.body.errors?.[0]?.field, 'geometry');
      const shown = await page.textContent('[data-test=region-boundary-error]');
      assert.ok(shown.includes(refused.body.detail), `${shown} / ${refused.body.detail}`);
      assert.equal(await page.getAttribute('[data-test=region-boundary-error]', 'data-field'), 'geometry');
      await page.screenshot({ path: join(artifacts, 'region-refused-1600x1000.png') });
      assert.equal(vertices((await api('sysadmin', 'GET', `/api/regions/${GRID}`)).geometry).length, originalVertices.length);

      // 5. Persons in charge: the first removed, one added, one renamed.
      const before = original.properties.persons;
      assert.ok(before.length >= 2);
      await page.click('[data-test=region-revert]');
      await page.click('[data-test=person-row]:first-child [data-test=person-remove]');
      await page.click('[data-test=person-add]');
      await page.fill('[data-test=person-row]:last-child [data-test=person-role]', '街道联系领导');
      await page.fill('[data-test=person-row]:last-child [data-test=person-name]', '测试张三');
      await page.fill('[data-test=person-row]:first-child [data-test=person-name]', '测试李四');
      await page.click('[data-test=region-save-persons]');
      await answered(page, 'region-persons-notice', 'region-persons-error');
      const expected = [{ role: before[1].role, name: '测试李四' }, ...before.slice(2), { role: '街道联系领导', name: '测试张三' }];
      const persons = (await api('sysadmin', 'GET', `/api/regions/${GRID}`)).properties.persons;
      assert.deepEqual(
        persons.map((p) => ({ role: p.role, name: p.name })).sort((a, b) => a.name.localeCompare(b.name)),
        expected.sort((a, b) => a.name.localeCompare(b.name)),
      );
      await page.screenshot({ path: join(artifacts, 'region-persons-1600x1000.png') });
      // The commander's wall shows them on the grid's panel.
      const wall = await openWall(browser, server, { width: 1920, height: 1080, user: 'commander' });
      try {
        await wall.page.fill('#search', '繁荣社区第1网格');
        await wall.page.click(`#search-results li[data-code="${GRID}"]`);
        await wall.page.waitForFunction(() => /繁荣社区第1网格/.test(document.querySelector('#region-name')?.textContent ?? ''));
        await wall.page.waitForFunction(() => /测试张三/.test(document.querySelector('#region .persons')?.textContent ?? ''));
        const panel = await wall.page.textContent('#region .persons');
        assert.ok(panel.includes('街道联系领导') && panel.includes('测试李四'), panel);
        assert.ok(!panel.includes(before[0].name), panel);
      } finally {
        await wall.context.close();
      }
    } finally {
      await context.close();
    }
  });

  test('a shelter added by clicking the map and moved by dragging it; a key area drawn; a new layer imported from GCJ-02', async () => {
    const before = await api('sysadmin', 'GET', '/api/layers/shelters');
    const { context, page } = await open('sysadmin', '#/config/layers');
    try {
      await page.waitForSelector('[data-test=layer-map][data-ready=true]');
      await page.selectOption('[data-test=layer-select]', 'shelters');
      await page.waitForSelector(`[data-test=config-layers][data-layer=shelters][data-count="${before.features.length}"]`);
      await page.click('[data-test=layer-add-point]');
      const box = await page.locator('[data-test=layer-map] canvas').boundingBox();
      const at = { x: Math.round(box.x + box.width / 2), y: Math.round(box.y + box.height / 2) };
      await page.mouse.click(at.x, at.y);
      await page.waitForSelector(`[data-test=config-layers][data-count="${before.features.length + 1}"]`);
      const clicked = await lngLatOf(page, at);
      const row = '[data-test=layer-feature].selected';
      const id = await page.getAttribute(row, 'data-id');
      assert.equal(id, 'SHEL-040');
      await page.fill(`${row} [data-test=feature-name]`, '测试应急避难场所');
      await page.click('[data-test=layer-save]');
      await answered(page, 'layer-notice', 'layer-error');
      assert.equal(await page.textContent('[data-test=layer-error]'), '');
      let layer = await api('sysadmin', 'GET', '/api/layers/shelters');
      assert.equal(layer.features.length, before.features.length + 1);
      let added = layer.features.find((f) => f.properties.id === 'SHEL-040');
      assert.equal(added.properties.name, '测试应急避难场所');
      assert.equal(added.properties.kind, 'shelter');
      assert.ok(metres(added.geometry.coordinates, clicked) < 1, `${added.geometry.coordinates} / ${clicked}`);
      assert.equal((await api('sysadmin', 'GET', '/api/layers')).layers.find((l) => l.name === 'shelters').count, before.features.length + 1);

      // An id used twice: refused, the reason shown, the layer unchanged.
      await page.fill('[data-test=layer-filter]', 'SHEL-040');
      await page.fill('[data-test=layer-feature][data-id=SHEL-040] [data-test=feature-id]', 'SHEL-001');
      await page.click('[data-test=layer-save]');
      await page.waitForSelector('[data-test=layer-error]:not(:empty)');
      const dup = layer.features.map((f) => (f.properties.id === 'SHEL-040' ? { ...f, properties: { ...f.properties, id: 'SHEL-001' } } : f));
      const refused = await attempt('sysadmin', 'PUT', '/api/layers/shelters', { crs: 'wgs84', features: { type: 'FeatureCollection', features: dup } });
      assert.equal(refused.status, 400);
      const shown = await page.textContent('[data-test=layer-error]');
      assert.ok(shown.includes(refused.body.detail), `${shown} / ${refused.body.detail}`);
      assert.equal((await api('sysadmin', 'GET', '/api/layers/shelters')).features.filter((f) => f.properties.id === 'SHEL-001').length, 1);
      await page.click('[data-test=layer-revert]');
      await page.waitForSelector(`[data-test=config-layers][data-dirty=false][data-count="${before.features.length + 1}"]`);

      // Selected from the list, then dragged 80 px to the east.
      await page.fill('[data-test=layer-filter]', 'SHEL-040');
      await page.click('[data-test=layer-feature][data-id=SHEL-040] [data-test=feature-where]');
      await page.waitForSelector('[data-test=config-layers][data-selected=SHEL-040]');
      const from = await pageOf(page, added.geometry.coordinates);
      const to = { x: from.x + 80, y: from.y };
      await drag(page, from, to);
      await page.waitForSelector('[data-test=config-layers][data-dirty=true]');
      const dropped = await lngLatOf(page, to);
      await page.click('[data-test=layer-save]');
      await answered(page, 'layer-notice', 'layer-error');
      layer = await api('sysadmin', 'GET', '/api/layers/shelters');
      added = layer.features.find((f) => f.properties.id === 'SHEL-040');
      assert.ok(metres(added.geometry.coordinates, dropped) < 1, `${added.geometry.coordinates} / ${dropped}`);
      assert.ok(metres(added.geometry.coordinates, clicked) > 20);
      await page.screenshot({ path: join(artifacts, 'layer-shelters-1600x1000.png') });

      // A key area drawn with four clicks and named.
      const areas = await api('sysadmin', 'GET', '/api/layers/key_areas');
      await page.selectOption('[data-test=layer-select]', 'key_areas');
      await page.waitForSelector(`[data-test=config-layers][data-layer=key_areas][data-count="${areas.features.length}"]`);
      await page.click('[data-test=layer-draw-area]');
      const corners = [[-60, -40], [60, -40], [60, 40], [-60, 40]].map(([dx, dy]) => ({ x: at.x + dx, y: at.y + dy }));
      for (const c of corners) await page.mouse.click(c.x, c.y);
      await page.click('[data-test=layer-draw-finish]');
      await page.waitForSelector(`[data-test=config-layers][data-count="${areas.features.length + 1}"]`);
      const drawn = await Promise.all(corners.map((c) => lngLatOf(page, c)));
      await page.fill('[data-test=layer-feature].selected [data-test=feature-name]', '测试人员密集区');
      await page.fill('[data-test=layer-feature].selected [data-test=feature-kind]', 'crowd');
      await page.click('[data-test=layer-save]');
      await answered(page, 'layer-notice', 'layer-error');
      const saved = (await api('sysadmin', 'GET', '/api/layers/key_areas')).features.find((f) => f.properties.name === '测试人员密集区');
      assert.ok(saved, 'the drawn area is stored');
      assert.equal(saved.properties.kind, 'crowd');
      const ring = vertices(saved.geometry);
      assert.equal(ring.length, 4);
      for (const d of drawn) assert.ok(nearest(ring, d) < 1);
      await page.screenshot({ path: join(artifacts, 'layer-key-areas-1600x1000.png') });

      // A new point layer imported from a GCJ-02 file: stored converted to WGS84.
      const lots = [[120.6207, 27.9975], [120.6535, 27.958]];
      const file = {
        type: 'FeatureCollection',
        features: lots.map((p, i) => ({ type: 'Feature', properties: { id: `PARK-${i + 1}`, name: `测试停车场${i + 1}`, kind: 'parking' }, geometry: { type: 'Point', coordinates: toGcj02(p) } })),
      };
      await page.selectOption('[data-test=layer-select]', '__new');
      await page.fill('[data-test=layer-new-name]', 'parking_lots');
      await page.selectOption('[data-test=layer-new-kind]', 'points');
      await page.click('[data-test=layer-new-create]');
      await page.waitForSelector('[data-test=config-layers][data-layer=parking_lots][data-count="0"]');
      await page.selectOption('[data-test=layer-import-crs]', 'gcj02');
      await page.setInputFiles('[data-test=layer-import-file]', { name: 'parking.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(file)) });
      await page.waitForSelector('[data-test=config-layers][data-count="2"]');
      await page.click('[data-test=layer-save]');
      await answered(page, 'layer-notice', 'layer-error');
      assert.equal(await page.textContent('[data-test=layer-error]'), '');
      const listed = (await api('sysadmin', 'GET', '/api/layers')).layers.find((l) => l.name === 'parking_lots');
      assert.deepEqual({ kind: listed.kind, count: listed.count }, { kind: 'points', count: 2 });
      const parking = await api('sysadmin', 'GET', '/api/layers/parking_lots');
      for (const [i, p] of lots.entries()) {
        const f = parking.features.find((x) => x.properties.id === `PARK-${i + 1}`);
        assert.ok(metres(f.geometry.coordinates, p) < 5, `converted to WGS84: ${f.geometry.coordinates} / ${p}`);
      }
    } finally {
      await context.close();
    }
  });

  test('a device rule threshold and a camera detection saved; the documents move to a new version', async () => {
    const docs = await api('sysadmin', 'GET', '/api/config/rules');
    const rules = docs['device-rules'];
    assert.ok(rules, 'the server offers device-rules');
    const { context, page } = await open('sysadmin', '#/config/device-rules');
    try {
      await page.waitForSelector('[data-test=drule-row][data-id=river-high]');
      assert.equal(await page.locator('[data-test=drule-row]').count(), rules.body.length);
      await page.fill('[data-test=drule-row][data-id=river-high] [data-test=cond-raise]', '4.8');
      await page.click('[data-test=doc-save]');
      await answered(page, 'doc-notice', 'doc-error');
      const saved = (await api('sysadmin', 'GET', '/api/config/rules'))['device-rules'];
      assert.notEqual(saved.version, rules.version);
      assert.equal(saved.source, 'edited');
      assert.equal(saved.updated_by, 'sysadmin');
      const river = saved.body.find((r) => r.id === 'river-high');
      assert.equal(river.condition.raise, 4.8);
      assert.deepEqual({ ...river, condition: { ...river.condition, raise: 4.5 } }, rules.body.find((r) => r.id === 'river-high'));
      assert.equal(await page.getAttribute('[data-test=doc-meta]', 'data-version'), String(saved.version));
      await page.screenshot({ path: join(artifacts, 'device-rules-1600x1000.png') });

      // Illegal parking's detection removed and added again with other settings; the JSON
      // view shows them.
      const detections = docs.detections;
      await page.click('[data-test=config-tab-detections]');
      await page.waitForSelector('[data-test=detection-table]');
      assert.equal(await page.locator('[data-test=detection-row]').count(), detections.body.length);
      const had = detections.body.some((d) => d.kind === 'illegal_parking');
      if (had) await page.click('[data-test=detection-row][data-kind=illegal_parking] [data-test=detection-remove]');
      await page.click('[data-test=detection-add]');
      const last = '[data-test=detection-row]:last-child';
      await page.selectOption(`${last} [data-test=detection-kind]`, 'illegal_parking');
      await page.fill(`${last} [data-test=detection-confidence]`, '0.75');
      await page.fill(`${last} [data-test=detection-cooldown]`, '900');
      await page.selectOption(`${last} [data-test=case-category]`, '0402');
      await page.selectOption(`${last} [data-test=case-urgency]`, 'urgent');
      await page.fill(`${last} [data-test=case-title]`, '违章停车（视频识别）');
      await page.click('[data-test=doc-json-toggle]');
      assert.match(await page.inputValue('[data-test=doc-json]'), /"min_confidence": 0.75/);
      await page.click('[data-test=doc-save]');
      await answered(page, 'doc-notice', 'doc-error');
      const after = (await api('sysadmin', 'GET', '/api/config/rules')).detections;
      assert.notEqual(after.version, detections.version);
      assert.equal(after.body.length, detections.body.length + (had ? 0 : 1));
      assert.deepEqual(after.body.find((d) => d.kind === 'illegal_parking'), {
        kind: 'illegal_parking',
        min_confidence: 0.75,
        cooldown_seconds: 900,
        case: { category: '0402', urgency: 'urgent', title: '违章停车（视频识别）' },
      });
      await page.screenshot({ path: join(artifacts, 'detections-1600x1000.png') });
    } finally {
      await context.close();
    }
  });

  test("a field mapping naming an unknown category is refused with the server's reason", async () => {
    const name = 'mapping:hotline-12345';
    const doc = (await api('sysadmin', 'GET', '/api/config/rules'))[name];
    assert.ok(doc, `the server offers ${name}`);
    const { context, page } = await open('sysadmin', '#/config/mappings');
    try {
      await page.selectOption('[data-test=mapping-source]', 'hotline-12345');
      const dict = '[data-test=mapping-row][data-field=category] [data-test=mapping-dictionary]';
      await page.waitForSelector(dict);
      const text = await page.inputValue(dict);
      assert.match(text, /私搭乱建 = 0101/);
      await page.fill(dict, text.replace('私搭乱建 = 0101', '私搭乱建 = 9999'));
      await page.click('[data-test=doc-save]');
      await page.waitForSelector('[data-test=doc-error]:not(:empty)');
      const bad = JSON.parse(JSON.stringify(doc.body));
      bad.fields.category.dictionary['城市管理-市容环境-私搭乱建'] = '9999';
      const refused = await attempt('sysadmin', 'PUT', `/api/config/rules/${name}`, bad);
      assert.equal(refused.status, 400);
      const shown = await page.textContent('[data-test=doc-error]');
      assert.ok(shown.includes(refused.body.detail), `${shown} / ${refused.body.detail}`);
      assert.match(shown, /9999/);
      assert.equal((await api('sysadmin', 'GET', '/api/config/rules'))[name].version, doc.version);
      await page.screenshot({ path: join(artifacts, 'mapping-refused-1600x1000.png') });

      // Put right, it saves.
      await page.fill(dict, text);
      await page.fill('[data-test=mapping-row][data-field=title] [data-test=mapping-path]', 'data.gdbt2');
      await page.click('[data-test=doc-save]');
      await answered(page, 'doc-notice', 'doc-error');
      const saved = (await api('sysadmin', 'GET', '/api/config/rules'))[name];
      assert.equal(saved.body.fields.title.path, 'data.gdbt2');
      assert.deepEqual(saved.body.fields.category, doc.body.fields.category);
    } finally {
      await context.close();
    }
  });
});
