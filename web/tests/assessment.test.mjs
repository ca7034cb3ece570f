// The workbench's assessment screens in Chromium against a real cockpit-server (issue 18,
// item 7): November's cases of two streets written by SQL (as the server's own test does),
// the street model's results as computed by hand (values, points, totals, ranks; "—" for
// no data); withheld from a leader (未发布) until the commander publishes them, then seen;
// two models compared; a model edit refused on the field the server names, shown at that
// field, then saved; the vital-sign index of two streets after indicator values are written.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Server } from './support/server.mjs';
import { launch } from './support/browser.mjs';

const DESK = { locale: 'zh-CN', timezoneId: 'Asia/Shanghai', deviceScaleFactor: 1, viewport: { width: 1600, height: 1000 } };
const MONTH = '2026-11';
const MODEL = 'street.case-handling';
/** 景山街道. */
const S1 = '330304001';

let server;
let browser;
let s2;

/** Runs `sql` on the server's database. */
function sql(text) {
  execFileSync('psql', [server.database, '-qc', text], { env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } });
}

/** A case of `street` for `department`, due and closed (November noons), with a verdict. */
function caseOf(street, department, due, closed, satisfied) {
  const status = closed === null ? 'in_progress' : satisfied === null ? 'closed' : satisfied ? 'evaluated_satisfied' : 'evaluated_unsatisfied';
  const evaluation = satisfied === null ? 'NULL' : satisfied ? `'{"verdict":"satisfied","remark":""}'` : `'{"verdict":{"unsatisfied":"slow"},"remark":""}'`;
  sql(`INSERT INTO cases (source_id, category, urgency, title, description, street_code, occurred_at, created_at,
         status, assignee, evaluation, due_at, closed_at)
       VALUES ('hotline-12345', '0501', 'normal', '考核测试', '考核测试', '${street}', '2026-10-20T04:00:00Z',
         '2026-10-20T04:00:00Z', '${status}', '{"department":"${department}"}', ${evaluation},
         '${due}T04:00:00Z', ${closed === null ? 'NULL' : `'${closed}T04:00:00Z'`})`);
}

/** The workbench, logged in as `user`, at `hash`. */
async function workbench(user, hash, query = '') {
  const context = await browser.newContext(DESK);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('workbench page error:', e.message));
  await page.goto(`${server.url}/workbench.html${query}${hash}`);
  await page.fill('[data-test=login-username]', user);
  await page.fill('[data-test=login-password]', server.accounts[user]);
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=nav-assessment]');
  return { context, page };
}

/** Picks the model and the month on the results screen and waits until they are shown. */
async function results(page, model = MODEL, month = MONTH) {
  await page.waitForSelector('[data-test=assessment-results][data-loaded=true]');
  await page.selectOption('[data-test=assessment-model]', model);
  await page.fill('[data-test=assessment-month]', month);
  await page.waitForSelector(`[data-test=assessment-results][data-shown="${model}@${month}"]`);
}

/** The table's rows as shown. */
function rows(page) {
  return page.$$eval('[data-test=assessment-row]', (rs) =>
    rs.map((r) => ({
      subject: r.dataset.subject,
      rank: r.querySelector('[data-test=rank]').textContent,
      values: [...r.querySelectorAll('[data-test=item-value]')].map((c) => c.textContent),
      points: [...r.querySelectorAll('[data-test=item-points]')].map((c) => c.textContent),
      total: r.querySelector('[data-test=total]').textContent,
    })),
  );
}

