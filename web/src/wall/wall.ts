// The wall: lays out the screen, loads the city and its cases, and wires the live stream
// to the map and the panels. The panels are modules of their own: the feed (feed.ts), the
// overview boards (boards.ts), the drill-down and search (region.ts), the case card
// (card.ts), the indicators (indicators.ts), the catalogue's tiles and the indicator detail
// (catalogue.ts, detail.ts) and the lists of areas (areas.ts).

import type { Api } from '../shared/api';
import { currentLanguage, setLanguage, type Language } from '../shared/language';
import type { LiveClient, LiveStatus } from '../shared/live/client';
import { AreaList } from './areas';
import { Boards } from './boards';
import { CaseCard } from './card';
import { CatalogueTiles } from './catalogue';
import { CaseStore } from './cases';
import * as data from './data';
import { $ } from './dom';
import { Feed } from './feed';
import { bounds, rings } from './geometry';
import { Indicators } from './indicators';
import { layoutHtml } from './layout';
import { connect } from './live';
import { type Basemap, CLUSTER_ABOVE, type LayerGroup, WallMap } from './map';
import { Drilldown, wireSearch } from './region';
import { SensorStore } from './sensors';
import type { Case, City, Feature, Level, Stats } from './types';
import { t } from './words';

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

export class Wall {
  private readonly store = new CaseStore();
  private map!: WallMap;
  private live!: LiveClient;
  private readonly scale = Math.max(0.5, window.innerWidth / 1920);
  private readonly city: City = {
    districtCode: '',
    regionsByParent: new Map(),
    cameras: { type: 'FeatureCollection', features: [] },
    resources: { type: 'FeatureCollection', features: [] },
    devices: [],
    streetStats: null,
  };
  private readonly sensors = new SensorStore();
  private readonly feed = new Feed(this.store, (id) => void this.openCase(id));
  private readonly boards: Boards;
  private drilldown!: Drilldown;
  private card!: CaseCard;
  private areas!: AreaList;
  private indicators!: Indicators;
  private readonly catalogue: CatalogueTiles;
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
    this.boards = new Boards(api, this.store, this.scale, () => this.city.streetStats);
    this.catalogue = new CatalogueTiles(api, root, () => this.indicators);
    this.probe = {
      ready: false,
      firstRenderMs: null,
      boardsMs: null,
      liveStatus: 'connecting',
      store: this.store,
      sensors: this.sensors,
      map: undefined as unknown as WallMap,
      selected: () => {
        const s = this.drilldown?.selected;
        return s ? { level: s.level, code: s.code } : null;
      },
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
    this.indicators.openAlarms = () => this.catalogue.openAlarms();
    this.drilldown = new Drilldown(this.api, this.map, this.city, this.sensors, this.indicators, this.scale);
    this.map.caseClick = (id) => void this.openCase(id);
    this.store.onReplace = (all) => {
      this.map.clusterCases(all.features.length > CLUSTER_ABOVE);
      this.map.set('cases', all);
      this.feed.render();
    };
    this.store.onDiff = (diff, changed) => {
      this.map.clusterCases(this.store.byId.size > CLUSTER_ABOVE);
      this.map.update('cases', diff);
      this.feed.changed(changed);
      this.scheduleStats();
    };
    this.store.onFresh = (fresh) => this.map.setFresh(fresh);
    setInterval(() => this.store.onFresh(this.store.freshCollection()), 2000);
    setInterval(() => this.tickClock(), 1000);
    this.tickClock();

    // The live stream starts at once; the first state comes over REST, retried until the
    // server answers (it may be restarting).
    this.sensors.onChange = () => this.drawSensors();
    this.live = connect(this.api, {
      caseSnapshot: (items, afterNotRecovered) => this.applyCaseSnapshot(items, afterNotRecovered),
      caseDelta: (d) => this.applyCaseDelta(d),
      sensors: this.sensors,
      indicators: this.indicators,
      catalogue: this.catalogue,
      statsChanged: () => this.scheduleStats(),
      status: (s) => this.showStatus(s),
    });
    this.showStatus(this.live.state);

    const blank = new URLSearchParams(location.search).get('bench') === 'blank';
    // The REST loads start while the map loads its style (they need each other only to draw).
    const city = blank ? null : data.retry(() => data.city(this.api));
    if (!blank) this.pendingDuringReload ??= [];
    const cases = blank ? null : data.retry(() => data.loadCases(this.api));
    const stats = blank ? null : data.retry(() => data.stats(this.api, 'level=street'));
    if (!blank) void Promise.all([this.indicators.load(), this.catalogue.load()]);
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
    await data.retry(() => this.selectRegion(this.city.districtCode, false, this.districtDetail ?? undefined));
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
    this.map.whenDrawn(drawn);
  }

