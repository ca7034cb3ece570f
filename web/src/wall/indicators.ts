// The district's indicators (city vital signs) on the wall: a tile per indicator with its
// traffic light on the overview board, the alarmed indicators (指标告警) in the today panel
// (every open indicator alarm the viewer may see, from the catalogue's tiles, with the
// district's red computed values), the streets' five-colour rating as a map layer with its legend, and a
// region's score and colour in the region panel.
//
// The definitions (names, units, bands) come from `GET /api/indicators` (loaded at start,
// with the district's and the streets' values); the values then come from the live
// `indicators` channel: its snapshot and each `replace` delta hold every region of the
// user's scope, at every level, and replace what the wall shows. A server without the
// indicator source (404) leaves the tiles saying so.

import { type Api, ApiError } from '../shared/api';
import { currentLanguage } from '../shared/language';
import { t, type Key } from './words';
import { esc } from './dom';
import type { WallMap } from './map';
import { RATING_COLOURS } from './mapstyle';
import './indicators.css';

export type Light = 'green' | 'yellow' | 'red';
export type Colour = 'green' | 'blue' | 'yellow' | 'orange' | 'red';

export interface IndicatorDefinition {
  id: string;
  name: { zh: string; en: string };
  unit: 'count' | 'percent';
  better: 'lower' | 'higher';
  /** Where green ends and where yellow ends; null for an unrated indicator. */
  bands: { green: number; yellow: number } | null;
  weight: number;
}

export interface IndicatorValue {
  value: number | null;
  light: Light | null;
}

/** One region's indicators, as `GET /api/indicators` and the live channel give them. */
export interface RegionIndicators {
  code: string;
  name: string;
  level: string;
  values: Record<string, IndicatorValue>;
  score: number | null;
  colour: Colour | null;
  rank: number | null;
  alarmed: number;
}

export interface IndicatorsAnswer {
  computed_at: string;
  window_days: number;
  definitions: IndicatorDefinition[];
  regions: RegionIndicators[];
  alarmed: number;
}

const COLOUR_KEY: Record<Colour, Key> = {
  green: 'ratingGreen',
  blue: 'ratingBlue',
  yellow: 'ratingYellow',
  orange: 'ratingOrange',
  red: 'ratingRed',
};

/** A colour's name in the current language ("not rated" for none). */
export function colourName(colour: Colour | null): string {
  return colour ? t(COLOUR_KEY[colour]) : t('ratingNone');
}

/** A value as the tiles show it: a percentage with one decimal, or a whole count. */
export function formatValue(def: Pick<IndicatorDefinition, 'unit'>, value: number | null): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return def.unit === 'percent' ? `${value.toFixed(1)}%` : String(Math.round(value));
}

/** `unavailable` when the server has no indicator source (worded in the current language). */
const NO_SOURCE = '\u0000no-source';

function isRegion(x: unknown): x is RegionIndicators {
  const r = x as RegionIndicators;
  return typeof r?.code === 'string' && typeof r.values === 'object' && r.values !== null;
}

/** The five colours, for the map's legend (shown while the rating layer is on). */
export function legendHtml(shown: boolean): string {
  return `<span id="rating-legend" class="rating-legend ${shown ? '' : 'hidden'}" data-test="rating-legend"><b>${t('ratingShort')}</b>${RATING_COLOURS.map(
    ([c, hex]) => `<span data-colour="${c}"><i class="sq" style="background:${hex}"></i>${t(COLOUR_KEY[c as Colour])}</span>`,
  ).join('')}</span>`;
}

/** Indicators shown in the today panel (by the cell that shows them) instead of as tiles. */
const TODAY_PANEL: Record<string, string> = { risks_today: 'today-risks', hazards_today: 'today-hazards' };

export class Indicators {
  private definitions: IndicatorDefinition[] | null = null;
  /** The computed indicators' window in days, once loaded. */
  windowDays: number | null = null;
  private readonly byCode = new Map<string, RegionIndicators>();
  /** Why there are no indicators (no source: 404; refused: the server's reason), or false. */
  private unavailable: string | false = false;
  /** Each street's colour as the map has it (one that lost its rating is cleared). */
  private readonly drawnColours = new Map<string, string | null>();
  /** The district's code (the wall learns it from the streets' parent). */
  district = '330304';
  /** Called after the values changed (the wall redraws what it shows of them). */
  onChange: () => void = () => {};
  /** How many indicator alarms are open in the viewer's scope (the catalogue's tiles keep
   *  them, from `GET /api/indicators/alarms` and the live channel); null until known. */
  openAlarms: () => number | null = () => null;

