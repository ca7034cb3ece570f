// The wall's second round (issue 7's gaps) in Chromium against a real cockpit-server: the
// key areas and blind spots listed beside the map and linked to it both ways, the layer
// switches, the feed's filters, the case card's way to the workbench, and the layout at
// both wall sizes (nothing overlaps, nothing scrolls).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Server } from './support/server.mjs';
import { artifacts, launch, openWall } from './support/browser.mjs';

let server;
let browser;
let token;
let wall;

before(async () => {
  server = await Server.start();
  browser = await launch();
  token = await server.login('commander');
  wall = await openWall(browser, server);
});

after(async () => {
  await wall?.context.close();
  await browser?.close();
  await server?.stop();
});

/** A point well inside a polygon (its vertices' mean: the sample's areas are convex). */
const inside = (geometry) => {
  const ring = geometry.type === 'Polygon' ? geometry.coordinates[0] : geometry.coordinates[0][0];
  const pts = ring.slice(0, -1);
  return [pts.reduce((a, p) => a + p[0], 0) / pts.length, pts.reduce((a, p) => a + p[1], 0) / pts.length];
};

const settled = (page) => page.waitForFunction(() => !window.__wall.map.map.isMoving());

describe('key areas and blind spots, list and map linked', () => {
  test('the list shows the API\'s key areas; an item highlights its polygon and flies to it', async () => {
    const { page } = wall;
    const api = await server.api(token, 'GET', '/api/layers/key_areas');
    assert.ok(api.features.length > 0);
    const items = page.locator('[data-test="area-list-keyAreas"] [data-test="area-item"]');
    await items.first().waitFor();
    assert.deepEqual(await items.locator('span').allTextContents(), api.features.map((f) => f.properties.name));

    const target = api.features[api.features.length - 1];
    await page.click(`[data-test="area-item"][data-area="${target.properties.id}"]`);
    await page.waitForSelector(`[data-test="area-item"][data-area="${target.properties.id}"].on`);
    await settled(page);
    await page.waitForFunction(() => window.__wall.map.map.querySourceFeatures('area-highlight').length > 0);
    const [lon, lat] = inside(target.geometry);
    const view = await page.evaluate(
      ([lon, lat]) => {
        const m = window.__wall.map.map;
        return {
          highlighted: m.querySourceFeatures('area-highlight').length,
          inView: m.getBounds().contains([lon, lat]),
          zoom: m.getZoom(),
        };
      },
      [lon, lat],
    );
    assert.ok(view.highlighted >= 1, 'the polygon is highlighted');
    assert.ok(view.inView, 'the map flew to the area');
    assert.ok(view.zoom > 12, `zoomed in (${view.zoom})`);
    assert.equal(await page.locator('[data-test="area-item"].on').count(), 1);
    await page.screenshot({ path: join(artifacts, 'wall-key-area-1920x1080.png') });
  });

  test('a click on a polygon on the map highlights its list item', async () => {
    const { page } = wall;
    const api = await server.api(token, 'GET', '/api/layers/key_areas');
    const target = api.features[0];
    // Bring it into view the way a commander would (its item), then pick another first so
    // that the map click is what changes the list.
    await page.click(`[data-test="area-item"][data-area="${target.properties.id}"]`);
    await settled(page);
    await page.click(`[data-test="area-item"][data-area="${api.features[1].properties.id}"]`);
    await page.waitForSelector(`[data-test="area-item"][data-area="${api.features[1].properties.id}"].on`);
    await page.evaluate(([lon, lat]) => window.__wall.map.map.jumpTo({ center: [lon, lat], zoom: 14 }), inside(target.geometry));
    await settled(page);
    const point = await page.evaluate((at) => window.__wall.map.map.project(at), inside(target.geometry));
    const box = await page.locator('#map canvas').boundingBox();
    await page.mouse.click(box.x + point.x, box.y + point.y);
    await page.waitForSelector(`[data-test="area-item"][data-area="${target.properties.id}"].on`);
    assert.equal(await page.locator('[data-test="area-item"].on').count(), 1);
  });

  test('blind spots: listed when their layer is switched on, linked the same way; off hides them', async () => {
    const { page } = wall;
    const api = await server.api(token, 'GET', '/api/layers/blind_spots');
    assert.equal(await page.locator('[data-test="area-list-blindSpots"]').count(), 0);
    await page.click('[data-test="layer-blindSpots"]');
    const items = page.locator('[data-test="area-list-blindSpots"] [data-test="area-item"]');
    await items.first().waitFor();
    assert.deepEqual(await items.locator('span').allTextContents(), api.features.map((f) => f.properties.name));
    const target = api.features[2];
    await items.nth(2).click();
    await page.waitForSelector(`[data-test="area-item"][data-area="${target.properties.id}"].on`);
    await settled(page);
    assert.ok(await page.evaluate((at) => window.__wall.map.map.getBounds().contains(at), inside(target.geometry)));
    // Switching the layer off takes its list and its highlight away.
    await page.click('[data-test="layer-blindSpots"]');
    await page.waitForFunction(() => !document.querySelector('[data-test="area-list-blindSpots"]'));
    await page.waitForFunction(() => window.__wall.map.map.querySourceFeatures('area-highlight').length === 0);
    await page.click('[data-test="layer-keyAreas"]');
    await page.waitForSelector('[data-test="area-list"].hidden', { state: 'attached' });
    await page.click('[data-test="layer-keyAreas"]');
    await page.waitForSelector('[data-test="area-list-keyAreas"]');
  });
});
