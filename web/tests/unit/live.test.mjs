// The live client against a scripted socket: it subscribes when connected, applies deltas
// in order, resumes from its last (epoch, offset) after a drop, refetches on not_recovered
// or on a gap, answers pings, and gives up on a silent connection.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'vite';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let LiveClient;

before(async () => {
  const out = mkdtempSync(join(tmpdir(), 'cockpit-live-client-'));
  await build({
    root: web,
    logLevel: 'error',
    configFile: false,
    build: {
      outDir: out,
      lib: { entry: join(web, 'src/live/client.ts'), formats: ['es'], fileName: () => 'client.mjs' },
      minify: false,
    },
  });
  ({ LiveClient } = await import(pathToFileURL(join(out, 'client.mjs')).href));
});

/** A socket the test drives: every instance is kept, with what the client sent on it. */
function scriptedSockets() {
  const sockets = [];
  class Socket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      sockets.push(this);
    }
    send(text) {
      this.sent.push(JSON.parse(text));
    }
    close() {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose?.({});
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

async function until(check, what) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await wait(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('subscribes, applies deltas in order, resumes after a drop, refetches when it cannot', async () => {
  const { Socket, sockets } = scriptedSockets();
  const statuses = [];
  const got = [];
  let resets = 0;
  const client = new LiveClient({
    url: 'ws://wall/api/live',
    token: () => 'tok',
    socket: Socket,
    onStatus: (s) => statuses.push(s),
    heartbeatMs: 60_000,
  });
  client.subscribe({ channel: 'cases', onDelta: (d) => got.push(d), onReset: () => resets++, onSnapshot: (d) => got.push(['snapshot', d]) });
  client.start();
  assert.equal(sockets[0].url, 'ws://wall/api/live?access_token=tok');
  sockets[0].open();
  assert.deepEqual(sockets[0].sent, [{ type: 'subscribe', id: 's1', channel: 'cases' }]);
  sockets[0].push({ type: 'snapshot', id: 's1', epoch: 7, offset: 40, data: [1] });
  sockets[0].push({ type: 'delta', id: 's1', epoch: 7, offset: 41, data: 'a' });
  sockets[0].push({ type: 'delta', id: 's1', epoch: 7, offset: 41, data: 'a again' });
  sockets[0].push({ type: 'delta', id: 's1', epoch: 7, offset: 42, data: 'b' });
  sockets[0].push({ type: 'ping' });
  sockets[0].push({ type: 'nonsense' });
  sockets[0].onmessage({ data: 'not json' });
  assert.deepEqual(got, [['snapshot', [1]], 'a', 'b']);
  assert.deepEqual(sockets[0].sent.at(-1), { type: 'pong' });

  // The connection drops: reconnecting, then a resume from (7, 42).
  sockets[0].close();
  assert.equal(client.state, 'reconnecting');
  await until(() => sockets.length === 2, 'a second connection');
  sockets[1].open();
  assert.deepEqual(sockets[1].sent, [{ type: 'subscribe', id: 's1', channel: 'cases', resume: [7, 42] }]);
  sockets[1].push({ type: 'delta', id: 's1', epoch: 7, offset: 43, data: 'c' });
  assert.deepEqual(got.slice(3), ['c']);
  assert.deepEqual(statuses, ['live', 'reconnecting', 'live']);

  // The server restarted (another epoch): not_recovered, so the owner refetches.
  sockets[1].close();
  await until(() => sockets.length === 3, 'a third connection');
  sockets[2].open();
  assert.deepEqual(sockets[2].sent[0].resume, [7, 43]);
  sockets[2].push({ type: 'not_recovered', id: 's1', epoch: 8, offset: 3, reason: 'epoch_changed' });
  assert.equal(resets, 1);
  sockets[2].push({ type: 'delta', id: 's1', epoch: 8, offset: 4, data: 'd' });
  // A hole in the offsets is never papered over.
  sockets[2].push({ type: 'delta', id: 's1', epoch: 8, offset: 6, data: 'f' });
  assert.equal(resets, 2);
  assert.deepEqual(got.slice(4), ['d']);
  client.stop();
});

test('a silent connection is dropped and replaced', async () => {
  const { Socket, sockets } = scriptedSockets();
  const client = new LiveClient({ url: 'ws://wall/api/live', socket: Socket, heartbeatMs: 30 });
  client.subscribe({ channel: 'statistics', onDelta: () => {}, onReset: () => {} });
  client.start();
  sockets[0].open();
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
  sockets[0].close();
  assert.equal(client.state, 'connecting');
  await until(() => sockets.length === 2, 'a retry');
  sockets[1].close();
  await until(() => sockets.length === 3, 'another retry');
  client.stop();
});
