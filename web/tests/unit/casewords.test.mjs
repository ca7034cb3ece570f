// The case words the three front ends share (web/src/shared/casewords.ts): every status,
// action and urgency the server has (the Rust enums of cockpit-events) has its Chinese and
// English words in the one table, and a code the table lacks shows as it came.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { importSource } from '../support/module.mjs';
import { repo } from '../support/server.mjs';

let words;

before(async () => {
  words = await importSource('src/shared/casewords.ts');
});

/** The variants of `pub enum <name>` in events/src/<file>, as serde names them (snake_case). */
function variants(file, name) {
  const source = readFileSync(join(repo, 'events/src', file), 'utf8');
  const body = source.slice(source.indexOf(`pub enum ${name} {`));
  const block = body.slice(0, body.indexOf('\n}'));
  const found = [...block.matchAll(/^ {4}([A-Z][A-Za-z]*),$/gm)].map((m) => m[1].replace(/(?<!^)([A-Z])/g, '_$1').toLowerCase());
  assert.ok(found.length >= 3, `${name} in ${file}: ${found}`);
  return found;
}

const CJK = /^[\u4e00-\u9fff()（）]+$/;

function check(table, codes, what) {
  for (const code of codes) {
    const w = table[code];
    assert.ok(w, `the ${what} ${code} has words`);
    assert.match(w.zh, CJK, `${what} ${code} in Chinese`);
    assert.match(w.en, /^[a-z][a-z ()]*$/, `${what} ${code} in English`);
  }
}

test('every status of the server, and nothing else, in the order of a case’s life', () => {
  const statuses = variants('state.rs', 'Status');
  check(words.STATUSES, statuses, 'status');
  assert.deepEqual([...words.STATUS_CODES].sort(), [...statuses].sort());
  assert.equal(words.STATUS_CODES[0], 'submitted');
  assert.equal(words.STATUS_CODES.at(-1), 'rejected', 'the early end last');
});

test('every action of the server, and the deadline events of a timeline', () => {
  const actions = variants('action.rs', 'ActionKind');
  check(words.ACTIONS, [...actions, 'create', 'warning', 'overdue_alarm'], 'action');
});

test('every urgency of the server, from the least', () => {
  const urgencies = variants('case.rs', 'Urgency');
  check(words.URGENCIES, urgencies, 'urgency');
  assert.deepEqual(words.URGENCY_CODES, urgencies);
});

test('names in Chinese by default; unknown or missing codes as they came', () => {
  assert.equal(words.statusName('in_progress'), '处置中');
  assert.equal(words.actionName('verify_and_close'), '核查结案');
  assert.equal(words.urgencyName('critical'), '特急');
  assert.equal(words.statusName('on_hold'), 'on hold');
  assert.equal(words.actionName('toString'), 'toString', 'a code is looked up, not a property');
  assert.equal(words.statusName(null), '');
  assert.equal(words.actionName(undefined), '');
});
