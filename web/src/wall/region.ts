// The drill-down: the region in view (district, street, village or grid), its breadcrumb,
// its panel of people and counts, its children's names and counts on the map, and the
// search that jumps to any region by name or code.

import type { Api } from '../shared/api';
import { currentLanguage } from '../shared/language';
import * as data from './data';
import { $, esc } from './dom';
import { bounds, contains } from './geometry';
import type { Indicators } from './indicators';
import type { WallMap } from './map';
import type { SensorStore } from './sensors';
import type { City, Device, Feature, Geometry, Level, RegionProps, Stats } from './types';
import { t } from './words';

const CHILD: Record<Level, Level> = { district: 'street', street: 'village', village: 'grid', grid: 'grid' };

export interface Selected {
  level: Level;
  code: string;
  props: RegionProps;
  geometry: Geometry;
}

export class Drilldown {
  selected: Selected | null = null;
  /** Whether the map shows the district as it does at start (done once, by the wall's
   *  first load). */
  districtFitted = false;

  constructor(
    private readonly api: Api,
    private readonly map: WallMap,
    private readonly city: City,
    private readonly sensors: SensorStore,
    private readonly indicators: Indicators,
    private readonly scale: number,
  ) {}

  /** Shows the region `code` (its record is fetched unless `known`), moving the map to it
   *  when `fit`. */
  async select(code: string, fit = true, known?: Feature): Promise<void> {
    const region = known ?? (await this.api.get<Feature>(`/api/regions/${encodeURIComponent(code)}`));
    const props = region.properties as unknown as RegionProps;
    this.selected = { level: props.level, code: props.code, props, geometry: region.geometry };
    this.map.highlight(props.level === 'district' ? null : region.geometry);
    this.map.setClickable(CHILD[props.level], props.level === 'grid' ? [] : (this.city.regionsByParent.get(props.code) ?? []));
    if (fit) this.map.fit(bounds(region.geometry), this.padding(), 600);
    else if (props.level === 'district' && !this.districtFitted) this.map.fit(bounds(region.geometry), this.padding(), 0);
    this.renderBreadcrumb();
    await this.render();
  }

  /** Room for the region panel above and the layer switches below. */
  padding() {
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
      a.onclick = () => void this.select(a.dataset.code ?? '');
  }

  /** The region panel: who is in charge, the indicators, and the counts inside it. */
  async render(): Promise<void> {
    const sel = this.selected;
    if (!sel) return;
    const { level, code, props, geometry } = sel;
    let summary = this.city.streetStats?.totals ?? null;
    if (level !== 'district') {
      const s = await data.stats(this.api, `level=${level}&region=${code}`);
      summary = s.regions.find((r) => r.code === code) ?? s.totals;
    }
    const inRegion =
      level === 'district' ? this.city.devices : await data.devices(this.api, code).catch(() => [] as Device[]);
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
        ? this.city.cameras.features.length
        : this.city.cameras.features.filter((f) => String(f.properties?.grid ?? '').startsWith(code)).length;
    const inside = (f: Feature) =>
      level === 'district' ||
      (level === 'street'
        ? f.properties?.street === code
        : contains(geometry, (f.geometry as unknown as { coordinates: [number, number] }).coordinates));
    const resources = { hospital: 0, fire_station: 0, shelter: 0 } as Record<string, number>;
    for (const f of this.city.resources.features)
      if (inside(f)) resources[String(f.properties?.kind)] = (resources[String(f.properties?.kind)] ?? 0) + 1;
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
        <div class="alert"><b data-count="overdue">${summary?.overdue_open ?? '—'}</b><span>${t('overdueCases')}</span></div>
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
  async renderChildLabels(): Promise<void> {
    const sel = this.selected;
    if (!sel) return;
    const childLevel = CHILD[sel.level];
    if (sel.level === 'grid') {
      this.map.setLabels([]);
      return;
    }
    let rows: Stats['regions'];
    if (sel.level === 'district' && this.city.streetStats) rows = this.city.streetStats.regions;
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
          ? `<small>${zh ? '今日' : 'today '}${r.today.created} · ${zh ? '未结' : 'open '}${r.open}${r.overdue_open ? ` · <em>${zh ? '超期' : 'overdue '}${r.overdue_open}</em>` : ''}</small>`
          : '';
        return { at: c.centre, html: `<b>${esc(c.name)}</b>${counts}`, className: `lvl-${childLevel}` };
      }),
    );
  }
}

/** Hooks up the region search of a freshly laid-out page: a pick goes to `pick`. */
export function wireSearch(api: Api, pick: (code: string) => void): void {
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
      const answer = await api.get<{ results: { code: string; name: string; level: Level; path: string }[] }>(
        `/api/search?q=${encodeURIComponent(q)}&limit=8`,
      );
      results.innerHTML = answer.results
        .map((r) => `<li data-code="${esc(r.code)}" data-test="search-result"><b>${esc(r.name)}</b><small>${esc(t(r.level))} · ${esc(r.path)}</small></li>`)
        .join('');
      for (const li of results.querySelectorAll<HTMLLIElement>('li[data-code]'))
        li.onclick = () => {
          results.innerHTML = '';
          input.value = '';
          pick(li.dataset.code ?? '');
        };
    }, 200);
  };
}
