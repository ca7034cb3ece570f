// The wall: lays out the screen, loads the city and its cases, wires the live stream to
// the map and the panels, and handles the drill-down, the search, the layer switches, the
// feed, and opens the case card (card.ts).

import type { Api } from '../shared/api';
import { currentLanguage, setLanguage, type Language } from '../shared/language';
import { statusName, urgencyName } from '../shared/casewords';
import { t } from './words';
import { LiveClient, type LiveStatus } from '../shared/live/client';
import { CaseStore } from './cases';
import * as data from './data';
import { AreaList } from './areas';
import { CaseCard } from './card';
import { Indicators } from './indicators';
import { layoutHtml } from './layout';
import { bounds, contains, rings } from './geometry';
import { type Basemap, CLUSTER_ABOVE, type LayerGroup, WallMap } from './map';
import type { Charts } from './overview';
import { SensorStore } from './sensors';
import type { Case, Device, Feature, FeatureCollection, Geometry, Level, RegionProps, Stats } from './types';
import { $, esc } from './dom';

export interface WallConfig {
  basemap: Basemap | null;
  language?: Language;
}

/** What tests and the benchmark read and drive (window.__wall). */
export interface WallProbe {
  ready: boolean;
  firstRenderMs: number | null;
  /** When the overview boards (ECharts), drawn after the map's first idle frame, were drawn. */
  boardsMs: number | null;
  liveStatus: LiveStatus;
  store: CaseStore;
  sensors: SensorStore;
  map: WallMap;
  selected: () => { level: Level; code: string } | null;
  openCase: (id: number) => Promise<void>;
  selectRegion: (code: string) => Promise<void>;
}

declare global {
  interface Window {
    __wall?: WallProbe;
  }
}

const CHILD: Record<Level, Level> = { district: 'street', street: 'village', village: 'grid', grid: 'grid' };

function localDay(d: Date): string {
  return d.toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
}

function hhmm(iso: string): string {
  return new Date(iso).toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false });
}

function domainOf(c: Case): { code: string; name: string } {
  const code = c.category.code.slice(0, 2);
  const name = (c.category.name ?? code).split(/\s*[/／>]\s*/)[0];
  return { code, name };
}

export class Wall {
  private readonly store = new CaseStore();
  private map!: WallMap;
  private charts!: Charts;
  private live!: LiveClient;
  private readonly scale = Math.max(0.5, window.innerWidth / 1920);
  private cameras: FeatureCollection = { type: 'FeatureCollection', features: [] };
  /** Every region of the four levels, by code (their shapes, for clicks). */
  private readonly regionsByParent = new Map<string, Feature[]>();
  private resources: FeatureCollection = { type: 'FeatureCollection', features: [] };
  private devices: Device[] = [];
  private readonly sensors = new SensorStore();
  private streetStats: Stats | null = null;
  private selected: { level: Level; code: string; props: RegionProps; geometry: Geometry } | null = null;
  private feedFilter = { source: '', domain: '' };
  private trendSpan: 'day' | 'week' | 'month' = 'day';
  private card!: CaseCard;
  private areas!: AreaList;
  private indicators!: Indicators;
  private statsTimer: ReturnType<typeof setTimeout> | null = null;
  private visible: Record<LayerGroup, boolean> = {
    cases: true,
    heat: false,
    cameras: false,
    resources: false,
    keyAreas: true,
    blindSpots: false,
    devices: true,
    alarms: true,
    grids: true,
    // Off at start: its five colours are the hues of the cases' statuses, and a street
    // filled in one would swallow the dots of that colour on it.
    rating: false,
  };
  private readonly probe: WallProbe;
  /** What the map was last given for the small sensor sources, as JSON. */
  private readonly drawn = new Map<string, string>();

  constructor(
    private readonly root: HTMLElement,
    private readonly api: Api,
    private readonly config: WallConfig,
  ) {
    setLanguage(config.language ?? 'zh');
    this.probe = {
      ready: false,
      firstRenderMs: null,
      boardsMs: null,
      liveStatus: 'connecting',
      store: this.store,
      sensors: this.sensors,
      map: undefined as unknown as WallMap,
      selected: () => (this.selected ? { level: this.selected.level, code: this.selected.code } : null),
      openCase: (id) => this.openCase(id),
      selectRegion: (code) => this.selectRegion(code),
    };
    window.__wall = this.probe;
  }

