// The whole loop across screens (issue 8, "What it must show"): one server, one browser,
// four people at their screens at once, each acting through their own UI and each step
// checked on the other screens live (no reloads) and through the API:
//   - the wall (1920×1080, the commander), which only watches;
//   - the dispatcher's workbench (1920×1080);
//   - the leader's workbench (1366×768, a fourth context: another person at another desk);
//   - the grid worker's phone (390×844, touch, geolocation), standing in the worker's grid.
// The dispatcher creates a case on the map inside the worker's grid, in a category the
// rules do not dispatch (0101), and dispatches it to the grid's worker; the phone shows the
// task live, the worker accepts, sends feedback with a photo and marks it handled; the
// dispatcher sees the photo in the detail, verifies and closes; the leader evaluates it
// unsatisfied; the dispatcher reopens it. The wall's case status follows every step.
// How long each hop took is printed, never asserted: the waits are generous.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Server } from './support/server.mjs';
import { artifacts as wallArtifacts, launch, openWall } from './support/browser.mjs';
import { newPhone, phoneLogIn, cameraPhoto } from './support/phone.mjs';

const artifacts = join(wallArtifacts, '..', 'loop');
mkdirSync(artifacts, { recursive: true });

/** A desk in Wenzhou: Chinese locale, Beijing time. */
const DESK = { locale: 'zh-CN', timezoneId: 'Asia/Shanghai', deviceScaleFactor: 1 };
/** Generous: the machine is shared; nothing here is a timed assertion. */
const WAIT = { timeout: 60_000 };

let server;
let browser;
const tokens = {};
/** The grid worker's grid (the first grid of their scope), its name and a point in it. */
let grid;
let gridName;
let spot;
/** The screens. */
let wall;
let desk;
let leader;
let phone;

async function api(user, method, path, body) {
  tokens[user] ??= await server.login(user);
  return server.api(tokens[user], method, path, body);
}

const getCase = (id) => api('dispatcher', 'GET', `/api/cases/${id}`);

/** Opens the workbench and logs in as `user` through its form, waiting for its live stream. */
async function openDesk(user, { width, height }) {
  const context = await browser.newContext({ ...DESK, viewport: { width, height } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`${user} page error:`, e.message));
  await page.goto(`${server.url}/workbench.html`);
  await page.fill('[data-test=login-username]', user);
  await page.fill('[data-test=login-password]', server.accounts[user]);
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=whoami]');
  await page.waitForFunction(() => document.body.dataset.live === 'live', null, WAIT);
  return { context, page };
}

/** The wall's status of case `id` (undefined while it does not know the case). */
const wallStatus = (id) => wall.page.evaluate((id) => window.__wall.store.byId.get(id)?.status, id);

/** Waits until the wall has case `id` in `status`. */
function wallShows(id, status) {
  return wall.page.waitForFunction(
    ([id, status]) => window.__wall.store.byId.get(id)?.status === status,
    [id, status],
    WAIT,
  );
}

/** Waits until the workbench on `page` shows case `id` in `status`. */
function deskShows(page, id, status) {
  return page.waitForSelector(`[data-test=case-detail][data-id="${id}"][data-status="${status}"]`, WAIT);
}

/** Prints how long a hop took since `since` (ms since the epoch). */
function hop(label, since) {
  console.log(`  ${label}: ${Date.now() - since} ms`);
}

before(async () => {
  server = await Server.start();
  browser = await launch();
  // The worker's grid is the first grid of the city's demo data, found as the worker sees it.
  const me = await api('gridworker', 'GET', '/api/auth/me');
  assert.equal(me.scope.level, 'grid');
  grid = me.scope.code;
  const region = await api('dispatcher', 'GET', `/api/regions/${grid}`);
  gridName = region.properties.name;
  const [lon, lat] = region.properties.centre;
  spot = { lon, lat };
  const at = await api('dispatcher', 'GET', `/api/locate?lon=${lon}&lat=${lat}`);
  assert.ok(JSON.stringify(at).includes(`"${grid}"`), `the centre of ${grid} lies in it: ${JSON.stringify(at)}`);
});

after(async () => {
  for (const s of [wall, desk, leader, phone]) await s?.context.close();
  await browser?.close();
  await server?.stop();
});

