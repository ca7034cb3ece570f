// Pulled indicator sources in the workbench, in Chromium against a real cockpit-server and
// another system's HTTP JSON API that the test serves itself: the commander writes a pull
// in the form, "试取" shows what each JSONPath picks (and why one picks nothing) without
// storing anything, a path that is not one is refused with the field named, and once saved
// the pull is listed with its last success and the value arrives, pulled.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Server } from './support/server.mjs';
import { launch } from './support/browser.mjs';

const DESK = { locale: 'zh-CN', timezoneId: 'Asia/Shanghai', deviceScaleFactor: 1, viewport: { width: 1600, height: 1000 } };
const ID = 'test.workbench_pull';
const STREET = '330304001';

let server;
let browser;
let other;

before(async () => {
  server = await Server.start();
  browser = await launch();
  // The other system: its statistics behind a token.
  other = http.createServer((req, res) => {
    const ok = req.headers.authorization === 'Bearer wb-secret-4321';
    res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(ok ? { data: [{ code: STREET, value: 42.5 }] } : { error: 'token' }));
  });
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  other?.close();
});

test('a pull written in the workbench is test-fetched, refused with the field named, saved and pulled', async () => {
  await server.apiAs('commander', 'POST', '/api/indicators/catalogue', {
    id: ID, name: { zh: '工作台拉取测试', en: 'Workbench pull test' }, definition: '测试', system: 'safe_society',
    domain: 'public_security', unit: '件', better: 'lower', owner: { department: '测试部门', person: '' },
    leader: '', frequency: 'daily', regions: ['330304'], published: true,
  });
  const context = await browser.newContext(DESK);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.url}/workbench.html#/indicator-pulls`);
  await page.fill('[data-test=login-username]', 'commander');
  await page.fill('[data-test=login-password]', server.accounts.commander);
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=indicator-pulls-screen][data-loaded=true]');
  assert.equal(await page.locator('[data-test=pull-row]').count(), 0);

  await page.fill('[data-test=pull-id]', 'wb-pull');
  await page.fill('[data-test=pull-name]', '测试统计接口');
  await page.fill('[data-test=pull-indicator]', ID);
  await page.fill('[data-test=pull-url]', `http://127.0.0.1:${other.address().port}/stats`);
  await page.fill('[data-test=pull-headers]', 'Authorization: Bearer wb-secret-4321');
  await page.fill('[data-test=pull-picks]', `${STREET} $.data[?@.code == '${STREET}'].value\n330304002 $.data[9].value`);
  await page.click('[data-test=pull-test-fetch]');
  await page.waitForSelector('[data-test=indicator-pulls-screen][data-fetched=true]');
  const value = (region) => page.locator(`[data-test=preview-row][data-region="${region}"] [data-test=preview-value]`).textContent();
  assert.equal(await value(STREET), '42.5');
  assert.equal(await value('330304002'), '无数据', 'nothing found is no data, not zero');
  assert.equal(
    await page.locator('[data-test=preview-row][data-region="330304002"] [data-test=preview-reason]').textContent(),
    'the path finds nothing',
  );
  const stored = await server.apiAs('commander', 'GET', `/api/indicators/catalogue/${ID}/values`);
  assert.deepEqual(stored.values, [], 'a test fetch stores nothing');

  // Not a JSONPath: refused, naming the pick.
  await page.fill('[data-test=pull-picks]', `${STREET} $.data[`);
  await page.click('[data-test=pull-save]');
  await page.waitForSelector('[data-test=pull-error][data-field="picks[0].path"]');

  await page.fill('[data-test=pull-picks]', `${STREET} $.data[?@.code == '${STREET}'].value`);
  await page.click('[data-test=pull-save]');
  await page.waitForSelector('[data-test=indicator-pulls-screen][data-saved=true]');
  // Pulled at once: the list, refreshed until its last success shows.
  for (let i = 0; i < 100; i++) {
    await page.click('[data-test=pulls-refresh]');
    await page.waitForSelector('[data-test=indicator-pulls-screen][data-loaded=true]');
    if ((await page.locator('[data-test=pull-row][data-id=wb-pull]').getAttribute('data-stale')) === 'false') break;
    await page.waitForTimeout(200);
  }
  const row = page.locator('[data-test=pull-row][data-id=wb-pull]');
  assert.equal(await row.getAttribute('data-stale'), 'false');
  assert.notEqual(await row.locator('[data-test=pull-staleness]').textContent(), '无数据');
  assert.equal(await row.locator('[data-test=pull-last-error]').textContent(), '—');
  assert.ok(!(await page.content()).includes('wb-secret-4321'), 'the token is never shown');
  const pulled = await server.apiAs('commander', 'GET', `/api/indicators/catalogue/${ID}/values`);
  assert.deepEqual(pulled.values.map((v) => [v.region, v.value, v.source, v.source_name]), [[STREET, 42.5, 'pulled', 'wb-pull']]);
  await context.close();
});
