// The PC workbench (workbench.html) in Chromium at desktop sizes against a real
// cockpit-server and PostgreSQL: the dispatcher logs in, creates a case with its location
// clicked on the map, finds it in the list and dispatches it (the list and the detail
// follow each step); a dispatch pre-filled with the rule's suggestion; a refused action
// shows the server's reason; a case created by another user appears in the open list
// without a reload and updates in place; the CSV export holds exactly the filtered rows;
// a closed case with a feedback photo is evaluated unsatisfied and reopened; the leader
// sees the cases bound to them and instructs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server } from './support/server.mjs';
import { artifacts as wallArtifacts, launch } from './support/browser.mjs';

const artifacts = join(wallArtifacts, '..', 'workbench');
mkdirSync(artifacts, { recursive: true });

// The demo grid worker's grid (景山街道 / 繁荣社区 / 繁荣社区第1网格) and a point inside it.
const GRID = '330304001002001';
const INSIDE = { lon: 120.6207, lat: 27.9975 };
// A point in another street (梧田街道). A second report of a category near an earlier one
// is linked to it as a duplicate and not dispatched by rule: tests that need a rule's
// dispatch use their own spot.
const WUTIAN = { lon: 120.6535, lat: 27.958 };

/** A desk in Wenzhou: Chinese locale, Beijing time. */
const DESK = { locale: 'zh-CN', timezoneId: 'Asia/Shanghai', deviceScaleFactor: 1 };

let server;
let browser;
const token = (user) => server.token(user);
const api = (user, method, path, body) => server.apiAs(user, method, path, body);
const attempt = (user, method, path, body) => server.attempt(user, method, path, body);

function newCase(user, fields) {
  return api(user, 'POST', '/api/cases', { location: INSIDE, ...fields });
}

