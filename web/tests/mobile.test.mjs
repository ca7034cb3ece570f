// The grid worker's mobile app in Chromium as a phone (390×844, touch, geolocation granted)
// against a real cockpit-server: log in and stay logged in across a reload; a case the
// dispatcher sends to the grid worker appears in My tasks live; accept it, see it on the
// map with my position; feedback with a camera photo (downscaled) reaches the server;
// return with a reason; report a new case from the street; THE OFFLINE TEST (feedback
// sent twice without a connection is one submission, sent once when it comes back); a
// request whose response was lost is replayed with the same key and applied once; a task
// that arrives live while the first list loads is kept; the app's files are kept by its
// service worker and it opens with the server gone.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Server } from './support/server.mjs';
import { artifacts, launch } from './support/browser.mjs';
import { newPhone as newPhoneContext, phoneLogIn, cameraPhoto } from './support/phone.mjs';

let server;
let browser;
let dispatcher;
let worker;
/** The grid worker's grid and a point in it. */
let grid;
let spot;
/** Points of the grid ~110 m apart, each used once per category: the server marks a case
 *  of the same category within 100 m as a duplicate (which has no deadline of its own).
 *  Reports made in the tests use another category (0201). */
let places = [];
let made = 0;
const CATEGORIES = ['0101', '0104'];
/** One phone for the tests that follow one another (login, live, accept, feedback). */
let phone;

before(async () => {
  server = await Server.start();
  browser = await launch();
  dispatcher = await server.login('dispatcher');
  worker = await server.login('gridworker');
  const me = await server.api(worker, 'GET', '/api/auth/me');
  grid = me.scope.code;
  const region = await server.api(dispatcher, 'GET', `/api/regions/${grid}`);
  const [lon, lat] = region.properties.centre;
  spot = { lon, lat };
  for (let dx = -2; dx <= 2; dx++) {
    for (let dy = -2; dy <= 2; dy++) {
      const p = { lon: lon + dx * 0.00112, lat: lat + dy * 0.001 };
      const at = await server.api(dispatcher, 'GET', `/api/locate?lon=${p.lon}&lat=${p.lat}`);
      if (JSON.stringify(at).includes(`"${grid}"`)) places.push(p);
    }
  }
  assert.ok(places.length >= 5, `${places.length} points in the grid`);
});

after(async () => {
  await phone?.context.close();
  await browser?.close();
  await server?.stop();
});

/** A phone's browser context; the worker stands a little east of the grid's centre. */
function newPhone({ serviceWorkers = 'block' } = {}) {
  return newPhoneContext(browser, { at: { lon: spot.lon + 0.001, lat: spot.lat }, serviceWorkers });
}

function logIn(page, user = 'gridworker') {
  return phoneLogIn(page, server, user);
}

/** A case in the worker's grid, created and dispatched to the grid worker by the dispatcher. */
async function dispatchedCase(description) {
  const c = await server.api(dispatcher, 'POST', '/api/cases', {
    description,
    category: CATEGORIES[Math.floor(made / places.length) % CATEGORIES.length],
    location: places[made++ % places.length],
    reporter: { name: '测试乙', phone: '13900001111' },
  });
  assert.equal(c.duplicate_of, null, `case ${c.id} is a duplicate`);
  // A dispatch rule may already have sent it to the grid's worker.
  if (c.status === 'dispatched' && c.assignee?.worker === 'gridworker') return c;
  assert.equal(c.status, 'new', `case ${c.id}: ${c.status} ${JSON.stringify(c.assignee)}`);
  return server.api(dispatcher, 'POST', `/api/cases/${c.id}/actions`, {
    action: 'dispatch',
    to: { kind: 'grid_worker', grid, worker: 'gridworker' },
  });
}

/** A JPEG's width and height, from its start-of-frame marker. */
function jpegSize(bytes) {
  assert.equal(bytes.readUInt16BE(0), 0xffd8, 'a JPEG');
  let at = 2;
  while (at < bytes.length) {
    const marker = bytes.readUInt16BE(at);
    const length = bytes.readUInt16BE(at + 2);
    if (marker >= 0xffc0 && marker <= 0xffcf && ![0xffc4, 0xffc8, 0xffcc].includes(marker)) {
      return [bytes.readUInt16BE(at + 7), bytes.readUInt16BE(at + 5)];
    }
    at += 2 + length;
  }
  throw new Error('no start of frame');
}

async function timeline(id) {
  return (await server.api(dispatcher, 'GET', `/api/cases/${id}`)).timeline;
}

