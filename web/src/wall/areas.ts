// The key areas and the monitoring blind spots as a list beside the map, linked to it both
// ways: a click on an item highlights its polygon and flies to it; a click on a polygon on
// the map highlights its item. The list shows the groups whose layer is switched on.

import { currentLanguage } from '../shared/language';
import './areas.css';
import { bounds } from './geometry';
import type { WallMap } from './map';
import type { Feature, FeatureCollection } from './types';
import { esc } from './dom';

export type AreaGroup = 'keyAreas' | 'blindSpots';

/** The kinds of area in the layers' `kind` property, in the two languages. */
const KINDS: Record<string, { zh: string; en: string }> = {
  flood: { zh: '易涝', en: 'flood' },
  landslide: { zh: '地灾', en: 'landslide' },
  crowd: { zh: '人员密集', en: 'crowds' },
  safety_production: { zh: '安全生产', en: 'work safety' },
  blind_spot: { zh: '盲区', en: 'blind spot' },
};

const TITLES: Record<AreaGroup, { zh: string; en: string }> = {
  keyAreas: { zh: '重点区域', en: 'Key areas' },
  blindSpots: { zh: '监控盲区', en: 'Camera blind spots' },
};

function word(w: { zh: string; en: string }): string {
  return currentLanguage() === 'zh' ? w.zh : w.en;
}

export class AreaList {
  private groups: Record<AreaGroup, Feature[]> = { keyAreas: [], blindSpots: [] };
  private shown: Record<AreaGroup, boolean> = { keyAreas: true, blindSpots: false };
  /** The id of the highlighted area (its `id` property), if any. */
  selectedId: string | null = null;

  constructor(private readonly map: WallMap) {
    map.areaClick = (id) => this.select(id, false);
  }

  set(keyAreas: FeatureCollection, blindSpots: FeatureCollection): void {
    this.groups = { keyAreas: keyAreas.features, blindSpots: blindSpots.features };
    this.render();
  }

  /** Which groups are listed (their layer is on); a hidden group's highlight goes. */
  show(group: AreaGroup, on: boolean): void {
    this.shown[group] = on;
    if (!on && this.selectedId !== null && this.groups[group].some((f) => this.idOf(f) === this.selectedId))
      this.select(null, false);
    this.render();
  }

  /** Highlights one area (or none) on the map and in the list; `fly` brings it into view. */
  select(id: string | null, fly: boolean): void {
    const f = id === null ? undefined : this.find(id);
    this.selectedId = f ? id : null;
    this.map.highlightArea(f?.geometry ?? null);
    if (f && fly) this.map.fitArea(bounds(f.geometry));
    this.markSelected();
  }

  /** Draws the list into `#areas` (the layout's placeholder; redrawn after a language switch). */
  render(): void {
    const el = document.getElementById('areas');
    if (!el) return;
    const groups = (Object.keys(this.groups) as AreaGroup[]).filter((g) => this.shown[g] && this.groups[g].length);
    el.classList.toggle('hidden', groups.length === 0);
    // Just above the layer switches, however many rows they take in this language.
    const layers = document.getElementById('layers');
    const parent = layers?.offsetParent as HTMLElement | null;
    if (layers && parent) el.style.bottom = `${parent.clientHeight - layers.offsetTop + (0.4 * window.innerWidth) / 120}px`;
    el.innerHTML = groups
      .map(
        (g) => `<h3>${esc(word(TITLES[g]))}<small>${this.groups[g].length}</small></h3>
        <ul data-test="area-list-${g}">${this.groups[g]
          .map((f) => {
            const kind = String(f.properties?.kind ?? '');
            return `<li data-area="${esc(this.idOf(f))}" data-test="area-item" class="kind-${esc(kind)}"><i>${esc(
              KINDS[kind] ? word(KINDS[kind]) : kind,
            )}</i><span>${esc(f.properties?.name ?? this.idOf(f))}</span></li>`;
          })
          .join('')}</ul>`,
      )
      .join('');
    for (const li of el.querySelectorAll<HTMLLIElement>('li[data-area]'))
      li.onclick = () => {
        const id = li.dataset.area ?? '';
        this.select(id === this.selectedId ? null : id, true);
      };
    this.markSelected();
  }

  private markSelected(): void {
    for (const li of document.querySelectorAll<HTMLLIElement>('#areas li[data-area]')) {
      li.classList.toggle('on', li.dataset.area === this.selectedId);
    }
  }

  private idOf(f: Feature): string {
    return String(f.properties?.id ?? f.id ?? '');
  }

  private find(id: string): Feature | undefined {
    return [...this.groups.keyAreas, ...this.groups.blindSpots].find((f) => this.idOf(f) === id);
  }
}
