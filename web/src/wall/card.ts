// The case card: a case's details, deadline countdown and timeline, the cameras within the
// radius chosen on the card (from /api/nearby, the circle and the cameras drawn on the
// map), the nearest hospitals and fire stations, and the link to the handling screen.

import type { Api } from '../shared/api';
import { actionName, statusName, urgencyName } from '../shared/casewords';
import { currentLanguage } from '../shared/language';
import { t } from './words';
import { isOpen } from './cases';
import type { WallMap } from './map';
import type { Case, Feature, FeatureCollection } from './types';
import { $, esc } from './dom';
import './card.css';

const RADII = [100, 200, 500, 1000];

/** How many cameras the card's list has room for (the rest are counted, and on the map). */
const SHOWN_CAMERAS = 5;

function more(n: number): string {
  return currentLanguage() === 'zh' ? `另有 ${n} 个，见地图` : `${n} more, on the map`;
}

function duration(ms: number): string {
  const m = Math.floor(Math.abs(ms) / 60000);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const s = Math.floor((Math.abs(ms) % 60000) / 1000);
  const zh = currentLanguage() === 'zh';
  if (d > 0) return zh ? `${d}天${h}小时` : `${d}d ${h}h`;
  return zh ? `${h}小时${m % 60}分${s}秒` : `${h}h ${m % 60}m ${s}s`;
}

