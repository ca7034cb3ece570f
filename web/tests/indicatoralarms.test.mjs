// Indicator thresholds and alarms in the workbench, in Chromium against a real
// cockpit-server: the commander sets an indicator's bands in the form (a bad pair of levels
// is refused with the field named, then fixed and saved), a value pushed by another system
// crosses the red line, and the alarm shows in the list with the case it opened, and is
// acknowledged with its button; the threshold switched off clears it, and the row says why.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './support/server.mjs';
import { launch } from './support/browser.mjs';

const DESK = { locale: 'zh-CN', timezoneId: 'Asia/Shanghai', deviceScaleFactor: 1, viewport: { width: 1600, height: 1000 } };
const ID = 'test.workbench_alarm';
const STREET = '330304001';

let server;
let browser;

before(async () => {
  server = await Server.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a threshold set in the workbench alarms, opens a case and is acknowledged there', async () => {
  await server.apiAs('commander', 'POST', '/api/indicators/catalogue', {
    id: ID, name: { zh: '工作台告警测试', en: 'Workbench alarm test' }, definition: '测试', system: 'safe_society',
    domain: 'public_security', unit: '件', better: 'lower', owner: { department: '测试部门', person: '' },
    leader: '', frequency: 'real_time', regions: ['330304'], published: true,
  });
  const { token } = await server.apiAs('commander', 'POST', '/api/indicators/sources', { id: 'wb-stats', name: '测试来源', indicators: [ID] });

  const context = await browser.newContext(DESK);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.url}/workbench.html#/indicator-alarms`);
  await page.fill('[data-test=login-username]', 'commander');
  await page.fill('[data-test=login-password]', server.accounts.commander);
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=threshold-form]');

  await page.fill('[data-test=threshold-indicator]', ID);
  await page.click('[data-test=threshold-load]');
  await page.waitForFunction(() => document.querySelector('[data-test=threshold-status]')?.textContent === '尚未设置阈值');
  // Yellow worse than red, for "lower is better": refused, naming the field.
  await page.fill('[data-test=threshold-yellow-raise]', '120');
  await page.fill('[data-test=threshold-red-raise]', '100');
  await page.click('[data-test=threshold-save]');
  await page.waitForSelector('[data-test=threshold-error][data-field="red.raise"]');
  await page.fill('[data-test=threshold-yellow-raise]', '80');
  await page.click('[data-test=threshold-save]');
  await page.waitForFunction(() => document.querySelector('[data-test=threshold-status]')?.textContent?.includes('第 1 版'));
  const stored = await server.apiAs('commander', 'GET', `/api/indicators/catalogue/${ID}/threshold`);
  assert.deepEqual([stored.threshold.yellow.raise, stored.threshold.red.raise], [80, 100]);

  // Another system pushes a value over the red line.
  const pushed = await fetch(`${server.url}/api/indicators/push/wb-stats`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ values: [{ indicator: ID, region: STREET, value: 150 }] }),
  });
  assert.equal(pushed.status, 200, await pushed.text());
  // The list, refreshed until the case is there (the opener looks every second).
  for (let i = 0; i < 100; i++) {
    await page.click('[data-test=alarms-refresh]');
    await page.waitForSelector('[data-test=indicator-alarms-screen][data-loaded=true]');
    if (await page.$('[data-test=alarm-row][data-level=red] [data-test=alarm-case]')) break;
    await page.waitForTimeout(200);
  }
  const row = page.locator('[data-test=alarm-row][data-level=red]');
  assert.equal(await row.count(), 1);
  assert.match(await row.locator('[data-test=alarm-case]').textContent(), /^#\d+$/);
  await page.selectOption('[data-test=alarms-severity]', 'yellow');
  await page.waitForSelector('[data-test=indicator-alarms-screen][data-loaded=true]');
  assert.equal(await page.locator('[data-test=alarm-row]').count(), 0, 'no yellow alarm');
  await page.selectOption('[data-test=alarms-severity]', 'red');
  await page.click('[data-test=alarm-row] [data-test=alarm-acknowledge]');
  await page.waitForFunction(() => document.querySelector('[data-test=alarm-acknowledged]')?.textContent === 'commander');
  const { alarms } = await server.apiAs('commander', 'GET', '/api/indicators/alarms?acknowledged=true');
  assert.equal(alarms.length, 1);

  // The threshold switched off: the alarm clears at once, and its row says why.
  const { threshold } = await server.apiAs('commander', 'GET', `/api/indicators/catalogue/${ID}/threshold`);
  await server.apiAs('commander', 'PUT', `/api/indicators/catalogue/${ID}/threshold`, { ...threshold, enabled: false });
  await page.click('[data-test=alarms-refresh]');
  await page.waitForSelector('[data-test=alarm-row][data-status=cleared] [data-test=alarm-status][data-cleared-by=disabled]');
  assert.equal(await page.textContent('[data-test=alarm-status]'), '已解除（阈值停用）');
  await context.close();
});