describe('the loop across screens', () => {
  test('create, dispatch, accept, feedback with a photo, handled, close, evaluate unsatisfied, reopen', async () => {
    // Everyone at their screen before anything happens.
    wall = await openWall(browser, server);
    await wall.page.waitForFunction(() => window.__wall.liveStatus === 'live', null, WAIT);
    desk = await openDesk('dispatcher', { width: 1920, height: 1080 });
    leader = await openDesk('leader', { width: 1366, height: 768 });
    // The worker stands a few metres east of the case.
    phone = await newPhone(browser, { at: { lon: spot.lon + 0.0003, lat: spot.lat } });
    await phoneLogIn(phone.page, server);
    await phone.page.waitForSelector('[data-test=net-status][data-state=live]', WAIT);
    for (const s of [wall, desk, leader, phone]) await s.page.evaluate(() => (window.__sameDocument = true));

    // 1. The dispatcher creates the case on the workbench, its place clicked on the map.
    const d = desk.page;
    await d.click('[data-test=nav-new]');
    await d.waitForSelector('[data-test=create-map][data-ready=true]', WAIT);
    const description = '繁荣社区路面塌陷，需设置围挡（全流程测试）';
    await d.fill('[data-test=create-description]', description);
    await d.selectOption('[data-test=create-category]', '0101');
    await d.fill('[data-test=create-search]', gridName);
    await d.click(`[data-test=region-option][data-code="${grid}"]`);
    await d.waitForSelector('[data-test=create-picked][data-located=true]', WAIT);
    await d.waitForFunction(() => !window.__wbCreateMap.map.isMoving(), null, WAIT);
    const box = await d.locator('[data-test=create-map] canvas').boundingBox();
    const point = await d.evaluate(({ lon, lat }) => window.__wbCreateMap.map.project([lon, lat]), spot);
    await d.mouse.click(box.x + point.x, box.y + point.y);
    await d.waitForFunction(
      ({ lon, name }) => {
        const p = document.querySelector('[data-test=create-picked]');
        return p?.dataset.located === 'true' && Math.abs(Number(p.dataset.lon) - lon) < 0.0005 && p.textContent.includes(name);
      },
      { lon: spot.lon, name: gridName },
      WAIT,
    );
    let since = Date.now();
    await d.click('[data-test=create-submit]');
    await d.waitForURL(/#\/cases\/\d+$/, WAIT);
    const id = Number(/#\/cases\/(\d+)$/.exec(d.url())[1]);
    await deskShows(d, id, 'new');
    hop('created → the dispatcher sees its detail', since);
    const created = await getCase(id);
    assert.equal(created.description, description);
    assert.equal(created.category.code, '0101');
    assert.equal(created.grid.code, grid);
    assert.equal(created.duplicate_of, null);
    assert.equal(created.status, 'new', 'no rule dispatches 0101 by itself');

    // 2. The wall shows the new case on its map and in its feed.
    await wall.page.waitForFunction(
      (id) =>
        window.__wall.map.map.querySourceFeatures('cases').some((f) => f.properties.id === id) &&
        document.querySelector(`#feed li[data-case="${id}"]`) !== null,
      id,
      WAIT,
    );
    hop('created → on the wall (map and feed)', since);
    assert.equal(await wallStatus(id), 'new');
    // A case merely new in the worker's grid is not yet the worker's task.
    assert.equal(await phone.page.locator(`[data-test=task][data-case-id="${id}"][data-mine=true]`).count(), 0);

    // 1 (cont.). The dispatcher dispatches it from the detail to the grid's worker.
    await d.click('[data-test=action-dispatch]');
    await d.waitForSelector('[data-test=dispatch-suggestion][data-ready=true]', WAIT);
    const suggestion = await api('dispatcher', 'GET', `/api/cases/${id}/dispatch-suggestion`);
    console.log(`  the rules' suggestion: ${JSON.stringify(suggestion.to ?? null)}`);
    await d.selectOption('[data-test=dispatch-kind]', 'grid_worker');
    assert.equal(await d.inputValue('[data-test=dispatch-grid]'), grid);
    // The worker is chosen among the people the server lists for dispatch.
    await d.selectOption('[data-test=dispatch-worker]', 'gridworker');
    await d.fill('[data-test=action-note]', '请尽快到现场设置围挡');
    since = Date.now();
    await d.click('[data-test=action-submit]');
    await deskShows(d, id, 'dispatched');
    assert.deepEqual((await getCase(id)).assignee, { kind: 'grid_worker', grid, worker: 'gridworker' });

    // 2 (cont.) and 3. The wall follows; the task appears on the phone, live.
    await wallShows(id, 'dispatched');
    hop('dispatched → the wall', since);
    const p = phone.page;
    const task = p.locator(`[data-test=task][data-case-id="${id}"]`);
    await task.waitFor(WAIT);
    hop('dispatched → My tasks on the phone', since);
    assert.equal(await task.getAttribute('data-mine'), 'true');
    assert.equal(await task.getAttribute('data-status'), 'dispatched');
    await p.screenshot({ path: join(artifacts, 'phone-task-390x844.png') });

    // 3. The worker accepts.
    await task.tap();
    await p.waitForSelector(`[data-test=case-view][data-case-id="${id}"]`, WAIT);
    await p.locator('[data-test=act-accept]').tap();
    since = Date.now();
    await p.waitForSelector('[data-test=case-status][data-status=accepted][data-optimistic=false]', WAIT);
    hop('accept tapped → the phone shows it accepted', since);
    const accepted = await getCase(id);
    assert.equal(accepted.status, 'accepted');
    assert.equal(accepted.timeline.filter((t) => t.action === 'accept').length, 1);
    await deskShows(d, id, 'accepted');
    hop('accepted → the dispatcher\'s detail', since);
    await wallShows(id, 'accepted');
    hop('accepted → the wall', since);

    // 3. Feedback with a photo taken by the phone's camera (a generated image on the file input).
    await p.tap('[data-test=act-feedback]');
    await p.waitForSelector('[data-test=feedback-form]', WAIT);
    await p.fill('[data-test=feedback-text]', '已到现场，塌陷处已设置围挡');
    await p.setInputFiles('[data-test=photo-input]', await cameraPhoto(p, 'LOOP'));
    await p.waitForSelector('[data-test=photo-thumb]', WAIT);
    await p.waitForFunction(() => /120\.\d+/.test(document.querySelector('[data-test=feedback-position]')?.textContent ?? ''), null, WAIT);
    since = Date.now();
    await p.tap('[data-test=feedback-send]');
    await p.waitForSelector('[data-test=form-message][data-state=done]', WAIT);
    hop('feedback sent → done on the phone', since);
    const feedback = (await getCase(id)).timeline.filter((t) => t.action === 'feedback');
    assert.equal(feedback.length, 1);
    assert.equal(feedback[0].content, '已到现场，塌陷处已设置围挡');
    assert.equal(feedback[0].attachments.length, 1);
    assert.ok(feedback[0].position, 'the feedback carries the worker\'s position');

    // 4. The dispatcher's open detail shows the feedback and its photo, live: the detail
    // reloads the case on each live delta of it (no reload of the page, no click).
    await d.waitForFunction(
      () => {
        const img = document.querySelector('[data-test=timeline-entry][data-action=feedback] [data-test=attachment-photo]');
        return img?.complete && img.naturalWidth === 1600;
      },
      null,
      WAIT,
    );
    hop('feedback → its photo in the dispatcher\'s detail', since);
    assert.match(await d.textContent('[data-test=timeline-entry][data-action=feedback]'), /塌陷处已设置围挡/);
    // The first feedback puts the case in progress: the wall and the detail follow.
    assert.equal((await getCase(id)).status, 'in_progress');
    await deskShows(d, id, 'in_progress');
    await wallShows(id, 'in_progress');
    hop('feedback → in progress on the wall', since);

    // 3. The worker marks it handled.
    await p.tap('[data-test=back]');
    await p.waitForSelector(`[data-test=case-view][data-case-id="${id}"] [data-test=act-mark_handled]`, WAIT);
    await p.tap('[data-test=act-mark_handled]');
    await p.waitForSelector('[data-test=handled-form]', WAIT);
    await p.fill('[data-test=handled-summary]', '围挡已设置，已通知市政修复');
    since = Date.now();
    await p.tap('[data-test=handled-send]');
    await p.waitForSelector(`[data-test=case-view][data-case-id="${id}"] [data-test=case-status][data-status=handled]`, WAIT);
    hop('handled → the phone', since);
    await p.waitForFunction(() => document.querySelector('[data-test=timeline-entry][data-action=feedback] [data-test=timeline-photo]')?.naturalWidth === 1600, null, WAIT);
    await p.screenshot({ path: join(artifacts, 'phone-handled-390x844.png'), fullPage: true });
    assert.equal((await getCase(id)).status, 'handled');
    await deskShows(d, id, 'handled');
    hop('handled → the dispatcher\'s detail', since);
    await wallShows(id, 'handled');
    hop('handled → the wall', since);

    // 4. The dispatcher verifies and closes.
    await d.click('[data-test=action-verify_and_close]');
    await d.fill('[data-test=action-note]', '经核实已处置');
    since = Date.now();
    await d.click('[data-test=action-submit]');
    await deskShows(d, id, 'closed');
    hop('closed → the dispatcher\'s detail', since);
    assert.equal((await getCase(id)).status, 'closed');
    await wallShows(id, 'closed');
    hop('closed → the wall', since);
    // A closed case is no longer a task: it leaves My tasks on the phone.
    await p.tap('[data-test=back]');
    await p.waitForSelector('[data-test=task-list]', WAIT);
    await p.waitForFunction((id) => !document.querySelector(`[data-test=task][data-case-id="${id}"]`), id, WAIT);
    hop('closed → gone from My tasks', since);

    // 5. The leader, at their own desk, opens the case and evaluates it unsatisfied.
    const l = leader.page;
    await l.goto(`${server.url}/workbench.html#/cases/${id}`);
    await deskShows(l, id, 'closed');
    assert.equal(await l.evaluate(() => window.__sameDocument), true, 'the leader\'s page was not reloaded');
    await l.click('[data-test=action-evaluate]');
    await l.selectOption('[data-test=evaluate-verdict]', 'unsatisfied');
    await l.selectOption('[data-test=evaluate-reason]', 'false_closure');
    await l.fill('[data-test=evaluate-remark]', '现场仍有塌陷，未修复');
    since = Date.now();
    await l.click('[data-test=action-submit]');
    await deskShows(l, id, 'evaluated_unsatisfied');
    hop('evaluated → the leader\'s detail', since);
    const evaluated = await getCase(id);
    assert.equal(evaluated.status, 'evaluated_unsatisfied');
    assert.deepEqual(evaluated.evaluation, { verdict: { unsatisfied: 'false_closure' }, remark: '现场仍有塌陷，未修复' });
    assert.equal(evaluated.timeline.at(-1).actor.role, 'leader', JSON.stringify(evaluated.timeline.at(-1).actor));
    await deskShows(d, id, 'evaluated_unsatisfied');
    hop('evaluated → the dispatcher\'s detail', since);
    await d.waitForSelector('[data-test=detail-evaluation]', WAIT);
    assert.match(await d.textContent('[data-test=detail-evaluation]'), /虚假办结/);
    await wallShows(id, 'evaluated_unsatisfied');
    hop('evaluated → the wall', since);

    // 5. The dispatcher reopens it.
    await d.click('[data-test=action-reopen]');
    await d.fill('[data-test=action-reason]', '领导评价不满意，重新办理');
    since = Date.now();
    await d.click('[data-test=action-submit]');
    await deskShows(d, id, 'new');
    hop('reopened → the dispatcher\'s detail', since);
    const reopened = await getCase(id);
    assert.equal(reopened.status, 'new');
    assert.equal(reopened.timeline.at(-1).action, 'reopen');
    assert.equal(reopened.timeline.at(-1).content, '领导评价不满意，重新办理');
    await deskShows(l, id, 'new');
    hop('reopened → the leader\'s detail', since);
    await wallShows(id, 'new');
    hop('reopened → the wall', since);

    // The whole timeline, in order, as the server holds it.
    assert.deepEqual(
      reopened.timeline.map((t) => t.action),
      [null, 'dispatch', 'accept', 'feedback', 'mark_handled', 'verify_and_close', 'evaluate', 'reopen'],
    );
    // Nobody reloaded: every screen is the document it was at the start.
    for (const s of [wall, desk, leader, phone]) assert.equal(await s.page.evaluate(() => window.__sameDocument), true);

    // Each screen as it is at the end.
    await wall.page.evaluate(() => new Promise((r) => setTimeout(r, 500)));
    await wall.page.screenshot({ path: join(artifacts, 'wall-1920x1080.png') });
    await d.screenshot({ path: join(artifacts, 'dispatcher-1920x1080.png'), fullPage: true });
    await l.screenshot({ path: join(artifacts, 'leader-1366x768.png'), fullPage: true });
    await p.screenshot({ path: join(artifacts, 'phone-390x844.png') });
  });
});
