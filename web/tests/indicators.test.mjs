// The wall's indicators (issue 7's last items) in Chromium against a real cockpit-server:
// the district's indicator tiles with their traffic lights as `GET /api/indicators` gives
// them, the today panel's alarmed-indicators count (open alarms and red tiles, live), the five-colour rating of the streets
// as a map layer (and a street's score and colour in the region panel), and a change that
// moves the indicators reaching the tiles over the live stream, without a reload.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Server } from './support/server.mjs';
import { artifacts, launch, openWall } from './support/browser.mjs';

const run = promisify(execFile);

let server;
let browser;
let wall;

const indicators = (level) => server.apiAs('commander', 'GET', `/api/indicators?level=${level}`);

/** Cases in several streets: the district's counts and rates have something to count. */
async function createCases(tag, n) {
  const cases = []; // as created (with their street)
  for (let i = 0; i < n; i++) {
    const c = await server.apiAs('commander', 'POST', '/api/cases', {
      description: `${tag}${i}`,
      category: ['0402', '0102', '0301'][i % 3],
      location: { lon: 120.6 + (i % 6) * 0.012, lat: 27.975 + Math.floor(i / 6) * 0.01 },
      // Every third a hazard found (隐患), every fourth a risk identified (风险).
      tags: [...(i % 3 === 0 ? ['隐患'] : []), ...(i % 4 === 0 ? ['风险'] : [])],
    });
    cases.push(c);
  }
  return cases;
}

before(async () => {
  server = await Server.start();
  browser = await launch();
  await createCases('指标测试事件', 6);
  wall = await openWall(browser, server);
});

after(async () => {
  await wall?.context.close();
  await browser?.close();
  await server?.stop();
});

/** What a tile must show for a value: a percentage with one decimal, or a whole count. */
function shownValue(def, value) {
  if (value === null || value === undefined) return '—';
  return def.unit === 'percent' ? `${value.toFixed(1)}%` : String(Math.round(value));
}

/** Indicators the today panel shows (by its cell), not the tiles. */
const TODAY_PANEL = { risks_today: 'today-risks', hazards_today: 'today-hazards' };
const asTiles = (definitions) => definitions.filter((d) => !(d.id in TODAY_PANEL));

/** The tiles the district's answer calls for, in the definitions' order. */
function expectedTiles(answer, lang = 'zh') {
  const district = answer.regions.find((r) => r.level === 'district');
  assert.ok(district, 'the district answer has the district');
  return asTiles(answer.definitions).map((d) => {
    const v = district.values[d.id] ?? { value: null, light: null };
    return { id: d.id, name: d.name[lang], value: shownValue(d, v.value), light: v.light ?? 'none' };
  });
}

const tilesOnWall = (page) =>
  page.locator('[data-test="indicator-tile"]').evaluateAll((els) =>
    els.map((el) => ({
      id: el.dataset.id,
      name: el.querySelector('.ind-name').textContent,
      value: el.querySelector('[data-test="indicator-value"]').textContent,
      light: el.dataset.light,
    })),
  );

/** Waits until `read()` (the wall) equals `expect()` (the API, asked afresh each time: the
 *  server recomputes every few seconds), and answers both. Fails with the last pair. */