  /** The district's own record (children, persons), fetched as soon as the streets name it. */
  private districtDetail: Feature | null = null;

  /** The overview boards' charts wait for the map's first full frame: on a wall that renders
   *  in software, ECharts' canvases drawn at the same time would delay it. Their figures in
   *  text (the today tiles) do not wait. ECharts itself is a chunk of its own, loaded then:
   *  the first frame does not wait for its half megabyte of script either. */
  private async drawBoards(): Promise<void> {
    await this.boards.draw();
    this.probe.boardsMs = performance.now();
    performance.mark('wall:boards');
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
    this.boards.wire(this.root);
    this.feed.wire();
    wireSearch(this.api, (code) => void this.selectRegion(code));
  }

  /** Redraws everything with words in it after a language switch (no reload). */
  private relabel(): void {
    const selected = this.drilldown.selected?.code ?? this.city.districtCode;
    const open = this.card.openId;
    this.layout();
    const mapEl = $('map');
    mapEl.replaceWith(this.map.map.getContainer());
    this.map.map.getContainer().id = 'map';
    this.map.map.resize();
    for (const [key, on] of Object.entries(this.visible)) this.map.setVisible(key as LayerGroup, on);
    this.areas.render();
    this.drawSensors(); // the device alarms' count (the map is given nothing new)
    this.feed.fillFilters();
    this.feed.render();
    this.boards.render();
    this.indicators.render();
    this.catalogue.render();
    this.showStatus(this.live.state);
    void this.selectRegion(selected, false);
    void this.boards.refreshTrend();
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

  /** Hands everything the map draws to it at once (each source change costs a redraw,
   *  which is slow on a software-rendered wall). */
  private loadCity([streets, villages, grids, cameras, hospitals, fire, shelters, keyAreas, blind, devices, district]: data.CityLayers): void {
    this.districtDetail = district;
    // The district is the streets' parent (its own shape comes with its selection).
    const city = this.city;
    city.districtCode = String(streets.features[0]?.properties?.parent ?? '330304');
    this.indicators.district = city.districtCode;
    city.regionsByParent.clear();
    for (const f of [...streets.features, ...villages.features, ...grids.features]) {
      const parent = String(f.properties?.parent ?? '');
      const list = city.regionsByParent.get(parent) ?? [];
      list.push(f);
      city.regionsByParent.set(parent, list);
    }
    // The district in view before anything is drawn: moving the camera afterwards would
    // cost every layer another frame.
    this.map.fit(bounds({ type: 'MultiPolygon', coordinates: streets.features.flatMap((f) => rings(f.geometry)) }), this.drilldown.padding(), 0);
    this.drilldown.districtFitted = true;
    this.map.set('streets', streets);
    this.map.set('villages', villages);
    this.map.set('grids', grids);
    city.cameras = cameras;
    city.resources = { type: 'FeatureCollection', features: [...hospitals.features, ...fire.features, ...shelters.features] };
    city.devices = devices;
    this.map.set('cameras', cameras);
    this.map.set('resources', city.resources);
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
    this.feed.fillFilters();
    this.boards.renderBreakdowns();
  }

  // ---- live ---------------------------------------------------------------------------

  /** The stream's snapshot holds the newest 500 cases: merged into what REST loaded. After
   *  `not_recovered` the wall's whole state is reloaded, and the snapshot applied over it. */
  private applyCaseSnapshot(items: unknown[], afterNotRecovered: boolean): void {
    const cases = items.filter((c): c is Case => typeof (c as Case)?.id === 'number');
    if (afterNotRecovered) {
      this.pendingDuringReload = [...cases];
      void data.retry(() => this.reloadCases());
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
      void this.refreshStats().then(() => this.drilldown.render());
    }, 1500);
  }

  private async refreshStats(loaded?: Stats): Promise<void> {
    this.city.streetStats = loaded ?? (await data.stats(this.api, 'level=street'));
    this.boards.render();
    if (this.drilldown.selected?.level === 'district') void this.drilldown.renderChildLabels();
  }

  openCase(id: number): Promise<void> {
    return this.card.open(id);
  }

  selectRegion(code: string, fit = true, known?: Feature): Promise<void> {
    return this.drilldown.select(code, fit, known);
  }
}
