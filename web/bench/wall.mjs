// The wall's rendering benchmark, in headless Chromium against a local cockpit-server:
//
// 1. First full render: from navigation to the first idle frame with every layer that is on
//    at start drawn (the sample city: 13 streets, 197 villages, 942 grids, key areas,
//    devices, cases; the 2,648 cameras, resources and blind spots are fetched then too, and
//    handed to the map when their switch is first turned on), median of 5 loads; then when
//    the overview boards, drawn after that frame, were drawn; baseline: the same page with
//    only the map's background (`?bench=blank`: no data requested), measured in the same run.
// 2. Frames per second while the map pans continuously for 10 s, with 100,000 case points
//    in the case layer and 1,000 case updates a second entering where live deltas enter
//    (`CaseStore.upsert`, due ones every 10 ms: status changes and moves of random cases;
//    the case layer clusters above 20,000 cases and takes one diff a second);
//    baseline: the same pan over the same wall with no points and no updates.
//
// Synthetic points are generated in the page (a load generator, not data shown to anyone).
// Run it with ./web/bench/run.sh (which starts a database) or, with DATABASE_URL set,
// `node bench/wall.mjs`.

import { Server } from '../tests/support/server.mjs';
import { launch, openWall } from '../tests/support/browser.mjs';

const POINTS = Number(process.env.BENCH_POINTS ?? 100_000);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const width = Number(process.env.BENCH_WIDTH ?? 1920);
const height = Number(process.env.BENCH_HEIGHT ?? 1080);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await Server.start();
const browser = await launch();
try {
  const token = await server.login('commander');
  for (let i = 0; i < 20; i++) {
    await server.api(token, 'POST', '/api/cases', {
      description: `基准测试事件${i}`,
      category: '0402',
      location: { lon: 120.6 + (i % 5) * 0.01, lat: 27.96 + Math.floor(i / 5) * 0.01 },
    });
  }
  const { page } = await openWall(browser, server, { width, height });

  // 1. First full render (the session is kept in sessionStorage, so no login on reload).
  // The overview boards (ECharts) are drawn after the map's first idle frame: when they
  // were drawn is reported beside it.
  const boardTimes = [];
  const firstRender = async (query) => {
    const times = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(`${server.url}/${query}`);
      await page.waitForFunction(() => window.__wall?.firstRenderMs != null, null, { timeout: 60_000 });
      times.push(await page.evaluate(() => window.__wall.firstRenderMs));
      if (!query) {
        await page.waitForFunction(() => window.__wall.boardsMs != null, null, { timeout: 60_000 });
        boardTimes.push(await page.evaluate(() => window.__wall.boardsMs));
      }
    }
    return median(times);
  };
  const blank = await firstRender('?bench=blank');
  const full = await firstRender('');

  // 2. Frames per second while panning, with and without the load.
  const fps = (load) =>
    page.evaluate(
      async ({ load, POINTS, RATE, SECONDS }) => {
        const wall = window.__wall;
        const map = wall.map.map;
        const store = wall.store;
        const statuses = ['new', 'dispatched', 'accepted', 'in_progress', 'handled', 'closed'];
        const urgencies = ['normal', 'normal', 'normal', 'urgent', 'critical'];
        const [w, s, e, n] = [120.45, 27.88, 120.75, 28.05];
        const synthetic = (id) => ({
          id,
          source: 'bench',
          source_name: 'bench',
          category: { code: '0402', name: '街面秩序' },
          urgency: urgencies[id % urgencies.length],
          title: null,
          description: '',
          location: { lon: w + Math.random() * (e - w), lat: s + Math.random() * (n - s) },
          street: null,
          village: null,
          grid: null,
          address: null,
          created_at: new Date().toISOString(),
          status: statuses[id % statuses.length],
          deadline: null,
          overdue: id % 17 === 0,
          closed_at: null,
        });
        const base = 10_000_000;
        let updates = 0;
        let timer = null;
        if (load) {
          store.replace(Array.from({ length: POINTS }, (_, i) => synthetic(base + i)));
          await new Promise((r) => map.once('idle', r));
          // Time-based: when the page is busy, the updates due meanwhile arrive together,
          // as WebSocket messages queued behind a long frame would.
          const t0 = performance.now();
          timer = setInterval(() => {
            const due = Math.floor(((performance.now() - t0) / 1000) * RATE) - updates;
            for (let k = 0; k < due; k++) {
              const c = synthetic(base + Math.floor(Math.random() * POINTS));
              store.upsert(c);
              updates++;
            }
          }, 10);
        }
        map.jumpTo({ center: [120.62, 27.97], zoom: 11 });
        let frames = 0;
        let running = true;
        const count = () => {
          frames++;
          if (running) requestAnimationFrame(count);
        };
        requestAnimationFrame(count);
        // Pan back and forth so that every frame is a full redraw of every layer.
        const started = performance.now();
        let dir = 1;
        const pan = setInterval(() => {
          map.panBy([dir * 40, 0], { duration: 0 });
          if ((performance.now() - started) % 2000 < 50) dir = -dir;
        }, 16);
        await new Promise((r) => setTimeout(r, SECONDS * 1000));
        running = false;
        clearInterval(pan);
        if (timer) clearInterval(timer);
        const elapsed = (performance.now() - started) / 1000;
        if (load) store.replace([]);
        return { fps: frames / elapsed, updatesPerSecond: updates / elapsed };
      },
      { load, POINTS, RATE, SECONDS },
    );
  const idle = await fps(false);
  const loaded = await fps(true);

  const chromium = browser.version();
  const f1 = (x) => x.toFixed(1);
  console.log(`wall benchmark, ${width}×${height}, headless Chromium ${chromium} (software GL), ${new Date().toISOString()}`);
  console.log(`first full render (median of 5): ${Math.round(full)} ms; baseline, background only: ${Math.round(blank)} ms; ratio ${f1(full / blank)}×`);
  console.log(`overview boards drawn (median of 5): ${Math.round(median(boardTimes))} ms`);
  console.log(
    `panning with ${POINTS.toLocaleString('en')} points and ${Math.round(loaded.updatesPerSecond)} updates/s: ${f1(loaded.fps)} fps; ` +
      `baseline, same pan without points or updates: ${f1(idle.fps)} fps; ratio ${(loaded.fps / idle.fps).toFixed(2)}`,
  );
} finally {
  await browser.close();
  await server.stop();
}
