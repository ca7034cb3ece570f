// The security screens of the workbench and the phone in Chromium against a real
// cockpit-server: failed logins of the dispatcher's account from two other addresses (one
// of them locked) are told to the dispatcher after logging in, and listed for the security
// administrator; the system administrator issues the 12345 hotline a new token, which is
// shown once and works while the old one stops; an Open311 key is issued in the screen,
// works, and is refused once revoked; the auditor filters the trail by result and by
// client address (and exports that); a password past its 90 days is changed first; the
// grid worker's phone shows the notice small.
//
// The failed logins come from the test process bound to other loopback addresses
// (127.0.0.2, …): the server sees each as its own client address, as it would see
// attackers elsewhere, while the browsers log in from 127.0.0.1.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, repo } from './support/server.mjs';
import { artifacts as wallArtifacts, launch } from './support/browser.mjs';
import { newPhone, phoneLogIn } from './support/phone.mjs';

const artifacts = join(wallArtifacts, '..', 'security');
mkdirSync(artifacts, { recursive: true });

const WAIT = { timeout: 30_000 };
/** A point inside the district (景山街道 / 繁荣社区第1网格). */
const INSIDE = { lon: 120.6207, lat: 27.9975 };
/** A username someone might type to guess: markup, which must stay text. */
const GUESS = '<img src=x onerror=alert(1)>admin';

let server;
let browser;
/** Dialogs no test expected (an `alert` would mean injected script ran). */
const stray = [];

/** A login attempt from `address` (a loopback address the test process binds to). */
function loginFrom(address, username, password) {
  return new Promise((ok, fail) => {
    const body = JSON.stringify({ username, password });
    const req = request(
      `${server.url}/api/auth/login`,
      {
        method: 'POST',
        localAddress: address,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => ok({ status: res.statusCode, body: text }));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

/** `n` failed logins of `username` from `address`; their statuses. */
async function fail(address, username, n) {
  const statuses = [];
  for (let i = 0; i < n; i++) statuses.push((await loginFrom(address, username, `wrong-${i}`)).status);
  return statuses;
}

/** Opens the workbench at `hash` and logs in as `user` through its form. */
async function open(user, { hash = '', timezoneId = 'Asia/Shanghai', password, permissions = [], expectWorkbench = true } = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId, viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1, acceptDownloads: true });
  if (permissions.length) await context.grantPermissions(permissions, { origin: server.url });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`${user} page error:`, e.message));
  await page.goto(`${server.url}/workbench.html${hash}`);
  await page.fill('[data-test=login-username]', user);
  await page.fill('[data-test=login-password]', password ?? server.accounts[user]);
  await page.click('[data-test=login-submit]');
  if (expectWorkbench) await page.waitForSelector('[data-test=whoami]');
  return { context, page };
}

/** Accepts (or dismisses) the next confirm dialog, returning its message. */
function nextDialog(page, accept) {
  return new Promise((ok) =>
    page.once('dialog', async (d) => {
      if (accept) await d.accept();
      else await d.dismiss();
      ok(d.message());
    }),
  );
}

const beijing = (iso) => new Date(iso).toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai', hour12: false });
const beijingClock = (iso) => beijing(iso).slice(11, 16);

function hotlineSample(ref) {
  const sample = JSON.parse(readFileSync(join(repo, 'data/ouhai/cases/mappings/hotline-12345.sample.json'), 'utf8'));
  sample.data.gdbh = ref;
  return sample;
}

function deliver(token, body) {
  return fetch(`${server.url}/api/intake/hotline-12345`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function open311(apiKey, description) {
  return fetch(`${server.url}/open311/v2/requests.json`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ api_key: apiKey, service_code: '0402', lat: INSIDE.lat, long: INSIDE.lon, description }),
  });
}

