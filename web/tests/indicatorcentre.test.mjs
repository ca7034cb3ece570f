// The workbench's indicator centre and the wall's catalogue tiles and indicator detail, in
// Chromium against a real cockpit-server (issue 18, item 7): an operator creates an
// indicator in the workbench (a refusal shown on the field it names first), enters values
// by hand, and the wall, open all along, shows the new tile, its detail (value, MoM,
// target, trend) and the detail's change when a value is entered again, without a reload;
// then a threshold edited in the workbench turns the tile red at once (the value that stands
// is under the new line). Also the
// catalogue's search, paging and publish/withdraw, and a computed tile's detail.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './support/server.mjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifacts, launch, openWall } from './support/browser.mjs';

const DESK = { locale: 'zh-CN', timezoneId: 'Asia/Shanghai', deviceScaleFactor: 1, viewport: { width: 1600, height: 1000 } };
const DISTRICT = '330304';
const STREET = '330304001';
const ID = 'test.centre_arrears';

let server;
let browser;
let wall;
let desk;

/** The workbench, logged in as `user`, at `hash`. */
async function workbench(user, hash) {
  const context = await browser.newContext(DESK);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('workbench page error:', e.message));
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${server.url}/workbench.html${hash}`);
  await page.fill('[data-test=login-username]', user);
  await page.fill('[data-test=login-password]', server.accounts[user]);
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=nav-indicators]');
  return { context, page };
}

/** The text of `selector` on `page` once it starts with `prefix`. */
async function textWhen(page, selector, prefix) {
  const handle = await page.waitForFunction(
    ([s, p]) => {
      const t = document.querySelector(s)?.textContent ?? null;
      return t !== null && t.startsWith(p) ? t : null;
    },
    [selector, prefix],
  );
  return handle.jsonValue();
}

const tile = (id) => `[data-test=catalogue-tile][data-id="${id}"]`;

before(async () => {
  server = await Server.start();
  browser = await launch();
  wall = await openWall(browser, server);
  // A mark that a reload would lose.
  await wall.page.evaluate(() => (window.__notReloaded = true));
  desk = await workbench('commander', '#/indicators');
});

after(async () => {
  await desk?.context.close();
  await wall?.context.close();
  await browser?.close();
  await server?.stop();
});

test('the catalogue is searched, paged and published from the workbench', async () => {
  const { page } = desk;
  await page.waitForSelector('[data-test=indicator-catalogue][data-loaded=true]');
  const all = await server.apiAs('commander', 'GET', '/api/indicators/catalogue');
  const total = all.total;
  assert.ok(total > 50, `the sample catalogue has more than a page (${total})`);
  assert.equal(await page.locator('[data-test=catalogue-row]').count(), 50, 'fifty to a page');
  assert.match(await page.textContent('[data-test=catalogue-page]'), /第 1 \/ \d+ 页/);
  await page.click('[data-test=catalogue-next]');
  assert.match(await page.textContent('[data-test=catalogue-page]'), /第 2 \/ \d+ 页/);
  assert.equal(await page.$eval('[data-test=catalogue-row]', (r) => r.dataset.id), all.indicators[50].indicator.id);

  // A domain and a word: only indicators of that domain with the word.
  await page.selectOption('[data-test=catalogue-domain]', 'fire_safety');
  await page.waitForSelector('[data-test=indicator-catalogue][data-loaded=true]');
  const expected = await server.apiAs('commander', 'GET', '/api/indicators/catalogue?domain=fire_safety');
  assert.ok(expected.total > 1);
  const domainRows = await page.$$eval('[data-test=catalogue-row]', (rs) => rs.map((r) => r.dataset.id));
  assert.deepEqual(domainRows, expected.indicators.map((a) => a.indicator.id));
  const first = expected.indicators[0].indicator;
  await page.fill('[data-test=catalogue-q]', first.name.zh);
  await page.click('[data-test=catalogue-apply]');
  await page.waitForSelector('[data-test=indicator-catalogue][data-loaded=true]');
  const rows = await page.$$eval('[data-test=catalogue-row]', (rs) => rs.map((r) => r.dataset.id));
  const byWord = await server.apiAs('commander', 'GET', `/api/indicators/catalogue?domain=fire_safety&q=${encodeURIComponent(first.name.zh)}`);
  assert.deepEqual(rows, byWord.indicators.map((a) => a.indicator.id));
  assert.ok(rows.includes(first.id) && rows.length < domainRows.length, 'the word narrows the domain');
  // The export is of the same search.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=catalogue-export]')]);
  assert.match(download.suggestedFilename(), /\.csv$/);
  const [head, ...lines] = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/);
  assert.match(head, /^id,名称,/);
  assert.deepEqual(lines.map((l) => l.split(',')[0]), rows);

  // Withdrawn, then published again, from the list.
  const row = `[data-test=catalogue-row][data-id="${first.id}"]`;
  await page.click(`${row} [data-test=catalogue-withdraw]`);
  await page.waitForSelector(`${row}[data-published=false]`);
  assert.equal((await server.apiAs('commander', 'GET', `/api/indicators/catalogue/${first.id}`)).indicator.published, false);
  await page.click(`${row} [data-test=catalogue-publish]`);
  await page.waitForSelector(`${row}[data-published=true]`);
  assert.equal((await server.apiAs('commander', 'GET', `/api/indicators/catalogue/${first.id}`)).indicator.published, true);
  // Back to everything, for the next test.
  await page.fill('[data-test=catalogue-q]', '');
  await page.selectOption('[data-test=catalogue-domain]', '');
});

test('an indicator created and entered by hand in the workbench shows on the wall, tile and detail, without a reload', async () => {
  const w = wall.page;
  await w.selectOption('[data-test=catalogue-domain]', 'wage_arrears');
  await w.waitForSelector('[data-test=catalogue-tile]');
  assert.equal(await w.locator(tile(ID)).count(), 0, 'not there before it is created');

  const { page } = desk;
  await page.click('[data-test=catalogue-new]');
  await page.waitForSelector('[data-test=indicator-form]');
  await page.fill('[data-test=indicator-id]', ID);
  await page.fill('[data-test=indicator-name-zh]', '测试欠薪化解金额');
  await page.selectOption('[data-test=indicator-system]', 'safe_society');
  await page.selectOption('[data-test=indicator-domain]', 'wage_arrears');
  await page.fill('[data-test=indicator-unit]', '万元');
  await page.fill('[data-test=indicator-department]', '区人力社保局');
  await page.fill('[data-test=indicator-leader]', '王副区长');
  await page.fill('[data-test=indicator-target]', '100');
  // No definition: refused, and the refusal is shown on that field.
  await page.click('[data-test=indicator-save]');
  await page.waitForSelector('[data-test=indicator-error][data-field=definition]');
  assert.notEqual(await page.textContent('[data-test=indicator-error-definition]'), '');
  assert.ok(await page.$eval('[data-test=indicator-definition]', (el) => el.classList.contains('invalid')));
  await page.fill('[data-test=indicator-definition]', '当月化解的欠薪金额（测试）');
  await page.click('[data-test=indicator-save]');
  await page.waitForSelector(`[data-test=indicator-edit][data-id="${ID}"][data-loaded=true]`);
  const created = await server.apiAs('commander', 'GET', `/api/indicators/catalogue/${ID}`);
  assert.equal(created.indicator.owner.person, 'commander', 'its creator is its person in charge');
  assert.deepEqual([created.indicator.frequency, created.indicator.target, created.indicator.published], ['monthly', 100, true]);

  // Last month's value, then this month's, by hand.
  await page.waitForSelector('[data-test=entry-form]');
  const periods = await page.$$eval('[data-test=entry-period] option', (os) => os.map((o) => o.value));
  await page.selectOption('[data-test=entry-region]', DISTRICT);
  const enter = async (period, value) => {
    await page.selectOption('[data-test=entry-period]', period);
    await page.fill('[data-test=entry-value]', String(value));
    await page.click('[data-test=entry-submit]');
    await page.waitForSelector('[data-test=indicator-entry][data-entered=true]');
  };
  // A blank value is refused with the field named.
  await page.click('[data-test=entry-submit]');
  await page.waitForSelector('[data-test=entry-error][data-field=value]');
  await enter(periods[1], 60);
  await enter(periods[0], 80);
  await page.waitForFunction(() => document.querySelector('[data-test=indicator-entry]')?.dataset.values === '2');
  const sources = await page.$$eval('[data-test=value-row]', (rs) => rs.map((r) => `${r.dataset.period} ${r.dataset.source}`));
  assert.deepEqual(sources, [`${periods[0]} manual`, `${periods[1]} manual`]);

  // The wall: the new tile with this month's value, without a reload.
  const shown = await textWhen(w, `${tile(ID)} [data-test=catalogue-value]`, '80');
  assert.equal(shown, '80');
  assert.match(await w.textContent(tile(ID)), /测试欠薪化解金额[\s\S]*80[\s\S]*万元/);
  // Its detail: value, MoM against last month, target and gap, owner, trend.
  await w.click(tile(ID));
  await w.waitForSelector(`[data-test=indicator-detail][data-id="${ID}"]:not(.hidden)`);
  assert.equal(await w.textContent('[data-test=detail-name]'), '测试欠薪化解金额');
  assert.match(await w.textContent('[data-test=detail-value]'), /^80\s*万元$/);
  assert.match(await w.textContent('[data-test=detail-mom]'), /^\+20 万元（\+33\.3%）$/);
  assert.match(await w.textContent('[data-test=detail-target]'), /^100 万元$/);
  assert.match(await w.textContent('[data-test=detail-gap]'), /^-20 万元 · 未达标$/);
  assert.equal(await w.textContent('[data-test=detail-yoy]'), '无数据');
  assert.equal(await w.textContent('[data-test=detail-owner]'), '区人力社保局 / commander');
  assert.equal(await w.textContent('[data-test=detail-leader]'), '王副区长');
  const series = JSON.parse(await w.getAttribute('[data-test=detail-chart]', 'data-series'));
  assert.equal(series.values.length, 12);
  assert.deepEqual(series.values.slice(-2), [60, 80]);
  assert.ok(series.values.slice(0, -2).every((v) => v === null), 'earlier months are no data, not zero');
  await w.waitForFunction(() => !!document.querySelector('[data-test=detail-chart] canvas'));
  await w.screenshot({ path: join(artifacts, 'indicator-detail-1920x1080.png') });
  await page.screenshot({ path: join(artifacts, 'indicator-entry-1600x1000.png'), fullPage: true });

  // This month's value corrected in the workbench: the open detail and the tile follow.
  await enter(periods[0], 120);
  await textWhen(w, '[data-test=detail-value]', '120');
  assert.match(await w.textContent('[data-test=detail-mom]'), /^\+60 万元（\+100\.0%）$/);
  assert.match(await w.textContent('[data-test=detail-gap]'), /^\+20 万元 · 已达标$/);
  assert.equal(await w.textContent(`${tile(ID)} [data-test=catalogue-value]`), '120');
  // Esc closes it.
  await w.keyboard.press('Escape');
  await w.waitForSelector('[data-test=indicator-detail].hidden', { state: 'attached' });

  // A street's value: the tile stays the district's, the detail shows the street picked.
  await page.selectOption('[data-test=entry-region]', STREET);
  await enter(periods[0], 7);
  await w.click(tile(ID));
  await w.waitForSelector(`[data-test=indicator-detail][data-id="${ID}"][data-region="${DISTRICT}"]:not(.hidden)`);
  await w.selectOption('[data-test=detail-region]', STREET);
  await w.waitForSelector(`[data-test=indicator-detail][data-region="${STREET}"]`);
  assert.match(await w.textContent('[data-test=detail-value]'), /^7\s*万元$/);
  assert.equal(await w.textContent('[data-test=detail-mom]'), '无数据', 'the street has no value last month');
  assert.equal(await w.textContent(`${tile(ID)} [data-test=catalogue-value]`), '120');
  await w.click('[data-test=detail-close]');
  await w.waitForSelector('[data-test=indicator-detail].hidden', { state: 'attached' });
  assert.equal(await w.evaluate(() => window.__notReloaded), true, 'the wall was not reloaded');
});

test('a threshold edited in the workbench turns the tile red on the wall at once, with no new value', async () => {
  const w = wall.page;
  await w.waitForSelector(`${tile(ID)}[data-level=none]`);
  const { page } = desk;
  await page.goto(`${server.url}/workbench.html#/indicator-alarms`);
  await page.waitForSelector('[data-test=threshold-form]');
  await page.fill('[data-test=threshold-indicator]', ID);
  await page.click('[data-test=threshold-load]');
  await page.waitForFunction(() => document.querySelector('[data-test=threshold-status]')?.textContent === '尚未设置阈值');
  // Higher is better: under 150 is yellow, under 130 red.
  await page.fill('[data-test=threshold-yellow-raise]', '150');
  await page.fill('[data-test=threshold-red-raise]', '130');
  await page.click('[data-test=threshold-save]');
  await page.waitForSelector('[data-test=indicator-alarms-screen][data-saved=true]');
  // In force at once: the district's 120 that stands is under the red line.
  await w.waitForSelector(`${tile(ID)}[data-level=red]`);
  assert.equal(await w.textContent(`${tile(ID)} [data-test=catalogue-value]`), '120');

  // The month's value entered again: still under the line, the tile shows it, still red.
  await page.goto(`${server.url}/workbench.html#/indicators/${ID}`);
  await page.waitForSelector('[data-test=entry-form]');
  const period = await page.$eval('[data-test=entry-period] option', (o) => o.value);
  await page.selectOption('[data-test=entry-region]', DISTRICT);
  await page.selectOption('[data-test=entry-period]', period);
  await page.fill('[data-test=entry-value]', '125');
  await page.click('[data-test=entry-submit]');
  await page.waitForSelector('[data-test=indicator-entry][data-entered=true]');

  await textWhen(w, `${tile(ID)} [data-test=catalogue-value]`, '125');
  assert.equal(await w.getAttribute(tile(ID), 'data-level'), 'red');
  const colour = await w.$eval(tile(ID), (el) => getComputedStyle(el).borderLeftColor);
  assert.equal(colour, 'rgb(255, 77, 79)', 'the red alarm colour');
  await w.screenshot({ path: join(artifacts, 'indicator-tiles-red-1920x1080.png') });
  // Red first in its domain, and listed among the alarming ones of every domain.
  assert.equal(await w.$eval('[data-test=catalogue-tile]', (el) => el.dataset.id), ID);
  await w.selectOption('[data-test=catalogue-domain]', 'alarmed');
  await w.waitForSelector(`${tile(ID)}[data-level=red]`);
  assert.equal(await w.evaluate(() => window.__notReloaded), true, 'the wall was not reloaded');
});

