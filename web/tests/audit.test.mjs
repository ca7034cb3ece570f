// The auditor's screen of the workbench (web/src/workbench/audit.ts) in Chromium against a
// real cockpit-server: a dispatcher logs in and someone fails to log in with a username
// built to be a spreadsheet formula and an HTML injection; the auditor logs in, lands on the
// audit trail, sees both logins (the hostile username as plain text, in Beijing time on a
// desk whose clock is elsewhere), filters by action, by actor and by time, verifies the hash
// chain, and exports the filtered records as CSV. The dispatcher has no audit screen. Last,
// a record altered in the database behind the server's back: the screen names it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server } from './support/server.mjs';
import { artifacts as wallArtifacts, launch } from './support/browser.mjs';

const artifacts = join(wallArtifacts, '..', 'audit');
mkdirSync(artifacts, { recursive: true });

/** A username a client may send: a formula for a spreadsheet, markup for a page. */
const EVIL = '=HYPERLINK("http://x","y")<img src=x onerror=alert(1)>';
const WAIT = { timeout: 30_000 };

let server;
let browser;
/** The auditor's screen (its own context, on a desk clock in New York: times must still show
 *  in Beijing time). */
let audit;
/** Dialogs any page opened (an `alert` would mean injected script ran). */
const dialogs = [];

/** Opens the workbench at `hash` and logs in as `user` through its form. */
async function open(user, { hash = '', timezoneId = 'Asia/Shanghai', lang } = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId, viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`${user} page error:`, e.message));
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(`${server.url}/workbench.html${lang ? `?lang=${lang}` : ''}${hash}`);
  await page.fill('[data-test=login-username]', user);
  await page.fill('[data-test=login-password]', server.accounts[user]);
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=whoami]');
  return { context, page };
}

/** The records the API lists for `query` (as the auditor), newest first. */
async function listed(query) {
  const token = await server.token('auditor');
  const { records } = await server.api(token, 'GET', `/api/audit?limit=1000&${query}`);
  return records;
}

/** The seq of every row the screen shows, once it has loaded. */
async function shownSeqs(page) {
  await page.waitForSelector('[data-test=audit-screen][data-loaded=true]', WAIT);
  return page.locator('[data-test=audit-row]').evaluateAll((rows) => rows.map((r) => Number(r.dataset.seq)));
}

/** Applies the search form and waits for the table to show what the API lists for `query`. */
async function search(page, query) {
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
}