before(async () => {
  server = await Server.start();
  browser = await launch();
  const vitals = await server.apiAs('commander', 'GET', `/api/indicators/vital-signs?month=${MONTH}`);
  s2 = vitals.streets.map((s) => s.street).find((s) => s !== S1);
  // S1: on time, satisfied; late, unsatisfied; on time, satisfied (housing); open past due.
  caseOf(S1, 'emergency', '2026-11-10', '2026-11-05', true);
  caseOf(S1, 'emergency', '2026-11-10', '2026-11-12', false);
  caseOf(S1, 'housing', '2026-11-20', '2026-11-15', true);
  caseOf(S1, 'housing', '2026-11-25', null, null);
  // S2: on time, satisfied; closed in November, due in December, not evaluated.
  caseOf(s2, 'emergency', '2026-11-10', '2026-11-09', true);
  caseOf(s2, 'housing', '2026-12-20', '2026-11-20', null);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the commander sees the hand-computed results and publishes them; the leader sees 未发布, then the results', async () => {
  const leader = await workbench('leader', '#/assessment');
  const desk = await workbench('commander', '#/assessment');
  try {
    // By hand (see cockpit-server/tests/it/assessment.rs): on time 40 (linear 80–100 %),
    // satisfaction 40 (target 95 %), overdue 20 (relative, lower better, the worst 40 %).
    // S2: 100 % on time, 100 % satisfied, 0 % overdue: 40 + 40 + 20 = 100, first.
    // S1: 66.7 % → 0; 66.7 % → 66.7/95 × 40 = 28.08; 50 % overdue, the worst → 8: 36.08.
    await results(desk.page);
    const got = await rows(desk.page);
    assert.equal(got.length, 13, 'every street');
    assert.deepEqual(got[0], { subject: s2, rank: '1', values: ['100', '100', '0'], points: ['40', '40', '20'], total: '100' });
    assert.deepEqual(got[1], { subject: S1, rank: '2', values: ['66.7', '66.7', '50'], points: ['0', '28.08', '8'], total: '36.08' });
    for (const r of got.slice(2)) assert.deepEqual([r.rank, r.values, r.total], ['3', ['—', '—', '—'], '0'], 'no data is "—", never 0');
    assert.equal(await desk.page.textContent('[data-test=assessment-state]'), '未发布');
    assert.match(await desk.page.textContent('thead'), /按期办结率.*群众满意率.*超期率/);

    // The leader, before: withheld, and no button to publish.
    await results(leader.page);
    assert.equal(await leader.page.textContent('[data-test=assessment-state]'), '未发布');
    assert.equal(await leader.page.textContent('[data-test=assessment-error]'), '该月考核结果尚未发布');
    assert.equal(await leader.page.locator('[data-test=assessment-row]').count(), 0);
    assert.equal(await leader.page.locator('[data-test=assessment-publish]').count(), 0);

    await desk.page.click('[data-test=assessment-publish]');
    await desk.page.waitForSelector('[data-test=assessment-results][data-published=true] [data-test=assessment-withdraw]');
    assert.match(await desk.page.textContent('[data-test=assessment-state]'), /^已发布（/);
    const stored = await server.apiAs('leader', 'GET', `/api/assessment/results?model=${MODEL}&month=${MONTH}`);
    assert.equal(stored.published, true);

    // The leader, after: the same table.
    await results(leader.page, MODEL, '2026-10');
    await results(leader.page);
    assert.deepEqual(await rows(leader.page), got);
    assert.match(await leader.page.textContent('[data-test=assessment-state]'), /^已发布（/);
  } finally {
    await leader.context.close();
    await desk.context.close();
  }
});

test('two street models side by side; a model of departments cannot join them', async () => {
  const { context, page } = await workbench('commander', '#/assessment/compare');
  try {
    await page.waitForSelector('[data-test=assessment-compare][data-loaded=true]');
    await page.check(`[data-test=compare-model][value="${MODEL}"]`);
    assert.equal(await page.isDisabled('[data-test=compare-model][value="department.case-handling"]'), true);
    await page.check('[data-test=compare-model][value="street.safety-governance"]');
    await page.fill('[data-test=assessment-month]', MONTH);
    await page.click('[data-test=compare-run]');
    await page.waitForSelector(`[data-test=assessment-compare][data-shown="${MODEL},street.safety-governance@${MONTH}"]`);
    const first = await page.$eval('[data-test=compare-row]', (r) => ({
      subject: r.dataset.subject,
      totals: [...r.querySelectorAll('[data-test=compare-total]')].map((c) => c.textContent),
      ranks: [...r.querySelectorAll('[data-test=compare-rank]')].map((c) => c.textContent),
    }));
    const api = await server.apiAs('commander', 'GET', `/api/assessment/compare?models=${MODEL},street.safety-governance&month=${MONTH}`);
    assert.equal(first.subject, s2);
    assert.deepEqual(first.totals, api.subjects[0].totals.map(String));
    assert.deepEqual([first.totals[0], first.ranks[0]], ['100', '1']);
    assert.equal(first.ranks.length, 2);
  } finally {
    await context.close();
  }
});