before(async () => {
  server = await Server.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('security screens', () => {
  test('the owner is told of failed logins of their account from other addresses, a locked one named', async () => {
    // Someone tries the dispatcher's account from two addresses; the second is locked by
    // its fifth failure. A username without an account is tried too.
    assert.deepEqual(await fail('127.0.0.2', 'dispatcher', 2), [401, 401]);
    assert.deepEqual(await fail('127.0.0.3', 'dispatcher', 5), [401, 401, 401, 401, 423]);
    assert.deepEqual(await fail('127.0.0.4', GUESS, 1), [401]);

    const { context, page } = await open('dispatcher', { timezoneId: 'America/New_York' });
    page.on('dialog', (d) => {
      stray.push(d.message());
      void d.dismiss();
    });
    await page.waitForSelector('[data-test=login-failures]', WAIT);
    const told = await page.evaluate(() => window.__wb.ctx.me.login_failures);
    assert.equal(told.username, 'dispatcher');
    assert.deepEqual(told.addresses, ['127.0.0.2', '127.0.0.3']);
    assert.deepEqual(told.locked_addresses, ['127.0.0.3']);
    // Every failure of the period, the five that locked 127.0.0.3 included.
    assert.equal(told.failures, 7, JSON.stringify(told));
    assert.equal(told.window_minutes, 15, JSON.stringify(told));
    const text = await page.textContent('[data-test=login-failures-text]');
    // The time in Beijing time although this desk's clock is New York's.
    assert.equal(
      text,
      `您的账号在最近15分钟内有 ${told.failures} 次登录失败（来自 2 个地址，最近一次 ${beijingClock(told.last_at)}）。如非本人操作，请修改密码并联系安全管理员。`,
    );
    const shown = await page.$$eval('[data-test=login-failure-address]', (els) => els.map((e) => [e.firstChild.textContent, e.dataset.locked]));
    assert.deepEqual(shown, [
      ['127.0.0.2', 'false'],
      ['127.0.0.3', 'true'],
    ]);
    assert.match(await page.textContent('[data-test=login-failure-address][data-locked=true]'), /已锁定/);
    // The workbench works beneath it.
    await page.waitForSelector('body[data-screen=cases]');
    await page.screenshot({ path: join(artifacts, 'owner-notice-1600x1000.png') });

    // Dismissed, it stays away after a reload (the session is kept for the tab).
    await page.click('[data-test=login-failures-dismiss]');
    assert.equal(await page.locator('[data-test=login-failures]').count(), 0);
    await page.reload();
    await page.waitForSelector('[data-test=whoami]');
    await page.waitForSelector('body[data-screen=cases]');
    assert.equal(await page.locator('[data-test=login-failures]').count(), 0);
    // A new failure shows it again.
    assert.deepEqual(await fail('127.0.0.2', 'dispatcher', 1), [401]);
    await page.reload();
    await page.waitForSelector('[data-test=login-failures]', WAIT);
    await context.close();

    // Someone without failures sees no notice.
    const quiet = await open('commander');
    await quiet.page.waitForSelector('body[data-screen=cases]');
    assert.equal(await quiet.page.locator('[data-test=login-failures]').count(), 0);
    await quiet.context.close();
  });

  test('the security administrator sees every username with failed logins, and refreshes', async () => {
    const { context, page } = await open('secadmin', { timezoneId: 'America/New_York' });
    page.on('dialog', (d) => {
      stray.push(d.message());
      void d.dismiss();
    });
    await page.click('[data-test=nav-config]');
    await page.click('[data-test=config-tab-login-failures]');
    await page.waitForSelector('[data-test=login-failures-screen][data-loaded=true]', WAIT);
    assert.equal(await page.evaluate(() => location.hash), '#/config/login-failures');
    const { items } = await server.apiAs('secadmin', 'GET', '/api/auth/login-failures');
    const rows = () =>
      page.$$eval('[data-test=login-failure-row]', (trs) =>
        trs.map((tr) => ({
          username: tr.querySelector('[data-test=login-failure-username]').textContent,
          failures: Number(tr.querySelector('[data-test=login-failure-count]').textContent),
          addresses: [...tr.querySelectorAll('[data-test=login-failure-addresses] [data-test=address]')].map((a) => a.textContent),
          locked: [...tr.querySelectorAll('[data-test=login-failure-locked] [data-test=address]')].map((a) => a.textContent),
          last: tr.querySelector('[data-test=login-failure-last]').textContent,
        })),
      );
    assert.deepEqual(
      await rows(),
      items.map((f) => ({ username: f.username, failures: f.failures, addresses: f.addresses, locked: f.locked_addresses, last: beijing(f.last_at) })),
    );
    const dispatcher = (await rows()).find((r) => r.username === 'dispatcher');
    assert.deepEqual(dispatcher.addresses, ['127.0.0.2', '127.0.0.3']);
    assert.deepEqual(dispatcher.locked, ['127.0.0.3']);
    // The guessed username is listed as the text it was, and ran nothing.
    assert.ok((await rows()).some((r) => r.username === GUESS && r.addresses.join() === '127.0.0.4'));
    assert.equal(await page.locator('[data-test=login-failures-table] img').count(), 0);

    // A new failure shows after a refresh.
    assert.deepEqual(await fail('127.0.0.5', 'leader', 1), [401]);
    assert.equal((await rows()).some((r) => r.username === 'leader'), false);
    await page.click('[data-test=login-failures-refresh]');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-test=login-failure-username]')].some((e) => e.textContent === 'leader'), null, WAIT);
    const leader = (await rows()).find((r) => r.username === 'leader');
    assert.deepEqual(leader.addresses, ['127.0.0.5']);
    assert.equal(leader.failures, 1);
    await page.screenshot({ path: join(artifacts, 'failed-logins-1600x1000.png') });
    await context.close();

    // Others have no such tab, and the API refuses them.
    const d = await open('sysadmin', { hash: '#/config/login-failures' });
    await d.page.waitForSelector('[data-test=config-screen]');
    assert.equal(await d.page.locator('[data-test=config-tab-login-failures]').count(), 0);
    assert.equal((await server.attempt('sysadmin', 'GET', '/api/auth/login-failures')).status, 403);
    await d.context.close();
  });

  test('the system administrator issues the hotline a new token: shown once, it works and the old one stops', async () => {
    const old = server.sourceToken('hotline-12345');
    const { context, page } = await open('sysadmin', { hash: '#/config/sources', permissions: ['clipboard-read', 'clipboard-write'] });
    await page.waitForSelector('[data-test=sources-box][data-loaded=true]', WAIT);
    const sources = (await server.apiAs('sysadmin', 'GET', '/api/sources')).sources;
    // A token button for each gateway source, and only for those.
    const withButton = await page.$$eval('[data-test=config-source]:has([data-test=source-token])', (trs) => trs.map((tr) => tr.dataset.id).sort());
    assert.deepEqual(withButton, sources.filter((s) => s.gateway).map((s) => s.id).sort());
    assert.ok(withButton.includes('hotline-12345'));
    const button = '[data-test=config-source][data-id=hotline-12345] [data-test=source-token]';

    // Dismissing the confirmation changes nothing.
    const [asked] = await Promise.all([nextDialog(page, false), page.click(button)]);
    assert.match(asked, /旧令牌将立即失效/);
    assert.equal(await page.isHidden('[data-test=secret-once]'), true);
    assert.equal((await deliver(old, hotlineSample('WZ12345-SEC-1'))).status, 201);

    // Confirmed: the new token, once, with the warning.
    const [confirmed] = await Promise.all([nextDialog(page, true), page.click(button)]);
    assert.match(confirmed, /旧令牌将立即失效/);
    await page.waitForSelector('[data-test=secret-once][data-what="source:hotline-12345"]', WAIT);
    const token = await page.inputValue('[data-test=secret-value]');
    assert.match(token, /^\S{32,}$/);
    assert.notEqual(token, old);
    assert.match(await page.textContent('[data-test=secret-warning]'), /只显示这一次/);
    await page.click('[data-test=secret-copy]');
    await page.waitForSelector('[data-test=secret-copied]:not(:empty)', WAIT);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
    await page.screenshot({ path: join(artifacts, 'source-token-1600x1000.png') });

    const delivered = await deliver(token, hotlineSample('WZ12345-SEC-2'));
    assert.equal(delivered.status, 201, await delivered.text());
    assert.equal((await deliver(old, hotlineSample('WZ12345-SEC-3'))).status, 401);

    // Closed, it is gone from the page.
    await page.click('[data-test=secret-close]');
    assert.equal(await page.isHidden('[data-test=secret-once]'), true);
    assert.equal(await page.locator('[data-test=secret-value]').count(), 0);
    assert.equal(await page.evaluate((t) => document.body.innerHTML.includes(t) || [...document.querySelectorAll('input')].some((i) => i.value === t), token), false);
    // Audited.
    const issued = (await server.apiAs('auditor', 'GET', '/api/audit?action=source.token_issue')).records;
    assert.equal(issued[0]?.actor, 'sysadmin');
    await context.close();
  });

  test('an Open311 key is issued in the screen, works, and is refused once revoked', async () => {
    const application = '<b>瓯海e家</b> 市民版';
    const { context, page } = await open('dispatcher', { hash: '#/config/sources' });
    await page.waitForSelector('[data-test=open311-keys-box][data-loaded=true]', WAIT);
    await page.waitForSelector('[data-test=open311-empty]');
    await page.fill('[data-test=open311-application-input]', application);
    await page.click('[data-test=open311-issue-submit]');
    await page.waitForSelector('[data-test=secret-once][data-what^="open311:"]', WAIT);
    const key = await page.inputValue('[data-test=secret-value]');
    assert.match(await page.textContent('[data-test=secret-once] h3'), /瓯海e家/);
    assert.match(await page.textContent('[data-test=secret-warning]'), /只显示这一次/);
    const row = page.locator('[data-test=open311-key]').filter({ hasText: '瓯海e家' });
    await row.waitFor(WAIT);
    assert.equal(await row.locator('[data-test=open311-application]').textContent(), application);
    assert.equal(await page.locator('[data-test=open311-keys] b').count(), 0);
    const listed = (await server.apiAs('dispatcher', 'GET', '/api/open311/keys')).items;
    assert.equal(listed.length, 1);
    assert.equal(listed[0].application, application);
    assert.equal(listed[0].created_by, 'dispatcher');
    assert.equal(await row.getAttribute('data-id'), String(listed[0].id));
    assert.equal(await row.getAttribute('data-revoked'), 'false');

    const reported = await open311(key, '人行道上有商贩占道经营（Open311 测试）');
    assert.equal(reported.status, 200, await reported.clone().text());
    const [answer] = await reported.json();
    assert.match(answer.service_request_id, /^\d+$/);
    await page.screenshot({ path: join(artifacts, 'open311-key-1600x1000.png') });

    // Revoke: asked first; dismissed, nothing happens.
    const [asked] = await Promise.all([nextDialog(page, false), row.locator('[data-test=open311-revoke]').click()]);
    assert.match(asked, /立即无法上报/);
    assert.equal((await open311(key, '撤销前')).status, 200);
    await Promise.all([nextDialog(page, true), row.locator('[data-test=open311-revoke]').click()]);
    await page.waitForSelector(`[data-test=open311-key][data-id="${listed[0].id}"][data-revoked=true]`, WAIT);
    assert.match(await row.locator('[data-test=open311-state]').textContent(), /已吊销/);
    assert.equal(await row.locator('[data-test=open311-revoke]').count(), 0);
    assert.equal((await open311(key, '撤销后')).status, 403);
    await context.close();
  });

  test('the auditor filters the trail by result and by client address, and exports that', async () => {
    const { context, page } = await open('auditor');
    await page.waitForSelector('[data-test=audit-screen][data-loaded=true]', WAIT);
    const token = await server.token('auditor');
    const listed = async (query) => (await server.api(token, 'GET', `/api/audit?limit=1000&${query}`)).records;
    const shown = () => page.locator('[data-test=audit-row]').evaluateAll((rows) => rows.map((r) => Number(r.dataset.seq)));
    const search = async (query) => {
      await page.click('[data-test=audit-apply]');
      const want = (await listed(query)).map((r) => r.seq);
      await page.waitForFunction(
        (want) =>
          document.querySelector('[data-test=audit-screen]')?.dataset.loaded === 'true' &&
          JSON.stringify([...document.querySelectorAll('[data-test=audit-row]')].map((r) => Number(r.dataset.seq))) === JSON.stringify(want),
        want,
        WAIT,
      );
      return want;
    };

    // The results offered.
    assert.deepEqual(
      await page.$$eval('[data-test=audit-result-filter] option', (os) => os.map((o) => [o.value, o.textContent])),
      [
        ['', '全部'],
        ['ok', '成功'],
        ['refused', '拒绝'],
        ['locked', '锁定'],
      ],
    );

    // Locked: the lock of 127.0.0.3, and nothing else.
    await page.selectOption('[data-test=audit-result-filter]', 'locked');
    const locked = await search('result=locked');
    assert.ok(locked.length >= 1);
    const records = await listed('result=locked');
    assert.ok(records.every((r) => r.result === 'locked'));
    assert.ok(records.some((r) => r.action === 'auth.lockout' && r.address === '127.0.0.3' && r.actor === 'dispatcher'), JSON.stringify(records));
    assert.deepEqual([...new Set(await page.locator('[data-test=audit-row]').evaluateAll((rows) => rows.map((r) => r.dataset.result)))], ['locked']);
    assert.equal(await page.locator('[data-test=audit-row] [data-test=audit-result]').first().textContent(), '锁定');

    // Refused from 127.0.0.2: the dispatcher's failures from there.
    await page.selectOption('[data-test=audit-result-filter]', 'refused');
    await page.fill('[data-test=audit-address-filter]', '127.0.0.2');
    const refused = await search('result=refused&address=127.0.0.2');
    assert.equal(refused.length, 3);
    const addresses = await page.locator('[data-test=audit-address]').allTextContents();
    assert.deepEqual([...new Set(addresses)], ['127.0.0.2']);
    await page.screenshot({ path: join(artifacts, 'audit-result-filter-1600x1000.png') });

    // The export is the same search.
    const [download] = await Promise.all([page.waitForEvent('download', WAIT), page.click('[data-test=audit-export]')]);
    const lines = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/);
    assert.equal(lines.length - 1, refused.length);
    assert.deepEqual(
      lines.slice(1).map((l) => Number(l.split(',')[0])).sort((a, b) => a - b),
      [...refused].sort((a, b) => a - b),
    );
    const exported = (await listed('action=audit.export'))[0];
    assert.equal(exported.actor, 'auditor');

    // All results again, the address kept.
    await page.selectOption('[data-test=audit-result-filter]', '');
    const any = await search('address=127.0.0.2');
    assert.deepEqual(any, refused);
    // Reset clears both.
    await page.click('[data-test=audit-reset]');
    await page.waitForSelector('[data-test=audit-screen][data-loaded=true]', WAIT);
    assert.equal(await page.inputValue('[data-test=audit-result-filter]'), '');
    assert.equal(await page.inputValue('[data-test=audit-address-filter]'), '');
    assert.ok((await shown()).length > refused.length);
    await context.close();
  });

  test('a password older than 90 days is changed first, then the workbench opens', async () => {
    const sql = (q) => execFileSync('psql', [server.database, '-qc', q], { env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } });
    sql("UPDATE users SET password_changed_at = now() - interval '91 days' WHERE username = 'handler'");
    const { context, page } = await open('handler', { expectWorkbench: false });
    await page.waitForSelector('[data-test=restricted]', WAIT);
    assert.equal(await page.locator('[data-test=password-change]').count(), 1);
    assert.equal(await page.locator('[data-test=totp-enrolment]').count(), 0);
    assert.equal(await page.locator('[data-test=whoami]').count(), 0);
    await page.fill('[data-test=password-current]', server.accounts.handler);
    await page.fill('[data-test=password-new]', 'Sec-renewed-2026!q');
    await page.click('[data-test=password-submit]');
    await page.waitForSelector('[data-test=restricted-done]', WAIT);
    await page.click('[data-test=login-again]');
    await page.fill('[data-test=login-username]', 'handler');
    await page.fill('[data-test=login-password]', 'Sec-renewed-2026!q');
    await page.click('[data-test=login-submit]');
    await page.waitForSelector('[data-test=whoami]', WAIT);
    assert.equal(await page.locator('[data-test=restricted]').count(), 0);
    await context.close();
  });

  test("the grid worker's phone shows the notice small, and a tap dismisses it", async () => {
    assert.deepEqual(await fail('127.0.0.6', 'gridworker', 2), [401, 401]);
    const { context, page } = await newPhone(browser);
    await phoneLogIn(page, server);
    await page.waitForSelector('[data-test=login-failures]', WAIT);
    const text = await page.textContent('[data-test=login-failures-text]');
    assert.match(text, /^您的账号在最近15分钟内有 2 次登录失败（来自 1 个地址，最近一次 \d\d:\d\d）/);
    assert.equal(await page.textContent('[data-test=login-failure-address]'), '127.0.0.6');
    const box = await page.locator('[data-test=login-failures]').boundingBox();
    assert.ok(box.height <= 200, `the notice is ${box.height} px high`);
    assert.ok(box.width <= 390);
    const dismiss = await page.locator('[data-test=login-failures-dismiss]').boundingBox();
    assert.ok(dismiss.height >= 48 && dismiss.width >= 48, JSON.stringify(dismiss));
    await page.screenshot({ path: join(artifacts, 'phone-notice-390x844.png') });
    await page.tap('[data-test=login-failures-dismiss]');
    assert.equal(await page.locator('[data-test=login-failures]').count(), 0);
    await page.reload();
    await page.waitForSelector('[data-test=task-list]');
    assert.equal(await page.locator('[data-test=login-failures]').count(), 0);
    await context.close();
    assert.deepEqual(stray, []);
  });
});
