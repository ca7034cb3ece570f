// Starts the built cockpit-server for the browser tests and the benchmark: its own port,
// its own data home, a database of its own on the cluster test.sh started (DATABASE_URL),
// demonstration users, and web/dist as its web folder. `restart()` kills it (SIGKILL, as a
// crash would) and starts it again on the same port.

import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const webDir = resolve(here, '../..');
export const repo = resolve(webDir, '..');

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

function binary() {
  const target = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? '/root', '.cache/cockpit-target');
  return process.env.COCKPIT_SERVER_BIN ?? join(target, 'debug/cockpit-server');
}

/** A fresh database on the test cluster, named test_wall_<pid>_<n> (test.sh drops test_*). */
function freshDatabase(name) {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the browser tests through ./test.sh');
  const admin = url.replace(/\/[^/]*$/, '/postgres');
  const env = { ...process.env, PGOPTIONS: '-c client_min_messages=warning' };
  execFileSync('psql', [admin, '-qc', `DROP DATABASE IF EXISTS "${name}"`], { env });
  execFileSync('psql', [admin, '-qc', `CREATE DATABASE "${name}"`], { env });
  return url.replace(/\/[^/]*$/, `/${name}`);
}

let counter = 0;

export class Server {
  static async start() {
    const s = new Server();
    s.port = await freePort();
    s.home = join(tmpdir(), `cockpit-wall-${process.pid}-${counter}`);
    s.database = freshDatabase(`test_wall_${process.pid}_${counter++}`);
    rmSync(s.home, { recursive: true, force: true });
    mkdirSync(s.home, { recursive: true });
    s.configFile = join(s.home, 'server.toml');
    writeFileSync(
      s.configFile,
      [
        `listen = "127.0.0.1:${s.port}"`,
        `data_dir = "${join(repo, 'data/ouhai')}"`,
        `data_home = "${s.home}"`,
        `log = "warn"`,
        `[database]`,
        `url = "${s.database}"`,
        `max_connections = 8`,
        `[auth]`,
        `bootstrap = "demo"`,
        `login_per_minute = 100000`,
        `[http]`,
        `web_dir = "${join(webDir, 'dist')}"`,
        `[mqtt]`,
        `listen = "127.0.0.1:0"`,
        // The other systems a pull test fetches from are its own servers on this machine.
        `[indicators]`,
        `pull_hosts = ["127.0.0.1"]`,
        '',
      ].join('\n'),
    );
    await s.launch();
    s.accounts = Object.fromEntries(
      readFileSync(join(s.home, 'initial-accounts.txt'), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.trim().split(/\s+/))
        .map(([user, password]) => [user, password]),
    );
    return s;
  }

  /** The bearer token the server issued to intake source `id` at its first start (it
   *  keeps only the hash; the token is in `source-tokens.txt` in its data home). */
  sourceToken(id) {
    const text = readFileSync(join(this.home, 'source-tokens.txt'), 'utf8');
    const line = text.split('\n').find((l) => !l.startsWith('#') && l.trim().split(/\s+/)[0] === id);
    if (!line) throw new Error(`no token issued to source ${id}`);
    return line.trim().split(/\s+/)[1];
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the server; one still running from an earlier launch is killed first, so that
   *  no server outlives the test file (a leftover child keeps node's test runner waiting). */
  async launch() {
    await this.kill();
    const env = { ...process.env };
    delete env.DATABASE_URL; // the config file names this server's own database
    this.child = spawn(binary(), ['--config', this.configFile], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.stderr = '';
    this.child.stderr.on('data', (d) => (this.stderr += d));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`cockpit-server exited: ${this.stderr}`);
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.kill();
    throw new Error(`cockpit-server did not answer /healthz: ${this.stderr}`);
  }

  async kill() {
    // A child killed by a signal has no exit code, only its signal.
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }

  async restart() {
    await this.kill();
    await this.launch();
  }

  async stop() {
    await this.kill();
    rmSync(this.home, { recursive: true, force: true });
  }

  /** Whether this server has the live stream endpoint (the live-updates work). */
  async hasLive() {
    const r = await fetch(`${this.url}/api/live`);
    return r.status !== 404;
  }

  async login(user = 'commander') {
    const r = await fetch(`${this.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: user, password: this.accounts[user] }),
    });
    if (!r.ok) throw new Error(`login ${user}: ${r.status} ${await r.text()}`);
    return (await r.json()).access_token;
  }

  async api(token, method, path, body) {
    const r = await fetch(`${this.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  }

  /** A demo user's access token, logged in once (tests are short against its 10-minute life). */
  async token(user) {
    this.tokens ??= {};
    this.tokens[user] ??= await this.login(user);
    return this.tokens[user];
  }

  /** An API call as demo user `user`; throws on a refusal. */
  async apiAs(user, method, path, body) {
    return this.api(await this.token(user), method, path, body);
  }

  /** The same call, answering `{status, body}` (the problem, when refused) instead of throwing. */
  async attempt(user, method, path, body) {
    const r = await fetch(`${this.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${await this.token(user)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  }
}