export class CaseCard {
  private card: { c: Case; radius: number } | null = null;
  private cardTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly api: Api,
    private readonly map: WallMap,
  ) {}

  /** The case on the card, if one is open. */
  get openId(): number | null {
    return this.card?.c.id ?? null;
  }

  async open(id: number): Promise<void> {
    const c = await this.api.get<Case>(`/api/cases/${id}`);
    this.card = { c, radius: this.card?.c.id === id ? this.card.radius : 500 };
    // The case lands in the middle of the map left free by the card on its right.
    // (The card is 25rem wide plus its margin, and a rem is 1/120 of the screen's width.)
    if (c.location) this.map.flyTo([c.location.lon, c.location.lat], 14, (25.6 * window.innerWidth) / 120);
    await this.render();
  }

  close(): void {
    this.card = null;
    if (this.cardTimer) clearInterval(this.cardTimer);
    $('card').classList.add('hidden');
    this.map.showRadius(null, 0, { type: 'FeatureCollection', features: [] });
  }

  private async render(): Promise<void> {
    const card = this.card;
    if (!card) return;
    const { c, radius } = card;
    const at: [number, number] | null = c.location ? [c.location.lon, c.location.lat] : null;
    const near = (layer: string, r: number, limit: number) =>
      at
        ? this.api.get<FeatureCollection>(`/api/nearby?lon=${at[0]}&lat=${at[1]}&radius=${r}&layer=${layer}&limit=${limit}`)
        : Promise.resolve({ type: 'FeatureCollection', features: [] } as FeatureCollection);
    const [cams, hospitals, fire] = await Promise.all([
      near('cameras', radius, 500),
      near('hospitals', 10000, 3),
      near('fire_stations', 10000, 3),
    ]);
    if (this.card !== card) return;
    this.map.showRadius(at, radius, cams);
    const row = (f: Feature) =>
      `<li><span>${esc(f.properties?.name)}</span><em>${Math.round(Number(f.properties?.distance_m ?? 0))} ${t('metres')}</em></li>`;
    const el = $('card');
    el.classList.remove('hidden');
    // Above the layer switches and the legend at the map's foot, however many rows they take.
    const foot = ['layers', 'legend-box'].map((id) => document.getElementById(id)).filter((e): e is HTMLElement => e !== null);
    const parent = foot[0]?.offsetParent as HTMLElement | null;
    if (parent && foot.length)
      el.style.bottom = `${parent.clientHeight - Math.min(...foot.map((e) => e.offsetTop)) + (0.4 * window.innerWidth) / 120}px`;
    el.innerHTML = `
      <header><h2 data-test="card-title">${t('card')} #${c.id}</h2><button id="card-close">${t('close')}</button></header>
      <div class="card-body">
        <p class="desc">${esc(c.title ?? '')} ${esc(c.description)}</p>
        <dl>
          <dt>${t('status')}</dt><dd><span class="st st-${esc(c.status)}">${esc(statusName(c.status))}</span> <span class="urg ${esc(c.urgency)}">${esc(urgencyName(c.urgency))}</span></dd>
          <dt>${t('category')}</dt><dd>${esc(c.category.name ?? c.category.code)}</dd>
          <dt>${t('source')}</dt><dd>${esc(c.source_name ?? c.source)}</dd>
          <dt>${t('address')}</dt><dd>${esc([c.street?.name, c.village?.name, c.grid?.name].filter(Boolean).join(' / '))} ${esc(c.address ?? '')}</dd>
          <dt>${t('createdAt')}</dt><dd>${esc(new Date(c.created_at).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false }))}</dd>
          <dt>${t('deadline')}</dt><dd id="countdown" class="countdown"></dd>
        </dl>
        <h3><span>${t('camerasWithin')} <b id="camera-count">${cams.features.length}</b></span>
          <span class="radii">${RADII.map((r) => `<button data-radius="${r}" class="${r === radius ? 'on' : ''}">${r}${t('metres')}</button>`).join('')}</span>
        </h3>
        <ul id="card-cameras" class="near" data-test="card-cameras" data-count="${cams.features.length}">${cams.features.map(row).join('') || `<li class="muted">${t('none')}</li>`}</ul>
        ${cams.features.length > SHOWN_CAMERAS ? `<p class="more" data-test="card-cameras-more">${more(cams.features.length - SHOWN_CAMERAS)}</p>` : ''}
        <h3>${t('nearbyResources')}</h3>
        <ul class="near">
          ${hospitals.features.map((f) => row(f).replace('<li>', `<li><i class="kind">${t('hospital')}</i>`)).join('')}
          ${fire.features.map((f) => row(f).replace('<li>', `<li><i class="kind fire">${t('fireStation')}</i>`)).join('')}
        </ul>
        <h3>${t('timeline')}</h3>
        <ol class="timeline" data-test="card-timeline" reversed>${[...(c.timeline ?? [])]
          .reverse()
          .map(
            (e) =>
              `<li><time>${esc(new Date(e.at).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false }))}</time><b>${esc(actionName(e.action))}</b> ${esc(e.to ? statusName(e.to) : '')}<small>${esc(e.content ?? '')}</small></li>`,
          )
          .join('')}</ol>
      </div>
      <footer><a class="handle" data-test="card-handle" href="/workbench/#/cases/${c.id}" target="_blank" rel="noopener">${t('handle')} →</a></footer>`;
    $('card-close').onclick = () => this.close();
    for (const b of el.querySelectorAll<HTMLButtonElement>('button[data-radius]'))
      b.onclick = () => {
        if (!this.card) return;
        this.card.radius = Number(b.dataset.radius);
        void this.render();
      };
    const tick = () => {
      const cd = document.getElementById('countdown');
      if (!cd) return;
      if (!c.deadline) {
        cd.textContent = t('noDeadline');
        return;
      }
      const left = new Date(c.deadline.due_at).getTime() - Date.now();
      const closed = !isOpen(c.status);
      cd.className = `countdown ${left < 0 && !closed ? 'late' : ''}`;
      cd.textContent = closed
        ? `${new Date(c.deadline.due_at).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false })}`
        : left >= 0
          ? `${t('remaining')} ${duration(left)}`
          : `${t('overdueBy')} ${duration(left)}`;
    };
    if (this.cardTimer) clearInterval(this.cardTimer);
    this.cardTimer = setInterval(tick, 1000);
    tick();
  }
}
