// The owner's notice of failed logins (web/src/shared/loginfailures.ts): its sentence in Chinese
// and English, the last failure's time in Beijing time whatever the machine's clock, the
// locked addresses, and what a dismissal remembers.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';

import { importSource } from '../support/module.mjs';

let lf;

before(async () => {
  lf = await importSource('src/shared/loginfailures.ts');
});

const failures = {
  username: 'dispatcher',
  failures: 4,
  addresses: ['127.0.0.2', '127.0.0.3'],
  locked_addresses: ['127.0.0.3'],
  // 23:58 in UTC is 07:58 the next day in Beijing.
  last_at: '2026-03-01T23:58:41.5Z',
};

test('the last failure in Beijing time, to the minute', () => {
  assert.equal(lf.beijingClock('2026-03-01T23:58:41.5Z'), '07:58');
  assert.equal(lf.beijingClock('2026-03-01T04:05:00+08:00'), '04:05');
  assert.equal(lf.beijingClock('never'), 'never');
});

test('the sentence in Chinese and in English', () => {
  assert.equal(
    lf.failureSummary(failures, 'zh'),
    '您的账号在最近15分钟内有 4 次登录失败（来自 2 个地址，最近一次 07:58）。如非本人操作，请修改密码并联系安全管理员。',
  );
  assert.match(lf.failureSummary(failures, 'en'), /^Your account had 4 failed logins in the last 15 minutes \(from 2 addresses, the last at 07:58 Beijing time\)\./);
  assert.match(lf.failureSummary({ ...failures, failures: 1, addresses: ['x'] }, 'en'), /1 failed login in .* \(from 1 address,/);
});

test('each address with whether it is locked', () => {
  assert.deepEqual(lf.failureAddresses(failures), [
    { address: '127.0.0.2', locked: false },
    { address: '127.0.0.3', locked: true },
  ]);
});

test('a dismissal is of these failures: one more shows the notice again', () => {
  assert.notEqual(lf.failureKey(failures), lf.failureKey({ ...failures, failures: 5 }));
  assert.notEqual(lf.failureKey(failures), lf.failureKey({ ...failures, last_at: '2026-03-02T00:01:00Z' }));
  assert.notEqual(lf.failureKey(failures), lf.failureKey({ ...failures, username: 'other' }));
});