async function untilEqual(read, expect, what, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  let shown;
  let wanted;
  for (;;) {
    wanted = await expect();
    shown = await read();
    if (JSON.stringify(shown) === JSON.stringify(wanted)) return { shown, wanted };
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.deepEqual(shown, wanted, what);
}

describe('indicators on the wall', () => {
  test("the district's tiles show the API's values and lights, named in Chinese (and in English)", async () => {
    const { page } = wall;
    const answer = await indicators('district');
    assert.ok(answer.definitions.length >= 8, `definitions: ${answer.definitions.map((d) => d.id)}`);
    for (const id of ['cases_today', 'open_cases', 'overdue_rate', 'satisfaction_rate', 'device_online_rate', 'active_alarms'])
      assert.ok(answer.definitions.some((d) => d.id === id), id);
    const { shown } = await untilEqual(
      () => tilesOnWall(page),
      async () => expectedTiles(await indicators('district')),
      'tiles against GET /api/indicators?level=district',
    );
    assert.equal(shown.length, asTiles(answer.definitions).length);
    // A rated tile's lamp is drawn in its light's colour; an unrated one has none.
    for (const def of asTiles(answer.definitions)) {
      const tile = page.locator(`[data-test="indicator-tile"][data-id="${def.id}"]`);
      assert.equal(await tile.locator('.lamp').count(), def.bands ? 1 : 0, def.id);
    }
    const red = await page.locator('[data-test="indicator-tile"][data-light="red"] .lamp').first();
    if (await red.count())
      assert.equal(await red.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(255, 77, 79)');

    await page.click('[data-test="lang"]');
    await page.waitForFunction(() => document.querySelector('.title')?.textContent?.includes('Operations'));
    await untilEqual(
      () => tilesOnWall(page),
      async () => expectedTiles(await indicators('district'), 'en'),
      'tiles in English',
    );
    await page.click('[data-test="lang"]');
    await page.waitForFunction(() => document.querySelector('.title')?.textContent?.includes('指挥中心'));
    await untilEqual(() => tilesOnWall(page), async () => expectedTiles(await indicators('district')), 'tiles back in Chinese');
  });

  test('cases created and device alarms raised move the indicators on the wall without a reload', async () => {
    const { page } = wall;
    await page.waitForFunction(() => window.__wall.liveStatus === 'live');
    await page.evaluate(() => (window.__marker = 'same page'));
    const today = async () => (await tilesOnWall(page)).find((t) => t.id === 'cases_today').value;
    const before = Number(await today());
    const activeBefore = (await tilesOnWall(page)).find((t) => t.id === 'active_alarms').value;

    const created = await createCases('指标变化事件', 4);
    const placed = created.find((c) => c.street);
    assert.ok(placed, 'a case inside a street');
    // Three smoke detectors in one street, heard over the embedded broker (Debian's
    // mosquitto_pub) in alarm: more active alarms than the yellow band allows, in the
    // district and in that street (whose rating then stands out on the map).
    const { broker } = await server.apiAs('sysadmin', 'GET', '/api/iot');
    const [host, port] = broker.split(':');
    const { lon, lat } = placed.location;
    for (const [n, dx, dy] of [[1, 0.0004, 0], [2, -0.0004, 0], [3, 0, 0.0004]]) {
      const id = `smk-ind-${n}`;
      const device = await server.apiAs('sysadmin', 'POST', '/api/devices', { id, type: 'smoke', lon: lon + dx, lat: lat + dy });
      await run('mosquitto_pub', [
        '-h', host, '-p', port, '-i', id, '-u', id, '-P', device.credential.password, '-q', '1',
        '-t', `city/ouhai/devices/${id}/telemetry`, '-m', JSON.stringify({ values: { smoke_obscuration_pct: 30 } }),
      ]);
    }
    // The wall follows (the server recomputes about every 10 s): its tiles end equal to the
    // API's answer, which counts the four new cases and the alarms.
    await page.waitForFunction((n) => Number(document.querySelector('[data-test="indicator-tile"][data-id="cases_today"] b')?.textContent) >= n, before + 4, { timeout: 60_000 });
    await page.waitForFunction(
      (v) => document.querySelector('[data-test="indicator-tile"][data-id="active_alarms"] b')?.textContent !== v,
      activeBefore,
      { timeout: 60_000 },
    );
    const { shown } = await untilEqual(() => tilesOnWall(page), async () => expectedTiles(await indicators('district')), 'tiles after the change');
    assert.ok(Number(shown.find((t) => t.id === 'cases_today').value) >= before + 4);
    assert.equal(await page.evaluate(() => window.__marker), 'same page', 'no reload');
    await page.screenshot({ path: join(artifacts, 'wall-indicators-moved-1920x1080.png') });
  });

  test('the five-colour layer, switched on, fills each street in the colour the API gives it; a street shows its score and colour', async () => {
    const { page } = wall;
    const layerVisible = () => page.evaluate(() => window.__wall.map.map.getLayoutProperty('streets-rating', 'visibility') ?? 'visible');
    assert.equal(await layerVisible(), 'none', 'off at start');
    assert.equal(await page.locator('[data-test="rating-legend"]').isVisible(), false);
    await page.click('[data-test="layer-rating"]');
    assert.equal(await layerVisible(), 'visible');
    assert.deepEqual(
      await page.locator('[data-test="rating-legend"] [data-colour]').allTextContents(),
      ['绿', '蓝', '黄', '橙', '红'],
    );
    const streets = (await server.apiAs('commander', 'GET', '/api/regions?level=street')).features.map((f) => f.properties);
    assert.equal(streets.length, 13);

    // Each street's colour as a feature state of the streets' source, and as drawn: the
    // rendered rating fill at the street's centre carries that state.
    const onMap = () =>
      page.evaluate((codes) => {
        const m = window.__wall.map.map;
        return Object.fromEntries(codes.map((c) => [c, m.getFeatureState({ source: 'streets', id: c }).colour ?? null]));
      }, streets.map((s) => s.code));
    const fromApi = async () => {
      const answer = await indicators('street');
      return Object.fromEntries(streets.map((s) => [s.code, answer.regions.find((r) => r.code === s.code)?.colour ?? null]));
    };
    const { wanted } = await untilEqual(onMap, fromApi, 'street colours against GET /api/indicators?level=street');
    const colours = Object.values(wanted).filter(Boolean);
    console.log(`street colours: ${JSON.stringify(Object.values(wanted))}`);
    assert.ok(colours.length > 0, 'the API rates at least one street');
    await page.waitForFunction(() => !window.__wall.map.map.isMoving() && window.__wall.map.map.loaded());
    const hex = Object.fromEntries([['green', '#52c41a'], ['blue', '#1677ff'], ['yellow', '#fadb14'], ['orange', '#fa8c16'], ['red', '#f5222d']]);
    const drawn = await page.evaluate((centres) => {
      const m = window.__wall.map.map;
      const out = {};
      for (const [code, at] of centres) {
        const f = m.queryRenderedFeatures(m.project(at), { layers: ['streets-rating'] }).find((x) => x.properties.code === code);
        if (!f) continue;
        const paint = f.layer.paint?.['fill-color'];
        out[code] = { state: f.state.colour ?? null, rgba: paint ? `${paint.r},${paint.g},${paint.b}` : null };
      }
      return out;
    }, streets.map((s) => [s.code, s.centre]));
    const toRgb = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16) / 255);
    let checked = 0;
    for (const [code, d] of Object.entries(drawn)) {
      assert.equal(d.state, wanted[code], `${code} drawn with the API's colour`);
      if (!wanted[code]) continue;
      const [r, g, b] = d.rgba.split(',').map(Number);
      const [er, eg, eb] = toRgb(hex[wanted[code]]);
      assert.ok(Math.abs(r - er) < 0.01 && Math.abs(g - eg) < 0.01 && Math.abs(b - eb) < 0.01, `${code} filled ${d.rgba}, wants ${hex[wanted[code]]}`);
      checked++;
    }
    assert.ok(checked > 0, 'at least one rated street was found drawn at its centre');
    await page.screenshot({ path: join(artifacts, 'wall-rating-1920x1080.png') });

    // Clicking a street still drills down to it, and the region panel shows its rating.
    // A rated street whose centre is bare map (no panel, key area or case over it).
    const answer = await indicators('street');
    const rated = answer.regions.filter((r) => r.colour && drawn[r.code]).map((r) => [r.code, streets.find((s) => s.code === r.code).centre]);
    const spot = await page.evaluate((candidates) => {
      const m = window.__wall.map.map;
      const canvas = m.getCanvas();
      const box = canvas.getBoundingClientRect();
      const busy = ['key-areas-fill', 'blind-spots-fill', 'cases', 'cases-fresh', 'cases-clusters', 'devices', 'alarms'];
      for (const [code, at] of candidates) {
        const p = m.project(at);
        for (const [dx, dy] of [[0, 0], [12, 0], [-12, 0], [0, 12], [0, -12], [20, 20], [-20, -20]]) {
          const q = { x: p.x + dx, y: p.y + dy };
          if (document.elementFromPoint(box.x + q.x, box.y + q.y) !== canvas) continue;
          if (m.queryRenderedFeatures([q.x, q.y], { layers: busy.filter((l) => m.getLayer(l)) }).length) continue;
          const inside = m.queryRenderedFeatures([q.x, q.y], { layers: ['streets-rating'] }).some((f) => f.properties.code === code);
          if (inside) return { code, x: box.x + q.x, y: box.y + q.y };
        }
      }
      return null;
    }, rated);
    assert.ok(spot, 'a rated street to click');
    const target = answer.regions.find((r) => r.code === spot.code);
    await page.mouse.click(spot.x, spot.y);
    await page.waitForFunction((code) => window.__wall.selected()?.code === code, target.code);
    const panel = page.locator('[data-test="region-rating"]');
    await untilEqual(
      async () => ({
        colour: await panel.getAttribute('data-colour'),
        score: await panel.getAttribute('data-score'),
        text: await panel.locator('[data-test="region-colour"]').textContent().catch(() => null),
        scoreText: await panel.locator('[data-test="region-score"]').textContent().catch(() => null),
      }),
      async () => {
        const r = (await indicators('street')).regions.find((x) => x.code === target.code);
        return {
          colour: r.colour ?? '',
          score: r.score === null ? '' : String(r.score),
          text: { green: '绿', blue: '蓝', yellow: '黄', orange: '橙', red: '红' }[r.colour],
          scoreText: r.score === null ? '—' : r.score.toFixed(1),
        };
      },
      "the region panel shows the street's colour and score",
    );
    await page.waitForFunction(() => !window.__wall.map.map.isMoving());
    await page.screenshot({ path: join(artifacts, 'wall-rating-street-1920x1080.png') });
    await page.locator('[data-test="breadcrumb"] a').first().click();
    await page.waitForFunction(() => window.__wall.selected()?.level === 'district');
  });

  test("the today panel's alarmed indicators are every open indicator alarm the commander sees and the district's red tiles, live", async () => {
    const { page } = wall;
    const today = page.locator('[data-test="today-alarmed-indicators"]');
    const shownNow = async () => ({
      alarmed: await today.textContent(),
      open: await today.getAttribute('data-open'),
      red: (await tilesOnWall(page)).filter((t) => t.light === 'red').map((t) => t.id),
    });
    const wantedNow = async () => {
      const answer = await indicators('district');
      const district = answer.regions.find((r) => r.level === 'district');
      const red = answer.definitions.filter((d) => district.values[d.id]?.light === 'red').map((d) => d.id);
      const { total } = await server.apiAs('commander', 'GET', '/api/indicators/alarms?status=open&limit=1');
      return { alarmed: String(answer.alarmed + total), open: String(total), red };
    };
    const before = await untilEqual(shownNow, wantedNow, 'alarmed indicators against the API');
    assert.equal(Number(before.shown.alarmed), before.wanted.red.length + Number(before.shown.open), 'red tiles and open alarms');

    // An indicator of the catalogue over a line lowered under its value: an alarm opens at
    // the edit, and the count goes up by one without a reload.
    const id = 'test.wall_alarm_count';
    await server.apiAs('commander', 'POST', '/api/indicators/catalogue', {
      id, name: { zh: '大屏告警计数', en: 'Wall alarm count' }, definition: '测试', system: 'safe_society',
      domain: 'public_security', unit: '件', better: 'lower', owner: { department: '测试部门', person: '' },
      leader: '', frequency: 'real_time', regions: ['330304'], published: true,
    });
    const { token } = await server.apiAs('commander', 'POST', '/api/indicators/sources', { id: 'wall-count', name: '测试来源', indicators: [id] });
    const pushed = await fetch(`${server.url}/api/indicators/push/wall-count`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ values: [{ indicator: id, region: '330304001', value: 150 }] }),
    });
    assert.equal(pushed.status, 200, await pushed.text());
    await server.apiAs('commander', 'PUT', `/api/indicators/catalogue/${id}/threshold`, {
      enabled: true, measure: { kind: 'value' }, red: { raise: 100 },
    });
    const after = await untilEqual(shownNow, wantedNow, 'the new alarm counted');
    assert.equal(Number(after.shown.open), Number(before.shown.open) + 1, JSON.stringify({ before: before.shown, after: after.shown }));
    const shown = after.shown;
    const wanted = after.wanted;

    // Risks identified and hazards found today: the district's counts of tagged cases.
    const counts = await untilEqual(
      () => page.evaluate((cells) => Object.fromEntries(Object.entries(cells).map(([id, cell]) => [id, document.getElementById(cell)?.textContent])), TODAY_PANEL),
      async () => {
        const district = (await indicators('district')).regions.find((r) => r.level === 'district');
        return Object.fromEntries(Object.keys(TODAY_PANEL).map((id) => [id, String(district.values[id].value)]));
      },
      'risks and hazards against the API',
    );
    // Created by this file: 6 then 4 cases, a hazard every third (2 + 2), a risk every fourth (2 + 1).
    assert.ok(Number(counts.shown.hazards_today) >= 4 && Number(counts.shown.risks_today) >= 3, JSON.stringify(counts.shown));
    console.log(`alarmed indicators: ${shown.alarmed} (open alarms ${shown.open}; red tiles ${wanted.red.join(', ')})`);
  });
});
