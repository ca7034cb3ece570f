// The grid worker app's service worker: keeps the app's own files (mobile.html, its
// scripts, styles, the map's worker, the manifest and icons) so the app opens without a
// connection. The API is never cached here: what the worker does offline waits in the
// app's outbox (IndexedDB), and the data shown offline is what the app kept.
//
// - install: fetch mobile.html, then every /assets/ file it names and those its scripts
//   name in turn (hashed names from the build; no list to keep by hand).
// - pages under /mobile: network first, the kept copy when offline.
// - /assets/ (content-hashed, never change): the kept copy first, else the network (kept).

const CACHE = 'cockpit-mobile-shell-v1';
const SHELL = ['/mobile.html', '/mobile.webmanifest', '/mobile-icon-192.png', '/mobile-icon-512.png'];
const ASSET = /\/assets\/[\w.-]+\.(?:js|mjs|css|woff2?|png|svg)/g;

async function precache() {
  const cache = await caches.open(CACHE);
  await cache.addAll(SHELL);
  const seen = new Set();
  let queue = [...((await (await cache.match('/mobile.html')).text()).match(ASSET) ?? [])];
  while (queue.length) {
    const next = [];
    for (const url of queue) {
      if (seen.has(url)) continue;
      seen.add(url);
      const response = await fetch(url);
      if (!response.ok) continue;
      await cache.put(url, response.clone());
      if (/\.(?:js|mjs|css)$/.test(url)) next.push(...((await response.text()).match(ASSET) ?? []));
    }
    queue = next;
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('cockpit-mobile-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/open311/')) return;
  if (request.mode === 'navigate') {
    if (!url.pathname.startsWith('/mobile')) return;
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            void caches.open(CACHE).then((c) => c.put('/mobile.html', copy));
          }
          return response;
        })
        .catch(() => caches.match('/mobile.html')),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/') || SHELL.includes(url.pathname)) {
    event.respondWith(
      caches.match(url.pathname).then(
        (kept) =>
          kept ??
          fetch(request).then((response) => {
            if (response.ok) {
              const copy = response.clone();
              void caches.open(CACHE).then((c) => c.put(url.pathname, copy));
            }
            return response;
          }),
      ),
    );
  }
});