  constructor(
    private readonly api: Api,
    private readonly map: WallMap,
  ) {
    // Values may arrive before the map has its streets' source.
    void map.ready.then(() => this.renderRating());
  }

  /** The definitions with the district's and the streets' values; retried until the server
   *  answers, given up (saying so) when it has no indicators at all. */
  async load(): Promise<void> {
    for (let wait = 500; ; wait = Math.min(wait * 2, 5000)) {
      try {
        const [district, streets] = await Promise.all([
          this.api.get<IndicatorsAnswer>('/api/indicators?level=district'),
          this.api.get<IndicatorsAnswer>('/api/indicators?level=street'),
        ]);
        this.definitions = district.definitions;
        this.windowDays = district.window_days;
        // Values the live stream already delivered are newer than these.
        for (const r of [...district.regions, ...streets.regions]) if (!this.fromLive) this.byCode.set(r.code, r);
        this.unavailable = false;
        this.changed();
        return;
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403)) {
          // No indicator source (404), or none for this user (403: the server says why).
          this.unavailable = e.status === 403 ? e.detail : NO_SOURCE;
          this.changed();
          return;
        }
        console.warn('indicators', e);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Whether the live stream has delivered values (they replace the REST answer's). */
  private fromLive = false;

  /** The live channel's snapshot: every region of the scope (empty from a server that has no
   *  indicator source yet: the REST answer stands). */
  snapshot(items: unknown[]): void {
    this.replace(items);
  }

  /** A live delta: `replace` with `{items}`, the whole table again. */
  delta(data: unknown, op: string): void {
    const items = (data as { items?: unknown })?.items;
    if (op === 'replace' && Array.isArray(items)) this.replace(items);
  }

  private replace(items: unknown[]): void {
    const regions = items.filter(isRegion);
    if (regions.length === 0) return;
    this.fromLive = true;
    this.byCode.clear();
    for (const r of regions) this.byCode.set(r.code, r);
    this.changed();
  }

  private changed(): void {
    this.render();
    this.onChange();
  }

  /** The district's entry (the one of level `district`, or by its code). */
  private districtEntry(): RegionIndicators | undefined {
    const byCode = this.byCode.get(this.district);
    if (byCode) return byCode;
    for (const r of this.byCode.values()) if (r.level === 'district') return r;
    return undefined;
  }

  /** A computed indicator's definition, once loaded (for the detail opened from its tile). */
  definition(id: string): IndicatorDefinition | undefined {
    return this.definitions?.find((d) => d.id === id);
  }

  region(code: string): RegionIndicators | undefined {
    return this.byCode.get(code);
  }

  /** Draws everything the wall shows of the indicators into the elements present. */
  render(): void {
    this.renderTiles();
    this.renderAlarmed();
    this.renderRating();
    this.renderRegion();
  }

  private renderTiles(): void {
    const box = document.getElementById('indicator-tiles');
    if (!box) return;
    const head = document.getElementById('indicators-window');
    if (head) head.textContent = this.windowDays ? t('indicatorsWindow').replace('{n}', String(this.windowDays)) : '';
    if (this.unavailable) {
      box.innerHTML = `<p class="ind-none" data-test="indicators-unavailable">${esc(this.unavailable === NO_SOURCE ? t('indicatorsUnavailable') : this.unavailable)}</p>`;
      return;
    }
    const defs = this.definitions;
    if (!defs) return;
    const district = this.districtEntry();
    const zh = currentLanguage() === 'zh';
    box.innerHTML = defs
      .filter((d) => !(d.id in TODAY_PANEL))
      .map((d) => {
        const v = district?.values[d.id] ?? { value: null, light: null };
        const light = v.light ?? 'none';
        const kind = d.bands ? `light-${light}` : 'unrated';
        return `<div class="ind-tile ${kind}" data-test="indicator-tile" data-id="${esc(d.id)}" data-light="${light}" data-value="${v.value ?? ''}" title="${esc(this.bandsText(d))}">
          <span class="ind-name">${esc(zh ? d.name.zh : d.name.en)}</span>
          <span class="ind-reading"><b data-test="indicator-value">${esc(formatValue(d, v.value))}</b>${
            d.bands ? `<i class="lamp" title="${esc(v.light ? t(COLOUR_KEY[v.light]) : t('indicatorNoData'))}"></i>` : ''
          }</span>
        </div>`;
      })
      .join('');
  }

  /** "green ≤ 5.0% · yellow ≤ 15.0%" (or ≥ where higher is better), for the tile's title. */
  private bandsText(d: IndicatorDefinition): string {
    if (!d.bands) return '';
    const op = d.better === 'lower' ? '≤' : '≥';
    return `${t('ratingGreen')} ${op} ${formatValue(d, d.bands.green)} · ${t('ratingYellow')} ${op} ${formatValue(d, d.bands.yellow)}`;
  }

  /** The today panel's counts: the alarmed indicators (指标告警) are every open alarm of the
   *  catalogue's thresholds the viewer may see, and the computed indicators' red values of
   *  the district (they have bands, not thresholds: a red tile on the board is alarmed
   *  too); the title says which is which. Called again when the open alarms change. */
  renderAlarmed(): void {
    const el = document.getElementById('today-indicators');
    if (!el) return;
    const district = this.districtEntry();
    const red = district ? district.alarmed : null;
    const open = this.openAlarms();
    el.textContent = red === null && open === null ? (this.unavailable ? t('noSource') : '—') : String((red ?? 0) + (open ?? 0));
    el.dataset.open = open === null ? '' : String(open);
    el.dataset.red = red === null ? '' : String(red);
    el.title = `${t('alarmedOpen')} ${open ?? '—'} · ${t('alarmedRedValues')} ${red ?? '—'}`;
    el.closest('div')?.classList.toggle('nosrc', this.unavailable !== false && open === null);
    // Risks identified and hazards found today: counts of tagged cases, when the catalogue
    // has them (otherwise the panel keeps saying there is no source).
    for (const [id, elementId] of Object.entries(TODAY_PANEL)) {
      const cell = document.getElementById(elementId);
      if (!cell) continue;
      const shown = this.definitions?.some((d) => d.id === id) ?? false;
      const value = district?.values[id]?.value;
      cell.textContent = !shown ? t('noSource') : value == null ? '—' : String(value);
      cell.closest('div')?.classList.toggle('nosrc', !shown);
    }
  }

  /** Gives the map the streets whose colour changed (each change costs the map a frame). */
  private renderRating(): void {
    if (!this.map.map.getSource('streets')) return;
    const now = new Map<string, string | null>();
    for (const r of this.byCode.values()) if (r.level === 'street') now.set(r.code, r.colour ?? null);
    const changed = new Map<string, string | null>();
    for (const [code, c] of now) if (this.drawnColours.get(code) !== c) changed.set(code, c);
    for (const code of this.drawnColours.keys()) if (!now.has(code)) changed.set(code, null);
    if (changed.size) this.map.setRating(changed);
    this.drawnColours.clear();
    for (const [code, c] of now) this.drawnColours.set(code, c);
  }

  /** The region panel's line for `code`: its colour, score and rank (filled by render). */
  regionHtml(code: string): string {
    return `<div id="region-rating" class="region-rating" data-test="region-rating" data-code="${esc(code)}"></div>`;
  }

  /** Fills the region panel's rating line (after the panel was drawn). */
  renderRegion(): void {
    const el = document.getElementById('region-rating');
    if (!el) return;
    const r = this.byCode.get(el.dataset.code ?? '');
    el.dataset.colour = r?.colour ?? '';
    el.dataset.score = r?.score === null || r?.score === undefined ? '' : String(r.score);
    if (!r || (r.score === null && r.colour === null)) {
      el.innerHTML = r ? `<span class="muted">${t('rating')}: ${t('ratingNone')}</span>` : '';
      el.classList.toggle('hidden', !r);
      return;
    }
    el.classList.remove('hidden');
    const hex = RATING_COLOURS.find(([c]) => c === r.colour)?.[1] ?? '#8c8c8c';
    el.innerHTML = `<span>${t('rating')}</span>
      <em class="chip" style="background:${hex}" data-test="region-colour">${esc(colourName(r.colour))}</em>
      <span>${t('score')} <b data-test="region-score">${r.score === null ? '—' : r.score.toFixed(1)}</b></span>
      ${r.rank !== null && r.level !== 'district' ? `<span>${t('rank')} <b data-test="region-rank">${r.rank}</b></span>` : ''}
      ${r.alarmed ? `<span class="alert">${t('alarmedIndicators')} <b>${r.alarmed}</b></span>` : ''}`;
  }
}