/** RFC 4180 fields of a CSV text (quoted fields may hold commas, quotes and newlines). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (ch !== '\r') field += ch;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

const beijing = (iso) => new Date(iso).toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai', hour12: false });

before(async () => {
  server = await Server.start();
  browser = await launch();
  // The auditor's API session for the test's own reads, opened now: a login later would add
  // a record between what the screen shows and what the test reads.
  await server.token('auditor');
});

after(async () => {
  await audit?.context.close();
  await browser?.close();
  await server?.stop();
});

describe('the audit screen', () => {
  test('a dispatcher logs in and has no audit screen; a login with a hostile username fails', async () => {
    const { context, page } = await open('dispatcher');
    // The dispatcher keeps their landing screen (the cases) and has no way to the trail.
    await page.waitForSelector('body[data-screen=cases]');
    assert.equal(await page.locator('[data-test=nav-audit]').count(), 0);
    await page.goto(`${server.url}/workbench.html#/audit`);
    await page.waitForSelector('[data-test=audit-forbidden]');
    assert.equal(await page.locator('[data-test=audit-table]').count(), 0);
    assert.equal((await server.attempt('dispatcher', 'GET', '/api/audit')).status, 403);
    await context.close();

    // Someone tries a username that is a formula and markup, through the login form.
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const login = await other.newPage();
    await login.goto(`${server.url}/workbench.html`);
    await login.fill('[data-test=login-username]', EVIL);
    await login.fill('[data-test=login-password]', 'not the password');
    await login.click('[data-test=login-submit]');
    await login.waitForSelector('[data-test=login-error]:not(:empty)');
    await other.close();
  });

  test('the auditor lands on the trail and sees both logins, the hostile username as text, in Beijing time', async () => {
    audit = await open('auditor', { timezoneId: 'America/New_York' });
    const { page } = audit;
    await page.waitForSelector('[data-test=audit-screen]');
    assert.equal(await page.evaluate(() => document.body.dataset.screen), 'audit');
    assert.match(await page.locator('[data-test=nav-audit]').getAttribute('class'), /active/);
    assert.equal(await page.locator('[data-test=nav-cases]').count(), 0);

    const api = await listed('');
    assert.deepEqual(await shownSeqs(page), api.map((r) => r.seq));

    const failed = api.find((r) => r.action === 'auth.login' && r.result === 'refused' && r.actor === EVIL);
    assert.ok(failed, 'the failed login is in the trail');
    const row = page.locator(`[data-test=audit-row][data-seq="${failed.seq}"]`);
    assert.equal(await row.locator('[data-test=audit-actor]').textContent(), EVIL);
    assert.equal(await row.locator('[data-test=audit-object]').textContent(), `user:${EVIL}`);
    assert.equal(await row.locator('[data-test=audit-result]').textContent(), '拒绝');
    assert.equal(await row.locator('[data-test=audit-address]').textContent(), failed.address);
    assert.equal(await row.locator('[data-test=audit-at]').textContent(), beijing(failed.at));
    assert.match(await row.locator('[data-test=audit-detail]').textContent(), /unknown user/);
    // Text, not markup: no element came of it, and no script ran.
    assert.equal(await page.locator('[data-test=audit-table] img').count(), 0);
    assert.equal(await page.locator('[data-test=audit-table] a').count(), 0);

    const dispatcher = api.find((r) => r.action === 'auth.login' && r.result === 'ok' && r.actor === 'dispatcher');
    assert.ok(dispatcher, "the dispatcher's login is in the trail");
    const ok = page.locator(`[data-test=audit-row][data-seq="${dispatcher.seq}"]`);
    assert.equal(await ok.locator('[data-test=audit-action]').textContent(), '登录');
    assert.equal(await ok.locator('[data-test=audit-result]').textContent(), '成功');
    assert.equal(await ok.locator('[data-test=audit-at]').textContent(), beijing(dispatcher.at));
    await page.screenshot({ path: join(artifacts, 'audit-trail-1600x1000.png'), fullPage: true });
    assert.deepEqual(dialogs, []);
  });

  test('filters by action, by actor and by time, as the API does', async () => {
    const { page } = audit;
    await page.fill('[data-test=audit-action-filter]', 'auth.login');
    const logins = await search(page, 'action=auth.login');
    assert.ok(logins.length >= 3, `logins: ${logins.length}`);
    const actions = await page.locator('[data-test=audit-row]').evaluateAll((rows) => rows.map((r) => r.dataset.action));
    assert.deepEqual([...new Set(actions)], ['auth.login']);

    await page.fill('[data-test=audit-actor-filter]', EVIL);
    const evil = await search(page, `action=auth.login&actor=${encodeURIComponent(EVIL)}`);
    assert.equal(evil.length, 1);
    assert.equal(await page.locator('[data-test=audit-row] [data-test=audit-actor]').textContent(), EVIL);

    // From the second of the failed login on, in Beijing time: the accounts made at the
    // start are before it.
    await page.fill('[data-test=audit-actor-filter]', '');
    await page.fill('[data-test=audit-action-filter]', '');
    const failed = (await listed(`actor=${encodeURIComponent(EVIL)}`))[0];
    const from = beijing(failed.at).replace(' ', 'T');
    await page.fill('[data-test=audit-from]', from);
    const since = await search(page, `from=${encodeURIComponent(`${from}+08:00`)}`);
    assert.ok(since.includes(failed.seq));
    const all = await listed('');
    assert.ok(since.length < all.length, 'the earlier records are left out');
    assert.ok(all.some((r) => r.action === 'user.create' && !since.includes(r.seq)));
    await page.fill('[data-test=audit-from]', '');

    await page.fill('[data-test=audit-action-filter]', 'auth.login');
    await search(page, 'action=auth.login');
  });

  test('verifies the hash chain and says it is intact', async () => {
    const { page } = audit;
    await page.click('[data-test=audit-verify]');
    await page.waitForSelector('[data-test=audit-verdict][data-intact]', WAIT);
    assert.equal(await page.getAttribute('[data-test=audit-verdict]', 'data-intact'), 'true');
    const report = await server.api(await server.token('auditor'), 'GET', '/api/audit/verify');
    assert.equal(report.intact, true);
    const text = await page.locator('[data-test=audit-verdict]').textContent();
    assert.match(text, /哈希链完整/);
    assert.match(text, new RegExp(`共校验 ${report.records} 条记录`));
    assert.ok(text.includes(report.last_hash));
  });

  test('exports the filtered records as CSV, with the session, and the export is audited', async () => {
    const { page } = audit;
    const want = await listed('action=auth.login');
    const [download] = await Promise.all([page.waitForEvent('download', WAIT), page.click('[data-test=audit-export]')]);
    assert.equal(download.suggestedFilename(), 'audit.csv');
    const rows = parseCsv(readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, ''));
    assert.deepEqual(rows[0], ['seq', 'at', 'actor', 'role', 'address', 'action', 'object', 'result', 'detail', 'prev_hash', 'hash']);
    const body = rows.slice(1);
    assert.deepEqual(
      body.map((r) => Number(r[0])).sort((a, b) => a - b),
      want.map((r) => r.seq).sort((a, b) => a - b),
    );
    assert.ok(body.every((r) => r[5] === 'auth.login'));
    // The hostile username comes back as it was sent, with a quote in front so that a
    // spreadsheet does not run it as a formula.
    const refused = body.filter((r) => r[7] === 'refused');
    assert.ok(refused.some((r) => r[2] === `'${EVIL}` && r[6] === `user:${EVIL}`), JSON.stringify(refused));
    const exports = await listed('action=audit.export');
    assert.equal(exports[0]?.actor, 'auditor');
    assert.equal(exports[0].detail.records, want.length);
    assert.deepEqual(dialogs, []);
  });

  test('in English too', async () => {
    const { context, page } = await open('auditor', { lang: 'en' });
    await page.waitForSelector('[data-test=audit-screen][data-loaded=true]');
    assert.equal(await page.locator('[data-test=nav-audit]').textContent(), 'Audit');
    assert.equal(await page.locator('[data-test=audit-screen] h2').textContent(), 'Audit trail');
    assert.equal(await page.locator('[data-test=audit-verify]').textContent(), 'Verify the chain');
    await context.close();
  });

  test('a record altered in the database: verifying names the first broken record', async () => {
    const { page } = audit;
    const failed = (await listed(`actor=${encodeURIComponent(EVIL)}`))[0];
    // What someone with the database's keys could do: switch the append-only trigger off
    // and rewrite where a login came from.
    const sql = (q) => execFileSync('psql', [server.database, '-qc', q], { env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } });
    sql('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
    sql(`UPDATE audit_log SET address = '10.9.9.9' WHERE seq = ${failed.seq}`);
    sql('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
    await page.click('[data-test=audit-verify]');
    await page.waitForSelector('[data-test=audit-verdict][data-intact=false]', WAIT);
    const report = await server.api(await server.token('auditor'), 'GET', '/api/audit/verify');
    assert.equal(report.broken_at, failed.seq);
    assert.equal(await page.locator('[data-test=audit-broken-at]').textContent(), `#${failed.seq}`);
    const text = await page.locator('[data-test=audit-verdict]').textContent();
    assert.match(text, /哈希链已断裂/);
    assert.ok(text.includes(report.reason), text);
    await page.screenshot({ path: join(artifacts, 'audit-broken-1600x1000.png') });
  });
});
