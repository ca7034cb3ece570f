// An indicator's detail on the wall, opened from any tile: its definition, system and
// domain, owner department and person, responsible leader, frequency; the district's value
// of its newest period with the period before (环比), the same period last year (同比), the
// target and the gap to it, the historical peak, low and mean; and a trend chart of the last
// twelve periods (ECharts, the chunk the overview boards use; a period without a value is
// a gap, never a zero). The district's at first; a street picked in the detail shows the
// street's (the district's record names its streets). Closed with × or Esc. A value arriving for the open indicator
// (catalogue.ts forwards the live entries) reads it again.
//
// A computed tile (the overview board's) opens the catalogue's entry of the same id where
// there is one; otherwise what the computed table holds: its name, value and light.

import { type Api, ApiError } from '../shared/api';
import { currentLanguage } from '../shared/language';
import {
  type CatalogueEntry,
  type Comparison,
  type IndicatorAnswer,
  type StoredValue,
  cityToday,
  domainName,
  formatNumber,
  frequencyName,
  indicatorName,
  periodLabel,
  systemName,
} from '../shared/catalogue';
import { esc } from './dom';
import { formatValue, type Indicators } from './indicators';
import type { RegionProps } from './types';

const WORDS = {
  zh: {
    close: '关闭',
    definition: '指标定义',
    system: '体系 / 领域',
    owner: '责任部门 / 责任人',
    leader: '分管领导',
    frequency: '更新频率',
    value: '当前值',
    mom: '环比',
    yoy: '同比',
    target: '目标值',
    gap: '差距',
    met: '已达标',
    unmet: '未达标',
    peak: '历史最高',
    low: '历史最低',
    mean: '历史均值',
    trend: '近 {n} 期趋势',
    noData: '无数据',
    computed: '由本平台案件与设备数据实时计算（近 {n} 天）',
    light: '评级',
    noHistory: '该指标尚无历史数据',
    red: '红色告警',
    yellow: '黄色告警',
  },
  en: {
    close: 'Close',
    definition: 'Definition',
    system: 'System / domain',
    owner: 'Owner department / person',
    leader: 'Responsible leader',
    frequency: 'Frequency',
    value: 'Value',
    mom: 'Month on month',
    yoy: 'Year on year',
    target: 'Target',
    gap: 'Gap',
    met: 'met',
    unmet: 'not met',
    peak: 'Peak',
    low: 'Low',
    mean: 'Mean',
    trend: 'Last {n} periods',
    noData: 'no data',
    computed: 'Computed live from the cockpit’s cases and devices (last {n} days)',
    light: 'Light',
    noHistory: 'No history yet',
    red: 'red alarm',
    yellow: 'yellow alarm',
  },
};
type Word = keyof (typeof WORDS)['zh'];
const word = (k: Word) => WORDS[currentLanguage()][k];

const PERIODS = 12;

/** "+12.5 (+3.2%)", or "no data" when either side has none. */
function change(c: Comparison['previous'], unit: string): string {
  if (!c) return word('noData');
  const sign = c.change > 0 ? '+' : '';
  const [open, close] = currentLanguage() === 'zh' ? ['（', '）'] : [' (', ')'];
  const percent = c.percent === null ? '' : `${open}${sign}${c.percent.toFixed(1)}%${close}`;
  return `${sign}${formatNumber(c.change)} ${unit}${percent}`;
}

