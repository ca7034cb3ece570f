// The live client (docs/live.md) against a scripted socket: it subscribes when connected,
// applies deltas in order and drops repeats, resumes from its last (epoch, offset) after a
// drop, takes the fresh snapshot after not_recovered, renews an ended session, answers
// pings, and gives up on a silent connection.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';

import { importSource } from '../support/module.mjs';

let LiveClient;

before(async () => {
  ({ LiveClient } = await importSource('src/shared/live/client.ts'));
});

/** A socket the test drives: every instance is kept, with what the client sent on it. */
function scriptedSockets() {
  const sockets = [];
  class Socket {
    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.readyState = 0;
      this.sent = [];
      sockets.push(this);
    }
    send(text) {
      this.sent.push(JSON.parse(text));
    }
    close(code = 1006) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose?.({ code });
    }
    open() {
      this.readyState = 1;
      this.onopen?.({});
    }
    push(message) {
      this.onmessage?.({ data: JSON.stringify(message) });
    }
  }
  return { Socket, sockets };
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

// A guard against a hang, not a measurement: generous, since a loaded machine delays timers.
async function until(check, what) {
  for (let i = 0; i < 3000; i++) {
    if (check()) return;
    await wait(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('subscribes, applies deltas in order, resumes after a drop, takes the snapshot after not_recovered', async () => {
  const { Socket, sockets } = scriptedSockets();
  const statuses = [];
  const got = [];
  const client = new LiveClient({
    url: 'ws://wall/api/live',
    token: async () => 'tok',
    socket: Socket,
    onStatus: (s) => statuses.push(s),
  });
  client.subscribe({
    channel: 'cases',
    onSnapshot: (items, after) => got.push(['snapshot', items, after]),
    onDelta: (d, key, op) => got.push([d, key, op]),
  });
  client.start();
  await until(() => sockets.length === 1, 'a connection');
  // The token rides as a sub-protocol, never in the URL.
  assert.equal(sockets[0].url, 'ws://wall/api/live');
  assert.deepEqual(sockets[0].protocols, ['cockpit-live', 'bearer.tok']);
  sockets[0].open();
  assert.deepEqual(sockets[0].sent, [{ type: 'subscribe', id: 'cases-1', channel: 'cases' }]);
  sockets[0].push({ type: 'hello', epoch: 7, offset: 40, heartbeat_ms: 15000, idle_timeout_ms: 45000 });
  sockets[0].push({ type: 'snapshot', id: 'cases-1', channel: 'cases', epoch: 7, offset: 40, items: [{ id: 1 }] });
  // Offsets increase strictly, with holes (one counter for every channel); repeats are dropped.
  sockets[0].push({ type: 'delta', id: 'cases-1', channel: 'cases', epoch: 7, offset: 44, key: 'case:1', op: 'upsert', data: 'a' });
  sockets[0].push({ type: 'delta', id: 'cases-1', channel: 'cases', epoch: 7, offset: 44, key: 'case:1', op: 'upsert', data: 'a again' });
  sockets[0].push({ type: 'delta', id: 'cases-1', channel: 'cases', epoch: 7, offset: 51, key: 'case:2', op: 'upsert', data: 'b' });
  sockets[0].push({ type: 'ping' });
  sockets[0].push({ type: 'nonsense' });
  sockets[0].push({ type: 'snapshot', id: 'cases-1', epoch: 7, offset: 52, items: 'not a list' });
  sockets[0].onmessage({ data: 'not json' });
  assert.deepEqual(got, [
    ['snapshot', [{ id: 1 }], false],
    ['a', 'case:1', 'upsert'],
    ['b', 'case:2', 'upsert'],
  ]);
  assert.deepEqual(sockets[0].sent.at(-1), { type: 'pong' });

  // The connection drops: reconnecting, then a resume from (7, 51); resumed, then the
  // missed deltas, whose offsets may be below the stream's head given in `resumed`.
  sockets[0].close(1001);
  assert.equal(client.state, 'reconnecting');
  await until(() => sockets.length === 2, 'a second connection');
  sockets[1].open();
  assert.deepEqual(sockets[1].sent, [{ type: 'subscribe', id: 'cases-1', channel: 'cases', resume: [7, 51] }]);
  sockets[1].push({ type: 'resumed', id: 'cases-1', channel: 'cases', epoch: 7, from: 51, offset: 60 });
  sockets[1].push({ type: 'delta', id: 'cases-1', channel: 'cases', epoch: 7, offset: 55, key: 'case:2', op: 'upsert', data: 'c' });
  assert.deepEqual(got.slice(3), [['c', 'case:2', 'upsert']]);
  assert.deepEqual(statuses, ['live', 'reconnecting', 'live']);

  // The log was reset: not_recovered, then a fresh snapshot that replaces the state.
  sockets[1].close(1001);
  await until(() => sockets.length === 3, 'a third connection');
  sockets[2].open();
  assert.deepEqual(sockets[2].sent[0].resume, [7, 55]);
  sockets[2].push({ type: 'not_recovered', id: 'cases-1', channel: 'cases', reason: 'epoch_changed', epoch: 8, offset: 3 });
  sockets[2].push({ type: 'snapshot', id: 'cases-1', channel: 'cases', epoch: 8, offset: 3, items: [{ id: 9 }] });
  sockets[2].push({ type: 'delta', id: 'cases-1', channel: 'cases', epoch: 8, offset: 4, key: 'case:9', op: 'upsert', data: 'd' });
  assert.deepEqual(got.slice(4), [
    ['snapshot', [{ id: 9 }], true],
    ['d', 'case:9', 'upsert'],
  ]);
  client.stop();
});

test('a session that ended is renewed before the next connection', async () => {
  const { Socket, sockets } = scriptedSockets();
  let token = 'old';
  const client = new LiveClient({
    url: 'ws://wall/api/live',
    token: () => token,
    socket: Socket,
    renewSession: async () => {
      token = 'new';
    },
  });
  client.start();
  await until(() => sockets.length === 1, 'a connection');
  sockets[0].open();
  sockets[0].close(4001);
  await until(() => sockets.length === 2, 'a second connection');
  assert.deepEqual(sockets[1].protocols, ['cockpit-live', 'bearer.new']);
  client.stop();
});

test('a silent connection is dropped and replaced', async () => {
  const { Socket, sockets } = scriptedSockets();
  const client = new LiveClient({ url: 'ws://wall/api/live', socket: Socket });
  client.subscribe({ channel: 'statistics', onDelta: () => {}, onSnapshot: () => {} });
  client.start();
  await until(() => sockets.length === 1, 'a connection');
  sockets[0].open();
  // The server's hello sets the timing: a ping every 30 ms, idle after 80 ms of silence.
  sockets[0].push({ type: 'hello', epoch: 1, offset: 0, heartbeat_ms: 30, idle_timeout_ms: 80 });
  await until(() => sockets[0].sent.some((m) => m.type === 'ping'), 'a ping');
  // No answer at all: after two beats the client gives up on it and connects again.
  await until(() => sockets.length === 2, 'a new connection after silence');
  assert.equal(sockets[0].readyState, 3);
  client.stop();
});

test('a server that refuses the upgrade is retried with growing delays, never given up', async () => {
  const { Socket, sockets } = scriptedSockets();
  const client = new LiveClient({ url: 'ws://wall/api/live', socket: Socket });
  client.start();
  await until(() => sockets.length === 1, 'a connection');
  sockets[0].close();
  assert.equal(client.state, 'connecting');
  await until(() => sockets.length === 2, 'a retry');
  sockets[1].close();
  await until(() => sockets.length === 3, 'another retry');
  client.stop();
});

test("an aggregate's `replace` recomputed at the same offset is taken; an older one is not", async () => {
  const { Socket, sockets } = scriptedSockets();
  const client = new LiveClient({ url: 'ws://wall/api/live', socket: Socket });
  const got = [];
  client.subscribe({ channel: 'indicators', filter: {}, onSnapshot: (items) => got.push(['snapshot', items]), onDelta: (d, _k, op) => got.push([op, d]) });
  client.start();
  await until(() => sockets.length === 1, 'a connection');
  sockets[0].open();
  assert.deepEqual(sockets[0].sent, [{ type: 'subscribe', id: 'indicators-1', channel: 'indicators', filter: {} }]);
  sockets[0].push({ type: 'snapshot', id: 'indicators-1', channel: 'indicators', epoch: 3, offset: 10, items: ['t0'] });
  const replace = (offset, items) => ({ type: 'delta', id: 'indicators-1', channel: 'indicators', epoch: 3, offset, key: 'indicators', op: 'replace', data: { items } });
  // Recomputed twice while nothing logged moved the stream's offset: both are new figures.
  sockets[0].push(replace(10, ['t1']));
  sockets[0].push(replace(10, ['t2']));
  sockets[0].push(replace(9, ['stale']));
  sockets[0].push(replace(12, ['t3']));
  assert.deepEqual(got, [
    ['snapshot', ['t0']],
    ['replace', { items: ['t1'] }],
    ['replace', { items: ['t2'] }],
    ['replace', { items: ['t3'] }],
  ]);
  client.stop();
});