test('a change of the catalogue in the workbench reaches the wall: the open detail, then the tile withdrawn and published again', async () => {
  const w = wall.page;
  await w.selectOption('[data-test=catalogue-domain]', 'wage_arrears');
  await w.click(tile(ID));
  await w.waitForSelector(`[data-test=indicator-detail][data-id="${ID}"]:not(.hidden)`);
  assert.match(await w.textContent('[data-test=detail-target]'), /^100 万元$/);
  assert.equal(await w.getAttribute('[data-test=detail-alarm]', 'data-level'), 'red', 'the detail names the open alarm');

  const { page } = desk;
  await page.goto(`${server.url}/workbench.html#/indicators/${ID}`);
  await page.waitForSelector(`[data-test=indicator-edit][data-id="${ID}"][data-loaded=true]`);
  await page.fill('[data-test=indicator-target]', '200');
  await page.click('[data-test=indicator-save]');
  await page.waitForSelector('[data-test=indicator-edit][data-saved=true]');
  await textWhen(w, '[data-test=detail-target]', '200');
  assert.match(await w.textContent('[data-test=detail-gap]'), /^-75 万元 · 未达标$/);
  await w.click('[data-test=detail-close]');

  await page.click('[data-test=indicator-withdraw]');
  await page.waitForSelector('[data-test=indicator-edit][data-published=false]');
  await w.waitForSelector(tile(ID), { state: 'detached' });
  await page.click('[data-test=indicator-publish]');
  await page.waitForSelector('[data-test=indicator-edit][data-published=true]');
  await w.waitForSelector(`${tile(ID)}[data-level=red]`);
  assert.equal(await w.evaluate(() => window.__notReloaded), true, 'the wall was not reloaded');
});

