// The audit screen's pure parts (web/src/workbench/audit.ts): times shown and searched in
// Beijing time whatever the machine's clock, the search as the API's query, action names.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';

import { importSource } from '../support/module.mjs';

let audit;

before(async () => {
  audit = await importSource('src/workbench/audit.ts');
});

test('a record time shows in Beijing time, to the second', () => {
  assert.equal(audit.beijing('2026-01-31T16:30:05.123Z'), '2026-02-01 00:30:05');
  assert.equal(audit.beijing('not a time'), 'not a time');
});

test('a typed time is read in Beijing time', () => {
  assert.equal(audit.beijingInput('2026-02-01T00:30'), '2026-02-01T00:30:00+08:00');
  assert.equal(audit.beijingInput('2026-02-01T00:30:05'), '2026-02-01T00:30:05+08:00');
  assert.equal(audit.beijingInput(''), null);
});

test('the search as the API takes it: empty fields left out, values encoded', () => {
  const q = audit.auditQuery({ action: ' auth.login ', actor: '=HYPERLINK("x")&a=b', object: '', from: '2026-02-01T00:30', to: '' });
  assert.equal(q.get('action'), 'auth.login');
  assert.equal(q.get('actor'), '=HYPERLINK("x")&a=b');
  assert.equal(q.get('from'), '2026-02-01T00:30:00+08:00');
  assert.equal(q.has('object'), false);
  assert.equal(q.has('to'), false);
  assert.equal(audit.auditQuery({}).toString(), '');
  assert.match(q.toString(), /actor=%3DHYPERLINK%28%22x%22%29%26a%3Db/);
});

test('the result and the client address go to the query; "all" leaves the result out', () => {
  const q = audit.auditQuery({ result: 'locked', address: ' 10.0.0.8 ' });
  assert.equal(q.get('result'), 'locked');
  assert.equal(q.get('address'), '10.0.0.8');
  assert.equal(audit.auditQuery({ result: '', address: '' }).toString(), '');
  assert.deepEqual([...audit.RESULTS], ['ok', 'refused', 'locked']);
  assert.equal(audit.resultName('locked'), '锁定');
});

test('actions by name; unknown ones by their code', () => {
  assert.equal(audit.auditActionName('auth.login'), '登录');
  assert.equal(audit.auditActionName('case.dispatch'), '案件派遣');
  assert.equal(audit.auditActionName('something.new'), 'something.new');
});
