// Debian's Chromium through playwright-core (no browser download), headless, with a fresh
// profile, and the wall opened and logged in at a given screen size.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { repo } from './server.mjs';

export const artifacts = resolve(
  process.env.COCKPIT_ARTIFACTS ?? join(process.env.CARGO_TARGET_DIR ?? join(repo, 'target'), 'artifacts'),
  'wall',
);
mkdirSync(artifacts, { recursive: true });

// Playwright starts Chromium with a fresh temporary profile of its own (its own
// --user-data-dir, removed at close); it refuses one passed as an argument.
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--enable-unsafe-swiftshader',
    ],
  });
  return browser;
}

/** Opens the wall at width × height, logs in as `user`, waits until it has drawn. */
export async function openWall(browser, server, { width = 1920, height = 1080, user = 'commander', lang } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.url}/${lang ? `?lang=${lang}` : ''}`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', server.accounts[user]);
  await page.press('input[name=password]', 'Enter');
  await page.waitForFunction(() => window.__wall?.ready === true, null, { timeout: 180_000 });
  return { context, page };
}
