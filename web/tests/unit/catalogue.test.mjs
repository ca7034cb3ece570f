// The indicator catalogue's pure parts (web/src/shared/catalogue.ts): periods placed as
// the server places them (cockpit-indicators' Frequency::period_start), the recent periods
// the manual entry offers, across a year boundary, periods named, the city's day whatever
// the machine's zone, and no data written as such, never as zero.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';

import { importSource } from '../support/module.mjs';

let c;

before(async () => {
  c = await importSource('src/shared/catalogue.ts');
});

test('a day is placed in its period as the server places it', () => {
  const check = (frequency, day, start) => assert.equal(c.periodStart(frequency, day), start, `${frequency} ${day}`);
  check('real_time', '2025-05-17', '2025-05-17');
  check('daily', '2025-05-17', '2025-05-17');
  check('monthly', '2025-05-17', '2025-05-01');
  check('quarterly', '2025-05-17', '2025-04-01');
  check('quarterly', '2025-12-31', '2025-10-01');
  check('quarterly', '2025-01-01', '2025-01-01');
  check('half_yearly', '2025-06-30', '2025-01-01');
  check('half_yearly', '2025-07-01', '2025-07-01');
  check('yearly', '2025-11-30', '2025-01-01');
});

test('the entry offers the recent periods, newest first, across the year', () => {
  assert.deepEqual(c.recentPeriods('monthly', '2026-02-10').slice(0, 4), ['2026-02-01', '2026-01-01', '2025-12-01', '2025-11-01']);
  assert.equal(c.recentPeriods('monthly', '2026-02-10').length, 36);
  assert.deepEqual(c.recentPeriods('quarterly', '2026-02-10').slice(0, 3), ['2026-01-01', '2025-10-01', '2025-07-01']);
  assert.deepEqual(c.recentPeriods('half_yearly', '2026-08-01').slice(0, 3), ['2026-07-01', '2026-01-01', '2025-07-01']);
  assert.deepEqual(c.recentPeriods('yearly', '2026-08-01').slice(0, 2), ['2026-01-01', '2025-01-01']);
  assert.deepEqual(c.recentPeriods('daily', '2026-08-01'), [], 'a day is typed, not picked');
  for (const f of ['monthly', 'quarterly', 'half_yearly', 'yearly']) {
    for (const p of c.recentPeriods(f, '2026-03-31')) assert.equal(c.periodStart(f, p), p, `${f} ${p} starts a period`);
  }
});

test('periods are named as people name them', () => {
  assert.equal(c.periodLabel('monthly', '2025-03-01'), '2025-03');
  assert.equal(c.periodLabel('quarterly', '2025-10-01'), '2025年第4季度');
  assert.equal(c.periodLabel('half_yearly', '2025-07-01'), '2025年下半年');
  assert.equal(c.periodLabel('yearly', '2025-01-01'), '2025年');
  assert.equal(c.periodLabel('daily', '2025-01-02'), '2025-01-02');
});

test("the city's day is Beijing's, and no data is no data", () => {
  assert.equal(c.cityToday(new Date('2025-12-31T16:30:00Z')), '2026-01-01');
  assert.equal(c.cityToday(new Date('2025-12-31T15:59:00Z')), '2025-12-31');
  assert.equal(c.formatNumber(null), '—');
  assert.equal(c.formatNumber(undefined), '—');
  assert.equal(c.formatNumber(Number.NaN), '—');
  assert.equal(c.formatNumber(0), '0');
  assert.equal(c.formatNumber(1234.567), '1,234.57');
  assert.equal(c.domainName('wage_arrears'), '劳动欠薪');
  assert.equal(c.systemName('safe_society'), '社会更安全');
  assert.equal(c.DOMAINS.length, 16);
  assert.equal(c.SYSTEMS.length, 4);
});
