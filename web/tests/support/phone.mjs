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

/** A photo as a phone's camera takes it: a 2400×1800 JPEG drawn in `page`'s canvas, with
 *  `label` written on it, ready for `setInputFiles`. */
export async function cameraPhoto(page, label) {
  const base64 = await page.evaluate((label) => {
    const canvas = document.createElement('canvas');
    canvas.width = 2400;
    canvas.height = 1800;
    const g = canvas.getContext('2d');
    const gradient = g.createLinearGradient(0, 0, 2400, 1800);
    gradient.addColorStop(0, '#3b7');
    gradient.addColorStop(1, '#236');
    g.fillStyle = gradient;
    g.fillRect(0, 0, 2400, 1800);
    g.fillStyle = '#fff';
    g.font = '200px sans-serif';
    g.fillText(label, 200, 900);
    return canvas.toDataURL('image/jpeg', 0.95).split(',')[1];
  }, label);
  return { name: `IMG_${label}.jpg`, mimeType: 'image/jpeg', buffer: Buffer.from(base64, 'base64') };
}