  async start(): Promise<void> {
    performance.mark('wall:start');
    this.layout();
    this.map = new WallMap($('map'), this.config.basemap, this.scale);
    this.probe.map = this.map;
    this.map.regionClick = (_level, code) => void this.selectRegion(code);
    this.map.obstacles = () =>
      ['.map-top > *', '#region', '#areas', '#layers > *', '#legend-box', '#card']
        .flatMap((s) => [...document.querySelectorAll<HTMLElement>(s)])
        .filter((el) => el.offsetParent !== null && el.offsetHeight > 0)
        .map((el) => el.getBoundingClientRect());
    this.card = new CaseCard(this.api, this.map);
    this.areas = new AreaList(this.map);
    this.indicators = new Indicators(this.api, this.map);
    this.map.caseClick = (id) => void this.openCase(id);
    this.store.onReplace = (all) => {
      this.map.clusterCases(all.features.length > CLUSTER_ABOVE);
      this.map.set('cases', all);
      this.renderFeed();
    };
    this.store.onDiff = (diff, changed) => {
      this.map.clusterCases(this.store.byId.size > CLUSTER_ABOVE);
      this.map.update('cases', diff);
      this.feedChanged(changed);
      this.scheduleStats();
    };
    this.store.onFresh = (fresh) => this.map.setFresh(fresh);
    setInterval(() => this.store.onFresh(this.store.freshCollection()), 2000);
    setInterval(() => this.tickClock(), 1000);
    this.tickClock();

    // The live stream starts at once; the first state comes over REST, retried until the
    // server answers (it may be restarting).
    this.live = new LiveClient({
      token: () => this.api.freshToken(),
      renewSession: async () => {
        await this.api.refresh();
      },
      onStatus: (s) => this.showStatus(s),
    });
    this.live.subscribe({
      channel: 'cases',
      onSnapshot: (items, afterNotRecovered) => this.applyCaseSnapshot(items, afterNotRecovered),
      onDelta: (d) => this.applyCaseDelta(d),
    });
    this.sensors.onChange = () => this.drawSensors();
    this.live.subscribe({
      channel: 'devices',
      onSnapshot: (items) => this.sensors.deviceSnapshot(items),
      onDelta: (d) => this.sensors.deviceDelta(d),
    });
    this.live.subscribe({
      channel: 'alarms',
      onSnapshot: (items) => this.sensors.alarmSnapshot(items),
      onDelta: (d) => this.sensors.alarmDelta(d),
    });
    this.live.subscribe({
      channel: 'statistics',
      // The first snapshot says nothing the REST load at start does not: only a snapshot
      // after `not_recovered` (changes were missed) asks for the figures again.
      onSnapshot: (_items, afterNotRecovered) => afterNotRecovered && this.scheduleStats(),
      onDelta: () => this.scheduleStats(),
    });
    this.live.subscribe({
      channel: 'indicators',
      filter: {},
      onSnapshot: (items) => this.indicators.snapshot(items),
      onDelta: (d, _key, op) => this.indicators.delta(d, op),
    });
    this.live.start();
    this.showStatus(this.live.state);

    const blank = new URLSearchParams(location.search).get('bench') === 'blank';
    // The REST loads start while the map loads its style (they need each other only to draw).
    const city = blank ? null : this.retry(() => this.fetchCity());
    if (!blank) this.pendingDuringReload ??= [];
    const cases = blank ? null : this.retry(() => data.loadCases(this.api));
    const stats = blank ? null : this.retry(() => data.stats(this.api, 'level=street'));
    if (!blank) void this.indicators.load();
    await this.map.ready;
    if (blank) {
      // The benchmark's baseline: the page and the map's background, no data.
      this.map.map.once('idle', () => (this.probe.firstRenderMs = performance.now()));
      this.map.map.triggerRepaint();
      return;
    }
    performance.mark('wall:map-ready');
    await Promise.all([
      city!.then((c) => this.loadCity(c)),
      cases!.then((c) => this.reloadCases(c)),
      stats!.then((s) => this.refreshStats(s)),
    ]);
    performance.mark('wall:data');
    await this.retry(() => this.selectRegion(this.districtCode, false, this.districtDetail ?? undefined));
    performance.mark('wall:selected');
    const drawn = () => {
      this.probe.firstRenderMs = performance.now();
      performance.mark('wall:first-render');
      // Ready (for the tests) once the boards are drawn too.
      void this.drawBoards().then(() => {
        this.probe.ready = true;
        document.body.dataset.ready = 'true';
      });
    };
    // Everything may have been drawn already: then it is the frame MapLibre has pending, if
    // any, not one more forced (a frame costs a large part of a second in software GL).
    if (this.map.map.loaded()) requestAnimationFrame(drawn);
    else this.map.map.once('idle', drawn);
  }