test('a model edit refused by the server is shown at the field it names, then saved', async () => {
  const { context, page } = await workbench('commander', `#/assessment/models/${MODEL}`);
  try {
    await page.waitForSelector('[data-test=model-edit][data-loaded=true][data-version="1"]');
    await page.fill('[data-field="items[1].weight"]', '0');
    await page.click('[data-test=model-save]');
    const message = await page.waitForSelector('[data-test=field-error][data-for="items[1].weight"]');
    assert.ok((await message.textContent()).length > 0, 'the reason is told');
    // The message is beside the input it names, which is marked.
    assert.equal(await page.$eval('[data-field="items[1].weight"]', (i) => i.classList.contains('invalid') && i.nextElementSibling?.dataset.for), 'items[1].weight');
    assert.equal(await page.getAttribute('[data-test=model-error]', 'data-field'), 'items[1].weight');

    // An indicator that does not exist: refused at its id.
    await page.fill('[data-field="items[1].weight"]', '40');
    await page.selectOption('[data-field="items[0].measure.kind"]', 'indicator');
    await page.fill('[data-field="items[0].measure.id"]', 'no.such');
    await page.click('[data-test=model-save]');
    await page.waitForSelector('[data-test=field-error][data-for="items[0].measure.id"]');
    assert.equal(await page.locator('[data-test=field-error]').count(), 1, 'the earlier message is gone');

    // Put right and saved whole: a new version, the model as before.
    const before = (await server.apiAs('commander', 'GET', `/api/assessment/models/${MODEL}`)).model;
    await page.selectOption('[data-field="items[0].measure.kind"]', 'on_time_rate');
    await page.click('[data-test=model-save]');
    await page.waitForSelector('[data-test=model-edit][data-saved=true][data-version="2"]');
    assert.equal(await page.locator('[data-test=field-error]').count(), 0);
    const after = await server.apiAs('commander', 'GET', `/api/assessment/models/${MODEL}`);
    assert.deepEqual([after.version, after.model], [2, before]);

    // A new model from the list: created, then at its own address.
    await page.click('[data-test=assessment-tab-models]');
    await page.click('[data-test=model-new]');
    await page.waitForSelector('[data-test=model-edit][data-loaded=true][data-id=""]');
    await page.fill('[data-test=model-id]', 'street.browser');
    await page.fill('[data-test=model-name-zh]', '浏览器测试考核');
    await page.fill('[data-field="items[0].name.zh"]', '按期办结率');
    await page.click('[data-test=model-save]');
    await page.waitForSelector('[data-test=model-edit][data-id="street.browser"][data-version="1"]');
    const created = await server.apiAs('commander', 'GET', '/api/assessment/models/street.browser');
    assert.deepEqual(created.model.items, [
      { name: { zh: '按期办结率', en: '' }, measure: { kind: 'on_time_rate' }, weight: 100, scoring: { rule: 'linear', best: 100, worst: 80 } },
    ]);
  } finally {
    await context.close();
  }
});

test('the vital-sign index shows the streets that have values, ranked and coloured', async () => {
  // 刑事案件立案数 (lower better) in two streets: the better street 100, the worse 60.
  for (const [street, value] of [
    [S1, 10],
    [s2, 20],
  ]) {
    sql(`INSERT INTO indicator_values (indicator, region, period, value, source, source_name, recorded_at)
         VALUES ('public_security.001', '${street}', '${MONTH}-01', ${value}, 'pushed', 'test', now())`);
  }
  const { context, page } = await workbench('leader', '#/assessment/vital-signs');
  try {
    await page.fill('[data-test=assessment-month]', MONTH);
    await page.waitForSelector(`[data-test=vital-signs][data-shown="${MONTH}"]`);
    const street = (code) =>
      page.$eval(`[data-test=vital-row][data-street="${code}"]`, (r) => ({
        rank: r.querySelector('[data-test=vital-rank]').textContent,
        index: r.querySelector('[data-test=vital-index]').textContent,
        colour: r.dataset.colour,
        governance: r.querySelector('[data-test=vital-governance]').textContent,
        city: r.querySelector('[data-test=vital-city]').textContent,
        security: r.querySelector('[data-test=vital-domain][data-domain=public_security]').textContent,
        domains: r.querySelectorAll('[data-test=vital-domain]').length,
      }));
    assert.deepEqual(await street(S1), { rank: '1', index: '100', colour: 'green', governance: '100', city: '—', security: '100', domains: 16 });
    assert.deepEqual(await street(s2), { rank: '2', index: '60', colour: 'orange', governance: '60', city: '—', security: '60', domains: 16 });
    const order = await page.$$eval('[data-test=vital-row]', (rs) => rs.map((r) => r.dataset.street));
    assert.deepEqual(order.slice(0, 2), [S1, s2], 'ranked first');
    const third = await page.$eval('[data-test=vital-row]:nth-child(3)', (r) => [r.querySelector('[data-test=vital-index]').textContent, r.dataset.colour]);
    assert.deepEqual(third, ['—', ''], 'a street with no value: no data');
    assert.match(await page.textContent('[data-test=vital-colour]'), /绿/);
  } finally {
    await context.close();
  }
});

test('English on asking: the same screens in English', async () => {
  const { context, page } = await workbench('leader', '#/assessment/vital-signs', '?lang=en');
  try {
    assert.equal(await page.textContent('[data-test=nav-assessment]'), 'Assessment');
    const tabs = await page.$$eval('[data-test=assessment-tabs] a', (as) => as.map((a) => a.textContent));
    assert.deepEqual(tabs, ['Results', 'Compare models', 'Models', 'City vital-sign index']);
    await page.fill('[data-test=assessment-month]', MONTH);
    await page.waitForSelector(`[data-test=vital-signs][data-shown="${MONTH}"]`);
    assert.match(await page.textContent(`[data-test=vital-row][data-street="${S1}"] [data-test=vital-colour]`), /green/);
  } finally {
    await context.close();
  }
});
