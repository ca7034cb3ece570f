// The grid worker's phone for browser tests: a Chromium context 390×844 with touch, a
// mobile user agent's viewport rules, geolocation granted at a given point, and the mobile
// app (mobile.html) opened and logged in. Service workers are blocked unless asked for, so
// that page.route and context.setOffline see every request the page makes.

/** A phone context; `at` is where the worker stands ({lon, lat}). */
export async function newPhone(browser, { at, serviceWorkers = 'block', locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale,
    ...(at ? { geolocation: { longitude: at.lon, latitude: at.lat, accuracy: 8 }, permissions: ['geolocation'] } : {}),
    serviceWorkers,
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('phone page error:', e.message));
  return { context, page };
}

/** Opens the mobile app on `page` and logs in as `user`; resolves when My tasks is shown. */
export async function phoneLogIn(page, server, user = 'gridworker') {
  await page.goto(`${server.url}/mobile.html`);
  await page.fill('[data-test=login-username]', user);
  await page.fill('[data-test=login-password]', server.accounts[user]);
  await page.tap('[data-test=login-submit]');
  await page.waitForSelector('[data-test=task-list]');
}

/** Opens a phone logged in as the grid worker, standing at `at`. */
export async function openPhone(browser, server, { at, user = 'gridworker', serviceWorkers } = {}) {
  const phone = await newPhone(browser, { at, serviceWorkers });
  await phoneLogIn(phone.page, server, user);
  return phone;
}