  /** The district's own record (children, persons), fetched as soon as the streets name it. */
  private districtDetail: Feature | null = null;

  /** The overview boards' charts wait for the map's first full frame: on a wall that renders
   *  in software, ECharts' canvases drawn at the same time would delay it. Their figures in
   *  text (the today tiles) do not wait. ECharts itself is a chunk of its own, loaded then:
   *  the first frame does not wait for its half megabyte of script either. */
  private boardsReady = false;

  private async drawBoards(): Promise<void> {
    const { Charts } = await this.retry(() => import('./overview'));
    this.charts = new Charts(this.scale);
    this.boardsReady = true;
    this.renderToday();
    this.renderRanking();
    this.renderBreakdowns();
    await this.refreshTrend();
    this.probe.boardsMs = performance.now();
    performance.mark('wall:boards');
  }

  private districtCode = '';

  private async retry<T>(f: () => Promise<T>): Promise<T> {
    for (let wait = 500; ; wait = Math.min(wait * 2, 5000)) {
      try {
        return await f();
      } catch (e) {
        console.warn('retrying', e);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  // ---- layout -------------------------------------------------------------------------

  private layout(): void {
    this.root.innerHTML = layoutHtml(this.visible);
    $('lang').onclick = () => {
      setLanguage(currentLanguage() === 'zh' ? 'en' : 'zh');
      this.relabel();
    };
    for (const b of this.root.querySelectorAll<HTMLButtonElement>('button[data-layer]')) {
      const key = b.dataset.layer as LayerGroup;
      b.onclick = () => {
        this.visible[key] = !this.visible[key];
        b.classList.toggle('on', this.visible[key]);
        this.map.setVisible(key, this.visible[key]);
        if (key === 'keyAreas' || key === 'blindSpots') this.areas.show(key, this.visible[key]);
        if (key === 'rating') $('rating-legend').classList.toggle('hidden', !this.visible.rating);
      };
    }
    for (const b of this.root.querySelectorAll<HTMLButtonElement>('button[data-span]')) {
      b.onclick = () => {
        this.trendSpan = b.dataset.span as 'day' | 'week' | 'month';
        for (const o of this.root.querySelectorAll('button[data-span]')) o.classList.toggle('on', o === b);
        void this.refreshTrend();
      };
    }
    const source = $('filter-source') as HTMLSelectElement;
    const domain = $('filter-domain') as HTMLSelectElement;
    source.onchange = () => {
      this.feedFilter.source = source.value;
      this.renderFeed();
    };
    domain.onchange = () => {
      this.feedFilter.domain = domain.value;
      this.renderFeed();
    };
    this.wireSearch();
    this.autoScrollFeed();
  }

  /** Redraws everything with words in it after a language switch (no reload). */
  private relabel(): void {
    const selected = this.selected?.code ?? this.districtCode;
    const open = this.card.openId;
    this.layout();
    const mapEl = $('map');
    mapEl.replaceWith(this.map.map.getContainer());
    this.map.map.getContainer().id = 'map';
    this.map.map.resize();
    for (const [key, on] of Object.entries(this.visible)) this.map.setVisible(key as LayerGroup, on);
    this.areas.render();
    this.drawSensors(); // the device alarms' count (the map is given nothing new)
    this.fillFilters();
    this.renderFeed();
    this.renderToday();
    this.renderRanking();
    this.renderBreakdowns();
    this.indicators.render();
    this.showStatus(this.live.state);
    void this.selectRegion(selected, false);
    void this.refreshTrend();
    if (open !== null) void this.openCase(open);
  }

  private tickClock(): void {
    const now = new Date();
    $('clock').textContent = now.toLocaleString(currentLanguage() === 'zh' ? 'zh-CN' : 'en-GB', {
      timeZone: 'Asia/Shanghai',
      hour12: false,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  private showStatus(s: LiveStatus): void {
    this.probe.liveStatus = s;
    const el = document.getElementById('live-status');
    if (!el) return;
    el.className = `live-status ${s}`;
    el.textContent = s === 'live' ? t('live') : s === 'reconnecting' ? t('reconnecting') : t('connecting');
    document.body.dataset.live = s;
  }

  // ---- loading ------------------------------------------------------------------------

  /** Everything the map draws, fetched in parallel and handed to the map at once (each
   *  source change costs a redraw, which is slow on a software-rendered wall). */
  private fetchCity() {
    const streets = data.regions(this.api, 'street');
    // The district's record, asked for as soon as the streets name it (selected at start).
    const district = streets
      .then((s) => this.api.get<Feature>(`/api/regions/${encodeURIComponent(String(s.features[0]?.properties?.parent))}`))
      .then((d) => (this.districtDetail = d))
      .catch(() => null);
    return Promise.all([
        streets,
        data.regions(this.api, 'village'),
        data.regions(this.api, 'grid'),
        data.layer(this.api, 'cameras'),
        data.layer(this.api, 'hospitals'),
        data.layer(this.api, 'fire_stations'),
        data.layer(this.api, 'shelters'),
        data.layer(this.api, 'key_areas'),
        data.layer(this.api, 'blind_spots'),
        data.devices(this.api).catch(() => [] as Device[]),
        district,
      ]);
  }

  private loadCity([streets, villages, grids, cameras, hospitals, fire, shelters, keyAreas, blind, devices]: Awaited<
    ReturnType<Wall['fetchCity']>
  >): void {
    // The district is the streets' parent (its own shape comes with its selection).
    this.districtCode = String(streets.features[0]?.properties?.parent ?? '330304');
    this.indicators.district = this.districtCode;
    this.regionsByParent.clear();
    for (const f of [...streets.features, ...villages.features, ...grids.features]) {
      const parent = String(f.properties?.parent ?? '');
      const list = this.regionsByParent.get(parent) ?? [];
      list.push(f);
      this.regionsByParent.set(parent, list);
    }
    // The district in view before anything is drawn: moving the camera afterwards would
    // cost every layer another frame.
    this.map.fit(bounds({ type: 'MultiPolygon', coordinates: streets.features.flatMap((f) => rings(f.geometry)) }), this.regionPadding(), 0);
    this.districtFitted = true;
    this.map.set('streets', streets);
    this.map.set('villages', villages);
    this.map.set('grids', grids);
    this.cameras = cameras;
    this.resources = { type: 'FeatureCollection', features: [...hospitals.features, ...fire.features, ...shelters.features] };
    this.devices = devices;
    this.map.set('cameras', cameras);
    this.map.set('resources', this.resources);
    this.map.set('key-areas', keyAreas);
    this.map.set('blind-spots', blind);
    this.areas.show('keyAreas', this.visible.keyAreas);
    this.areas.show('blindSpots', this.visible.blindSpots);
    this.areas.set(keyAreas, blind);
    this.sensors.register(devices);
    this.drawSensors();
    for (const [key, on] of Object.entries(this.visible)) this.map.setVisible(key as LayerGroup, on);
  }

  /** Devices by health and the active device alarms, on the map and in the today panel. */
  private drawSensors(): void {
    // A stream's snapshot often repeats what REST loaded: only what changed is redrawn.
    for (const [source, collection] of [
      ['devices', this.sensors.deviceCollection()],
      ['alarms', this.sensors.alarmCollection()],
    ] as const) {
      const text = JSON.stringify(collection);
      if (this.drawn.get(source) === text) continue;
      this.drawn.set(source, text);
      this.map.set(source, collection);
    }
    $('today-alarms').textContent = String(this.sensors.activeAlarms().length);
  }

  private async reloadCases(loaded?: Case[]): Promise<void> {
    this.pendingDuringReload ??= [];
    const cases = loaded ?? (await data.loadCases(this.api));
    this.store.replace(cases);
    for (const c of this.pendingDuringReload) this.store.upsert(c, false);
    this.pendingDuringReload = null;
    this.fillFilters();
    this.renderBreakdowns();
  }

  private fillFilters(): void {
    const sources = new Map<string, string>();
    const domains = new Map<string, string>();
    for (const c of this.store.byId.values()) {
      sources.set(c.source, c.source_name ?? c.source);
      const d = domainOf(c);
      domains.set(d.code, d.name);
    }
    const fill = (id: string, all: string, entries: Map<string, string>, value: string) => {
      const el = $(id) as HTMLSelectElement;
      el.innerHTML =
        `<option value="">${all}</option>` +
        [...entries].sort().map(([k, v]) => `<option value="${esc(k)}">${esc(v)}</option>`).join('');
      el.value = value;
    };
    fill('filter-source', t('allSources'), sources, this.feedFilter.source);
    fill('filter-domain', t('allDomains'), domains, this.feedFilter.domain);
  }

  // ---- live ---------------------------------------------------------------------------

  /** The stream's snapshot holds the newest 500 cases: merged into what REST loaded. After
   *  `not_recovered` the wall's whole state is reloaded, and the snapshot applied over it. */
  private applyCaseSnapshot(items: unknown[], afterNotRecovered: boolean): void {
    const cases = items.filter((c): c is Case => typeof (c as Case)?.id === 'number');
    if (afterNotRecovered) {
      this.pendingDuringReload = [...cases];
      void this.retry(() => this.reloadCases());
      return;
    }
    for (const c of cases) this.store.upsert(c, false);
  }

  private applyCaseDelta(d: unknown): void {
    const c = d as Case | null;
    if (!c || typeof c.id !== 'number' || typeof c.status !== 'string') return;
    this.pendingDuringReload?.push(c);
    this.store.upsert(c);
  }

  /** Cases the stream delivered while a REST reload ran: applied again over its answer. */
  private pendingDuringReload: Case[] | null = null;

  private scheduleStats(): void {
    if (this.statsTimer) return;
    this.statsTimer = setTimeout(() => {
      this.statsTimer = null;
      void this.refreshStats().then(() => this.selected && this.renderRegion());
    }, 1500);
  }

  private async refreshStats(loaded?: Stats): Promise<void> {
    this.streetStats = loaded ?? (await data.stats(this.api, 'level=street'));
    this.renderToday();
    this.renderRanking();
    this.renderBreakdowns();
    if (this.selected?.level === 'district') this.renderChildLabels();
  }

  // ---- panels -------------------------------------------------------------------------

  private renderToday(): void {
    const s = this.streetStats?.totals;
    if (!s) return;
    const b = s.by_status;
    $('today-new').textContent = String(s.today.created);
    $('today-progress').textContent = String((b.dispatched ?? 0) + (b.accepted ?? 0) + (b.in_progress ?? 0));
    $('today-closed').textContent = String(s.today.closed);
    $('today-overdue').textContent = String(s.overdue);
    const today = localDay(new Date());
    let complaints = 0;
    for (const c of this.store.byId.values())
      if (c.source === 'hotline-12345' && localDay(new Date(c.created_at)) === today) complaints++;
    $('today-complaints').textContent = String(complaints);
    if (!this.boardsReady) return;
    this.charts.gauge($('chart-ontime'), t('onTime'), s.on_time_closure.percent, '#36cfc9');
    this.charts.gauge($('chart-satisfaction'), t('satisfaction'), s.satisfaction.percent, '#ffd666');
  }

  private renderRanking(): void {
    if (!this.boardsReady) return;
    const regions = [...(this.streetStats?.regions ?? [])].sort((a, b) => b.open - a.open);
    this.charts.bars(
      $('chart-ranking'),
      regions.map((r) => r.name),
      regions.map((r) => r.open),
      '#40a9ff',
    );
  }

  private renderBreakdowns(): void {
    if (!this.boardsReady) return;
    const byDomain = new Map<string, number>();
    const bySource = new Map<string, number>();
    for (const c of this.store.byId.values()) {
      const d = domainOf(c).name;
      byDomain.set(d, (byDomain.get(d) ?? 0) + 1);
      const s = c.source_name ?? c.source;
      bySource.set(s, (bySource.get(s) ?? 0) + 1);
    }
    this.charts.pie(
      $('chart-category'),
      [...byDomain].sort((a, b) => b[1] - a[1]).map(([name, value]) => ({ name, value })),
    );
    const sources = [...bySource].sort((a, b) => b[1] - a[1]);
    this.charts.bars(
      $('chart-source'),
      sources.map(([n]) => n),
      sources.map(([, v]) => v),
      '#36cfc9',
    );
  }

  private async refreshTrend(): Promise<void> {
    if (!this.boardsReady) return;
    const span = this.trendSpan;
    const now = new Date();
    const buckets: { label: string; from: Date; to: Date }[] = [];
    const midnight = new Date(`${localDay(now)}T00:00:00+08:00`);
    if (span === 'day') {
      for (let i = 13; i >= 0; i--) {
        const from = new Date(midnight.getTime() - i * 86400000);
        buckets.push({ label: localDay(from).slice(5), from, to: new Date(from.getTime() + 86400000) });
      }
    } else if (span === 'week') {
      const weekday = (new Date(midnight.getTime() + 8 * 3600000).getUTCDay() + 6) % 7;
      const monday = new Date(midnight.getTime() - weekday * 86400000);
      for (let i = 7; i >= 0; i--) {
        const from = new Date(monday.getTime() - i * 7 * 86400000);
        buckets.push({ label: localDay(from).slice(5), from, to: new Date(from.getTime() + 7 * 86400000) });
      }
    } else {
      const [y, m] = localDay(now).split('-').map(Number);
      for (let i = 5; i >= 0; i--) {
        const month = new Date(Date.UTC(y, m - 1 - i, 1));
        const next = new Date(Date.UTC(y, m - i, 1));
        const label = `${month.getUTCFullYear()}-${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
        buckets.push({
          label: label.slice(2),
          from: new Date(`${label}-01T00:00:00+08:00`),
          to: new Date(`${next.getUTCFullYear()}-${String(next.getUTCMonth() + 1).padStart(2, '0')}-01T00:00:00+08:00`),
        });
      }
    }
    try {
      const all = await Promise.all(
        buckets.map((b) =>
          data.stats(this.api, `level=street&from=${encodeURIComponent(b.from.toISOString())}&to=${encodeURIComponent(b.to.toISOString())}`),
        ),
      );
      if (span !== this.trendSpan) return;
      const zh = currentLanguage() === 'zh';
      this.charts.trend(
        $('chart-trend'),
        buckets.map((b) => b.label),
        all.map((s) => s.totals.total),
        all.map((s) => s.totals.closed),
        zh ? ['新增', '已办结'] : ['created', 'closed'],
      );
    } catch (e) {
      console.warn('trend', e);
    }
  }

  // ---- feed ---------------------------------------------------------------------------

  private feedTimer: ReturnType<typeof setTimeout> | null = null;
  private feedLast = 0;
  private feedPending: Case[] = [];

  /** Redraws the feed at most twice a second however fast cases change (the first change
   *  after a quiet spell is shown at once). */
  private feedChanged(changed: Case[]): void {
    this.feedPending.push(...changed);
    if (this.feedTimer) return;
    const wait = Math.max(0, this.feedLast + 500 - performance.now());
    this.feedTimer = setTimeout(() => {
      this.feedTimer = null;
      this.feedLast = performance.now();
      const pending = this.feedPending;
      this.feedPending = [];
      this.renderFeed(pending);
    }, wait);
  }

  /** The newest 80 cases that pass the filters: one pass, whatever the number of cases. */
  private newest(limit: number): Case[] {
    const { source, domain } = this.feedFilter;
    const top: Case[] = [];
    for (const c of this.store.byId.values()) {
      if (top.length === limit && c.id <= top[limit - 1].id) continue;
      if ((source && c.source !== source) || (domain && domainOf(c).code !== domain)) continue;
      let i = top.length;
      while (i > 0 && top[i - 1].id < c.id) i--;
      top.splice(i, 0, c);
      if (top.length > limit) top.pop();
    }
    return top;
  }

  private renderFeed(changed: Case[] = []): void {
    const list = document.getElementById('feed');
    if (!list) return;
    const cases = this.newest(80);
    const fresh = new Set(changed.map((c) => c.id));
    list.innerHTML = cases
      .map(
        (c) => `<li data-case="${c.id}" data-test="feed-item" data-source="${esc(c.source)}" data-domain="${esc(domainOf(c).code)}" class="${fresh.has(c.id) ? 'fresh' : ''} ${c.overdue ? 'overdue' : ''}">
          <span class="time">${hhmm(c.created_at)}</span>
          <span class="urg ${esc(c.urgency)}">${esc(urgencyName(c.urgency))}</span>
          <span class="what">${esc(c.title ?? (c.category.name ?? c.category.code))}<small>${esc([c.street?.name, c.source_name ?? c.source].filter(Boolean).join(' · '))}</small></span>
          <span class="st st-${esc(c.status)}">${esc(statusName(c.status))}</span>
        </li>`,
      )
      .join('');
    for (const li of list.querySelectorAll<HTMLLIElement>('li[data-case]'))
      li.onclick = () => void this.openCase(Number(li.dataset.case));
    if (changed.length) list.scrollTop = 0;
  }

  /** The feed scrolls by itself, one row every few seconds, and starts over at the end. */
  private autoScrollFeed(): void {
    const list = $('feed');
    let hover = false;
    list.onmouseenter = () => (hover = true);
    list.onmouseleave = () => (hover = false);
    setInterval(() => {
      const el = document.getElementById('feed');
      if (!el || hover) return;
      const row = el.querySelector('li')?.getBoundingClientRect().height ?? 40;
      if (el.scrollTop + el.clientHeight >= el.scrollHeight - 2) el.scrollTo({ top: 0 });
      else el.scrollBy({ top: row, behavior: 'smooth' });
    }, 3500);
  }

  openCase(id: number): Promise<void> {
    return this.card.open(id);
  }

  // ---- drill-down ---------------------------------------------------------------------

  async selectRegion(code: string, fit = true, known?: Feature): Promise<void> {
    const region = known ?? (await this.api.get<Feature>(`/api/regions/${encodeURIComponent(code)}`));
    const props = region.properties as unknown as RegionProps;
    this.selected = { level: props.level, code: props.code, props, geometry: region.geometry };
    this.map.highlight(props.level === 'district' ? null : region.geometry);
    this.map.setClickable(CHILD[props.level], props.level === 'grid' ? [] : (this.regionsByParent.get(props.code) ?? []));
    // Room for the region panel above and the layer switches below.
    if (fit) this.map.fit(bounds(region.geometry), this.regionPadding(), 600);
    else if (props.level === 'district' && !this.districtFitted) this.map.fit(bounds(region.geometry), this.regionPadding(), 0);
    this.renderBreadcrumb();
    await this.renderRegion();
  }

  /** Whether the map shows the district as it does at start (done once, by loadCity). */
  private districtFitted = false;

  /** Room for the region panel above and the layer switches below. */
  private regionPadding() {
    const k = this.scale;
    return { top: Math.round(230 * k), bottom: Math.round(110 * k), left: Math.round(40 * k), right: Math.round(40 * k) };
  }

  private renderBreadcrumb(): void {
    const sel = this.selected;
    if (!sel) return;
    const trail = [...(sel.props.ancestors ?? []), { code: sel.code, name: sel.props.name, level: sel.level }];
    const nav = $('breadcrumb');
    nav.innerHTML = trail
      .map((r, i) =>
        i === trail.length - 1
          ? `<span class="here">${esc(r.name)}</span>`
          : `<a data-code="${esc(r.code)}">${esc(r.name)}</a><i>›</i>`,
      )
      .join('');
    for (const a of nav.querySelectorAll<HTMLAnchorElement>('a[data-code]'))
      a.onclick = () => void this.selectRegion(a.dataset.code ?? '');
  }

  private async renderRegion(): Promise<void> {
    const sel = this.selected;
    if (!sel) return;
    const { level, code, props, geometry } = sel;
    let summary = this.streetStats?.totals ?? null;
    if (level !== 'district') {
      const s = await data.stats(this.api, `level=${level}&region=${code}`);
      summary = s.regions.find((r) => r.code === code) ?? s.totals;
    }
    const inRegion =
      level === 'district' ? this.devices : await data.devices(this.api, code).catch(() => [] as Device[]);
    const devices = inRegion.length;
    let abnormal = 0;
    let offline = 0;
    for (const d of inRegion) {
      const h = this.sensors.health(d.id);
      if (h === 'abnormal' || h === 'warning') abnormal++;
      else if (h === 'offline') offline++;
    }
    const cameras =
      level === 'district'
        ? this.cameras.features.length
        : this.cameras.features.filter((f) => String(f.properties?.grid ?? '').startsWith(code)).length;
    const inside = (f: Feature) =>
      level === 'district' ||
      (level === 'street'
        ? f.properties?.street === code
        : contains(geometry, (f.geometry as unknown as { coordinates: [number, number] }).coordinates));
    const resources = { hospital: 0, fire_station: 0, shelter: 0 } as Record<string, number>;
    for (const f of this.resources.features) if (inside(f)) resources[String(f.properties?.kind)] = (resources[String(f.properties?.kind)] ?? 0) + 1;
    if (this.selected?.code !== code) return;
    const levelName = t(level);
    const zh = currentLanguage() === 'zh';
    $('region').innerHTML = `
      <h2><span class="lvl">${levelName}</span><span id="region-name">${esc(props.name)}</span><small>${esc(code)}</small></h2>
      <div class="persons">${
        props.persons.length
          ? props.persons
              .map((p) => `<span><em>${esc(p.role)}</em>${p.name ? esc(p.name) : `<i class="muted">${t('unassigned')}</i>`}</span>`)
              .join('')
          : `<span class="muted">${t('persons')}: ${t('none')}</span>`
      }</div>
      ${this.indicators.regionHtml(code)}
      <div class="counts">
        <div><b data-count="open">${summary?.open ?? '—'}</b><span>${t('openCases')}</span></div>
        <div class="alert"><b data-count="overdue">${summary?.overdue ?? '—'}</b><span>${t('overdueCases')}</span></div>
        <div><b data-count="devices">${devices}</b><span>${t('devices')}<small data-count="devices-health">${t('devicesAbnormal')} ${abnormal} · ${t('healthOffline')} ${offline}</small></span></div>
        <div><b data-count="cameras">${cameras}</b><span>${t('cameras')}</span></div>
        <div><b data-count="resources">${resources.hospital + resources.fire_station + resources.shelter}</b><span>${t('resources')}<small>${
          zh
            ? `医院${resources.hospital} · 消防${resources.fire_station} · 避灾${resources.shelter}`
            : `hosp ${resources.hospital} · fire ${resources.fire_station} · shelter ${resources.shelter}`
        }</small></span></div>
      </div>`;
    this.indicators.renderRegion();
    await this.renderChildLabels();
  }

  /** Names of the children of the region in view, with their open and new-today counts. */
  private async renderChildLabels(): Promise<void> {
    const sel = this.selected;
    if (!sel) return;
    const childLevel = CHILD[sel.level];
    if (sel.level === 'grid') {
      this.map.setLabels([]);
      return;
    }
    let rows: Stats['regions'];
    if (sel.level === 'district' && this.streetStats) rows = this.streetStats.regions;
    else rows = (await data.stats(this.api, `level=${childLevel}&region=${sel.code}`)).regions;
    if (this.selected !== sel) return;
    const byCode = new Map(rows.map((r) => [r.code, r]));
    const children = sel.props.children ?? [];
    const zh = currentLanguage() === 'zh';
    const ranked = [...children].sort((a, b) => (byCode.get(b.code)?.open ?? 0) - (byCode.get(a.code)?.open ?? 0));
    this.map.setLabels(
      ranked.map((c) => {
        const r = byCode.get(c.code);
        const counts = r
          ? `<small>${zh ? '今日' : 'today '}${r.today.created} · ${zh ? '未结' : 'open '}${r.open}${r.overdue ? ` · <em>${zh ? '超期' : 'overdue '}${r.overdue}</em>` : ''}</small>`
          : '';
        return { at: c.centre, html: `<b>${esc(c.name)}</b>${counts}`, className: `lvl-${childLevel}` };
      }),
    );
  }

  private wireSearch(): void {
    const input = $('search') as HTMLInputElement;
    const results = $('search-results');
    let timer: ReturnType<typeof setTimeout> | null = null;
    input.oninput = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = input.value.trim();
        if (!q) {
          results.innerHTML = '';
          return;
        }
        const answer = await this.api.get<{ results: { code: string; name: string; level: Level; path: string }[] }>(
          `/api/search?q=${encodeURIComponent(q)}&limit=8`,
        );
        results.innerHTML = answer.results
          .map((r) => `<li data-code="${esc(r.code)}" data-test="search-result"><b>${esc(r.name)}</b><small>${esc(t(r.level))} · ${esc(r.path)}</small></li>`)
          .join('');
        for (const li of results.querySelectorAll<HTMLLIElement>('li[data-code]'))
          li.onclick = () => {
            results.innerHTML = '';
            input.value = '';
            void this.selectRegion(li.dataset.code ?? '');
          };
      }, 200);
    };
  }
}
