// The wall's catalogue tiles ("领域指标"): the published indicators of one domain the
// commander picks (remembered by this screen), or those alarming now of every domain; a
// tile per indicator with the district's latest value and unit, coloured by the worst open
// alarm of the indicator in the wall's scope, alarmed ones first. A click on any tile, these
// and the computed ones of the overview board, opens the indicator's detail (detail.ts).
// The open alarms kept here are also the today panel's count (indicators.ts).
//
// Live: a `value:<indicator>:<region>` entry of the `indicators` channel updates the tile
// (an indicator the wall has not seen yet is read from the catalogue, so that one created
// and published meanwhile appears), an `alarm:<indicator>:<region>` entry recolours it.
// A `catalogue:<indicator>` entry (created, changed, published, withdrawn, deleted) reads
// the entry again: a withdrawn or deleted one leaves the wall.

import { type Api, ApiError } from '../shared/api';
import { currentLanguage } from '../shared/language';
import {
  DOMAINS,
  type CatalogueEntry,
  type Domain,
  type IndicatorAnswer,
  type StoredValue,
  domainName,
  formatNumber,
  indicatorName,
  periodLabel,
} from '../shared/catalogue';
import { IndicatorDetail } from './detail';
import { esc } from './dom';
import type { Indicators } from './indicators';
import './catalogue.css';

type Level = 'yellow' | 'red';
/** `alarmed`: the indicators alarming now, of every domain. */
type Pick = Domain | 'alarmed';

const STORAGE = 'cockpit.wall.catalogue-domain';
/** Tiles shown at most (two rows: the feed above keeps its room); the rest are counted. */
const SHOWN = 6;

const WORDS = {
  zh: { title: '领域指标', alarmed: '告警中的指标', none: '暂无已发布指标', calm: '当前无指标告警', more: '另有 {n} 项', noData: '无数据' },
  en: { title: 'Domain indicators', alarmed: 'Alarming now', none: 'No published indicator', calm: 'No indicator alarming', more: '{n} more', noData: 'no data' },
};
const word = (k: keyof (typeof WORDS)['zh']) => WORDS[currentLanguage()][k];

/** The panel, for the layout (filled by `render`). */
export function catalogueHtml(): string {
  return `<section class="panel catalogue-panel" data-test="catalogue-panel">
    <h2><span id="catalogue-title">${esc(word('title'))}</span><select id="catalogue-domain" data-test="catalogue-domain"></select></h2>
    <div id="catalogue-tiles" class="cat-tiles" data-test="catalogue-tiles"></div>
  </section>`;
}

/** The pick this screen kept; public security (社会治安) on a wall that has none. */
function saved(): Pick {
  const pick = localStorage.getItem(STORAGE);
  return pick === 'alarmed' || DOMAINS.includes(pick as Domain) ? (pick as Pick) : 'public_security';
}

/** `f`'s answer, asked again while the server cannot answer (it may be restarting); null
 *  when it refuses (this user may not read the catalogue: the panel stays empty). */