describe('the mobile app', () => {
  test('login; the session survives a reload', async () => {
    phone = await newPhone();
    const { page } = phone;
    // A wrong password is refused with a message.
    await page.goto(`${server.url}/mobile.html`);
    await page.fill('[data-test=login-username]', 'gridworker');
    await page.fill('[data-test=login-password]', 'wrong-password');
    await page.tap('[data-test=login-submit]');
    await page.waitForFunction(() => document.querySelector('[data-test=login-error]')?.textContent.includes('用户名或密码不正确'));
    await logIn(page);
    assert.equal(await page.locator('[data-test=login-form]').count(), 0);
    await page.reload();
    await page.waitForSelector('[data-test=task-list]');
    assert.equal(await page.locator('[data-test=login-form]').count(), 0);
    // The session is the phone's: a new tab of the same browser is logged in too.
    const tab = await phone.context.newPage();
    await tab.goto(`${server.url}/mobile.html`);
    await tab.waitForSelector('[data-test=task-list]');
    await tab.close();
    // Large touch targets: the tab bar and the main buttons are at least 48 px high.
    for (const selector of ['[data-test=nav-tasks]', '[data-test=nav-report]', '[data-test=nav-queue]']) {
      const box = await page.locator(selector).boundingBox();
      assert.ok(box.height >= 48 && box.width >= 48, `${selector}: ${JSON.stringify(box)}`);
    }
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.equal(width, 390, 'no sideways scrolling');
  });

  test('a case dispatched to the grid worker appears in My tasks live, with its deadline countdown', async () => {
    const { page } = phone;
    await page.waitForSelector('[data-test=net-status][data-state=live]');
    const c = await dispatchedCase('人行道上堆放建筑垃圾（实时推送测试）');
    const task = page.locator(`[data-test=task][data-case-id="${c.id}"]`);
    await task.waitFor();
    assert.equal(await task.getAttribute('data-mine'), 'true');
    assert.equal(await task.getAttribute('data-status'), 'dispatched');
    assert.ok(c.deadline?.due_at, 'the case has a deadline');
    const countdown = await task.locator('[data-test=countdown]').textContent();
    assert.match(countdown, /^剩余 (\d+天)?(\d+小时)?\d+分$/);
    // The new task is announced; tapping the notice opens it.
    const toast = page.locator('[data-test=new-task-toast]');
    await toast.waitFor();
    assert.equal(await toast.getAttribute('data-case-id'), String(c.id));
    await page.screenshot({ path: join(artifacts, 'mobile-tasks-390x844.png') });
    await toast.tap();
    await page.waitForSelector(`[data-test=case-view][data-case-id="${c.id}"]`);
    assert.ok(await toast.isHidden());
    phone.caseId = c.id;
  });

  test('a task: details, the case on the map with my position; accept it', async () => {
    const { page } = phone;
    const id = phone.caseId;
    await page.waitForSelector(`[data-test=case-view][data-case-id="${id}"]`);
    await page.waitForFunction(() => /120\.6\d+, 27\.9\d+/.test(document.querySelector('[data-test=my-position]')?.textContent ?? ''));
    // The map draws the case and my position as two points.
    await page.waitForFunction(() => {
      const m = window.__mobileMap?.map;
      if (!m?.getLayer('me')) return false;
      const drawn = (layer) => m.queryRenderedFeatures({ layers: [layer] }).length;
      return drawn('case') === 1 && drawn('me') === 1;
    });
    const me = await page.evaluate(() => window.__mobileMap.map.queryRenderedFeatures({ layers: ['me'] }).length);
    assert.equal(me, 1);
    await page.screenshot({ path: join(artifacts, 'mobile-case-390x844.png') });
    const accept = page.locator('[data-test=act-accept]');
    const box = await accept.boundingBox();
    assert.ok(box.height >= 48, `accept button ${box.height} px high`);
    await accept.tap();
    await page.waitForSelector('[data-test=case-status][data-status=accepted][data-optimistic=false]');
    const c = await server.api(dispatcher, 'GET', `/api/cases/${id}`);
    assert.equal(c.status, 'accepted');
    assert.equal(c.timeline.filter((t) => t.action === 'accept').length, 1);
  });

  test('feedback with a photo from the camera, downscaled: the server holds it', async () => {
    const { page } = phone;
    const id = phone.caseId;
    await page.tap('[data-test=act-feedback]');
    await page.waitForSelector('[data-test=feedback-form]');
    await page.fill('[data-test=feedback-text]', '已到现场，垃圾正在清运');
    const photo = await cameraPhoto(page, 'F1');
    await page.setInputFiles('[data-test=photo-input]', photo);
    await page.waitForSelector('[data-test=photo-thumb]');
    await page.waitForFunction(() => /120\.6\d+/.test(document.querySelector('[data-test=feedback-position]')?.textContent ?? ''));
    await page.screenshot({ path: join(artifacts, 'mobile-feedback-390x844.png') });
    await page.tap('[data-test=feedback-send]');
    await page.waitForSelector('[data-test=form-message][data-state=done]');
    const feedback = (await timeline(id)).filter((t) => t.action === 'feedback');
    assert.equal(feedback.length, 1);
    assert.equal(feedback[0].content, '已到现场，垃圾正在清运');
    assert.equal(feedback[0].attachments.length, 1);
    assert.ok(feedback[0].position, 'the feedback carries my position');
    assert.ok(Math.abs(feedback[0].position.lon - (spot.lon + 0.001)) < 1e-6);
    // The photo stored is the downscaled JPEG: 1600 px on its long side.
    const r = await fetch(`${server.url}/api/attachments/${feedback[0].attachments[0]}`, {
      headers: { Authorization: `Bearer ${dispatcher}` },
    });
    assert.equal(r.headers.get('content-type'), 'image/jpeg');
    const bytes = Buffer.from(await r.arrayBuffer());
    assert.ok(bytes.length < photo.buffer.length, `${bytes.length} < ${photo.buffer.length}`);
    assert.deepEqual(jpegSize(bytes), [1600, 1200]);
    // The case's timeline shows the photo.
    await page.tap('[data-test=back]');
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-test=timeline-entry][data-action=feedback] [data-test=timeline-photo]');
      return img?.complete && img.naturalWidth === 1600;
    });
    const steps = await page.locator('[data-test=timeline-entry] b').allTextContents();
    assert.equal(steps[0], '反馈', 'newest first');
    assert.equal(steps.at(-1), '立案', 'the creation is the oldest step');
    await page.screenshot({ path: join(artifacts, 'mobile-case-timeline-390x844.png'), fullPage: true });
  });

  test('mark handled with a summary', async () => {
    const { page } = phone;
    const id = phone.caseId;
    await page.goto(`${server.url}/mobile.html#/case/${id}/handled`);
    await page.waitForSelector('[data-test=handled-form]');
    // A blank summary is refused in the form, before anything is sent.
    await page.tap('[data-test=handled-send]');
    await page.waitForSelector('[data-test=form-message][data-state=invalid]');
    await page.fill('[data-test=handled-summary]', '垃圾已清运完毕');
    await page.tap('[data-test=handled-send]');
    await page.waitForSelector(`[data-test=case-view][data-case-id="${id}"]`);
    await page.waitForSelector('[data-test=case-status][data-status=handled]');
    const c = await server.api(dispatcher, 'GET', `/api/cases/${id}`);
    assert.equal(c.status, 'handled');
    assert.equal(c.timeline.at(-1).content, '垃圾已清运完毕');
  });

  test('return a case with a reason; a refused action shows the server\'s reason', async () => {
    const { page } = phone;
    const c = await dispatchedCase('不属于本网格的事件（退回测试）');
    await page.goto(`${server.url}/mobile.html#/case/${c.id}`);
    await page.waitForSelector('[data-test=act-return]');
    await page.tap('[data-test=act-return]');
    await page.waitForSelector('[data-test=return-form]');
    await page.fill('[data-test=return-reason]', '该处为市政道路，不属网格职责');
    await page.tap('[data-test=return-send]');
    await page.waitForSelector('[data-test=task-list]');
    const after = await server.api(dispatcher, 'GET', `/api/cases/${c.id}`);
    const ret = after.timeline.filter((t) => t.action === 'return');
    assert.equal(ret.length, 1);
    assert.equal(ret[0].content, '该处为市政道路，不属网格职责');
    // A new return (a new form) of a case no longer dispatched is refused by the server,
    // and its problem detail is shown to the worker, not retried.
    await page.goto(`${server.url}/mobile.html#/case/${c.id}/return`);
    await page.waitForSelector('[data-test=return-form]');
    await page.fill('[data-test=return-reason]', '再次退回');
    await page.tap('[data-test=return-send]');
    await page.waitForSelector('[data-test=form-message][data-state=failed]');
    const shown = await page.textContent('[data-test=form-message]');
    assert.match(shown, /服务器拒绝了该操作：.+/);
    await page.tap('[data-test=nav-queue]');
    const failed = page.locator('[data-test=outbox-entry][data-state=failed]');
    await failed.waitFor();
    assert.ok((await failed.locator('[data-test=outbox-error]').textContent()).length > 0);
    await failed.locator('[data-test=outbox-discard]').tap();
    await page.waitForFunction(() => !document.querySelector('[data-test=outbox-entry][data-state=failed]'));
    assert.equal((await server.api(dispatcher, 'GET', `/api/cases/${c.id}`)).timeline.filter((t) => t.action === 'return').length, 1);
  });

  test('report a new case from the street: photo, category, position, description', async () => {
    const { page } = phone;
    await page.tap('[data-test=nav-report]');
    await page.waitForSelector('[data-test=report-form]');
    await page.selectOption('[data-test=report-category]', '0201');
    await page.fill('[data-test=report-description]', '小区门口违章搭建雨棚（街面上报）');
    await page.setInputFiles('[data-test=photo-input]', await cameraPhoto(page, 'R1'));
    await page.waitForSelector('[data-test=photo-thumb]');
    await page.waitForFunction(() => /120\.6\d+/.test(document.querySelector('[data-test=report-position]')?.textContent ?? ''));
    await page.screenshot({ path: join(artifacts, 'mobile-report-390x844.png') });
    await page.tap('[data-test=report-send]');
    await page.waitForSelector('[data-test=form-message][data-state=done]');
    const list = await server.api(dispatcher, 'GET', `/api/cases?q=${encodeURIComponent('违章搭建雨棚')}`);
    assert.equal(list.items.length, 1);
    const c = list.items[0];
    assert.equal(c.category.code, '0201');
    assert.equal(c.grid.code, grid);
    assert.ok(Math.abs(c.location.lon - (spot.lon + 0.001)) < 1e-6);
    // The photo went to the new case: the outbox names its attachment, the server has it.
    await page.tap('[data-test=nav-queue]');
    const entry = page.locator('[data-test=outbox-entry][data-state=done]').first();
    await entry.waitFor();
    const ids = (await entry.getAttribute('data-attachments')).split(',');
    assert.equal(ids.length, 1);
    const r = await fetch(`${server.url}/api/attachments/${ids[0]}`, { headers: { Authorization: `Bearer ${dispatcher}` } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/jpeg');
  });

  test('THE OFFLINE TEST: feedback sent twice offline is one submission, sent once with its photo when back online', async () => {
    const c = await dispatchedCase('井盖缺失（离线测试）');
    await server.api(worker, 'POST', `/api/cases/${c.id}/actions`, { action: 'accept' });
    const { context, page } = await newPhone();
    try {
      await logIn(page);
      await page.goto(`${server.url}/mobile.html#/case/${c.id}/feedback`);
      await page.waitForSelector('[data-test=feedback-form]');
      await page.waitForFunction(() => /120\.6\d+/.test(document.querySelector('[data-test=feedback-position]')?.textContent ?? ''));
      const photo = await cameraPhoto(page, 'OFF');
      await context.setOffline(true);
      await page.waitForSelector('[data-test=net-status][data-state=offline]');
      await page.fill('[data-test=feedback-text]', '已设置警示围挡，等待更换井盖');
      await page.setInputFiles('[data-test=photo-input]', photo);
      await page.waitForSelector('[data-test=photo-thumb]');
      await page.tap('[data-test=feedback-send]');
      await page.waitForSelector('[data-test=form-message][data-state=waiting]');
      // Nothing seems to happen: the worker taps send again.
      await page.tap('[data-test=feedback-send]');
      await page.waitForSelector('[data-test=form-message][data-state=duplicate]');
      await page.screenshot({ path: join(artifacts, 'mobile-offline-feedback-390x844.png') });
      // The outbox shows one submission waiting, with its photo.
      await page.tap('[data-test=nav-queue]');
      await page.waitForSelector('[data-test=outbox-entry]');
      const entries = page.locator('[data-test=outbox-entry][data-state=waiting]');
      assert.equal(await entries.count(), 1);
      assert.equal(await entries.locator('[data-test=outbox-photos]').getAttribute('data-count'), '1');
      assert.equal(await page.textContent('[data-test=outbox-badge]'), '1');
      await page.screenshot({ path: join(artifacts, 'mobile-outbox-390x844.png') });
      assert.equal((await timeline(c.id)).filter((t) => t.action === 'feedback').length, 0);
      // Back online: the outbox sends it by itself.
      await context.setOffline(false);
      await page.waitForSelector('[data-test=outbox-entry][data-state=done]');
      assert.equal(await page.locator('[data-test=outbox-entry][data-state=waiting]').count(), 0);
      const feedback = (await timeline(c.id)).filter((t) => t.action === 'feedback');
      assert.equal(feedback.length, 1);
      assert.equal(feedback[0].content, '已设置警示围挡，等待更换井盖');
      assert.equal(feedback[0].attachments.length, 1);
      const r = await fetch(`${server.url}/api/attachments/${feedback[0].attachments[0]}`, {
        headers: { Authorization: `Bearer ${dispatcher}` },
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'image/jpeg');
    } finally {
      await context.close();
    }
  });

  test('accept tapped offline shows the case accepted, waiting; feedback written offline follows it, both sent in order when back online', async () => {
    const c = await dispatchedCase('树枝断落挡路（离线接收测试）');
    const { context, page } = await newPhone();
    try {
      await logIn(page);
      await page.tap(`[data-test=task][data-case-id="${c.id}"]`);
      await page.waitForSelector('[data-test=act-accept]');
      await context.setOffline(true);
      await page.waitForSelector('[data-test=net-status][data-state=offline]');
      await page.tap('[data-test=act-accept]');
      await page.waitForSelector('[data-test=case-message][data-state=waiting]');
      // Shown accepted at once, marked as waiting; what follows an accept is offered.
      await page.waitForSelector('[data-test=case-status][data-status=accepted][data-optimistic=true]');
      assert.match(await page.textContent('[data-test=case-status]'), /已接收 · 等待发送/);
      assert.equal(await page.locator('[data-test=act-accept]').count(), 0);
      await page.waitForSelector('[data-test=act-feedback]');
      await page.screenshot({ path: join(artifacts, 'mobile-offline-accepted-390x844.png') });
      await page.tap('[data-test=back]');
      // My tasks shows it accepted, with something of mine waiting.
      const task = page.locator(`[data-test=task][data-case-id="${c.id}"]`);
      await page.locator(`[data-test=task][data-case-id="${c.id}"] [data-test=task-pending]`).waitFor();
      assert.equal(await task.getAttribute('data-status'), 'accepted');
      assert.equal(await task.getAttribute('data-optimistic'), 'true');
      // A later visit: still accepted and waiting, nothing to accept again.
      await task.tap();
      await page.waitForSelector('[data-test=case-status][data-status=accepted][data-optimistic=true]');
      assert.equal(await page.locator('[data-test=act-accept]').count(), 0);
      // Feedback with a photo, written offline: it queues behind the accept.
      await page.tap('[data-test=act-feedback]');
      await page.waitForSelector('[data-test=feedback-form]');
      await page.fill('[data-test=feedback-text]', '树枝已移到路边，等待园林清运');
      await page.setInputFiles('[data-test=photo-input]', await cameraPhoto(page, 'ACC'));
      await page.waitForSelector('[data-test=photo-thumb]');
      await page.tap('[data-test=feedback-send]');
      await page.waitForSelector('[data-test=form-message][data-state=waiting]');
      await page.tap('[data-test=nav-queue]');
      await page.waitForSelector('[data-test=outbox-entry]');
      const waiting = page.locator('[data-test=outbox-entry][data-state=waiting]');
      assert.equal(await waiting.count(), 2);
      // Newest first: the feedback above the accept it follows.
      assert.match(await waiting.nth(0).textContent(), /反馈/);
      assert.match(await waiting.nth(1).textContent(), /接收/);
      assert.equal((await server.api(dispatcher, 'GET', `/api/cases/${c.id}`)).status, 'dispatched');
      await context.setOffline(false);
      await page.waitForFunction(() => document.querySelectorAll('[data-test=outbox-entry][data-state=done]').length === 2);
      const after = await server.api(dispatcher, 'GET', `/api/cases/${c.id}`);
      assert.equal(after.status, 'in_progress');
      assert.deepEqual(
        after.timeline.filter((t) => t.action === 'accept' || t.action === 'feedback').map((t) => t.action),
        ['accept', 'feedback'],
      );
      assert.equal(after.timeline.find((t) => t.action === 'feedback').attachments.length, 1);
      // The phone shows the server's case again, no longer marked as waiting.
      await page.goto(`${server.url}/mobile.html#/case/${c.id}`);
      await page.waitForSelector('[data-test=case-status][data-status=in_progress][data-optimistic=false]');
    } finally {
      await context.close();
    }
  });

  test('an accept queued offline that the server refuses meanwhile is shown failed with its reason; what follows it is sent; the worker drops it', async () => {
    const taken = await dispatchedCase('占道经营（离线接收被拒测试）');
    const other = await dispatchedCase('垃圾桶满溢（离线接收被拒测试，另一任务）');
    await server.api(worker, 'POST', `/api/cases/${other.id}/actions`, { action: 'accept' });
    const { context, page } = await newPhone();
    try {
      await logIn(page);
      await page.tap(`[data-test=task][data-case-id="${taken.id}"]`);
      await page.waitForSelector('[data-test=act-accept]');
      await context.setOffline(true);
      await page.waitForSelector('[data-test=net-status][data-state=offline]');
      await page.tap('[data-test=act-accept]');
      await page.waitForSelector('[data-test=case-message][data-state=waiting]');
      await page.waitForSelector('[data-test=case-status][data-status=accepted][data-optimistic=true]');
      // A second, independent action, queued behind it: feedback on another task of mine.
      await page.tap('[data-test=back]');
      await page.tap(`[data-test=task][data-case-id="${other.id}"]`);
      await page.tap('[data-test=act-feedback]');
      await page.waitForSelector('[data-test=feedback-form]');
      await page.fill('[data-test=feedback-text]', '满溢垃圾已清理，已通知环卫加派车次');
      await page.tap('[data-test=feedback-send]');
      await page.waitForSelector('[data-test=form-message][data-state=waiting]');
      await page.tap('[data-test=nav-queue]');
      await page.waitForSelector('[data-test=outbox-entry]');
      assert.equal(await page.locator('[data-test=outbox-entry][data-state=waiting]').count(), 2);
      assert.equal(await page.textContent('[data-test=outbox-badge]'), '2');

      // Meanwhile the case leaves the worker: the server has no recall for the dispatcher (a
      // dispatched case is left only by its handler's return), so it is handed back from
      // the worker's other session, and the dispatcher closes it directly.
      await server.api(worker, 'POST', `/api/cases/${taken.id}/actions`, { action: 'return', reason: '在电脑端退回：该处为市场管理范围' });
      const closed = await server.api(dispatcher, 'POST', `/api/cases/${taken.id}/actions`, {
        action: 'close_directly',
        reason: '市场监管所已当场处理',
      });
      assert.equal(closed.status, 'closed');
      // What the server answers the worker's accept now: its refusal, to be shown as is.
      const probe = await fetch(`${server.url}/api/cases/${taken.id}/actions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${worker}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ action: 'accept' }),
      });
      assert.equal(probe.status, 409);
      const { detail } = await probe.json();
      assert.ok(detail, 'the refusal has a detail');

      // Back online: the accept is refused and marked failed with the server's reason; the
      // feedback behind it goes through.
      await context.setOffline(false);
      const failed = page.locator('[data-test=outbox-entry][data-state=failed]');
      await failed.waitFor();
      await page.waitForSelector('[data-test=outbox-entry][data-state=done]');
      assert.equal(await page.locator('[data-test=outbox-entry]').count(), 2);
      assert.equal(await page.locator('[data-test=outbox-entry][data-state=waiting]').count(), 0);
      assert.match(await failed.textContent(), new RegExp(`接收 #${taken.id}`));
      assert.equal(await failed.locator('[data-test=outbox-state]').textContent(), '发送失败');
      const error = await failed.locator('[data-test=outbox-error]').textContent();
      assert.ok(error.includes(detail), `"${error}" shows "${detail}"`);
      // Said in Chinese first (the server's detail is in English), the detail kept.
      assert.match(error, /^服务器拒绝了该操作：事件状态已变化，该操作已不可执行（.+）$/);
      assert.equal(await failed.locator('[data-test=outbox-retry]').textContent(), '立即重试');
      assert.equal(await failed.locator('[data-test=outbox-discard]').textContent(), '放弃');
      assert.equal(await page.getAttribute('[data-test=outbox-badge]', 'data-failed'), '1');
      await page.screenshot({ path: join(artifacts, 'mobile-outbox-refused-390x844.png') });
      const feedback = (await timeline(other.id)).filter((t) => t.action === 'feedback');
      assert.equal(feedback.length, 1);
      assert.equal(feedback[0].content, '满溢垃圾已清理，已通知环卫加派车次');
      const after = await server.api(dispatcher, 'GET', `/api/cases/${taken.id}`);
      assert.equal(after.status, 'closed');
      assert.deepEqual(after.timeline.filter((t) => t.action === 'accept'), []);

      // The worker gives it up: nothing is left to send, after a reload too.
      await failed.locator('[data-test=outbox-discard]').tap();
      await page.waitForFunction(() => !document.querySelector('[data-test=outbox-entry][data-state=failed]'));
      assert.ok(await page.locator('[data-test=outbox-badge]').isHidden());
      await page.reload();
      await page.waitForSelector('[data-test=outbox-list]');
      assert.equal(await page.locator('[data-test=outbox-entry]:not([data-state=done])').count(), 0);
      assert.ok(await page.locator('[data-test=outbox-badge]').isHidden());
      assert.deepEqual((await timeline(taken.id)).filter((t) => t.action === 'accept'), []);
    } finally {
      await context.close();
    }
  });

  test('a request applied by the server whose response was lost is sent again with the same key and applied once', async () => {
    const c = await dispatchedCase('路灯不亮（应答丢失测试）');
    await server.api(worker, 'POST', `/api/cases/${c.id}/actions`, { action: 'accept' });
    const { context, page } = await newPhone();
    try {
      await logIn(page);
      // The first upload and the first action reach the server, then the connection drops
      // before the answer arrives; later attempts go through.
      const seen = { attachments: [], actions: [] };
      const lose = (kind) => async (route) => {
        const request = route.request();
        if (request.method() !== 'POST') return route.continue();
        const response = await route.fetch();
        seen[kind].push({
          key: request.headers()['idempotency-key'],
          replayed: response.headers()['idempotent-replayed'] ?? null,
          status: response.status(),
          body: await response.json(),
        });
        if (seen[kind].length === 1) return route.abort('connectionreset');
        return route.fulfill({ response });
      };
      await page.route(`**/api/cases/${c.id}/attachments*`, lose('attachments'));
      await page.route(`**/api/cases/${c.id}/actions`, lose('actions'));
      await page.goto(`${server.url}/mobile.html#/case/${c.id}/feedback`);
      await page.waitForSelector('[data-test=feedback-form]');
      await page.fill('[data-test=feedback-text]', '已报修，电力公司today处理');
      await page.setInputFiles('[data-test=photo-input]', await cameraPhoto(page, 'L1'));
      await page.waitForSelector('[data-test=photo-thumb]');
      await page.tap('[data-test=feedback-send]');
      await page.waitForSelector('[data-test=form-message][data-state=waiting]');
      await page.tap('[data-test=nav-queue]');
      await page.waitForSelector('[data-test=outbox-entry][data-state=done]');
      assert.equal(seen.attachments.length, 2);
      assert.equal(seen.actions.length, 2);
      for (const kind of ['attachments', 'actions']) {
        const [first, second] = seen[kind];
        assert.ok(first.key && first.key === second.key, `${kind}: one key for both attempts`);
        assert.equal(first.replayed, null);
        assert.equal(second.status, first.status);
      }
      // The action's repeat is answered from its key, not applied again.
      assert.equal(seen.actions[1].replayed, 'true');
      // The photo's repeat names the same stored attachment (the server keys attachments
      // by case and content, so a repeat is one attachment however it is answered).
      assert.equal(seen.attachments[1].body.id, seen.attachments[0].body.id);
      const feedback = (await timeline(c.id)).filter((t) => t.action === 'feedback');
      assert.equal(feedback.length, 1);
      assert.deepEqual(feedback[0].attachments, [seen.attachments[0].body.id]);
    } finally {
      await context.close();
    }
  });

  test('a session ended elsewhere: log in again, and what waited is sent', async () => {
    const c = await dispatchedCase('广告牌松动（会话结束测试）');
    const { context, page } = await newPhone();
    try {
      await logIn(page);
      await page.tap(`[data-test=task][data-case-id="${c.id}"]`);
      await page.waitForSelector('[data-test=act-accept]');
      // Every session of the worker ends (a password reset would do the same).
      const other = await server.login('gridworker');
      await server.api(other, 'POST', '/api/auth/logout-everywhere');
      await page.tap('[data-test=act-accept]');
      await page.waitForSelector('[data-test=login-form]');
      assert.match(await page.textContent('[data-test=login-error]'), /登录已过期/);
      assert.equal((await server.api(dispatcher, 'GET', `/api/cases/${c.id}`)).status, 'dispatched');
      await page.fill('[data-test=login-username]', 'gridworker');
      await page.fill('[data-test=login-password]', server.accounts.gridworker);
      await page.tap('[data-test=login-submit]');
      // Back where the worker was, the accept that waited goes out.
      await page.waitForSelector(`[data-test=case-view][data-case-id="${c.id}"] [data-test=case-status][data-status=accepted][data-optimistic=false]`);
      await page.tap('[data-test=nav-queue]');
      await page.waitForSelector('[data-test=outbox-entry][data-state=done]');
      assert.equal(await page.locator('[data-test=outbox-entry]').count(), 1);
      const after = await server.api(dispatcher, 'GET', `/api/cases/${c.id}`);
      assert.equal(after.status, 'accepted');
      assert.equal(after.timeline.filter((t) => t.action === 'accept').length, 1);
    } finally {
      await context.close();
    }
  });

  test('log out: the session and the tasks kept on the phone are gone', async () => {
    const { context, page } = await newPhone();
    try {
      await logIn(page);
      await page.waitForSelector('[data-test=task]');
      await page.tap('[data-test=logout]');
      await page.waitForSelector('[data-test=login-form]');
      const kept = await page.evaluate(() => Object.keys(localStorage).filter((k) => /session|tasks|\.me$/.test(k)));
      assert.deepEqual(kept, []);
      await page.reload();
      await page.waitForSelector('[data-test=login-form]');
    } finally {
      await context.close();
    }
  });

  test('English on asking (?lang=en), kept for the next visits', async () => {
    const { context, page } = await newPhone();
    try {
      await page.goto(`${server.url}/mobile.html?lang=en`);
      await page.waitForSelector('[data-test=login-form]');
      assert.equal(await page.textContent('[data-test=login-submit]'), 'Log in');
      await page.fill('[data-test=login-username]', 'gridworker');
      await page.fill('[data-test=login-password]', server.accounts.gridworker);
      await page.tap('[data-test=login-submit]');
      await page.waitForSelector('[data-test=task-list]');
      await page.goto(`${server.url}/mobile.html#/tasks`);
      await page.waitForSelector('[data-test=task-list]');
      assert.equal(await page.textContent('.screen-title'), 'My tasks');
      assert.match(await page.locator('[data-test=countdown]').first().textContent(), /^(\d+ d )?(\d+ h )?\d+ min left$/);
      await page.screenshot({ path: join(artifacts, 'mobile-tasks-en-390x844.png') });
    } finally {
      await context.close();
    }
  });

  test('a task that arrives live while the first list is still loading stays in the list', async () => {
    const { context, page } = await newPhone();
    try {
      // The grid's list is held back until the new task has come over the live stream.
      let release;
      const held = new Promise((r) => (release = r));
      await page.route(/\/api\/cases\?status=/, async (route) => {
        await held;
        await route.continue();
      });
      await logIn(page);
      await page.waitForSelector('[data-test=net-status][data-state=live]');
      const c = await dispatchedCase('井盖缺失（加载中实时到达测试）');
      const task = page.locator(`[data-test=task][data-case-id="${c.id}"]`);
      await task.waitFor();
      // The list, asked for before the case existed, answers now without it.
      assert.equal(await page.getAttribute('[data-test=task-list]', 'data-loaded'), 'false');
      release();
      await page.waitForSelector('[data-test=task-list][data-loaded=true]');
      assert.equal(await task.count(), 1, 'the task from the stream is kept');
      assert.equal(await task.getAttribute('data-status'), 'dispatched');
    } finally {
      await context.close();
    }
  });

  test('installable: manifest and service worker served with their types; the app opens with the server gone', async () => {
    const manifest = await fetch(`${server.url}/mobile.webmanifest`);
    assert.equal(manifest.headers.get('content-type'), 'application/manifest+json');
    const m = await manifest.json();
    assert.equal(m.start_url, '/mobile.html#/tasks');
    assert.ok(m.icons.some((i) => i.sizes === '512x512'));
    for (const icon of m.icons) assert.equal((await fetch(`${server.url}${icon.src}`)).headers.get('content-type'), 'image/png');
    const sw = await fetch(`${server.url}/mobile-sw.js`);
    assert.match(sw.headers.get('content-type'), /^(text|application)\/javascript/);

    const { context, page } = await newPhone({ serviceWorkers: 'allow' });
    try {
      await logIn(page);
      const c = await dispatchedCase('消防通道被占用（离线打开测试）');
      await page.locator(`[data-test=task][data-case-id="${c.id}"]`).waitFor();
      await page.waitForFunction(async () => (await navigator.serviceWorker.ready).active?.state === 'activated');
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
      // The server goes away and the phone loses its connection; the app still opens,
      // with the tasks it last saw.
      await server.kill();
      await context.setOffline(true);
      await page.reload();
      await page.waitForSelector('[data-test=task-list]');
      await page.locator(`[data-test=task][data-case-id="${c.id}"]`).waitFor();
      assert.equal(await page.getAttribute('[data-test=net-status]', 'data-state'), 'offline');
      await page.screenshot({ path: join(artifacts, 'mobile-offline-open-390x844.png') });
    } finally {
      await context.close();
      await server.launch();
    }
  });
});
