// Screenshots of a fresh `--demo` start, for a person to look at: the wall at 1920×1080 (as
// the commander), the workbench at 1600×900 (as the dispatcher) and the phone at 390×844
// (as the grid worker), taken once the history is written and the present has run a while.
// Written under $CARGO_TARGET_DIR/artifacts/screens/ (not committed). Run through
// scripts/screenshots.sh, which builds what it needs.
//
// Environment: DATABASE_URL (a PostgreSQL with PostGIS; a database of its own is made and
// dropped), COCKPIT_SERVER_BIN (the server binary), SCREEN_DAYS (the history's days,
// default 420), SCREEN_WAIT (seconds of the present before the pictures, default 60).

import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launch } from '../web/tests/support/browser.mjs';
import { repo, webDir } from '../web/tests/support/server.mjs';

const target = process.env.CARGO_TARGET_DIR ?? join(repo, 'target');
const out = resolve(target, 'artifacts/screens');
const days = Number(process.env.SCREEN_DAYS ?? 420);
const wait = Number(process.env.SCREEN_WAIT ?? 60);
const bin = process.env.COCKPIT_SERVER_BIN ?? join(target, 'debug/cockpit-server');
mkdirSync(out, { recursive: true });

const port = await new Promise((ok, fail) => {
  const s = createServer();
  s.once('error', fail);
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => ok(port));
  });
});
const url = `http://127.0.0.1:${port}`;
const home = join(tmpdir(), `cockpit-screens-${process.pid}`);
const name = `screens_${process.pid}`;
const base = process.env.DATABASE_URL;
if (!base) throw new Error('DATABASE_URL is not set');
const admin = base.replace(/\/[^/]*$/, '/postgres');
const database = base.replace(/\/[^/]*$/, `/${name}`);
const psql = (target, sql) =>
  execFileSync('psql', [target, '-Atqc', sql], { env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } })
    .toString()
    .trim();
psql(admin, `DROP DATABASE IF EXISTS "${name}"`);
psql(admin, `CREATE DATABASE "${name}"`);
rmSync(home, { recursive: true, force: true });
mkdirSync(home, { recursive: true });
const config = join(home, 'server.toml');
writeFileSync(
  config,
  [
    `listen = "127.0.0.1:${port}"`,
    `data_dir = "${join(repo, 'data/ouhai')}"`,
    `data_home = "${home}"`,
    `log = "warn"`,
    `[database]`,
    `url = "${database}"`,
    `[history]`,
    `days = ${days}`,
    `[http]`,
    `web_dir = "${join(webDir, 'dist')}"`,
    `[mqtt]`,
    `listen = "127.0.0.1:0"`,
    '',
  ].join('\n'),
);
const env = { ...process.env };
delete env.DATABASE_URL;
const child = spawn(bin, ['--demo', '--config', config], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, seconds, check) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`cockpit-server exited while waiting for ${what}`);
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what}`);
}

let browser;
try {
  await until('the server', 120, async () => (await fetch(`${url}/healthz`)).ok);
  const started = Date.now();
  await until('the history', 1800, async () => psql(database, 'SELECT count(*) FROM history_seeds') === '1');
  console.log(`history of ${days} days written ${((Date.now() - started) / 1000).toFixed(0)} s after the start`);
  await sleep(wait * 1000);
  const moved = psql(
    database,
    "SELECT count(*) FROM case_timeline t JOIN history_seeds h ON t.at > h.ends_at WHERE t.actor_user LIKE 'sim-%'",
  );
  const fed = psql(database, "SELECT count(*) FROM cases WHERE source_ref LIKE '%SIM%' OR source_id = 'open311'");
  console.log(`after ${wait} s of the present: ${fed} feed cases, ${moved} moves by generated people`);
  const accounts = Object.fromEntries(
    readFileSync(join(home, 'initial-accounts.txt'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.trim().split(/\s+/).slice(0, 2)),
  );
  browser = await launch();
  const shoot = async (file, viewport, path, user, login, ready) => {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'zh-CN' });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`${file}: page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && console.error(`${file}: ${m.text()}`));
    await page.goto(`${url}${path}`);
    await page.fill(login[0], user);
    await page.fill(login[1], accounts[user]);
    await page.press(login[1], 'Enter');
    const t = Date.now();
    try {
      await ready(page);
      console.log(`${file}: ready after ${((Date.now() - t) / 1000).toFixed(0)} s`);
    } catch (e) {
      // The picture is taken anyway: what a person would see after that long.
      console.error(`${file}: not ready: ${e.message.split('\n')[0]}`);
    }
    await sleep(5000); // charts and map tiles settle
    await page.screenshot({ path: join(out, file) });
    console.log(join(out, file));
    await context.close();
  };
  await shoot('wall-1920x1080.png', { width: 1920, height: 1080 }, '/', 'commander',
    ['input[name=username]', 'input[name=password]'],
    (page) => page.waitForFunction(() => window.__wall?.ready === true, null, { timeout: 300_000 }));
  await shoot('workbench-1600x900.png', { width: 1600, height: 900 }, '/workbench.html', 'dispatcher',
    ['[data-test=login-username]', '[data-test=login-password]'],
    (page) => page.waitForFunction(() => ['live', 'off'].includes(document.body.dataset.live), null, { timeout: 300_000 }));
  await shoot('phone-390x844.png', { width: 390, height: 844 }, '/mobile.html', 'gridworker',
    ['[data-test=login-username]', '[data-test=login-password]'],
    (page) => page.waitForSelector('[data-test=task-list]', { timeout: 300_000 }));
} finally {
  await browser?.close();
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  psql(admin, `DROP DATABASE IF EXISTS "${name}"`);
  rmSync(home, { recursive: true, force: true });
}