async function patiently<T>(f: () => Promise<T>): Promise<T | null> {
  for (let wait = 500; ; wait = Math.min(wait * 2, 5000)) {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) return null;
      console.warn('retrying', e);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

function rank(level: Level | undefined): number {
  return level === 'red' ? 2 : level === 'yellow' ? 1 : 0;
}

export class CatalogueTiles {
  private readonly entries = new Map<string, CatalogueEntry>();
  /** The district's newest value per indicator (null: none stored). */
  private readonly latest = new Map<string, StoredValue | null>();
  /** Indicators read and found unpublished (the computed ones among them, whose values
   *  stream all day): not read again until a `catalogue:` entry says they changed. */
  private readonly unshown = new Set<string>();
  /** Indicators being asked for (`learn`), and whether to ask again once the answer is in
   *  (something changed meanwhile): one request at a time each, however many of their
   *  values come (at midnight the computed ones send thousands at once), and never an
   *  answer read before a change taken as the last word. */
  private readonly learning = new Map<string, boolean>();
  /** How many `catalogue:` entries came: a list read meanwhile is read again. */
  private catalogueChanges = 0;
  /** Open alarm levels: indicator → region → level (every open alarm the viewer may see). */
  private readonly alarms = new Map<string, Map<string, Level>>();
  /** Whether the open alarms were read (null count until then, or when refused). */
  private alarmsRead = false;
  private pick: Pick = saved();
  private readonly detail: IndicatorDetail;

  constructor(
    private readonly api: Api,
    root: HTMLElement,
    private readonly indicators: () => Indicators,
  ) {
    this.detail = new IndicatorDetail(api, (id) => this.level(id));
    // Delegated: the layout is drawn again after a language switch.
    root.addEventListener('change', (e) => {
      const el = e.target as HTMLSelectElement;
      if (el.id !== 'catalogue-domain') return;
      this.pick = el.value as Pick;
      localStorage.setItem(STORAGE, this.pick);
      this.render();
    });
    root.addEventListener('click', (e) => {
      const tile = (e.target as HTMLElement).closest<HTMLElement>('[data-test=catalogue-tile], [data-test=indicator-tile]');
      if (!tile?.dataset.id) return;
      const entry = this.entries.get(tile.dataset.id);
      if (entry) void this.detail.open(entry, this.district);
      else void this.detail.openComputed(tile.dataset.id, this.indicators(), this.district);
    });
  }

  private get district(): string {
    return this.indicators().district;
  }

  /** The published catalogue and the open alarms (at start, and after `not_recovered`);
   *  then the shown tiles' values. */
  async load(): Promise<void> {
    // After missed entries the values shown may be old: read again with the tiles.
    this.latest.clear();
    await Promise.all([this.loadCatalogue(), this.loadAlarms()]);
  }

  private async loadCatalogue(): Promise<void> {
    // A catalogue entry that changes while the list is read makes the answer old: read again.
    let answer;
    do {
      const changes = this.catalogueChanges;
      answer = await patiently(() => this.api.get<{ indicators: IndicatorAnswer[] }>('/api/indicators/catalogue?published=true'));
      if (!answer) return;
      if (changes === this.catalogueChanges) break;
    } while (true);
    this.entries.clear();
    for (const a of answer.indicators) this.entries.set(a.indicator.id, a.indicator);
    this.render();
  }

  /** Every open alarm in the viewer's scope, a page at a time. */
  private async loadAlarms(): Promise<void> {
    type Page = { total: number; alarms: { indicator: string; region: string; level: Level }[] };
    const all: Page['alarms'] = [];
    for (let offset = 0; offset <= 100_000; offset += 500) {
      const page = await patiently(() => this.api.get<Page>(`/api/indicators/alarms?status=open&limit=500&offset=${offset}`));
      if (!page) return;
      all.push(...page.alarms);
      if (page.alarms.length < 500 || all.length >= page.total) break;
    }
    this.alarms.clear();
    for (const a of all) this.setAlarm(a.indicator, a.region, a.level);
    this.alarmsRead = true;
    this.render();
    this.indicators().renderAlarmed();
  }

  /** How many alarms are open in the viewer's scope; null until read. */
  openAlarms(): number | null {
    if (!this.alarmsRead) return null;
    let n = 0;
    for (const byRegion of this.alarms.values()) n += byRegion.size;
    return n;
  }

  private setAlarm(indicator: string, region: string, level: Level | null): void {
    const byRegion = this.alarms.get(indicator) ?? new Map<string, Level>();
    if (level) byRegion.set(region, level);
    else byRegion.delete(region);
    this.alarms.set(indicator, byRegion);
  }

  private level(id: string): Level | undefined {
    let worst: Level | undefined;
    for (const l of this.alarms.get(id)?.values() ?? []) if (rank(l) > rank(worst)) worst = l;
    return worst;
  }

  /** A live entry of the `indicators` channel (the computed table's `replace` is not ours). */
  delta(data: unknown, key: string): void {
    if (key.startsWith('value:')) {
      const v = data as StoredValue & { indicator: string };
      if (typeof v?.indicator !== 'string' || typeof v.value !== 'number') return;
      if (v.region === this.district) {
        const known = this.latest.get(v.indicator);
        if (!known || known.period <= v.period) this.latest.set(v.indicator, v);
      }
      if (!this.entries.has(v.indicator) && !this.unshown.has(v.indicator)) void this.learn(v.indicator);
      // A tile shows a published indicator's district value: nothing else redraws them
      // (a computed indicator's villages and grids stream thousands of values at midnight).
      if (v.region === this.district && this.entries.has(v.indicator)) this.render();
      this.detail.changed(v.indicator);
    } else if (key.startsWith('catalogue:')) {
      this.catalogueChanges += 1;
      const id = key.slice('catalogue:'.length);
      this.latest.delete(id);
      this.unshown.delete(id);
      void this.learn(id);
    } else if (key.startsWith('alarm:')) {
      const a = (data as { alarm?: { indicator: string; region: string; level: Level; cleared_at: string | null } })?.alarm;
      if (!a || typeof a.indicator !== 'string') return;
      this.setAlarm(a.indicator, a.region, a.cleared_at ? null : a.level);
      this.render();
      this.indicators().renderAlarmed();
      this.detail.changed(a.indicator);
    }
  }

  /** Indicator `id` as the catalogue has it now: shown if it is published. */
  private async learn(id: string): Promise<void> {
    if (this.learning.has(id)) {
      this.learning.set(id, true);
      return;
    }
    this.learning.set(id, false);
    try {
      const a = await this.api.get<IndicatorAnswer>(`/api/indicators/catalogue/${encodeURIComponent(id)}`);
      if (a.indicator.published) this.entries.set(id, a.indicator);
      else {
        this.entries.delete(id);
        this.unshown.add(id);
      }
      this.detail.updated(a.indicator);
    } catch (e) {
      // Deleted, or not for this user: nothing to show (a failed request changes nothing).
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) this.entries.delete(id);
    }
    const again = this.learning.get(id) === true;
    this.learning.delete(id);
    this.render();
    if (again) await this.learn(id);
  }

  /** The tiles of the pick, alarmed first (red, then yellow), then by id. */
  private shown(): CatalogueEntry[] {
    const all = [...this.entries.values()].filter((e) => (this.pick === 'alarmed' ? this.level(e.id) : e.domain === this.pick));
    return all.sort((a, b) => rank(this.level(b.id)) - rank(this.level(a.id)) || a.id.localeCompare(b.id));
  }

  /** The district's newest value of each shown indicator not yet read. */
  private async fetchLatest(entries: CatalogueEntry[]): Promise<void> {
    const missing = entries.filter((e) => !this.latest.has(e.id));
    if (!missing.length) return;
    for (const e of missing) this.latest.set(e.id, null);
    await Promise.all(
      missing.map(async (e) => {
        try {
          const { values } = await this.api.get<{ values: StoredValue[] }>(
            `/api/indicators/catalogue/${encodeURIComponent(e.id)}/values?region=${this.district}&limit=1`,
          );
          // A value that came live while this was asked is as new as the answer or newer
          // (the answer may have been read before it was stored): only a newer period wins.
          const known = this.latest.get(e.id);
          if (values[0] && (!known || known.period < values[0].period)) this.latest.set(e.id, values[0]);
        } catch {
          // Outside the caller's scope, or gone: no data (asked again at the next value).
        }
      }),
    );
    this.render();
  }

  render(): void {
    const select = document.getElementById('catalogue-domain') as HTMLSelectElement | null;
    const box = document.getElementById('catalogue-tiles');
    if (!select || !box) return;
    const title = document.getElementById('catalogue-title');
    if (select.options.length === 0 || select.dataset.lang !== currentLanguage()) {
      select.innerHTML = [`<option value="alarmed">${esc(word('alarmed'))}</option>`, ...DOMAINS.map((d) => `<option value="${d}">${esc(domainName(d))}</option>`)].join('');
      select.dataset.lang = currentLanguage();
    }
    select.value = this.pick;
    const all = this.shown();
    const shown = all.slice(0, SHOWN);
    void this.fetchLatest(shown);
    const tiles = shown.map((e) => {
      const v = this.latest.get(e.id);
      const level = this.level(e.id) ?? 'none';
      return `<div class="cat-tile level-${level}" data-test="catalogue-tile" data-id="${esc(e.id)}" data-level="${level}" data-value="${v?.value ?? ''}" title="${esc(e.definition)}">
        <span class="cat-name">${esc(indicatorName(e))}</span>
        <span class="cat-reading"><b data-test="catalogue-value">${esc(formatNumber(v?.value))}</b><small>${esc(v ? e.unit : word('noData'))}</small></span>
        <span class="cat-period">${v ? esc(periodLabel(e.frequency, v.period)) : ''}</span>
      </div>`;
    });
    const empty = this.pick === 'alarmed' ? word('calm') : word('none');
    box.innerHTML = tiles.length ? tiles.join('') : `<p class="cat-none" data-test="catalogue-none">${esc(empty)}</p>`;
    const more = all.length > SHOWN ? `<small class="cat-more" data-test="catalogue-more">${esc(word('more').replace('{n}', String(all.length - SHOWN)))}</small>` : '';
    if (title) title.innerHTML = `${esc(word('title'))}${more}`;
  }
}