/** RFC 6238 (SHA-1, 30 s, 6 digits) for a base32 secret: what an authenticator app shows. */
function totp(secret, unixSecs) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSecs / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Opens the workbench at width × height and logs in as `user` through the form. */
async function open(user, { width = 1920, height = 1080, hash = '', path = '/workbench.html' } = {}) {
  const context = await browser.newContext({ ...DESK, viewport: { width, height }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.url}${path}${hash}`);
  await page.fill('[data-test=login-username]', user);
  await page.fill('[data-test=login-password]', server.accounts[user]);
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=whoami]');
  // Live for those who see cases; 'off' for the administrators, who have no live channel.
  await page.waitForFunction(() => ['live', 'off'].includes(document.body.dataset.live));
  return { context, page };
}

async function listLoaded(page, test = 'case-list') {
  await page.waitForSelector(`[data-test=${test}-screen]`);
  await page.waitForFunction((t) => document.querySelector(`[data-test=${t}-screen]`)?.parentElement?.dataset.loaded === 'true', test);
}

async function detailLoaded(page, id) {
  await page.waitForSelector(`[data-test=case-detail][data-id="${id}"][data-status]`);
}

const rowStatus = (page, id) => page.getAttribute(`[data-test=case-row][data-id="${id}"]`, 'data-status');

before(async () => {
  server = await Server.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the workbench', () => {
  test('a second factor is asked for only when the server wants it; a wrong password shows the reason', async () => {
    const context = await browser.newContext({ ...DESK, viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/workbench.html`);
    assert.equal(await page.isHidden('[data-test=login-totp-row]'), true);
    await page.fill('[data-test=login-username]', 'dispatcher');
    await page.fill('[data-test=login-password]', 'not-the-password');
    await page.click('[data-test=login-submit]');
    await page.waitForFunction(() => document.querySelector('[data-test=login-error]')?.textContent !== '');
    const refused = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'dispatcher', password: 'not-the-password' }),
    }).then((r) => r.json());
    assert.ok((await page.textContent('[data-test=login-error]')).includes(refused.detail), refused.detail);
    assert.equal(await page.isHidden('[data-test=login-totp-row]'), true);
    await page.screenshot({ path: join(artifacts, 'login-1366x768.png') });
    await context.close();
  });

  test('the dispatcher creates a case on the map, finds it in the list and dispatches it', async () => {
    const { context, page } = await open('dispatcher');
    await listLoaded(page);
    await page.click('[data-test=nav-new]');
    await page.waitForSelector('[data-test=create-map][data-ready=true]');
    // The category choices are the tree in force.
    const tree = (await api('dispatcher', 'GET', '/api/categories')).items;
    const offered = await page.$$eval('[data-test=create-category] option', (os) => os.map((o) => o.value).filter(Boolean));
    assert.deepEqual(offered.sort(), tree.map((c) => c.code).sort());
    assert.deepEqual(
      (await page.$$eval('[data-test=create-category] optgroup', (gs) => gs.map((g) => g.label))),
      tree.filter((c) => !c.parent && tree.some((x) => x.parent === c.code)).map((c) => c.name),
    );
    await page.fill('[data-test=create-description]', '景山街道繁荣社区电线杆上张贴非法小广告');
    await page.selectOption('[data-test=create-category]', '0201');
    await page.selectOption('[data-test=create-urgency]', 'urgent');
    await page.fill('[data-test=create-tags]', '工作台测试, 小广告');
    await page.fill('[data-test=create-reporter-name]', '王五');
    await page.fill('[data-test=create-reporter-phone]', '13900001111');
    // Find the grid by name, then click the map a few pixels from its centre.
    await page.fill('[data-test=create-search]', '繁荣社区第1网格');
    await page.click(`[data-test=region-option][data-code="${GRID}"]`);
    await page.waitForSelector('[data-test=create-picked][data-located=true]');
    const box = await page.locator('[data-test=create-map] canvas').boundingBox();
    const at = await page.evaluate(
      ({ lon, lat }) => window.__wbCreateMap.map.project([lon, lat]),
      { lon: INSIDE.lon, lat: INSIDE.lat },
    );
    await page.mouse.click(box.x + at.x, box.y + at.y);
    await page.waitForFunction(
      (lon) => {
        const p = document.querySelector('[data-test=create-picked]');
        return p?.dataset.located === 'true' && Math.abs(Number(p.dataset.lon) - lon) < 0.0005 && p.textContent.includes('繁荣社区第1网格');
      },
      INSIDE.lon,
    );
    const picked = await page.$eval('[data-test=create-picked]', (p) => ({ lon: Number(p.dataset.lon), lat: Number(p.dataset.lat) }));
    await page.screenshot({ path: join(artifacts, 'create-1920x1080.png') });
    await page.click('[data-test=create-submit]');
    await page.waitForURL(/#\/cases\/\d+$/);
    const id = Number(/#\/cases\/(\d+)$/.exec(page.url())[1]);
    await detailLoaded(page, id);

    const stored = await api('dispatcher', 'GET', `/api/cases/${id}`);
    assert.equal(stored.description, '景山街道繁荣社区电线杆上张贴非法小广告');
    assert.equal(stored.category.code, '0201');
    assert.equal(stored.urgency, 'urgent');
    assert.deepEqual(stored.tags, ['工作台测试', '小广告']);
    assert.equal(stored.grid.code, GRID);
    assert.ok(Math.abs(stored.location.lon - picked.lon) < 1e-9 && Math.abs(stored.location.lat - picked.lat) < 1e-9);
    assert.equal(stored.status, 'new');
    assert.equal(await page.getAttribute('[data-test=case-detail]', 'data-status'), 'new');
    assert.match(await page.textContent('[data-test=detail-location]'), /繁荣社区第1网格/);
    assert.equal(await page.textContent('[data-test=reporter-text]'), `${stored.reporter.name} ${stored.reporter.phone}`);
    assert.equal(stored.reporter.phone, '139****1111');
    // The dispatcher may see the reporter in full (audited by the server).
    await page.click('[data-test=reporter-reveal]');
    await page.waitForFunction(() => document.querySelector('[data-test=reporter-text]')?.textContent === '王五 13900001111');
    await page.waitForSelector(`[data-test=detail-map][data-outline="${GRID}"]`);

    // The list shows it, not yet dispatched.
    await page.click('[data-test=back]');
    await listLoaded(page);
    await page.waitForSelector(`[data-test=case-row][data-id="${id}"]`);
    assert.equal(await rowStatus(page, id), 'new');

    // Dispatch to the grid's worker.
    await page.click(`[data-test=case-row][data-id="${id}"]`);
    await detailLoaded(page, id);
    await page.click('[data-test=action-dispatch]');
    await page.waitForSelector('[data-test=dispatch-suggestion][data-ready=true]');
    // The department and people lists are the server's dispatch targets.
    const targets = await api('dispatcher', 'GET', '/api/dispatch/targets');
    const options = (sel) => page.$$eval(`${sel} option`, (os) => os.map((o) => o.value).filter((v) => v !== '__other'));
    await page.selectOption('[data-test=dispatch-kind]', 'department');
    assert.deepEqual(await options('[data-test=dispatch-department]'), targets.departments.map((d) => d.name));
    await page.selectOption('[data-test=dispatch-kind]', 'person');
    assert.deepEqual(new Set(await options('[data-test=dispatch-person]')), new Set(targets.people.map((p) => p.username)));
    await page.selectOption('[data-test=dispatch-kind]', 'grid_worker');
    assert.equal(await page.inputValue('[data-test=dispatch-grid]'), GRID);
    await page.selectOption('[data-test=dispatch-worker]', 'gridworker');
    await page.fill('[data-test=action-note]', '请今日内清理');
    await page.click('[data-test=action-submit]');
    await page.waitForSelector('[data-test=case-detail][data-status=dispatched]');
    // People by their display names (from the case's answer: the dispatcher may not list
    // users), the username beside.
    await page.waitForFunction(() => document.querySelector('[data-test=detail-assignee]')?.textContent.includes('网格员（演示）'));
    assert.match(await page.textContent('[data-test=detail-assignee]'), /网格员（演示） \(gridworker\)/);
    await page.waitForSelector('[data-test=timeline-entry][data-action=dispatch]');
    assert.match(await page.textContent('[data-test=timeline-entry][data-action=dispatch]'), /调度员（演示） \(dispatcher\)/);
    const after = await api('dispatcher', 'GET', `/api/cases/${id}`);
    assert.deepEqual(after.assignee, { kind: 'grid_worker', grid: GRID, worker: 'gridworker' });
    await page.screenshot({ path: join(artifacts, 'detail-1920x1080.png') });

    // The worker accepts (API); the open detail and then the list follow.
    await api('gridworker', 'POST', `/api/cases/${id}/actions`, { action: 'accept' });
    await page.waitForSelector('[data-test=case-detail][data-status=accepted]');
    await page.click('[data-test=back]');
    await listLoaded(page);
    assert.equal(await rowStatus(page, id), 'accepted');
    await page.screenshot({ path: join(artifacts, 'list-1920x1080.png') });
    await context.close();
  });

  test('a dispatch is pre-filled with the rule suggestion', async () => {
    // An emergency case is dispatched by rule to the emergency bureau, whose handler
    // returns it; back in the pool, the dispatcher sees the rule's suggestion.
    const c = await newCase('dispatcher', { description: '道路积水没过脚踝', category: '0503' });
    assert.equal(c.status, 'dispatched');
    // The server applies the return and says the case has left the handler's view.
    const returned = await attempt('handler', 'POST', `/api/cases/${c.id}/actions`, { action: 'return', reason: '不属于本单位' });
    assert.deepEqual(returned, { status: 200, body: { id: c.id, status: 'new', visible: false } });
    assert.equal((await api('dispatcher', 'GET', `/api/cases/${c.id}`)).status, 'new');
    const suggestion = await api('dispatcher', 'GET', `/api/cases/${c.id}/dispatch-suggestion`);
    assert.equal(suggestion.to?.kind, 'department');

    const { context, page } = await open('dispatcher', { hash: `#/cases/${c.id}` });
    await detailLoaded(page, c.id);
    await page.click('[data-test=action-dispatch]');
    await page.waitForSelector('[data-test=dispatch-suggestion][data-ready=true]');
    assert.ok((await page.textContent('[data-test=dispatch-suggestion]')).includes(suggestion.to.department));
    assert.equal(await page.inputValue('[data-test=dispatch-kind]'), 'department');
    assert.equal(await page.inputValue('[data-test=dispatch-department]'), suggestion.to.department);
    await page.click('[data-test=action-submit]');
    await page.waitForSelector('[data-test=case-detail][data-status=dispatched]');
    assert.deepEqual((await api('dispatcher', 'GET', `/api/cases/${c.id}`)).assignee, suggestion.to);
    await context.close();
  });

  test('a create and an action whose answers were lost are sent again and applied once', async () => {
    const { context, page } = await open('dispatcher', { width: 1366, height: 768, hash: '#/new' });
    // The first POST reaches the server, but its answer is lost on the way back.
    const lose = (pattern) => {
      let lost = false;
      return page.route(pattern, async (route) => {
        if (route.request().method() === 'POST' && !lost) {
          lost = true;
          await route.fetch();
          await route.abort('connectionreset');
        } else {
          await route.continue();
        }
      });
    };
    await lose('**/api/cases');
    await page.waitForSelector('[data-test=create-map][data-ready=true]');
    const description = `断网重试立案 ${Date.now()}`;
    await page.fill('[data-test=create-description]', description);
    await page.selectOption('[data-test=create-category]', '0201');
    await page.fill('[data-test=create-search]', '繁荣社区第1网格');
    await page.click(`[data-test=region-option][data-code="${GRID}"]`);
    await page.click('[data-test=create-submit]');
    await page.waitForFunction(() => document.querySelector('[data-test=create-error]')?.textContent !== '');
    assert.match(await page.textContent('[data-test=create-error]'), /无法连接服务器/);
    await page.click('[data-test=create-submit]');
    await page.waitForURL(/#\/cases\/\d+$/);
    const found = (await api('dispatcher', 'GET', `/api/cases?q=${encodeURIComponent(description)}`)).items;
    assert.equal(found.length, 1);
    const id = found[0].id;
    await detailLoaded(page, id);

    await lose('**/api/cases/*/actions');
    await page.click('[data-test=action-supervise]');
    await page.fill('[data-test=action-note]', '请加快办理');
    await page.click('[data-test=action-submit]');
    await page.waitForFunction(() => document.querySelector('[data-test=action-error]')?.textContent !== '');
    await page.click('[data-test=action-submit]');
    await page.waitForSelector('[data-test=detail-notice]:not(:empty)');
    const supervised = (await api('dispatcher', 'GET', `/api/cases/${id}`)).timeline.filter((t) => t.action === 'supervise');
    assert.equal(supervised.length, 1);
    assert.equal(supervised[0].content, '请加快办理');
    await context.close();
  });

  test('a refused action shows the server reason', async () => {
    const c = await newCase('dispatcher', { description: '小区门口乱贴小广告', category: '0201' });
    // Opened through /workbench/, where the wall's case card links.
    const { context, page } = await open('dispatcher', { width: 1366, height: 768, path: '/workbench/', hash: `#/cases/${c.id}` });
    await detailLoaded(page, c.id);
    await page.click('[data-test=action-dispatch]');
    await page.waitForSelector('[data-test=dispatch-suggestion][data-ready=true]');
    await page.selectOption('[data-test=dispatch-kind]', 'street_platform');
    // Meanwhile the commander closes the case: the dispatch is no longer possible.
    await api('commander', 'POST', `/api/cases/${c.id}/actions`, { action: 'close_directly', reason: '已由街道自行处理' });
    await page.waitForSelector('[data-test=case-detail][data-status=closed]');
    await page.click('[data-test=action-submit]');
    await page.waitForFunction(() => document.querySelector('[data-test=action-error]')?.textContent !== '');
    const refused = await attempt('dispatcher', 'POST', `/api/cases/${c.id}/actions`, {
      action: 'dispatch',
      to: { kind: 'street_platform', street: c.street.code },
      note: '',
    });
    assert.equal(refused.status, 409);
    assert.ok((await page.textContent('[data-test=action-error]')).includes(refused.body.detail), refused.body.detail);
    await page.screenshot({ path: join(artifacts, 'refused-1366x768.png') });
    await context.close();
  });

  test('a case created by another user appears in the open list without a reload, and changes in place', async () => {
    const { context, page } = await open('dispatcher', { width: 1366, height: 768 });
    await listLoaded(page);
    await page.selectOption('[data-test=filter-status]', 'submitted,new,dispatched,accepted,in_progress,handled');
    await page.click('[data-test=filter-apply]');
    await listLoaded(page);
    await page.evaluate(() => (window.__sameDocument = true));
    const c = await newCase('commander', { description: '指挥长录入：井盖缺失', category: '0101' });
    await page.waitForSelector(`[data-test=case-row][data-id="${c.id}"]`);
    assert.equal(await rowStatus(page, c.id), 'new');
    await api('commander', 'POST', `/api/cases/${c.id}/actions`, {
      action: 'dispatch',
      to: { kind: 'department', department: '区综合行政执法局' },
      note: '',
    });
    await page.waitForSelector(`[data-test=case-row][data-id="${c.id}"][data-status=dispatched]`);
    assert.match(await page.textContent(`[data-test=case-row][data-id="${c.id}"] [data-test=case-assignee]`), /区综合行政执法局/);
    assert.equal(await page.evaluate(() => window.__sameDocument), true);
    // A case outside the filter (closed straight away) does not join the list.
    await page.screenshot({ path: join(artifacts, 'list-1366x768.png') });
    await context.close();
  });

  test('the list pages with "more" and sorts by urgency and deadline on the server', async () => {
    const tag = '分页测试';
    const made = [];
    for (let i = 0; i < 54; i++) {
      made.push(await newCase('dispatcher', { description: `分页 ${i}`, category: '0201', tags: [tag] }));
    }
    // The one critical case is also the only one with a deadline (exposed rubbish, critical: two hours).
    made.push(await newCase('dispatcher', { description: '分页 特急', category: '0102', tags: [tag], urgency: 'critical', location: WUTIAN }));
    assert.ok(made.at(-1).deadline);
    const { context, page } = await open('dispatcher', { width: 1366, height: 768 });
    await listLoaded(page);
    await page.fill('[data-test=filter-tag]', tag);
    await page.click('[data-test=filter-apply]');
    await listLoaded(page);
    const ids = () => page.$$eval('[data-test=case-row]', (rows) => rows.map((r) => Number(r.dataset.id)));
    await page.waitForFunction(() => document.querySelectorAll('[data-test=case-row]').length === 50);
    assert.deepEqual(await ids(), made.map((c) => c.id).sort((a, b) => b - a).slice(0, 50));
    await page.click('[data-test=case-list-more]');
    await page.waitForFunction(() => document.querySelectorAll('[data-test=case-row]').length === 55);
    assert.equal(await page.isHidden('[data-test=case-list-more]'), true);

    await page.click('[data-test=sort-urgency]');
    await page.waitForSelector('[data-test=case-list][data-sort=urgency]');
    await listLoaded(page);
    const byUrgency = (await api('dispatcher', 'GET', `/api/cases?tag=${encodeURIComponent(tag)}&sort=urgency&limit=50`)).items;
    assert.equal(byUrgency[0].urgency, 'critical');
    assert.deepEqual(await ids(), byUrgency.map((c) => c.id));
    await page.click('[data-test=case-list-more]');
    await page.waitForFunction(() => document.querySelectorAll('[data-test=case-row]').length === 55);
    assert.deepEqual(new Set(await ids()), new Set(made.map((c) => c.id)));

    await page.click('[data-test=sort-deadline]');
    await page.waitForSelector('[data-test=case-list][data-sort=deadline]');
    await listLoaded(page);
    const byDeadline = (await api('dispatcher', 'GET', `/api/cases?tag=${encodeURIComponent(tag)}&sort=deadline&limit=50`)).items;
    assert.equal(byDeadline[0].id, made.at(-1).id);
    assert.deepEqual(await ids(), byDeadline.map((c) => c.id));
    await context.close();
  });

  test('filters: region through the tree, urgency, keyword and time range; live cases outside the region stay out', async () => {
    const tag = '区域树测试';
    const a = await newCase('dispatcher', { description: '景山 树 一般', category: '0201', tags: [tag] });
    const b = await newCase('dispatcher', { description: '景山 树 紧急', category: '0201', tags: [tag], urgency: 'urgent' });
    await newCase('dispatcher', { description: '梧田 树', category: '0201', tags: [tag], location: WUTIAN });
    const { context, page } = await open('dispatcher');
    await listLoaded(page);
    const ids = async () => (await page.$$eval('[data-test=case-row]', (rows) => rows.map((r) => Number(r.dataset.id)))).sort();
    await page.fill('[data-test=filter-tag]', tag);
    await page.click('[data-test=filter-apply]');
    await page.waitForFunction(() => document.querySelectorAll('[data-test=case-row]').length === 3);

    await page.selectOption('[data-test=filter-street]', GRID.slice(0, 9));
    await page.waitForFunction(() => document.querySelectorAll('[data-test=case-row]').length === 2);
    assert.deepEqual(await ids(), [a.id, b.id].sort());
    await page.waitForSelector(`[data-test=filter-village][data-loaded="${GRID.slice(0, 9)}"]`);
    await page.selectOption('[data-test=filter-village]', GRID.slice(0, 12));
    await page.waitForSelector(`[data-test=filter-grid][data-loaded="${GRID.slice(0, 12)}"]`);
    await page.selectOption('[data-test=filter-grid]', GRID);
    await listLoaded(page);
    assert.match(await page.textContent('[data-test=filter-region-chip]'), /繁荣社区第1网格/);
    assert.deepEqual(await ids(), [a.id, b.id].sort());

    // Live: a case of another street does not join; one of this grid does, in order.
    const outside = await newCase('commander', { description: '梧田 树 实时', category: '0201', tags: [tag], location: WUTIAN });
    const inside = await newCase('commander', { description: '景山 树 实时', category: '0201', tags: [tag] });
    await page.waitForSelector(`[data-test=case-row][data-id="${inside.id}"]`);
    assert.equal(await page.locator(`[data-test=case-row][data-id="${outside.id}"]`).count(), 0);

    await page.selectOption('[data-test=filter-urgency]', 'urgent');
    await page.click('[data-test=filter-apply]');
    await listLoaded(page);
    assert.deepEqual(await ids(), [b.id]);
    await page.selectOption('[data-test=filter-urgency]', '');
    await page.fill('[data-test=filter-q]', '实时');
    await page.click('[data-test=filter-apply]');
    await listLoaded(page);
    assert.deepEqual(await ids(), [inside.id]);
    await page.fill('[data-test=filter-q]', '');
    // Created from a minute after the last case: none.
    const later = new Date(Date.parse(inside.created_at) + 60_000);
    // The browser's clock is Asia/Shanghai (UTC+8, no summer time).
    const local = new Date(later.getTime() + 8 * 3600_000).toISOString().slice(0, 16);
    await page.fill('[data-test=filter-from]', local);
    await page.click('[data-test=filter-apply]');
    await listLoaded(page);
    assert.deepEqual(await ids(), []);
    assert.equal(await page.textContent('[data-test=case-list-status]'), '没有符合条件的案件');
    await page.screenshot({ path: join(artifacts, 'filters-1920x1080.png') });
    await context.close();
  });

  test('the CSV export holds exactly the cases of the filter', async () => {
    for (let i = 0; i < 3; i++) await newCase('dispatcher', { description: `导出测试 ${i}`, category: '0201', tags: ['导出甲'] });
    for (let i = 0; i < 2; i++) await newCase('dispatcher', { description: `导出对照 ${i}`, category: '0201', tags: ['导出乙'] });
    const expected = (await api('dispatcher', 'GET', `/api/cases?tag=${encodeURIComponent('导出甲')}&limit=500`)).items.map((c) => c.id);
    assert.equal(expected.length, 3);

    const { context, page } = await open('dispatcher');
    await listLoaded(page);
    await page.fill('[data-test=filter-tag]', '导出甲');
    await page.click('[data-test=filter-apply]');
    await listLoaded(page);
    await page.waitForFunction(() => document.querySelectorAll('[data-test=case-row]').length === 3);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export-csv]')]);
    assert.match(download.suggestedFilename(), /\.csv$/);
    const text = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '');
    const [head, ...lines] = text.trim().split(/\r?\n/);
    const cols = head.split(',');
    const rows = lines.map((l) => l.split(','));
    assert.deepEqual(rows.map((r) => Number(r[cols.indexOf('id')])).sort(), [...expected].sort());
    assert.ok(rows.every((r) => r[cols.indexOf('tags')].includes('导出甲')));

    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export-xlsx]')]);
    assert.match(xlsx.suggestedFilename(), /\.xlsx$/);
    assert.equal(readFileSync(await xlsx.path()).subarray(0, 2).toString(), 'PK');
    await context.close();
  });

  test('a closed case with a feedback photo is evaluated unsatisfied by the leader and reopened by the dispatcher', async () => {
    // The steps before the evaluation go through the API.
    const c = await newCase('dispatcher', { description: '路面坑洼积水', category: '0101' });
    await api('dispatcher', 'POST', `/api/cases/${c.id}/actions`, {
      action: 'dispatch',
      to: { kind: 'grid_worker', grid: GRID, worker: 'gridworker' },
      note: '',
    });
    await api('gridworker', 'POST', `/api/cases/${c.id}/actions`, { action: 'accept' });
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAFklEQVR4nGP8z4AATEhsPBwmBkYGBgBBJQEHqd7jfQAAAABJRU5ErkJggg==',
      'base64',
    );
    const uploaded = await fetch(`${server.url}/api/cases/${c.id}/attachments?name=site.png`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await token('gridworker')}`, 'Content-Type': 'image/png' },
      body: png,
    }).then((r) => r.json());
    await api('gridworker', 'POST', `/api/cases/${c.id}/actions`, { action: 'feedback', text: '已现场处理', photos: [uploaded.id] });
    await api('gridworker', 'POST', `/api/cases/${c.id}/actions`, { action: 'mark_handled', summary: '已修补' });
    await api('dispatcher', 'POST', `/api/cases/${c.id}/actions`, { action: 'verify_and_close', note: '' });

    // The leader evaluates; the dispatcher (the centre) reopens.
    const leader = await open('leader', { hash: `#/cases/${c.id}` });
    let page = leader.page;
    await detailLoaded(page, c.id);
    assert.equal(await page.getAttribute('[data-test=case-detail]', 'data-status'), 'closed');
    // The feedback's photo is shown (fetched with the token) and opens large.
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-test=attachment-photo]');
      return img && img.complete && img.naturalWidth === 4;
    });
    await page.click('[data-test=attachment-photo]');
    await page.waitForSelector('[data-test=photo-viewer]');
    await page.keyboard.press('Escape');

    await page.click('[data-test=action-evaluate]');
    await page.selectOption('[data-test=evaluate-verdict]', 'unsatisfied');
    await page.selectOption('[data-test=evaluate-reason]', 'false_closure');
    await page.fill('[data-test=evaluate-remark]', '现场仍有积水');
    await page.click('[data-test=action-submit]');
    await page.waitForSelector('[data-test=case-detail][data-status=evaluated_unsatisfied]');
    assert.match(await page.textContent('[data-test=detail-evaluation]'), /虚假办结/);
    const evaluated = await api('dispatcher', 'GET', `/api/cases/${c.id}`);
    assert.deepEqual(evaluated.evaluation, { verdict: { unsatisfied: 'false_closure' }, remark: '现场仍有积水' });
    assert.deepEqual(evaluated.timeline.at(-1).actor, { user: 'leader', role: 'leader' });
    // The leader may not reopen: that is the centre's.
    assert.equal(await page.locator('[data-test=action-reopen]').count(), 0);
    await leader.context.close();

    const { context, page: desk } = await open('dispatcher', { hash: `#/cases/${c.id}` });
    page = desk;
    await detailLoaded(page, c.id);
    assert.equal(await page.getAttribute('[data-test=case-detail]', 'data-status'), 'evaluated_unsatisfied');
    await page.click('[data-test=action-reopen]');
    await page.fill('[data-test=action-reason]', '评价不满意，重新办理');
    await page.click('[data-test=action-submit]');
    await page.waitForSelector('[data-test=case-detail][data-status=new]');
    assert.equal((await api('dispatcher', 'GET', `/api/cases/${c.id}`)).status, 'new');
    await page.screenshot({ path: join(artifacts, 'reopened-1920x1080.png') });
    await context.close();
  });

  test('a department handler accepts on the PC and reports handled with a photo', async () => {
    const c = await newCase('dispatcher', { description: '管道破裂漏水', category: '0501' });
    assert.deepEqual(c.assignee, { kind: 'department', department: '区应急管理局' });
    const { context, page } = await open('handler', { width: 1366, height: 768 });
    await listLoaded(page);
    await page.waitForSelector(`[data-test=case-row][data-id="${c.id}"]`);
    await page.click(`[data-test=case-row][data-id="${c.id}"]`);
    await detailLoaded(page, c.id);
    await page.click('[data-test=action-accept]');
    await page.click('[data-test=action-submit]');
    await page.waitForSelector('[data-test=case-detail][data-status=accepted]');
    await page.click('[data-test=action-mark_handled]');
    await page.fill('[data-test=action-summary]', '已关阀抢修完毕');
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAFklEQVR4nGP8z4AATEhsPBwmBkYGBgBBJQEHqd7jfQAAAABJRU5ErkJggg==',
      'base64',
    );
    await page.setInputFiles('[data-test=action-photos]', { name: '现场.png', mimeType: 'image/png', buffer: png });
    await page.click('[data-test=action-submit]');
    await page.waitForSelector('[data-test=case-detail][data-status=handled]');
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-test=timeline-entry][data-action=mark_handled] [data-test=attachment-photo]');
      return img && img.complete && img.naturalWidth === 4;
    });
    const entry = (await api('dispatcher', 'GET', `/api/cases/${c.id}`)).timeline.at(-1);
    assert.equal(entry.action, 'mark_handled');
    assert.equal(entry.content, '已关阀抢修完毕');
    assert.equal(entry.attachments.length, 1);
    // The photo downloads as the bytes that were sent.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-test=timeline-entry][data-action=mark_handled] [data-test=attachment-download]'),
    ]);
    assert.deepEqual(readFileSync(await download.path()), png);
    await context.close();
  });

  test('a handler returns a case on the PC: it leaves their view and is back in the pool', async () => {
    const c = await newCase('dispatcher', { description: '燃气管道破裂', category: '0501', location: WUTIAN });
    assert.equal(c.status, 'dispatched');
    const { context, page } = await open('handler', { width: 1366, height: 768, hash: `#/cases/${c.id}` });
    await detailLoaded(page, c.id);
    await page.click('[data-test=action-return]');
    await page.fill('[data-test=action-reason]', '属燃气公司职责');
    await page.click('[data-test=action-submit]');
    // The server applies the return and answers that the case has left the handler's
    // view (200, visible false): the form says so.
    await page.waitForSelector('[data-test=action-error][data-gone=true]');
    const back = await api('dispatcher', 'GET', `/api/cases/${c.id}`);
    assert.equal(back.status, 'new');
    assert.equal(back.timeline.at(-1).content, '属燃气公司职责');
    await context.close();
  });

  test('the leader sees the cases bound to them, instructs, and finds their instructions', async () => {
    const c = await newCase('dispatcher', { description: '学校门口占道经营', category: '0101' });
    await api('dispatcher', 'POST', `/api/cases/${c.id}/actions`, { action: 'bind_leader', leader: 'leader' });
    const other = await newCase('dispatcher', { description: '未包案的案件', category: '0101' });
    const { context, page } = await open('leader', { width: 1366, height: 768, hash: '#/leader' });
    await listLoaded(page, 'leader-mine-list');
    await page.waitForSelector(`[data-test=leader-mine] [data-test=case-row][data-id="${c.id}"]`);
    assert.equal(await page.locator(`[data-test=leader-mine] [data-test=case-row][data-id="${other.id}"]`).count(), 0);
    await page.screenshot({ path: join(artifacts, 'leader-1366x768.png') });
    await page.click(`[data-test=leader-mine] [data-test=case-row][data-id="${c.id}"]`);
    await detailLoaded(page, c.id);
    await page.click('[data-test=action-instruct]');
    await page.fill('[data-test=action-text]', '请执法局牵头，三日内办结');
    await page.click('[data-test=action-submit]');
    await page.waitForSelector('[data-test=timeline-entry][data-action=instruct]');
    const t = (await api('leader', 'GET', `/api/cases/${c.id}`)).timeline.at(-1);
    assert.equal(t.action, 'instruct');
    assert.equal(t.content, '请执法局牵头，三日内办结');

    // "My instructions": this case, and an unbound one instructed (API), not the others.
    await api('leader', 'POST', `/api/cases/${other.id}/actions`, { action: 'instruct', text: '请属地街道跟进' });
    const untouched = await newCase('dispatcher', { description: '未批示的案件', category: '0201' });
    await page.goto(`${server.url}/workbench.html#/leader`);
    await page.waitForSelector('[data-test=leader-instructions][data-loaded=true]');
    const rows = await page.$$eval('[data-test=instruction-row]', (rs) => rs.map((r) => [Number(r.dataset.id), r.querySelector('[data-test=instruction-text]').textContent]));
    assert.deepEqual(rows, [
      [other.id, '请属地街道跟进'],
      [c.id, '请执法局牵头，三日内办结'],
    ]);
    assert.ok(!rows.some(([id]) => id === untouched.id));
    await page.screenshot({ path: join(artifacts, 'leader-instructions-1366x768.png') });
    await context.close();
  });

  test('configuration: a new account, its roles and scope, a device registered, a source switched off', async () => {
    // The system administrator creates an account limited to one street and registers a device.
    const admin = await open('sysadmin', { width: 1366, height: 768 });
    await admin.page.waitForSelector('[data-test=config-users]');
    assert.equal(await admin.page.locator('[data-test=nav-cases]').count(), 0);
    await admin.page.fill('[data-test=new-user-username]', 'inspector1');
    await admin.page.fill('[data-test=new-user-display]', '巡查员一');
    await admin.page.fill('[data-test=new-user-password]', 'Wb-initial-2026!x');
    await admin.page.selectOption('[data-test=new-user-department]', 'enforcement');
    await admin.page.selectOption('[data-test=new-user] [data-test=user-scope-level]', 'street');
    await admin.page.fill('[data-test=new-user] [data-test=user-scope-code]', '330304001');
    await admin.page.click('[data-test=new-user-submit]');
    await admin.page.waitForSelector('[data-test=config-user][data-username=inspector1]');
    const made = (await api('sysadmin', 'GET', '/api/users')).users.find((u) => u.username === 'inspector1');
    assert.deepEqual(made.scope, { level: 'street', code: '330304001' });
    assert.equal(made.department, 'enforcement');
    assert.deepEqual(made.roles, []);

    await admin.page.click('[data-test=config-tab-departments]');
    await admin.page.fill('[data-test=department-id]', 'gas');
    await admin.page.fill('[data-test=department-name]', '区燃气管理所');
    await admin.page.selectOption('[data-test=department-parent]', 'housing');
    await admin.page.click('[data-test=department-submit]');
    await admin.page.waitForSelector('[data-test=config-department][data-id=gas]');
    const gas = (await api('sysadmin', 'GET', '/api/departments')).departments.find((x) => x.id === 'gas');
    assert.deepEqual(gas, { id: 'gas', name: '区燃气管理所', parent: 'housing' });

    await admin.page.click('[data-test=config-tab-devices]');
    await admin.page.fill('[data-test=device-id]', 'WB-SMOKE-0001');
    await admin.page.fill('[data-test=device-type]', 'smoke');
    await admin.page.fill('[data-test=device-lon]', String(INSIDE.lon));
    await admin.page.fill('[data-test=device-lat]', String(INSIDE.lat));
    await admin.page.click('[data-test=device-register]');
    await admin.page.waitForFunction(() => document.querySelector('[data-test=device-credential]')?.textContent !== '');
    const device = await api('sysadmin', 'GET', '/api/devices/WB-SMOKE-0001');
    assert.equal(device.type, 'smoke');
    await admin.page.screenshot({ path: join(artifacts, 'config-devices-1366x768.png') });
    await admin.context.close();

    // The security administrator grants a role; nobody else can.
    const sec = await open('secadmin', { width: 1366, height: 768 });
    await sec.page.click('[data-test=config-user][data-username=inspector1]');
    await sec.page.check('[data-test=user-roles] [data-test=role-dispatcher]');
    await sec.page.click('[data-test=user-roles-save]');
    await sec.page.waitForSelector('[data-test=config-user][data-username=inspector1][data-roles=dispatcher]');
    assert.deepEqual((await api('secadmin', 'GET', '/api/users')).users.find((u) => u.username === 'inspector1').roles, ['dispatcher']);
    // Adding the auditor's role to the security administrator is refused, with the server's reason.
    await sec.page.click('[data-test=config-user][data-username=secadmin]');
    await sec.page.check('[data-test=user-roles] [data-test=role-auditor]');
    await sec.page.click('[data-test=user-roles-save]');
    await sec.page.waitForFunction(() => document.querySelector('[data-test=config-error]')?.textContent !== '');
    const secadmin = (await api('secadmin', 'GET', '/api/users')).users.find((u) => u.username === 'secadmin');
    const refused = await attempt('secadmin', 'PUT', `/api/users/${secadmin.id}/roles`, { roles: ['auditor', 'security_administrator'] });
    assert.equal(refused.status, 400);
    assert.ok((await sec.page.textContent('[data-test=config-error]')).includes(refused.body.detail), refused.body.detail);
    assert.deepEqual(secadmin.roles, ['security_administrator']);
    await sec.page.screenshot({ path: join(artifacts, 'config-users-1366x768.png') });

    // The leader's role without exports; a bundle the role may not hold is refused.
    const before = (await api('secadmin', 'GET', '/api/roles')).roles.find((r) => r.role === 'leader');
    try {
      await sec.page.click('[data-test=config-role][data-role=leader]');
      await sec.page.uncheck('[data-test=role-editor] [data-test="perm-cases.export"]');
      await sec.page.click('[data-test=role-save]');
      await sec.page.waitForFunction(() => document.querySelector('[data-test=config-notice]')?.textContent !== '');
      const after = (await api('secadmin', 'GET', '/api/roles')).roles.find((r) => r.role === 'leader');
      assert.deepEqual(after.permissions, before.permissions.filter((p) => p !== 'cases.export'));
      await sec.page.click('[data-test=config-role][data-role=leader]');
      await sec.page.check('[data-test=role-editor] [data-test="perm-users.manage"]');
      await sec.page.click('[data-test=role-save]');
      await sec.page.waitForFunction(() => document.querySelector('[data-test=config-error]')?.textContent !== '');
      const refusedRole = await attempt('secadmin', 'PUT', '/api/roles/leader', {
        permissions: [...after.permissions, 'users.manage'],
        require_totp: false,
      });
      assert.equal(refusedRole.status, 400);
      assert.ok((await sec.page.textContent('[data-test=config-error]')).includes(refusedRole.body.detail), refusedRole.body.detail);
    } finally {
      await api('secadmin', 'PUT', '/api/roles/leader', { permissions: before.permissions });
    }
    await sec.context.close();

    // The dispatcher switches an intake source off.
    const d = await open('dispatcher', { hash: '#/config' });
    await d.page.click('[data-test=config-tab-sources]');
    await d.page.click('[data-test=config-source][data-id=hotline-12345] [data-test=source-toggle]');
    await d.page.waitForFunction(() => document.querySelector('[data-test=config-source][data-id=hotline-12345]')?.textContent.includes('已停用'));
    const sources = (await api('dispatcher', 'GET', '/api/sources')).sources;
    assert.equal(sources.find((x) => x.id === 'hotline-12345').enabled, false);
    await d.context.close();
  });

  test('a new account changes its password first; a second factor is asked for and taken', async () => {
    // inspector1 (made above) must change the initial password at the first login.
    const context = await browser.newContext({ ...DESK, viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/workbench.html`);
    await page.fill('[data-test=login-username]', 'inspector1');
    await page.fill('[data-test=login-password]', 'Wb-initial-2026!x');
    await page.click('[data-test=login-submit]');
    await page.fill('[data-test=password-current]', 'Wb-initial-2026!x');
    await page.fill('[data-test=password-new]', 'Wb-changed-2026!y');
    assert.equal(await page.locator('[data-test=totp-enrolment]').count(), 0);
    await page.click('[data-test=password-submit]');
    await page.waitForSelector('[data-test=restricted-done]');
    await context.close();

    // It enrols a second factor (API), then logs in with the code its app shows.
    server.accounts.inspector1 = 'Wb-changed-2026!y';
    const enrolled = await api('inspector1', 'POST', '/api/auth/totp/enrol', {});
    const now = Math.floor(Date.now() / 1000);
    await api('inspector1', 'POST', '/api/auth/totp/confirm', { code: totp(enrolled.secret, now) });
    const second = await browser.newContext({ ...DESK, viewport: { width: 1366, height: 768 } });
    const p2 = await second.newPage();
    await p2.goto(`${server.url}/workbench.html`);
    await p2.fill('[data-test=login-username]', 'inspector1');
    await p2.fill('[data-test=login-password]', 'Wb-changed-2026!y');
    await p2.click('[data-test=login-submit]');
    await p2.waitForSelector('[data-test=login-totp-row]:not([hidden])');
    // The code of the next step: the one used to confirm cannot be used again.
    await p2.fill('[data-test=login-totp]', totp(enrolled.secret, now + 30));
    await p2.click('[data-test=login-submit]');
    await p2.waitForSelector('[data-test=whoami]');
    assert.match(await p2.textContent('[data-test=whoami]'), /巡查员一/);
    await second.close();
  });

  test('a role that requires a second factor: the first login changes the password, enrols, then logs in with a code', async () => {
    // A new leader account, and the leader role set to require a second factor.
    const made = await api('sysadmin', 'POST', '/api/users', {
      username: 'leader2',
      display_name: '区领导二',
      password: 'Wb-first-2026!q',
      department: 'district',
      scope: { level: 'district', code: '330304' },
    });
    await api('secadmin', 'PUT', `/api/users/${made.id}/roles`, { roles: ['leader'] });
    await api('secadmin', 'PUT', '/api/roles/leader', { require_totp: true });
    try {
      const context = await browser.newContext({ ...DESK, viewport: { width: 1366, height: 768 } });
      const page = await context.newPage();
      const login = async (password, code) => {
        await page.goto(`${server.url}/workbench.html`);
        await page.fill('[data-test=login-username]', 'leader2');
        await page.fill('[data-test=login-password]', password);
        await page.click('[data-test=login-submit]');
        if (code) {
          await page.waitForSelector('[data-test=login-totp-row]:not([hidden])');
          await page.fill('[data-test=login-totp]', code);
          await page.click('[data-test=login-submit]');
        }
      };
      await login('Wb-first-2026!q');
      await page.waitForSelector('[data-test=restricted]');
      assert.equal(await page.locator('[data-test=password-change]').count(), 1);
      assert.equal(await page.locator('[data-test=totp-enrolment]').count(), 1);
      await page.fill('[data-test=password-current]', 'Wb-first-2026!q');
      await page.fill('[data-test=password-new]', 'Wb-second-2026!r');
      await page.click('[data-test=password-submit]');
      await page.waitForSelector('[data-test=restricted-done]');

      // Logged in again: only the enrolment is left.
      await login('Wb-second-2026!r');
      await page.waitForSelector('[data-test=restricted]');
      assert.equal(await page.locator('[data-test=password-change]').count(), 0);
      await page.click('[data-test=totp-enrol]');
      await page.waitForFunction(() => document.querySelector('[data-test=totp-secret]')?.textContent !== '');
      const secret = await page.textContent('[data-test=totp-secret]');
      assert.match(await page.textContent('[data-test=totp-uri]'), new RegExp(`^otpauth://totp/.*secret=${secret}`));
      const now = Math.floor(Date.now() / 1000);
      await page.fill('[data-test=totp-code]', totp(secret, now));
      await page.click('[data-test=totp-confirm]');
      await page.waitForSelector('[data-test=restricted-done]');

      // The next login asks for a code and opens the leader's workbench.
      await login('Wb-second-2026!r', totp(secret, now + 30));
      await page.waitForSelector('[data-test=whoami]');
      assert.match(await page.textContent('[data-test=whoami]'), /区领导二/);
      assert.equal(await page.locator('[data-test=nav-leader]').count(), 1);
      await context.close();
    } finally {
      await api('secadmin', 'PUT', '/api/roles/leader', { require_totp: false });
    }
  });

  test('the case rules: a dispatch rule added in the UI dispatches the next case; a bad document shows the refusal; a holiday and a category saved', async () => {
    const original = await api('sysadmin', 'GET', '/api/config/rules');
    assert.equal(original['dispatch-rules'].source, 'file');
    // A spot of its own (no earlier 私搭乱建 report within 100 m, so not a duplicate).
    const spot = (n) => ({ lon: 120.6505 + n * 0.004, lat: 27.9615 });
    const { context, page } = await open('sysadmin', { width: 1920, height: 1080, hash: '#/config/dispatch-rules' });
    try {
      await page.waitForSelector('[data-test=rules-dispatch-rules] [data-test=rule-row]');
      assert.match(await page.textContent('[data-test=rules-meta]'), /配置文件/);
      assert.equal(await page.locator('[data-test=rule-row]').count(), original['dispatch-rules'].body.length);

      // 0101 私搭乱建 → 区住房和城乡建设局.
      await page.click('[data-test=rule-add]');
      const last = '[data-test=rule-row]:last-child';
      await page.fill(`${last} [data-test=rule-id]`, 'wb-illegal-building');
      await page.fill(`${last} [data-test=rule-category]`, '0101');
      assert.equal(await page.textContent(`${last} [data-test=rule-category-name]`), '私搭乱建');
      await page.selectOption(`${last} [data-test=rule-kind]`, 'department');
      await page.selectOption(`${last} [data-test=rule-department]`, '区住房和城乡建设局');
      await page.fill(`${last} [data-test=rule-priority]`, '3');
      await page.click('[data-test=rules-save]');
      await page.waitForSelector('[data-test=rules-notice]:not(:empty)');
      await page.waitForSelector('[data-test=rule-row][data-id=wb-illegal-building][data-enabled=true]');
      assert.match(await page.textContent('[data-test=rules-meta]'), /sysadmin/);
      const saved = (await api('sysadmin', 'GET', '/api/config/rules'))['dispatch-rules'];
      assert.equal(saved.updated_by, 'sysadmin');
      assert.deepEqual(saved.body.find((r) => r.id === 'wb-illegal-building'), {
        id: 'wb-illegal-building',
        category_prefix: '0101',
        region_prefix: '',
        target: { kind: 'department', department: '区住房和城乡建设局' },
        priority: 3,
        enabled: true,
      });
      // The next case of the category is dispatched by it.
      const c = await newCase('dispatcher', { description: '违章搭建彩钢棚', category: '0101', location: spot(0) });
      assert.equal(c.status, 'dispatched');
      assert.equal(c.dispatch_rule, 'wb-illegal-building');
      assert.deepEqual(c.assignee, { kind: 'department', department: '区住房和城乡建设局' });
      assert.equal((await api('dispatcher', 'GET', `/api/cases/${c.id}`)).dispatch_rule, 'wb-illegal-building');
      await page.screenshot({ path: join(artifacts, 'config-dispatch-rules-1920x1080.png') });

      // A second rule with an id already used: refused, with the document's name and why.
      await page.click('[data-test=rule-add]');
      await page.fill(`${last} [data-test=rule-id]`, 'grid-street-order');
      await page.fill(`${last} [data-test=rule-category]`, '0104');
      await page.click('[data-test=rules-save]');
      await page.waitForSelector('[data-test=rules-error]:not(:empty)');
      const refused = await attempt('sysadmin', 'PUT', '/api/config/rules/dispatch-rules', [
        ...saved.body,
        { id: 'grid-street-order', category_prefix: '0104', region_prefix: '', target: { kind: 'department', department: '区住房和城乡建设局' }, priority: 0, enabled: true },
      ]);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.field, 'dispatch-rules');
      const shown = await page.textContent('[data-test=rules-error]');
      assert.ok(shown.includes(refused.body.detail) && shown.includes('dispatch-rules'), `${shown} / ${refused.body.detail}`);
      assert.equal((await api('sysadmin', 'GET', '/api/config/rules'))['dispatch-rules'].version, saved.version);
      await page.screenshot({ path: join(artifacts, 'config-refused-1920x1080.png') });

      // The bad row removed and the new rule disabled: the next case waits for a dispatcher.
      await page.click(`${last} [data-test=rule-remove]`);
      await page.uncheck('[data-test=rule-row][data-id=wb-illegal-building] [data-test=rule-enabled]');
      await page.click('[data-test=rules-save]');
      await page.waitForSelector('[data-test=rule-row][data-id=wb-illegal-building][data-enabled=false]');
      assert.equal(await page.textContent('[data-test=rules-error]'), '');
      const disabled = (await api('sysadmin', 'GET', '/api/config/rules'))['dispatch-rules'].body;
      assert.equal(disabled.length, original['dispatch-rules'].body.length + 1);
      assert.equal(disabled.find((r) => r.id === 'wb-illegal-building').enabled, false);
      const next = await newCase('dispatcher', { description: '违章搭建雨棚', category: '0101', location: spot(1) });
      assert.equal(next.status, 'new');
      assert.equal(next.dispatch_rule, null);

      // The calendar: a holiday added; a date both holiday and make-up day is refused.
      await page.click('[data-test=config-tab-calendar]');
      await page.waitForSelector('[data-test=rules-calendar]');
      await page.fill('[data-test=holiday-date]', '2027-10-01');
      await page.click('[data-test=holiday-add]');
      await page.waitForSelector('[data-test=calendar-holiday][data-date="2027-10-01"]');
      await page.click('[data-test=rules-save]');
      await page.waitForSelector('[data-test=rules-notice]:not(:empty)');
      const calendar = (await api('sysadmin', 'GET', '/api/config/rules')).calendar;
      assert.ok(calendar.body.holidays.includes('2027-10-01'));
      assert.equal(calendar.updated_by, 'sysadmin');
      await page.fill('[data-test=makeup-date]', '2027-10-01');
      await page.click('[data-test=makeup-add]');
      await page.click('[data-test=rules-save]');
      await page.waitForSelector('[data-test=rules-error][data-field=calendar]');
      assert.match(await page.textContent('[data-test=rules-error]'), /2027-10-01/);
      assert.deepEqual((await api('sysadmin', 'GET', '/api/config/rules')).calendar.body.makeup_workdays, original.calendar.body.makeup_workdays);
      await page.screenshot({ path: join(artifacts, 'config-calendar-1920x1080.png') });

      // The category tree: 0202 横幅广告 under 02 with a time limit of its own; the create
      // form offers it at once.
      await page.click('[data-test=config-tab-categories]');
      await page.waitForSelector('[data-test=rules-categories] [data-test=category-row]');
      await page.click('[data-test=category-add]');
      const row = '[data-test=category-row][data-code=""]';
      await page.click(`${row} [data-test=limit-add]`);
      await page.fill(`${row} [data-test=category-code]`, '0202');
      await page.fill(`${row} [data-test=category-name]`, '横幅广告');
      await page.selectOption(`${row} [data-test=category-parent]`, '02');
      await page.selectOption(`${row} [data-test=limit-urgency]`, 'urgent');
      await page.fill(`${row} [data-test=limit-count]`, '3');
      await page.selectOption(`${row} [data-test=limit-unit]`, 'working_hours');
      await page.click('[data-test=rules-save]');
      await page.waitForSelector('[data-test=category-row][data-code="0202"]');
      const items = (await api('dispatcher', 'GET', '/api/categories')).items;
      assert.deepEqual(items.find((x) => x.code === '0202'), {
        code: '0202',
        name: '横幅广告',
        parent: '02',
        time_limits: [{ urgency: 'urgent', limit: { working_hours: 3 } }],
      });
      await page.screenshot({ path: join(artifacts, 'config-categories-1920x1080.png') });
      const desk = await open('dispatcher', { width: 1366, height: 768, hash: '#/new' });
      await desk.page.waitForSelector('[data-test=create-category] option[value="0202"]', { state: 'attached' });
      await desk.context.close();
    } finally {
      await context.close();
      for (const name of ['dispatch-rules', 'calendar', 'categories']) {
        await api('sysadmin', 'PUT', `/api/config/rules/${name}`, original[name].body);
      }
    }
  });
});