export class IndicatorDetail {
  private el: HTMLElement | null = null;
  private openId: string | null = null;
  private region = '';
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly api: Api,
    /** The worst open alarm of an indicator in the wall's scope. */
    private readonly level: (id: string) => 'yellow' | 'red' | undefined,
  ) {
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close();
    });
  }

  /** The panel, made on first use (outside the layout, so a language switch keeps it). */
  private panel(): HTMLElement {
    if (this.el) return this.el;
    const el = document.createElement('section');
    el.id = 'indicator-detail';
    el.className = 'ind-detail hidden';
    el.dataset.test = 'indicator-detail';
    el.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).closest('[data-close]')) this.close();
    });
    el.addEventListener('change', (e) => {
      const select = e.target as HTMLSelectElement;
      if (select.dataset.test !== 'detail-region') return;
      this.region = select.value;
      void this.refresh();
    });
    document.body.appendChild(el);
    this.el = el;
    return el;
  }

  close(): void {
    this.openId = null;
    this.el?.classList.add('hidden');
    if (this.el) this.el.dataset.id = '';
  }

  /** A value of indicator `id` arrived: the open detail reads it again. */
  changed(id: string): void {
    if (this.openId !== id || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.openId === id) void this.refresh();
    }, 300);
  }

  private entry: CatalogueEntry | null = null;
  /** The district and its streets, read with the first detail opened. */
  private places: { code: string; name: string }[] | null = null;

  private async loadPlaces(district: string): Promise<void> {
    if (this.places) return;
    try {
      const f = await this.api.get<{ properties: RegionProps }>(`/api/regions/${encodeURIComponent(district)}`);
      const children = f.properties.children ?? [];
      this.places = [{ code: district, name: f.properties.name }, ...children.map((c) => ({ code: c.code, name: c.name }))];
    } catch {
      // The district alone, by its code: asked again at the next opening.
      return;
    }
  }

  /** The region select, the indicator's regions among the district and its streets. */
  private regionSelect(e: CatalogueEntry): string {
    const places = (this.places ?? [{ code: this.region, name: this.region }]).filter((p) => e.regions.some((r) => p.code.startsWith(r)));
    if (!places.some((p) => p.code === this.region)) places.unshift({ code: this.region, name: this.region });
    const options = places.map((p) => `<option value="${esc(p.code)}"${p.code === this.region ? ' selected' : ''}>${esc(p.name)}</option>`);
    return `<select data-test="detail-region" class="ind-region">${options.join('')}</select>`;
  }

  /** Indicator `entry.id` was changed in the catalogue: the open detail shows it anew. */
  updated(entry: CatalogueEntry): void {
    if (this.openId !== entry.id || !this.entry) return;
    this.entry = entry;
    void this.refresh();
  }

  async open(entry: CatalogueEntry, region: string): Promise<void> {
    this.entry = entry;
    this.openId = entry.id;
    this.region = region;
    await this.loadPlaces(region);
    await this.refresh();
  }

  /** A computed tile: the catalogue's entry of that id if any, else the computed value. */
  async openComputed(id: string, indicators: Indicators, region: string): Promise<void> {
    try {
      const a = await this.api.get<IndicatorAnswer>(`/api/indicators/catalogue/${encodeURIComponent(id)}`);
      return this.open(a.indicator, region);
    } catch (e) {
      if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 403)) console.warn('indicator', e);
    }
    const def = indicators.definition(id);
    if (!def) return;
    const v = indicators.region(region)?.values[id];
    this.entry = null;
    this.openId = id;
    const el = this.panel();
    el.dataset.id = id;
    el.dataset.kind = 'computed';
    el.innerHTML = `${this.head(currentLanguage() === 'zh' ? def.name.zh : def.name.en)}
      <p class="ind-def">${esc(word('computed').replace('{n}', String(indicators.windowDays ?? '—')))}</p>
      <div class="ind-figures"><div><span>${word('value')}</span><b data-test="detail-value">${esc(formatValue(def, v?.value ?? null))}</b></div>
      <div><span>${word('light')}</span><b class="light-${v?.light ?? 'none'}">${esc(v?.light ?? word('noData'))}</b></div></div>
      <p class="muted" data-test="detail-no-history">${word('noHistory')}</p>`;
    el.classList.remove('hidden');
  }

  private head(name: string, level?: 'yellow' | 'red'): string {
    const alarm = level ? `<em class="ind-alarm ${level}" data-test="detail-alarm" data-level="${level}">${word(level)}</em>` : '';
    return `<header><h2><span data-test="detail-name">${esc(name)}</span>${alarm}</h2><button data-close data-test="detail-close" title="${word('close')}">×</button></header>`;
  }

  /** Counts the refreshes: only the newest one draws (an older answer, or one read for
   *  the entry before an edit, never overwrites a newer one). */
  private refreshes = 0;

  /** Reads the newest period's comparison and draws it. */
  private async refresh(): Promise<void> {
    const e = this.entry;
    if (!e) return;
    const n = ++this.refreshes;
    const base = `/api/indicators/catalogue/${encodeURIComponent(e.id)}`;
    let comparison: Comparison | null = null;
    try {
      const { values } = await this.api.get<{ values: StoredValue[] }>(`${base}/values?region=${this.region}&limit=1`);
      const period = values[0]?.period ?? cityToday();
      comparison = await this.api.get<Comparison>(`${base}/compare?region=${this.region}&period=${period}&n=${PERIODS}`);
    } catch (err) {
      console.warn('indicator detail', err);
    }
    if (this.openId !== e.id || n !== this.refreshes) return;
    this.draw(e, comparison);
  }

  private draw(e: CatalogueEntry, c: Comparison | null): void {
    const el = this.panel();
    el.dataset.id = e.id;
    el.dataset.kind = 'catalogue';
    el.dataset.value = String(c?.value ?? '');
    el.dataset.region = this.region;
    const unit = esc(e.unit);
    const figure = (label: Word, value: string, test: string, cls = '') =>
      `<div class="${cls}"><span>${word(label)}</span><b data-test="${test}">${value}</b></div>`;
    const value = c?.value === null || c?.value === undefined ? word('noData') : `${esc(formatNumber(c.value))} <small>${unit}</small>`;
    const gap =
      c?.gap === null || c?.gap === undefined
        ? word('noData')
        : `${c.gap > 0 ? '+' : ''}${esc(formatNumber(c.gap))} ${unit}${c.met === null ? '' : ` · ${word(c.met ? 'met' : 'unmet')}`}`;
    const point = (p: Comparison['peak']) => (p ? `${esc(formatNumber(p.value))} <small>${esc(periodLabel(e.frequency, p.period))}</small>` : word('noData'));
    el.innerHTML = `${this.head(indicatorName(e), this.level(e.id))}
      <p class="ind-period">${this.regionSelect(e)} <span data-test="detail-period">${c ? esc(periodLabel(e.frequency, c.period)) : ''}</span></p>
      <div class="ind-figures">
        ${figure('value', value, 'detail-value', 'main')}
        ${figure('mom', esc(change(c?.previous ?? null, e.unit)), 'detail-mom')}
        ${figure('yoy', esc(change(c?.last_year ?? null, e.unit)), 'detail-yoy')}
        ${figure('target', e.target === null ? word('noData') : `${esc(formatNumber(e.target))} ${unit}`, 'detail-target')}
        ${figure('gap', gap, 'detail-gap', c?.met === false ? 'unmet' : '')}
        ${figure('peak', point(c?.peak ?? null), 'detail-peak')}
        ${figure('low', point(c?.low ?? null), 'detail-low')}
        ${figure('mean', c?.mean === null || c?.mean === undefined ? word('noData') : esc(formatNumber(c.mean)), 'detail-mean')}
      </div>
      <h3>${word('trend').replace('{n}', String(PERIODS))}</h3>
      <div id="indicator-detail-chart" class="ind-chart" data-test="detail-chart"></div>
      <dl class="ind-facts">
        <dt>${word('definition')}</dt><dd data-test="detail-definition">${esc(e.definition)}</dd>
        <dt>${word('system')}</dt><dd>${esc(systemName(e.system))} / ${esc(domainName(e.domain))}</dd>
        <dt>${word('owner')}</dt><dd data-test="detail-owner">${esc(e.owner.department)}${e.owner.person ? ` / ${esc(e.owner.person)}` : ''}</dd>
        <dt>${word('leader')}</dt><dd data-test="detail-leader">${esc(e.leader || '—')}</dd>
        <dt>${word('frequency')}</dt><dd>${esc(frequencyName(e.frequency))}</dd>
      </dl>`;
    el.classList.remove('hidden');
    const chart = el.querySelector<HTMLElement>('#indicator-detail-chart');
    if (chart && c) {
      const labels = c.trend.map((p) => periodLabel(e.frequency, p.period));
      const values = c.trend.map((p) => p.value);
      chart.dataset.series = JSON.stringify({ labels, values, target: e.target });
      void import('./detailchart').then(({ drawTrend }) => drawTrend(chart, labels, values, e.target, indicatorName(e)));
    }
  }
}