test('an indicator deleted in the workbench, after its confirmation, leaves the wall', async () => {
  const { page } = desk;
  await page.goto(`${server.url}/workbench.html#/indicators/${ID}`);
  await page.waitForSelector(`[data-test=indicator-edit][data-id="${ID}"][data-loaded=true]`);
  let asked = '';
  page.once('dialog', (d) => (asked = d.message()));
  await page.click('[data-test=indicator-delete]');
  await page.waitForSelector('[data-test=indicator-catalogue][data-loaded=true]');
  assert.match(asked, /删除指标“测试欠薪化解金额”/);
  assert.equal((await server.attempt('commander', 'GET', `/api/indicators/catalogue/${ID}`)).status, 404);
  await wall.page.waitForSelector(tile(ID), { state: 'detached' });
});

test('a computed tile opens its detail', async () => {
  const w = wall.page;
  const id = await w.$eval('[data-test=indicator-tile]', (el) => el.dataset.id);
  await w.click(`[data-test=indicator-tile][data-id="${id}"]`);
  await w.waitForSelector(`[data-test=indicator-detail][data-id="${id}"]:not(.hidden)`);
  assert.notEqual(await w.textContent('[data-test=detail-name]'), '');
  await w.click('[data-test=detail-close]');
  await w.waitForSelector('[data-test=indicator-detail].hidden', { state: 'attached' });
});
